/**
 * `--jobs N`: scan files on worker threads. The worker entry is THIS module's
 * file: under tsx it is core/scan/parallel.ts (started with `--import tsx`),
 * bundled it is dist/cli.js, which re-launches itself as a worker; the
 * `workerData.modelvetScanWorker` flag makes the module serve scan requests
 * instead of acting as a CLI. Worker stdout/stderr are captured, so the bundle's
 * CLI entry (which runs harmlessly as `version`) prints nothing.
 */
import { isMainThread, parentPort, workerData, Worker } from 'node:worker_threads';
import type { FileReport, ScanOutput } from './types';
import type { EngineOptions, ScanPathsOptions } from './engine';

const WORKER_FLAG = 'modelvetScanWorker';
const WORKER_YOUNG_GENERATION_MB = 96;

interface Job { id: number; path: string }
interface Done { id: number; report: FileReport }

function thisFile(): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return typeof __filename === 'string' ? __filename : '';
}

if (!isMainThread && workerData && (workerData as Record<string, unknown>)[WORKER_FLAG] && parentPort) {
  const port = parentPort;
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

/**
 * Scan on `jobs` worker threads. Each file gets `fileTimeoutMs` (default DEFAULT_FILE_TIMEOUT_MS):
 * a worker that runs past it is terminated, the file is reported unscannable (SCAN005) and a fresh
 * worker takes the next file — no parser, ours or a library's, can hang the run.
 * With one job and no time limit the scan runs in this thread.
 */
export async function scanPathsParallel(paths: string[], opts: ScanPathsOptions & { jobs?: number; fileTimeoutMs?: number } = {}): Promise<ScanOutput> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const engine = require('./engine') as typeof import('./engine');
  const jobs = Math.max(1, Math.min(64, Math.floor(opts.jobs ?? 1)));
  if (jobs <= 1 && opts.fileTimeoutMs === undefined) return engine.scanPaths(paths, opts);
  const fileTimeoutMs = opts.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
  const started = performance.now();
  const options = engine.resolveOptions(opts);
  const { files, dirs, truncated } = engine.listFiles(paths, options.limits.maxFiles);
  const entry = thisFile();
  const isTs = entry.endsWith('.ts');
  const results: FileReport[] = new Array(files.length);
  let next = 0, done = 0;
  const plainOptions: Partial<EngineOptions> = { limits: options.limits, weights: options.weights, weightsMaxBytes: options.weightsMaxBytes, hash: options.hash };
  await new Promise<void>((resolve, reject) => {
    if (!files.length) { resolve(); return; }
    let running = 0;
    const spawn = () => {
      // Under tsx the worker registers tsx's CommonJS hook before loading this .ts module.
      const w = new Worker(isTs ? `require('tsx/cjs'); require(${JSON.stringify(entry)});` : entry, {
        eval: isTs,
        workerData: { [WORKER_FLAG]: true, options: plainOptions },
        argv: ['version'],
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
    for (let i = 0; i < Math.min(jobs, files.length); i++) spawn();
  });
  opts.onProgress?.(done, files.length, '');
  const reports = new Map<string, FileReport>();
  for (let i = 0; i < files.length; i++) if (results[i]) reports.set(files[i], results[i]);
  engine.applyFolderChecks(dirs, reports, options);
  const final = [...reports.values()];
  if (truncated) final.push({ path: paths[0] ?? '.', format: 'unknown', verdict: 'unscannable', sha256: '', size: 0, globals: [],
    findings: [{ code: 'ARC002', severity: 'low', message: `file limit (${options.limits.maxFiles}) reached; remaining files were not scanned`, location: {} }] });
  const s = { files: final.length, malicious: 0, suspicious: 0, unscannable: 0, safe: 0, seconds: Math.round(performance.now() - started) / 1000 };
  for (const f of final) s[f.verdict]++;
  return { version: 1, files: final, summary: s };
}
