/**
 * The one way tests run Python. The default suites (unit, protocol) never need it: they compare against
 * fixtures and values committed together with the generator scripts that made them. The extended suite
 * (test/real, `npm run test:real`) cross-checks live against the real libraries through this helper.
 *
 * MODELVET_PYTHON names the interpreter (default /usr/bin/python3, where Debian's python3-torch,
 * python3-numpy, … live). `MODELVET_PYTHON=/nonexistent npm test` proves the default suites need none.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export const PYTHON = process.env.MODELVET_PYTHON || '/usr/bin/python3';

/** Upper bound for one Python run in a test (fixture generation with torch is the slowest, a few seconds). */
export const PYTHON_TIMEOUT_MS = 120_000;
/** Upper bound on what a Python run may print (big expected-value JSON). */
export const PYTHON_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

export type PythonStatus = { available: true; version: string } | { available: false; reason: string };

const statusCache = new Map<string, PythonStatus>();

/**
 * Whether PYTHON runs and can import every module in `modules` (checked once per module set).
 * Never throws: a missing interpreter or module is `{ available: false, reason }` with a message that
 * names the interpreter, what is missing and how to choose another one.
 */
export function pythonStatus(modules: readonly string[] = []): PythonStatus {
  const key = [...modules].sort().join(',');
  const cached = statusCache.get(key);
  if (cached) return cached;
  const probe = ['import sys', ...modules.map((m) => `import ${m}`), 'print("%d.%d.%d" % sys.version_info[:3])'].join('\n');
  const r = spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8', timeout: PYTHON_TIMEOUT_MS });
  let status: PythonStatus;
  if (r.error) {
    status = { available: false, reason: `Python unavailable: ${PYTHON} cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); set MODELVET_PYTHON to an interpreter` };
  } else if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    status = { available: false, reason: `Python unavailable: ${PYTHON} cannot import ${modules.join(', ') || 'sys'} (${last}); install them (Debian: python3-<module>) or set MODELVET_PYTHON` };
  } else {
    status = { available: true, version: r.stdout.trim() };
  }
  statusCache.set(key, status);
  return status;
}

/** Thrown by runPython when the interpreter is unavailable (its message is the status reason). */
export class PythonUnavailable extends Error {}

/**
 * Run PYTHON with `args` (a script path and its arguments, or `-c`, code, …). Throws PythonUnavailable
 * when PYTHON cannot be started or lacks `modules`; otherwise returns the finished process (the caller
 * checks status and output).
 */
export function runPython(args: readonly string[], options: { modules?: readonly string[]; cwd?: string; input?: string } = {}): SpawnSyncReturns<string> {
  const status = pythonStatus(options.modules ?? []);
  if (!status.available) throw new PythonUnavailable(status.reason);
  // -B: importing a committed generator must not write __pycache__ into the repository.
  return spawnSync(PYTHON, ['-B', ...args], {
    encoding: 'utf8', cwd: options.cwd, input: options.input, timeout: PYTHON_TIMEOUT_MS, maxBuffer: PYTHON_MAX_OUTPUT_BYTES,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONHASHSEED: '0' },
  });
}

/** runPython, and fail with the script's output unless it exited 0. Returns stdout. */
export function runPythonOk(args: readonly string[], options: { modules?: readonly string[]; cwd?: string; input?: string } = {}): string {
  const r = runPython(args, options);
  if (r.error) throw new Error(`${PYTHON} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
