/**
 * Dataset auditing in the language server: row-level diagnostics for JSONL/CSV/TSV documents open
 * in the editor, and `modelvet/auditDataset` for files and folders (Parquet, HF folders, big files).
 * Every audit runs on a worker thread (dist/dataset-worker.js); the server thread only forwards
 * text and findings. A newer document version (or a cancelled pull) stops the document's running
 * audit through a shared flag, so the worker and its per-document row caches survive (an edit then
 * re-audits only the changed rows' own work); a worker that does not stop within
 * DATASET_CANCEL_GRACE_MS, or a cancelled file audit, is terminated.
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { CancellationToken } from 'vscode-languageserver/node';
import { isTextDataset } from '../../core/datasets/index';
import type { AuditResult, DatasetSettings } from '../../core/datasets/types';
import { datasetSettingsFrom } from '../../core/datasets/config';
import { parseProjectConfig } from '../../core/projectConfig';
import { effectiveSeverity, type ModelVetConfig } from '../../core/config';
import type { Finding } from '../../core/types';
import type { DatasetWorkerRequest, DatasetWorkerResponse } from './datasetProtocol';

/** Editor buffers larger than this are not audited as text (the command audits the file on disk). */
export const MAX_EDITOR_DATASET_CHARS = 64 * 1024 * 1024;
/** Heap cap of the dataset worker: a hostile file can only kill its worker. */
export const DATASET_WORKER_HEAP_MB = 1024;
/** Young generation of the dataset worker: per-row objects die young in a 64 MB nursery (16 MB promoted more of them; measured no worse, within the noise). */
export const DATASET_WORKER_YOUNG_MB = 64;
/** An idle worker is stopped after this long (its row caches go with it). */
export const DATASET_WORKER_IDLE_MS = 5 * 60_000;
/** A cancelled editor audit must stop this soon (it checks between 1 MB chunks), or its worker is terminated. */
export const DATASET_CANCEL_GRACE_MS = 3_000;

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;

export class DatasetCancelled extends Error { constructor() { super('cancelled'); } }

interface Entry { version: number; findings: Finding[]; resultId: string }

export interface DatasetHost {
  workerPath: string;
  log(msg: string): void;
  config(filePath: string): ModelVetConfig;
  workspaceRoots(): string[];
}

interface QueuedJob {
  req: DistributiveOmit<Exclude<DatasetWorkerRequest, { op: 'forget' }>, 'id'>;
  token?: CancellationToken;
  onProgress?: (p: { done: number; total: number; current: string }) => void;
  key?: string;
  id?: number;
  sub?: { dispose(): void };
  resolve(r: AuditResult): void;
  reject(e: Error): void;
}

class OneJobWorker {
  private worker?: Worker;
  private nextId = 1;
  private idle?: NodeJS.Timeout;
  private current?: { id: number; reject(e: Error): void; onProgress?: (p: { done: number; total: number; current: string }) => void; resolve(r: AuditResult): void; cancel?: Int32Array; draining?: NodeJS.Timeout };

  constructor(private readonly file: string, private readonly log: (m: string) => void) {}

  get busy(): boolean { return !!this.current; }

  /**
   * Run one job. Jobs wait their turn; a job with the same `key` as the running one (a newer version
   * of the same document) replaces it, and a queued job with that key is dropped.
   */
  run(req: QueuedJob['req'], token?: CancellationToken, onProgress?: (p: { done: number; total: number; current: string }) => void, key?: string): Promise<AuditResult> {
    if (token?.isCancellationRequested) return Promise.reject(new DatasetCancelled());
    return new Promise<AuditResult>((resolve, reject) => {
      const job: QueuedJob = { req, token, onProgress, key, resolve, reject };
      if (key !== undefined) {
        for (const q of this.queue.filter((x) => x.key === key)) { this.queue.splice(this.queue.indexOf(q), 1); q.reject(new DatasetCancelled()); }
        if (this.current && this.currentKey === key) this.cancelCurrent();
      }
      job.sub = token?.onCancellationRequested(() => {
        const i = this.queue.indexOf(job);
        if (i >= 0) { this.queue.splice(i, 1); job.reject(new DatasetCancelled()); }
        else if (this.current?.id === job.id) this.cancelCurrent();
      });
      this.queue.push(job);
      this.pump();
    });
  }

