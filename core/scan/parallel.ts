/**
 * `--jobs N`: scan files on worker threads. The worker entry is THIS module's
 * file: under tsx it is core/scan/parallel.ts (started with `--import tsx`),
 * bundled it is dist/cli.js, which re-launches itself as a worker; the
 * `workerData.modelvetScanWorker` flag makes the module serve scan requests
 * instead of acting as a CLI. Worker stdout/stderr are captured, so the bundle's
 * CLI entry (which runs harmlessly as `version`) prints nothing.
 */
import { statSync } from 'node:fs';
import { Script } from 'node:vm';
import type * as WorkerThreads from 'node:worker_threads';
import type { FileReport, ScanOutput } from './types';
import type { EngineOptions, ScanPathsOptions } from './engine';

const WORKER_FLAG = 'modelvetScanWorker';
/**
 * Also in the pool's workers' argv: a process that is not one (every CLI run) then need not load
 * node:worker_threads (~1.6 ms of start-up) to find out; workerData's flag still decides.
 */
const WORKER_ARGV = '--modelvet-scan-worker';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const workerThreads = (): typeof WorkerThreads => require('node:worker_threads') as typeof WorkerThreads;
const WORKER_YOUNG_GENERATION_MB = 96;

interface Job { id: number; path: string }
interface Done { id: number; report: FileReport }

function thisFile(): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return typeof __filename === 'string' ? __filename : '';
}

const wt = process.argv.includes(WORKER_ARGV) ? workerThreads() : undefined;
const workerData: unknown = wt?.workerData;
if (wt && !wt.isMainThread && workerData && (workerData as Record<string, unknown>)[WORKER_FLAG] && wt.parentPort) {
  const port = wt.parentPort;
  const options = (workerData as { options: Partial<EngineOptions> }).options;
  // Loaded lazily so that importing the engine here does not create a cycle at module-init time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const engine = require('./engine') as typeof import('./engine');
  port.on('message', (job: Job | null) => {
    if (job === null) { port.close(); return; }
    const report = engine.scanFile(job.path, options);
    port.postMessage({ id: job.id, report } satisfies Done);
  });
  // Jobs (and their time limits) start only once the worker is ready: start-up is not scan time.
  port.postMessage({ ready: true });
}

/** Default per-file time limit when scanning on worker threads (the language server uses the same). */
export const DEFAULT_FILE_TIMEOUT_MS = 120_000;

/** The report of a file whose scan ran past the time limit: its worker was stopped. */
export function timedOutReport(p: string, ms: number): FileReport {
  return {
    path: p, format: 'unknown', verdict: 'unscannable', sha256: '', size: 0, globals: [],
    findings: [{ code: 'SCAN005', severity: 'low', message: `scanning took longer than the per-file time limit (${ms / 1000} s); the scan was stopped`, location: {} }],
  };
}

/** Up to this many files (and IN_PROCESS_MAX_BYTES in total) one job scans in this thread; one file always does. */
export const IN_PROCESS_MAX_FILES = 16;
export const IN_PROCESS_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Where a scan runs: in this thread when there is one job and one file or a small total (no worker
 * start-up, one heap: a one-file scan is ~4× faster and ~30 MB smaller), on worker threads otherwise.
 */
export function scanPlan(files: string[], jobs: number): 'in-process' | 'workers' {
  if (jobs > 1) return 'workers';
  if (files.length <= 1) return 'in-process';
  if (files.length > IN_PROCESS_MAX_FILES) return 'workers';
  let total = 0;
  for (const f of files) {
    try { total += statSync(f).size; } catch { /* the scan reports it */ }
    if (total > IN_PROCESS_MAX_BYTES) return 'workers';
  }
  return 'in-process';
}

const WATCHED_SLOT = '__modelvetWatchedCall';
let watchedScript: Script | undefined;

/**
 * Run `fn` in this thread with a time limit: V8's watchdog (vm `timeout`) terminates it, whatever it
 * is doing in JavaScript or WebAssembly, and this returns `undefined`. Nothing after the terminated
 * call runs (no `finally`), so its module state is not trusted again: callers move on to workers.
 */
