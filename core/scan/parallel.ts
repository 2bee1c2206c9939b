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
}

export async function scanPathsParallel(paths: string[], opts: ScanPathsOptions & { jobs?: number } = {}): Promise<ScanOutput> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const engine = require('./engine') as typeof import('./engine');
  const jobs = Math.max(1, Math.min(64, Math.floor(opts.jobs ?? 1)));
  if (jobs <= 1) return engine.scanPaths(paths, opts);
  const started = performance.now();
  const options = engine.resolveOptions(opts);
  const { files, dirs, truncated } = engine.listFiles(paths, options.limits.maxFiles);
  const entry = thisFile();
  const isTs = entry.endsWith('.ts');
  const results: FileReport[] = new Array(files.length);
  let next = 0, done = 0;
  const workers: Worker[] = [];
  const plainOptions: Partial<EngineOptions> = { limits: options.limits, weights: options.weights, weightsMaxBytes: options.weightsMaxBytes, hash: options.hash };
  await new Promise<void>((resolve, reject) => {
    if (!files.length) { resolve(); return; }
    let finishedWorkers = 0;
    const feed = (w: Worker) => {
      if (opts.isCancelled?.() || next >= files.length) { w.postMessage(null); return; }
      const id = next++;
      opts.onProgress?.(done, files.length, files[id]);
      w.postMessage({ id, path: files[id] } satisfies Job);
    };
    const n = Math.min(jobs, files.length);
    for (let i = 0; i < n; i++) {
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
      w.stdout.resume(); w.stderr.resume();
      w.on('message', (m: Done) => { results[m.id] = m.report; done++; feed(w); });
      w.on('error', (e) => reject(e));
      w.on('exit', () => { if (++finishedWorkers === n) resolve(); });
      workers.push(w);
      feed(w);
    }
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
