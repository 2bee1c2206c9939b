/** Messages between the server and dist/dataset-worker.js (worker_threads). */
import type { AuditResult, AuditOptions } from '../../core/datasets/types';

type Settings = Omit<AuditOptions, 'isCancelled' | 'onProgress'>;
export type DatasetWorkerRequest =
  | { id: number; op: 'text'; path: string; text: string; settings: Settings }
  | { id: number; op: 'paths'; paths: string[]; reference: string[]; settings: Settings };
export type DatasetWorkerResponse =
  | { id: number; ok: true; result: AuditResult }
  | { id: number; ok: false; error: string }
  | { id: number; progress: { done: number; total: number; current: string } };