export function runWithTimeLimit<T>(fn: () => T, ms: number): { value: T } | undefined {
  watchedScript ??= new Script(`globalThis.${WATCHED_SLOT}()`, { filename: 'modelvet-watchdog.js' });
  const g = globalThis as unknown as Record<string, unknown>;
  g[WATCHED_SLOT] = fn;
  try {
    return { value: watchedScript.runInThisContext({ timeout: Math.max(1, Math.ceil(ms)) }) as T };
  } catch (e) {
    if ((e as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return undefined;
    throw e;
  } finally {
    delete g[WATCHED_SLOT];
  }
}

/**
 * Scan with a per-file time limit `fileTimeoutMs` (default DEFAULT_FILE_TIMEOUT_MS). A file that runs
 * past it is reported unscannable (SCAN005) — no parser, ours or a library's, can hang the run:
 * - one job and one file or a small total (scanPlan): in this thread under a V8 watchdog
 *   (runWithTimeLimit); after a file times out, the files left go to a worker;
 * - otherwise on `jobs` worker threads: a worker that runs past the limit is terminated and a fresh
 *   worker takes the next file.
 * With one job and no time limit the scan runs in this thread.
 */
export async function scanPathsParallel(paths: string[], opts: ScanPathsOptions & { jobs?: number; fileTimeoutMs?: number } = {}): Promise<ScanOutput> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const engine = require('./engine') as typeof import('./engine');
  const jobs = Math.max(1, Math.min(64, Math.floor(opts.jobs ?? 1)));
  if (jobs <= 1 && opts.fileTimeoutMs === undefined) return engine.scanPaths(paths, opts);
  const fileTimeoutMs = opts.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
  const started = engine.monotonicMs();
  const options = engine.resolveOptions(opts);
  const { files, dirs, truncated } = engine.listFiles(paths, options.limits.maxFiles);
  const results: FileReport[] = new Array(files.length);
  let next = 0, done = 0;
  if (scanPlan(files, jobs) === 'in-process') {
    while (next < files.length && !opts.isCancelled?.()) {
      const id = next++;
      opts.onProgress?.(done, files.length, files[id]);
      const r = runWithTimeLimit(() => engine.scanFile(files[id], options), fileTimeoutMs);
      results[id] = r ? r.value : timedOutReport(files[id], fileTimeoutMs);
      done++;
      if (!r) break; // the rest on a worker
    }
  }
  const entry = thisFile();
  const isTs = entry.endsWith('.ts');
  const plainOptions: Partial<EngineOptions> = { limits: options.limits, weights: options.weights, weightsMaxBytes: options.weightsMaxBytes, hash: options.hash };
  await new Promise<void>((resolve, reject) => {
    if (next >= files.length || opts.isCancelled?.()) { resolve(); return; }
    let running = 0;
    const spawn = () => {
      // Under tsx the worker registers tsx's CommonJS hook before loading this .ts module.
      const w = new (workerThreads().Worker)(isTs ? `require('tsx/cjs'); require(${JSON.stringify(entry)});` : entry, {
        eval: isTs,
        workerData: { [WORKER_FLAG]: true, options: plainOptions },
        argv: ['version', WORKER_ARGV],
        // Pickle value graphs are large, long-lived object populations: a bigger young generation means fewer scavenges.
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
        stdout: true,
        stderr: true,
      });
      running++;
      let current = -1;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stopped = false;
      const feed = () => {
        if (opts.isCancelled?.() || next >= files.length) { current = -1; w.postMessage(null); return; }
        current = next++;
        opts.onProgress?.(done, files.length, files[current]);
        const id = current;
        timer = setTimeout(() => {
          // Stop the stuck worker; its file is unscannable; a new worker continues with the rest.
          stopped = true;
          results[id] = timedOutReport(files[id], fileTimeoutMs);
          done++;
          void w.terminate();
          if (next < files.length && !opts.isCancelled?.()) spawn();
        }, fileTimeoutMs);
        w.postMessage({ id, path: files[id] } satisfies Job);
      };
      w.stdout.resume(); w.stderr.resume();
      w.on('message', (m: Done | { ready: true }) => {
        if (stopped) return;
        if ('ready' in m) { feed(); return; }
        clearTimeout(timer); results[m.id] = m.report; done++; feed();
      });
      w.on('error', (e) => { clearTimeout(timer); if (!stopped) reject(e); });
      w.on('exit', () => { clearTimeout(timer); if (--running === 0) resolve(); });
    };
    for (let i = 0; i < Math.min(jobs, files.length - next); i++) spawn();
  });
  opts.onProgress?.(done, files.length, '');
  const reports = new Map<string, FileReport>();
  for (let i = 0; i < files.length; i++) if (results[i]) reports.set(files[i], results[i]);
  engine.applyFolderChecks(dirs, reports, options);
  const final = [...reports.values()];
  if (truncated) final.push({ path: paths[0] ?? '.', format: 'unknown', verdict: 'unscannable', sha256: '', size: 0, globals: [],
    findings: [{ code: 'ARC002', severity: 'low', message: `file limit (${options.limits.maxFiles}) reached; remaining files were not scanned`, location: {} }] });
  const s = { files: final.length, malicious: 0, suspicious: 0, unscannable: 0, safe: 0, seconds: Math.round(engine.monotonicMs() - started) / 1000 };
  for (const f of final) s[f.verdict]++;
  return { version: 1, files: final, summary: s };
}