  private queue: QueuedJob[] = [];
  private currentKey?: string;

  private pump(): void {
    if (this.current) return;
    const job = this.queue.shift();
    if (!job) return;
    const w = this.spawn();
    const id = this.nextId++;
    job.id = id;
    this.currentKey = job.key;
    const done = () => { job.sub?.dispose(); this.currentKey = undefined; queueMicrotask(() => this.pump()); };
    const cancel = job.req.op === 'text' ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    this.current = { id, cancel, onProgress: job.onProgress, resolve: (r) => { done(); job.resolve(r); }, reject: (e) => { done(); job.reject(e); } };
    w.postMessage({ ...job.req, id, ...(cancel ? { cancel: cancel.buffer as SharedArrayBuffer } : {}) } as DatasetWorkerRequest);
  }

  /** A message without an answer, to a running worker only (e.g. drop a closed document's cache). */
  notify(req: Extract<DatasetWorkerRequest, { op: 'forget' }>): void { this.worker?.postMessage(req); }

  /**
   * Cancel the running job: an editor audit is told to stop (its promise is rejected now; the
   * worker takes the next job once it answered), anything else is terminated.
   */
  private cancelCurrent(): void {
    const c = this.current;
    if (!c) return;
    if (!c.cancel || c.draining) { this.kill(new DatasetCancelled()); return; }
    Atomics.store(c.cancel, 0, 1);
    const reject = c.reject;
    c.resolve = () => { /* superseded */ };
    c.reject = () => { /* superseded */ };
    c.onProgress = undefined;
    c.draining = setTimeout(() => { if (this.current === c) { this.log('dataset worker did not stop a cancelled audit in time; terminated'); this.kill(new DatasetCancelled()); } }, DATASET_CANCEL_GRACE_MS);
    c.draining.unref?.();
    this.currentKey = undefined;
    reject(new DatasetCancelled());
  }

  dispose(): void {
    for (const q of this.queue.splice(0)) q.reject(new Error('disposed'));
    this.kill(new Error('disposed'));
  }

  private spawn(): Worker {
    if (this.idle) { clearTimeout(this.idle); this.idle = undefined; }
    if (this.worker) return this.worker;
    const w = new Worker(this.file, { resourceLimits: { maxOldGenerationSizeMb: DATASET_WORKER_HEAP_MB, maxYoungGenerationSizeMb: DATASET_WORKER_YOUNG_MB } });
    this.log('dataset worker started');
    w.unref();
    w.on('message', (m: DatasetWorkerResponse) => {
      const c = this.current;
      if (!c || c.id !== m.id) return;
      if ('progress' in m) { c.onProgress?.(m.progress); return; }
      this.current = undefined;
      if (c.draining) { clearTimeout(c.draining); queueMicrotask(() => this.pump()); }
      this.idle = setTimeout(() => this.kill(), DATASET_WORKER_IDLE_MS);
      this.idle.unref?.();
      if (m.ok) c.resolve(m.result); else if (m.cancelled) c.reject(new DatasetCancelled()); else c.reject(new Error(m.error));
    });
    w.on('error', (e) => { this.log(`dataset worker failed: ${e.message}`); if (this.worker === w) { this.worker = undefined; this.fail(new Error(`dataset worker failed: ${e.message}`)); } });
    w.on('exit', (code) => { if (this.worker === w) { this.worker = undefined; this.fail(new Error(`dataset worker exited (code ${code}): out of memory or killed`)); } });
    this.worker = w;
    return w;
  }

  private fail(e: Error): void {
    const c = this.current;
    this.current = undefined;
    if (c?.draining) { clearTimeout(c.draining); queueMicrotask(() => this.pump()); }
    c?.reject(e);
  }

  private kill(reason?: Error): void {
    const w = this.worker;
    this.worker = undefined;
    if (this.idle) { clearTimeout(this.idle); this.idle = undefined; }
    if (reason) this.fail(reason);
    void w?.terminate();
  }
}

