/**
 * The dataset worker (bundled to dist/dataset-worker.js): dataset audits run here, never on the
 * thread that answers the editor. One job at a time; the server terminates the thread to cancel.
 *
 * A large editor buffer is audited on two threads: this one, and a near-duplicate helper (the same
 * bundle started as a nested worker, kept warm) that reads the same rows and publishes each row's
 * near-duplicate twin in shared memory (core/datasets NearDupShare); findings are the same as a
 * one-thread audit. If the helper dies or stalls, this thread audits alone.
 */
import { availableParallelism } from 'node:os';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { auditPaths, auditText, nearDupBuffers, nearDupPass, type NearDupBuffers } from '../../core/datasets/index';
import type { DatasetWorkerRequest, DatasetWorkerResponse } from './datasetProtocol';

/** Editor buffers at least this long get the near-duplicate helper thread (MODELVET_DATASET_HELPER=0: never; benchmarks compare). */
export const NEAR_DUP_HELPER_MIN_CHARS = 512 * 1024;
/** Heap cap of the helper (it holds one copy of the text and the near-duplicate tables). */
export const NEAR_DUP_HELPER_HEAP_MB = 512;

interface HelperJob { path: string; text: string; settings: DatasetWorkerRequest['settings']; buffers: NearDupBuffers }

if (workerData?.nearDupHelper) {
  parentPort?.on('message', async (job: HelperJob) => { await nearDupPass(job.path, job.text, job.settings, job.buffers); });
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
    try {
      if (req.op === 'text') {
        let buffers: NearDupBuffers | undefined;
        const w = req.text.length >= NEAR_DUP_HELPER_MIN_CHARS && availableParallelism() >= 2 && process.env.MODELVET_DATASET_HELPER !== '0' ? helperFor() : undefined;
        if (w) {
          buffers = nearDupBuffers(req.text);
          w.postMessage({ path: req.path, text: req.text, settings: req.settings, buffers } satisfies HelperJob);
        }
        const r = await auditText(req.path, req.text, req.settings, buffers);
        post({ id: req.id, ok: true, result: r });
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
