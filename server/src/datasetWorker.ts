/**
 * The dataset worker (bundled to dist/dataset-worker.js): dataset audits run here, never on the
 * thread that answers the editor. One job at a time; the server terminates the thread to cancel.
 */
import { parentPort } from 'node:worker_threads';
import { auditPaths, auditText } from '../../core/datasets/index';
import type { DatasetWorkerRequest, DatasetWorkerResponse } from './datasetProtocol';

parentPort?.on('message', async (req: DatasetWorkerRequest) => {
  const post = (m: DatasetWorkerResponse) => parentPort!.postMessage(m);
  try {
    if (req.op === 'text') {
      const r = await auditText(req.path, req.text, req.settings);
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