export class DatasetGlue {
  private cache = new Map<string, Entry>();
  private pending = new Map<string, { version: number; promise: Promise<Entry> }>();
  private editor: OneJobWorker;
  private nextResult = 1;
  private settingsCache = new Map<string, { text: string | undefined; settings: DatasetSettings }>();

  constructor(private readonly host: DatasetHost) {
    this.editor = new OneJobWorker(host.workerPath, host.log);
  }

  handles(filePath: string): boolean { return isTextDataset(filePath); }

  /** The last findings computed for a document (hovers), without waiting. */
  cached(uri: string): Finding[] | undefined { return this.cache.get(uri)?.findings; }

  forget(uri: string): void { this.cache.delete(uri); this.pending.delete(uri); this.editor.notify({ id: 0, op: 'forget', cacheKey: uri }); }

  /** Findings for an open dataset document (audited on the worker; the newest version wins). */
  async diagnose(uri: string, filePath: string, version: number, text: () => string, token?: CancellationToken): Promise<Entry> {
    const hit = this.cache.get(uri);
    if (hit && hit.version === version) return hit;
    const p = this.pending.get(uri);
    if (p && p.version === version) return p.promise;
    const promise = this.compute(uri, filePath, version, text(), token);
    this.pending.set(uri, { version, promise });
    try { return await promise; } finally { if (this.pending.get(uri)?.promise === promise) this.pending.delete(uri); }
  }

  private async compute(uri: string, filePath: string, version: number, text: string, token?: CancellationToken): Promise<Entry> {
    let findings: Finding[];
    if (text.length > MAX_EDITOR_DATASET_CHARS) {
      findings = [{ path: filePath, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, code: 'DATA014', severity: 'information', message: `This ${(text.length / 1048576).toFixed(0)} M-character dataset is not audited as you type (limit ${MAX_EDITOR_DATASET_CHARS / 1048576} M); run "ModelVet: Audit Dataset…" to audit the file on disk.`, fixes: [] }];
    } else {
      const r = await this.editor.run({ op: 'text', path: filePath, text, settings: this.settingsFor(filePath), cacheKey: uri }, token, undefined, uri);
      findings = this.applyConfig(filePath, r.findings);
    }
    const entry: Entry = { version, findings, resultId: `data:${this.nextResult++}` };
    this.cache.set(uri, entry);
    return entry;
  }

  /** `modelvet/auditDataset`: its own worker, terminated when the request is cancelled. */
  async audit(paths: string[], reference: string[], token?: CancellationToken, onProgress?: (p: { done: number; total: number; current: string }) => void): Promise<AuditResult> {
    const w = new OneJobWorker(this.host.workerPath, this.host.log);
    try {
      const r = await w.run({ op: 'paths', paths, reference, settings: this.settingsFor(paths[0]) }, token, onProgress);
      return { ...r, findings: this.applyConfig(paths[0], r.findings) };
    } finally { w.dispose(); }
  }

  dispose(): void { this.editor.dispose(); }

  private applyConfig(filePath: string, findings: Finding[]): Finding[] {
    const config = this.host.config(filePath);
    const out: Finding[] = [];
    for (const f of findings) {
      const sev = config.rules[f.code] ? effectiveSeverity(config, f.code, f.severity) : f.severity;
      if (sev) out.push(sev === f.severity ? f : { ...f, severity: sev });
    }
    return out;
  }

  /** `[tool.modelvet.datasets]` of the nearest pyproject.toml inside a workspace root. */
  private settingsFor(filePath: string): DatasetSettings {
    const roots = this.host.workspaceRoots().map((r) => path.resolve(r));
    let dir = path.dirname(path.resolve(filePath));
    for (let i = 0; i < 32; i++) {
      const file = path.join(dir, 'pyproject.toml');
      if (existsSync(file)) {
        let text: string | undefined;
        try { text = readFileSync(file, 'utf8'); } catch { text = undefined; }
        let e = this.settingsCache.get(file);
        if (!e || e.text !== text) {
          const table = parseProjectConfig(file, text)?.table as Record<string, unknown> | undefined;
          e = { text, settings: datasetSettingsFrom(table?.datasets) };
          this.settingsCache.set(file, e);
        }
        return e.settings;
      }
      if (roots.includes(dir)) break;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    return {};
  }
}
