/**
 * sha256 off the main thread for big conversions, usable from SYNCHRONOUS code:
 * the converter posts chunks (or "re-read this range of the output") to a worker
 * and at the end blocks on Atomics.wait until the worker publishes the digest in
 * shared memory. On 2+ cores this overlaps hashing with the copy. Workers are
 * created from inline code (no separate file to bundle). Small jobs hash inline.
 */
import { Worker } from 'node:worker_threads';
import { createHash, type Hash } from 'node:crypto';

/** Chunks in flight to a stream-hash worker before the writer waits (bounded memory: × chunk size). */
export const MAX_PENDING_CHUNKS = 8;
export const RING_SLOT_BYTES = 8 * 1024 * 1024;
/** Longest wait for a worker's digest before giving up. */
export const HASH_WORKER_TIMEOUT_MS = 10 * 60 * 1000;

export interface ByteHasher {
  /** Hash bytes that were just written (stream) — the array may be reused by the caller afterwards. */
  update(chunk: Uint8Array): void;
  /** Hex digest; blocks until done. */
  digest(): string;
  close(): void;
}
export interface RangeHasher {
  /** Hash the file's bytes [start, end) as re-read from disk, in order. */
  range(start: number, end: number): void;
  digest(): string;
  close(): void;
}

// Shared layout: Int32 [0]=state (0 running, 1 done, 2 failed), [1]=pending chunks; bytes 8..40 = digest.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const i32 = new Int32Array(workerData.shared, 0, 2);
const out = new Uint8Array(workerData.shared, 8, 32);
const h = createHash('sha256');
let fd;
const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
function finish(state, digest) {
  if (digest) out.set(digest);
  Atomics.store(i32, 0, state); Atomics.notify(i32, 0);
  parentPort.close();
}
parentPort.on('message', (m) => {
  try {
    if (m.t === 'c') { h.update(new Uint8Array(workerData.ring[m.i], 0, m.n)); Atomics.sub(i32, 1, 1); Atomics.notify(i32, 1); }
    else if (m.t === 'r') {
      if (fd === undefined) fd = fs.openSync(workerData.file, 'r');
      for (let pos = m.s; pos < m.e;) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, m.e - pos), pos);
        if (n <= 0) throw new Error('short read');
        h.update(buf.subarray(0, n)); pos += n;
      }
    } else if (m.t === 'end') { if (fd !== undefined) fs.closeSync(fd); finish(1, h.digest()); }
  } catch (e) { finish(2); }
});
`;

class WorkerHasher implements ByteHasher, RangeHasher {
  private shared = new SharedArrayBuffer(48);
  private i32 = new Int32Array(this.shared, 0, 2);
  private worker: Worker;
  /** Reused shared slots (no per-chunk allocation); slot i is free again once fewer than MAX_PENDING_CHUNKS are pending. */
  private ring: SharedArrayBuffer[] = [];
  private next = 0;
  constructor(file?: string) {
    if (!file) for (let i = 0; i < MAX_PENDING_CHUNKS; i++) this.ring.push(new SharedArrayBuffer(RING_SLOT_BYTES));
    this.worker = new Worker(WORKER_CODE, { eval: true, workerData: { shared: this.shared, file, ring: this.ring } });
    this.worker.unref();
  }
  update(chunk: Uint8Array): void {
    for (let off = 0; off < chunk.length; off += RING_SLOT_BYTES) this.post(chunk.subarray(off, Math.min(chunk.length, off + RING_SLOT_BYTES)));
  }
  private post(chunk: Uint8Array): void {
    for (;;) {
      const pending = Atomics.load(this.i32, 1);
      if (pending < MAX_PENDING_CHUNKS) break;
      if (Atomics.load(this.i32, 0) !== 0) throw new Error('hash worker failed');
      Atomics.wait(this.i32, 1, pending, 1000);
    }
    Atomics.add(this.i32, 1, 1);
    const slot = this.next;
    this.next = (this.next + 1) % MAX_PENDING_CHUNKS;
    new Uint8Array(this.ring[slot], 0, chunk.length).set(chunk);
    this.worker.postMessage({ t: 'c', i: slot, n: chunk.length });
  }
  range(start: number, end: number): void { if (end > start) this.worker.postMessage({ t: 'r', s: start, e: end }); }
  digest(): string {
    this.worker.postMessage({ t: 'end' });
    const t0 = Date.now();
    while (Atomics.load(this.i32, 0) === 0) {
      if (Date.now() - t0 > HASH_WORKER_TIMEOUT_MS) throw new Error('hash worker timed out');
      Atomics.wait(this.i32, 0, 0, 1000);
    }
    if (Atomics.load(this.i32, 0) !== 1) throw new Error('hash worker failed');
    return Buffer.from(new Uint8Array(this.shared, 8, 32)).toString('hex');
  }
  close(): void { void this.worker.terminate(); }
}

class InlineHasher implements ByteHasher, RangeHasher {
  private h: Hash = createHash('sha256');
  constructor(private readFn?: (start: number, end: number) => Uint8Array[]) {}
  update(chunk: Uint8Array): void { this.h.update(chunk); }
  range(start: number, end: number): void { for (const c of this.readFn!(start, end)) this.h.update(c); }
  digest(): string { return this.h.digest('hex'); }
  close(): void { /* nothing */ }
}

export function streamHasher(parallel: boolean): ByteHasher {
  if (parallel) { try { return new WorkerHasher(); } catch { /* no worker threads: hash inline */ } }
  return new InlineHasher();
}

/** Re-reads ranges of `file` (its own descriptor) and hashes them. */
export function fileRangeHasher(file: string, parallel: boolean, readFn: (start: number, end: number) => Uint8Array[]): RangeHasher {
  if (parallel) { try { return new WorkerHasher(file); } catch { /* no worker threads: hash inline */ } }
  return new InlineHasher(readFn);
}
