/**
 * File and shard hashing for OMS manifests: streaming (a file is never held in memory), on worker threads
 * so several files or shards hash in parallel and the calling thread (the language server) stays responsive.
 * Workers are created from inline code — nothing extra to bundle. Progress is a shared byte counter.
 *
 * Two read strategies, chosen by whether a core is left over:
 * - double-buffered (`overlapReads: true`): the next chunk is read on a libuv thread while the current one
 *   is hashed, so one job uses up to ~1.3 cores. The default when there are fewer jobs than cores (one big
 *   file on a 2-core machine: ~10% faster than reading and hashing on one thread).
 * - synchronous (`overlapReads: false`): each worker reads into its own buffer and hashes it on the same core
 *   (the chunk is still in that core's cache). ~10% less CPU for the same bytes, so the default when the jobs
 *   fill every core (`--jobs 2` on 2 cores): there is no idle core left for the overlapped reads, and the
 *   cross-thread copies only cost time (8 × 256 MB, --jobs 2: 0.76 s synchronous vs 0.86–0.89 s overlapped).
 * Measurements: docs/signing.md, Performance.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { HASH_CHUNK_BYTES, INLINE_HASH_MAX_BYTES, MAX_JOBS } from './limits';
import { SigningError } from './errors';

export type HashType = 'sha256' | 'blake2b';
export const HASH_TYPES: readonly HashType[] = ['sha256', 'blake2b'];
/** node:crypto names; OMS `blake2b` is BLAKE2b-512 (Python's hashlib.blake2b default). */
export const NODE_HASH: Record<HashType, string> = { sha256: 'sha256', blake2b: 'blake2b512' };
export const DIGEST_HEX_LENGTH: Record<HashType, number> = { sha256: 64, blake2b: 128 };

export interface HashTask {
  /** Absolute path. */
  file: string;
  /** Byte range [start, end); end undefined = to end of file. */
  start: number;
  end?: number;
  /** Bytes expected (for progress and scheduling). */
  size: number;
}

