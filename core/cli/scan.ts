/** `modelvet scan [PATH...]`: static scan of model files, for CI and terminals. */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { scanPathsParallel } from '../scan/engine';
import { DEFAULT_FILE_TIMEOUT_MS } from '../scan/parallel';
import { verdictRank, type FileReport, type ScanOutput, type Verdict } from '../scan/types';
import type * as ScanSarif from './scan-sarif';
import { oneOf, parseArgs, UsageError } from './args';

export const SCAN_USAGE = `usage: modelvet scan [PATH...] [options]

Statically scan model files (pickle, PyTorch, joblib, NumPy, archives, and the
formats other handlers register). Nothing is loaded or executed. Default PATH: .

options:
  --format text|json|sarif      output format (default: text)
  --fail-on malicious|suspicious
                                lowest verdict that makes the exit code 1 (default: suspicious)
  --allow-unscannable           do not fail the run for files that could not be scanned
  --jobs N                      scan on N worker threads (default: 1)
  --timeout SECONDS             per-file time limit; a file that takes longer is
                                reported unscannable (SCAN005) (default: 120)
  --no-weights                  skip weight-level checks
  -o, --output FILE             write the report to FILE instead of stdout

exit codes: 0 nothing at or above --fail-on, 1 otherwise (unscannable files fail
unless --allow-unscannable), 2 usage or internal error`;

export interface ScanIO { stdout: (s: string) => void; stderr: (s: string) => void; isTTY: boolean }

const MARK: Record<Verdict, string> = { safe: 'ok  ', suspicious: 'WARN', malicious: 'BAD ', unscannable: 'SKIP' };

