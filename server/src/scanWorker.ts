/**
 * The scan worker (bundled to dist/scan-worker.js): runs the synchronous scan
 * engine off the server's main thread so diagnostics stay responsive. One job
 * at a time; the pool terminates the thread to cancel or time out a job.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { ENGINE_VERSION, applyFolderChecks, resolveOptions, scanFile } from '../../core/scan/engine';
import { converter } from './converter';
import type { FileReport } from '../../core/scan/types';
import type { WorkerRequest, WorkerResponse, WorkerResult } from './scanWorkerProtocol';

/** Read size for hashing: large enough for throughput, small enough to keep the worker's heap flat. */
const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

function hashFile(p: string): WorkerResult {
  const fd = openSync(p, 'r');
  try {
    const st = fstatSync(fd);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    return { op: 'hash', sha256: hash.digest('hex'), size: st.size, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}


function handle(req: WorkerRequest): WorkerResult {
  switch (req.op) {
    case 'hash': return hashFile(req.path);
    case 'scan': return { op: 'scan', report: scanFile(req.path, { weights: req.options.weights, weightsMaxBytes: req.options.weightsMaxBytes, hash: req.options.hash ?? true }) };
    case 'version': return { op: 'version', version: ENGINE_VERSION };
    case 'convert': {
      if (!converter) return { op: 'convert', result: { ok: false, reason: 'conversion to SafeTensors is not available in this build' } };
      return { op: 'convert', result: converter(req.input, { output: req.output, overwrite: req.overwrite }) };
    }
    case 'folders': {
      const reports = new Map<string, FileReport>();
      applyFolderChecks(new Map(req.dirs), reports, resolveOptions(req.options));
      return { op: 'folders', reports: [...reports.values()] };
    }
  }
}

parentPort?.on('message', (req: WorkerRequest) => {
  let res: WorkerResponse;
  try {
    res = { id: req.id, ok: true, result: handle(req) };
  } catch (e) {
    res = { id: req.id, ok: false, error: (e as Error)?.message ?? String(e) };
  }
  parentPort!.postMessage(res);
});
