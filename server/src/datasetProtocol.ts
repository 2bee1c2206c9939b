/** Messages between the server and dist/dataset-worker.js (worker_threads). */
import type { AuditResult, AuditOptions } from '../../core/datasets/types';

type Settings = Omit<AuditOptions, 'isCancelled' | 'onProgress'>;
export type DatasetWorkerRequest =
  /**
   * An editor buffer. `cacheKey` (the document URI) names the row cache the worker keeps for it;
   * `cancel` is a shared Int32Array flag the server sets when a newer version replaces the job (the
   * audit stops at its next chunk and answers `cancelled`, keeping the worker and its caches).
   */
  | { id: number; op: 'text'; path: string; text: string; settings: Settings; cacheKey?: string; cancel?: SharedArrayBuffer }
  | { id: number; op: 'paths'; paths: string[]; reference: string[]; settings: Settings }
  /** The document was closed: drop its row cache (no answer). */
  | { id: number; op: 'forget'; cacheKey: string };
export type DatasetWorkerResponse =
  | { id: number; ok: true; result: AuditResult }
  | { id: number; ok: false; error: string; cancelled?: boolean }
  | { id: number; progress: { done: number; total: number; current: string } };
