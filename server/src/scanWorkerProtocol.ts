/** Messages between the server's scan pool and dist/scan-worker.js (worker_threads). */
import type { ConvertResult } from '../../core/protocol';
import type { FileReport } from '../../core/scan/types';

export interface WorkerScanOptions {
  weights: boolean;
  weightsMaxBytes: number;
  /** Let the engine hash the file (false when the caller already has the sha256). Default true. */
  hash?: boolean;
}

export type WorkerRequest =
  | { id: number; op: 'hash'; path: string }
  | { id: number; op: 'scan'; path: string; options: WorkerScanOptions }
  | { id: number; op: 'version' }
  /** Folder-level checks (e.g. a model folder's config pointing at remote code): [dir, entry names][]. */
  | { id: number; op: 'folders'; dirs: Array<[string, string[]]>; options: WorkerScanOptions }
  /** Pickle-family → SafeTensors conversion (modelvet/convert). */
  | { id: number; op: 'convert'; input: string; output?: string; overwrite?: boolean };

export type WorkerResult =
  | { op: 'hash'; sha256: string; size: number; mtimeMs: number }
  | { op: 'scan'; report: FileReport }
  | { op: 'version'; version: string }
  /** Reports produced by folder checks alone; the caller merges them into its per-file reports. */
  | { op: 'folders'; reports: FileReport[] }
  | { op: 'convert'; result: ConvertResult };

export type WorkerResponse =
  | { id: number; ok: true; result: WorkerResult }
  | { id: number; ok: false; error: string };