export interface HashOptions {
  hashType: HashType;
  /** Worker threads (default: available cores, at most the number of tasks). */
  jobs?: number;
  /**
   * Double-buffered reads on libuv threads (true) or synchronous reads on the hashing thread (false).
   * Default: double-buffered only when the jobs leave a core free (see `defaultOverlapReads`).
   */
  overlapReads?: boolean;
  /** Refuse to open a file that is (now) a symbolic link. */
  noFollow?: boolean;
  signal?: AbortSignal;
  /** Called about every 100 ms with bytes hashed so far and the total, and once more at the end (total, total). */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const CHUNK = workerData.chunk;
const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
const progress = new BigInt64Array(workerData.progress);
const slot = workerData.slot;
function read(fd, buf, len, pos) {
  return new Promise((res, rej) => fs.read(fd, buf, 0, len, pos, (e, n) => (e ? rej(e) : res(n))));
}
async function hash(m) {
  const flags = fs.constants.O_RDONLY | (m.noFollow && fs.constants.O_NOFOLLOW ? fs.constants.O_NOFOLLOW : 0);
  const fd = fs.openSync(m.file, flags);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    const end = m.end === undefined ? Infinity : m.end;
    const h = createHash(m.algo);
    let pos = m.start, i = 0, bytes = 0;
    if (!workerData.overlap) {
      const buf = bufs[0];
      while (pos < end) {
        const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
        if (n <= 0) break;
        pos += n; bytes += n;
        h.update(n === CHUNK ? buf : buf.subarray(0, n));
        Atomics.add(progress, slot, BigInt(n));
      }
      if (m.end !== undefined && pos !== m.end) throw Object.assign(new Error('file shrank while hashing'), { code: 'ESHRANK' });
      return { digest: h.digest('hex'), bytes };
    }
    let p = read(fd, bufs[0], Math.min(CHUNK, end - pos), pos);
    for (;;) {
      const n = await p;
      if (n <= 0) break;
      const cur = bufs[i];
      pos += n; bytes += n;
      i ^= 1;
      p = pos < end ? read(fd, bufs[i], Math.min(CHUNK, end - pos), pos) : Promise.resolve(0);
      h.update(n === cur.length ? cur : cur.subarray(0, n));
      Atomics.add(progress, slot, BigInt(n));
    }
    if (m.end !== undefined && pos !== m.end) throw Object.assign(new Error('file shrank while hashing'), { code: 'ESHRANK' });
    return { digest: h.digest('hex'), bytes };
  } finally { fs.closeSync(fd); }
}
parentPort.on('message', (m) => {
  hash(m).then((r) => parentPort.postMessage({ id: m.id, ...r }),
    (e) => parentPort.postMessage({ id: m.id, error: String(e && e.message || e), code: e && e.code }));
});
`;

export interface HashResult { digest: string; bytes: number }

function cores(): number { return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length; }

export function defaultJobs(): number {
  return Math.max(1, Math.min(MAX_JOBS, cores()));
}

/** Overlapped reads pay off only on a core the hashing workers leave free. */
export function defaultOverlapReads(jobs: number, coreCount = cores()): boolean { return jobs < coreCount; }

/** Hashes every task; results in task order. Rejects on the first failure (naming the file) or on abort. */
export async function hashTasks(tasks: HashTask[], opts: HashOptions): Promise<HashResult[]> {
  const results: HashResult[] = new Array(tasks.length);
  if (!tasks.length) return results;
  if (opts.signal?.aborted) throw new SigningError('cancelled', 'cancelled', 'cancelled');
  const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), MAX_JOBS, tasks.length));
  const total = tasks.reduce((s, t) => s + t.size, 0);
  const progress = new SharedArrayBuffer(8 * jobs);
  const counters = new BigInt64Array(progress);
  // Largest first: the long tail is a small file, not a big one started last.
  const order = tasks.map((_, i) => i).sort((a, b) => tasks[b].size - tasks[a].size || a - b);
  const algo = (opts.hashType in NODE_HASH) ? NODE_HASH[opts.hashType] : undefined;
  if (!algo) throw new SigningError('usage', `unknown hash type ${opts.hashType}`);
  if (total <= INLINE_HASH_MAX_BYTES) return hashInline(tasks, algo, opts);
  const overlap = opts.overlapReads ?? defaultOverlapReads(jobs);
  const workers: Worker[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<HashResult[]>((resolve, reject) => {
      let next = 0, done = 0, failed = false;
      const fail = (e: Error) => { if (!failed) { failed = true; reject(e); } };
      const onAbort = () => fail(new SigningError('cancelled', 'cancelled', 'cancelled'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const feed = (w: Worker) => {
        if (failed || next >= order.length) return;
        const i = order[next++];
        const t = tasks[i];
        w.postMessage({ id: i, file: t.file, start: t.start, end: t.end, algo, noFollow: opts.noFollow });
      };
      for (let s = 0; s < jobs; s++) {
        const w = new Worker(WORKER_CODE, { eval: true, workerData: { chunk: HASH_CHUNK_BYTES, progress, slot: s, overlap } });
        workers.push(w);
        w.on('message', (m: { id: number; digest?: string; bytes?: number; error?: string; code?: string }) => {
          if (m.error !== undefined) {
            const why = m.code === 'ELOOP' ? 'is a symbolic link' : m.code === 'ENOENT' ? 'disappeared' : m.error;
            return fail(new SigningError('io', `${tasks[m.id].file}: ${why}`, m.code));
          }
          results[m.id] = { digest: m.digest!, bytes: m.bytes! };
          if (++done === tasks.length) { opts.signal?.removeEventListener('abort', onAbort); opts.onProgress?.(total, total); resolve(results); } else feed(w);
        });
        w.on('error', (e) => fail(new SigningError('io', `hash worker failed: ${e.message}`)));
        feed(w);
      }
      if (opts.onProgress) {
        const report = () => { let b = 0n; for (let s = 0; s < jobs; s++) b += Atomics.load(counters, s); opts.onProgress!(Number(b), total); };
        timer = setInterval(report, 100);
      }
    });
  } finally {
    if (timer) clearInterval(timer);
    for (const w of workers) void w.terminate();
  }
}

/** Small models: hash on the calling thread with synchronous reads (same checks as the workers). */
function hashInline(tasks: HashTask[], algo: string, opts: HashOptions): HashResult[] {
  const buf = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, INLINE_HASH_MAX_BYTES));
  const flags = fs.constants.O_RDONLY | (opts.noFollow && fs.constants.O_NOFOLLOW ? fs.constants.O_NOFOLLOW : 0);
  const total = tasks.reduce((a, t) => a + t.size, 0);
  let done = 0;
  return tasks.map((t) => {
    if (opts.signal?.aborted) throw new SigningError('cancelled', 'cancelled', 'cancelled');
    let fd: number;
    try { fd = fs.openSync(t.file, flags); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SigningError('io', `${t.file}: ${code === 'ELOOP' ? 'is a symbolic link' : code === 'ENOENT' ? 'disappeared' : (e as Error).message}`, code);
    }
    try {
      if (!fs.fstatSync(fd).isFile()) throw new SigningError('io', `${t.file}: not a regular file`, 'ENOTFILE');
      const h = createHash(algo);
      const end = t.end ?? Infinity;
      let pos = t.start;
      while (pos < end) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        pos += n;
      }
      if (t.end !== undefined && pos !== t.end) throw new SigningError('io', `${t.file}: file shrank while hashing`, 'ESHRANK');
      const bytes = pos - t.start;
      done += bytes;
      opts.onProgress?.(done, total);
      return { digest: h.digest('hex'), bytes };
    } finally { fs.closeSync(fd); }
  });
}
