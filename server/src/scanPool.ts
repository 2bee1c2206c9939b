/**
 * A small pool of scan worker threads. A job that is cancelled or runs past
 * its time budget gets its thread terminated (the engine is synchronous, so
 * that is the only way to stop it); a fresh thread is spawned on demand.
 */
import { Worker } from 'node:worker_threads';
import type { CancellationToken } from 'vscode-languageserver/node';
import type { WorkerRequest, WorkerResponse, WorkerResult } from './scanWorkerProtocol';

/** A single file's scan may not take longer than this; then it is reported unscannable. */
export const SCAN_JOB_TIMEOUT_MS = 120_000;
/** An idle worker is stopped after this long (each thread costs ~20 MB of RSS). */
export const WORKER_IDLE_MS = 30_000;
/** Heap cap per worker: a hostile file that blows up memory kills only its worker. */
export const WORKER_HEAP_MB = 1536;
/** Small young generation per worker: parsing garbage is short-lived, and each MB here is RSS. */
export const WORKER_YOUNG_GEN_MB = 8;

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
export type PoolRequest = DistributiveOmit<WorkerRequest, 'id'>;

export class JobCancelled extends Error { constructor() { super('cancelled'); } }
export class JobTimedOut extends Error { constructor(ms: number) { super(`timed out after ${ms} ms`); } }

interface Job {
  req: WorkerRequest;
  resolve(r: WorkerResult): void;
  reject(e: Error): void;
  token?: CancellationToken;
  timeoutMs: number;
}

interface Slot { worker: Worker; job?: Job; timer?: NodeJS.Timeout; idleTimer?: NodeJS.Timeout; cancelSub?: { dispose(): void } }

export class ScanPool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private disposed = false;

  constructor(private readonly workerPath: string, private size: number, private readonly log: (msg: string) => void) {}

  setSize(n: number): void {
    this.size = Math.max(1, n);
    // Shrink lazily: idle workers beyond the size are closed now, busy ones when they finish.
    for (const s of [...this.slots]) if (!s.job && this.slots.length > this.size) this.retire(s);
    this.pump();
  }

  get capacity(): number { return this.size; }

  get busy(): number { return this.slots.filter((s) => s.job).length + this.queue.length; }

  run(req: PoolRequest, token?: CancellationToken, timeoutMs = SCAN_JOB_TIMEOUT_MS): Promise<WorkerResult> {
    if (this.disposed) return Promise.reject(new Error('scan pool disposed'));
    if (token?.isCancellationRequested) return Promise.reject(new JobCancelled());
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { ...req, id: this.nextId++ } as WorkerRequest, resolve, reject, token, timeoutMs });
      this.pump();
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('scan pool disposed'));
    for (const s of [...this.slots]) { s.job?.reject(new Error('scan pool disposed')); this.retire(s); }
  }

  private pump(): void {
    while (this.queue.length) {
      const job = this.queue[0];
      if (job.token?.isCancellationRequested) { this.queue.shift(); job.reject(new JobCancelled()); continue; }
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      this.queue.shift();
      this.start(slot, job);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.workerPath, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_GEN_MB } });
    worker.unref();
    const slot: Slot = { worker };
    worker.on('message', (res: WorkerResponse) => this.finish(slot, res));
    worker.on('error', (e) => this.crash(slot, `scan worker failed: ${e.message}`));
    worker.on('exit', (code) => this.crash(slot, `scan worker exited (code ${code})`));
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot, job: Job): void {
    if (slot.idleTimer) { clearTimeout(slot.idleTimer); slot.idleTimer = undefined; }
    slot.job = job;
    slot.timer = setTimeout(() => this.abort(slot, new JobTimedOut(job.timeoutMs)), job.timeoutMs);
    slot.cancelSub = job.token?.onCancellationRequested(() => this.abort(slot, new JobCancelled()));
    slot.worker.postMessage(job.req);
  }

  private clearJob(slot: Slot): Job | undefined {
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    slot.cancelSub?.dispose();
    slot.job = undefined; slot.timer = undefined; slot.cancelSub = undefined;
    return job;
  }

  private finish(slot: Slot, res: WorkerResponse): void {
    const job = slot.job;
    if (!job || job.req.id !== res.id) return;
    this.clearJob(slot);
    if (res.ok) job.resolve(res.result); else job.reject(new Error(res.error));
    if (this.slots.length > this.size) this.retire(slot);
    this.pump();
    if (!slot.job && this.slots.includes(slot)) {
      slot.idleTimer = setTimeout(() => { if (!slot.job) this.retire(slot); }, WORKER_IDLE_MS);
      slot.idleTimer.unref();
    }
  }

  /** Stop the job by terminating its thread. */
  private abort(slot: Slot, why: Error): void {
    const job = this.clearJob(slot);
    this.retire(slot);
    job?.reject(why);
    this.pump();
  }

  private crash(slot: Slot, message: string): void {
    if (!this.slots.includes(slot)) return;
    const job = this.clearJob(slot);
    this.slots = this.slots.filter((s) => s !== slot);
    if (job) { this.log(message); job.reject(new Error(message)); }
    if (!this.disposed) this.pump();
  }

  private retire(slot: Slot): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    this.slots = this.slots.filter((s) => s !== slot);
    slot.worker.removeAllListeners('exit');
    slot.worker.on('error', () => { /* terminating */ });
    void slot.worker.terminate().catch(() => undefined);
  }
}