export async function runScanCommand(args: string[], io: ScanIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.stdout(SCAN_USAGE + '\n'); return 0; }
  let parsed;
  try {
    parsed = parseArgs(args, { '--format': 'string', '--fail-on': 'string', '--allow-unscannable': 'bool', '--jobs': 'string', '--timeout': 'string', '--no-weights': 'bool', '--output': 'string' }, { '-o': '--output', '-j': '--jobs' });
  } catch (e) {
    if (e instanceof UsageError) { io.stderr(`modelvet scan: ${e.message}\n`); return 2; }
    throw e;
  }
  const { flags, positionals } = parsed;
  let format: 'text' | 'json' | 'sarif', failOn: 'malicious' | 'suspicious';
  try {
    format = oneOf('--format', flags['--format'], ['text', 'json', 'sarif'] as const, 'text');
    failOn = oneOf('--fail-on', flags['--fail-on'], ['malicious', 'suspicious'] as const, 'suspicious');
  } catch (e) { io.stderr(`modelvet scan: ${(e as Error).message}\n`); return 2; }
  const jobs = flags['--jobs'] === undefined ? 1 : Number(flags['--jobs']);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) { io.stderr('modelvet scan: --jobs must be an integer between 1 and 64\n'); return 2; }
  const timeoutSeconds = flags['--timeout'] === undefined ? DEFAULT_FILE_TIMEOUT_MS / 1000 : Number(flags['--timeout']);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 86_400) { io.stderr('modelvet scan: --timeout must be a number of seconds between 0 and 86400\n'); return 2; }
  const paths = positionals.length ? positionals : ['.'];
  for (const p of paths) if (!existsSync(p)) { io.stderr(`modelvet scan: no such file or directory: ${p}\n`); return 2; }
  const progress = format === 'text' && io.isTTY ? makeProgress(io) : undefined;
  const opts = { weights: !flags['--no-weights'], onProgress: progress };
  let out: ScanOutput;
  try {
    // Always on worker threads: that is what lets a per-file time limit stop any parser.
    out = await scanPathsParallel(paths, { ...opts, jobs, fileTimeoutMs: timeoutSeconds * 1000 });
  } catch (e) {
    io.stderr(`modelvet scan: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
  if (progress) io.stderr('\r\x1b[K');
  const root = paths.length === 1 && !path.extname(paths[0]) ? path.resolve(paths[0]) : process.cwd();
  const text = format === 'json' ? JSON.stringify(out, null, 2) + '\n'
    : format === 'sarif' ? JSON.stringify(sarifScan().scanToSarif(out, root), null, 2) + '\n'
    : renderText(out);
  const file = flags['--output'];
  if (typeof file === 'string') {
    const fs = await import('node:fs');
    fs.writeFileSync(file, text);
  } else io.stdout(text);
  endWhenDone();
  return exitCode(out, failOn, Boolean(flags['--allow-unscannable']));
}

/** SARIF and the rule registry it needs: loaded for `--format sarif` only (a chunk of its own in the build). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sarifScan = (): typeof ScanSarif => require('./scan-sarif') as typeof ScanSarif;

/** Set by bin/modelvet.js, the CLI process's entry: end the process once the command's output is out. */
const EXIT_WHEN_DONE = Symbol.for('modelvet.exitWhenDone');
/**
 * Also set by bin/modelvet.js: the names of the standard streams set up so far ('stdout', 'stderr'). A stream
 * never set up has nothing queued, and asking it would set it up (~1.5-6 ms for a pipe) just to find that out.
 */
const STREAMS_SET_UP = Symbol.for('modelvet.streamsSetUp');
function queued(name: 'stdout' | 'stderr'): boolean {
  const setUp = (globalThis as Record<symbol, unknown>)[STREAMS_SET_UP];
  if (setUp instanceof Set && !setUp.has(name)) return false;
  return process[name].writableLength > 0;
}

/**
 * In the CLI process only (EXIT_WHEN_DONE): end it right after this command, without Node's teardown of the
 * heap a big scan leaves (5-10 ms of a one-file scan). The exit waits for the exit code (set when the command's
 * promise settles, before any immediate runs) and happens only when nothing is queued on stdout or stderr
 * (the report is written with writeSync; a write queued on a full non-blocking pipe is left to the normal exit).
 */
function endWhenDone(): void {
  if ((globalThis as Record<symbol, unknown>)[EXIT_WHEN_DONE] !== true) return;
  setImmediate(() => {
    if (queued('stdout') || queued('stderr')) return;
    process.exit();
  });
}

export function exitCode(out: ScanOutput, failOn: 'malicious' | 'suspicious', allowUnscannable: boolean): number {
  const threshold = verdictRank(failOn);
  for (const f of out.files) {
    if (f.verdict === 'unscannable') { if (!allowUnscannable) return 1; continue; }
    if (verdictRank(f.verdict) >= threshold) return 1;
  }
  return 0;
}

function reasonOf(f: FileReport): string {
  const top = f.findings[0];
  if (!top) return f.verdict === 'safe' ? `${f.globals.length} globals, all allowlisted` : '';
  return `${top.code} ${top.message}`;
}

export function renderText(out: ScanOutput): string {
  const lines: string[] = [];
  for (const f of out.files) {
    lines.push(`${MARK[f.verdict]} ${f.verdict.padEnd(11)} ${f.path}  [${f.format}]${f.findings.length || f.verdict !== 'safe' ? '  ' + reasonOf(f) : ''}`);
    if (f.verdict === 'safe' && f.findings.every((x) => x.severity === 'info' || x.severity === 'low') && f.findings.length <= 1) continue;
    for (const x of f.findings.slice(0, 50)) {
      const where = [x.location.member && `member ${x.location.member}`, x.location.offset !== undefined && `offset ${x.location.offset}`, x.location.opcodeIndex !== undefined && `opcode #${x.location.opcodeIndex}`].filter(Boolean).join(', ');
      lines.push(`       ${x.severity.padEnd(8)} ${x.code} ${x.message}${where ? ` (${where})` : ''}`);
      if (x.evidence) lines.push(`                call: ${x.evidence}`);
    }
    if (f.findings.length > 50) lines.push(`       … ${f.findings.length - 50} more findings (use --format json)`);
  }
  const s = out.summary;
  lines.push('', `${s.files} file(s) scanned in ${s.seconds.toFixed(2)}s: ${s.malicious} malicious, ${s.suspicious} suspicious, ${s.unscannable} unscannable, ${s.safe} safe`);
  return lines.join('\n') + '\n';
}

function makeProgress(io: ScanIO): (done: number, total: number, current: string) => void {
  let last = 0;
  return (done, total, current) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const width = 24;
    const filled = total ? Math.round((done / total) * width) : width;
    const name = current.length > 40 ? '…' + current.slice(-39) : current;
    io.stderr(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name}`);
  };
}
