/**
 * The dataset worker (bundled to dist/dataset-worker.js): dataset audits run here, never on the
 * thread that answers the editor. One job at a time; a newer version of a document cancels its
 * running audit through a shared flag (checked between chunks of text), and the server terminates
 * the thread only when that does not stop it in time or for a cancelled file audit.
 *
 * Editor buffers keep a row cache per document (core/datasets/rowCache.ts): a re-audit after an
 * edit parses and tokenizes only the changed rows. At most DATASET_CACHED_DOCS documents keep one.
 *
 * The first audit of a large editor buffer runs on two threads: this one, and a near-duplicate
 * helper (the same bundle started as a nested worker, kept warm) that reads the same rows and
 * publishes each row's near-duplicate twin in shared memory (core/datasets NearDupShare); findings
 * are the same as a one-thread audit. If the helper dies or stalls, this thread audits alone.
 * Re-audits from a warm row cache run on this thread only: the helper would parse and hash every
 * row again, and on two shared cores that cost more CPU and no time (docs/datasets.md). The helper
 * also waits for a free core (NEAR_DUP_HELPER_FREE_CORES); MODELVET_DATASET_HELPER=1 forces it for
 * the first audit, =0 turns it off.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { auditPaths, auditText, nearDupBuffers, nearDupPass, RowCache, type NearDupBuffers } from '../../core/datasets/index';
import type { DatasetWorkerRequest, DatasetWorkerResponse } from './datasetProtocol';

/** Editor buffers at least this long get the near-duplicate helper thread (MODELVET_DATASET_HELPER=0: never; benchmarks compare). */
export const NEAR_DUP_HELPER_MIN_CHARS = 512 * 1024;
/** Heap cap of the helper (it holds one copy of the text, the near-duplicate tables and its row caches). */
export const NEAR_DUP_HELPER_HEAP_MB = 512;
/** The helper is started only when this many cores are free (cores minus the 1-minute load average): on busy shared cores it only competes with the audit it helps. */
export const NEAR_DUP_HELPER_FREE_CORES = 0.5;
/** Documents whose row cache a thread keeps (least recently audited first out). */
export const DATASET_CACHED_DOCS = 2;

interface HelperJob { path: string; text: string; settings: Extract<DatasetWorkerRequest, { op: 'text' }>['settings']; buffers: NearDupBuffers; cancel?: SharedArrayBuffer }

/** Row caches by document, most recently used last. */
const caches = new Map<string, RowCache>();
function cacheFor(key: string | undefined): RowCache | undefined {
  if (key === undefined || process.env.MODELVET_DATASET_CACHE === '0') return undefined;
  let c = caches.get(key);
  if (c) caches.delete(key);
  else c = new RowCache();
  caches.set(key, c);
  while (caches.size > DATASET_CACHED_DOCS) caches.delete(caches.keys().next().value!);
  return c;
}
const cancelledBy = (buf: SharedArrayBuffer | undefined): (() => boolean) | undefined => {
  if (!buf) return undefined;
  const flag = new Int32Array(buf);
  return () => Atomics.load(flag, 0) !== 0;
};

if (workerData?.nearDupHelper) {
  parentPort?.on('message', async (job: HelperJob) => {
    await nearDupPass(job.path, job.text, { ...job.settings, isCancelled: cancelledBy(job.cancel) }, job.buffers);
  });
} else {
  let helper: Worker | undefined;
  const helperFor = (): Worker | undefined => {
    if (helper) return helper;
    try {
      const w = new Worker(__filename, { workerData: { nearDupHelper: true }, resourceLimits: { maxOldGenerationSizeMb: NEAR_DUP_HELPER_HEAP_MB, maxYoungGenerationSizeMb: 32 } });
      w.unref();
      const gone = () => { if (helper === w) helper = undefined; };
      w.on('error', gone);
      w.on('exit', gone);
      helper = w;
    } catch { helper = undefined; }
    return helper;
  };

  parentPort?.on('message', async (req: DatasetWorkerRequest) => {
    const post = (m: DatasetWorkerResponse) => parentPort!.postMessage(m);
    if (req.op === 'forget') { caches.delete(req.cacheKey); return; }
    try {
      if (req.op === 'text') {
        const isCancelled = cancelledBy(req.cancel);
        const cache = cacheFor(req.cacheKey);
        let buffers: NearDupBuffers | undefined;
        const helperWanted = process.env.MODELVET_DATASET_HELPER === '1' || (process.env.MODELVET_DATASET_HELPER !== '0' && availableParallelism() - loadavg()[0] >= NEAR_DUP_HELPER_FREE_CORES);
        const w = !cache?.warm && req.text.length >= NEAR_DUP_HELPER_MIN_CHARS && availableParallelism() >= 2 && helperWanted ? helperFor() : undefined;
        if (w) {
          buffers = nearDupBuffers(req.text);
          w.postMessage({ path: req.path, text: req.text, settings: req.settings, buffers, cancel: req.cancel } satisfies HelperJob);
        }
        // the answer goes out as soon as the findings are made; the row cache is kept after it
        await auditText(req.path, req.text, { ...req.settings, isCancelled }, buffers, cache, (r) => {
          if (isCancelled?.()) post({ id: req.id, ok: false, error: 'cancelled', cancelled: true });
          else post({ id: req.id, ok: true, result: r });
        });
      } else {
        let last = 0;
        const r = await auditPaths({ paths: req.paths, reference: req.reference }, {
          ...req.settings,
          onProgress: (done, total, current) => {
            const now = Date.now();
            if (now - last < 100) return;
            last = now;
            post({ id: req.id, progress: { done, total, current } });
          },
        });
        post({ id: req.id, ok: true, result: r });
      }
    } catch (e) {
      post({ id: req.id, ok: false, error: (e as Error)?.stack ?? String(e) });
    }
  });
}
