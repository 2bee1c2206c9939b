/** The dataset audit's inputs and outputs (the CLI's JSON output, the editor's report view). */
import type { Finding } from '../types';
import type { DatasetLimits } from './limits';

export type DatasetFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet' | 'arrow';

export interface ColumnRoles {
  /** Input text columns (joined for trigger, duplicate and drift statistics). */
  text: string[];
  /** Answer/completion columns (assistant side of instruction data). */
  response: string[];
  label?: string;
  id?: string;
  split?: string;
  /** A chat column: a list of {role, content} (or ShareGPT {from, value}) turns. */
  messages?: string;
}

export interface DatasetSettings {
  /** Column-role overrides (CLI --text-column / --label-column, [tool.modelvet.datasets]). */
  textColumns?: string[];
  labelColumn?: string;
  idColumn?: string;
  messagesColumn?: string;
  /** Hosts URLs in assistant text may point to without DATA007 (only the "unknown host" check). */
  allowedHosts?: string[];
}

export interface AuditOptions extends DatasetSettings {
  limits?: Partial<DatasetLimits>;
  /** Audit at most this many rows per source (same as limits.maxRows, reported as sampling, not incomplete). */
  sample?: number;
  isCancelled?: () => boolean;
  onProgress?: (doneBytes: number, totalBytes: number, current: string) => void;
  /** Compute the sha256 of each file (for the AI-BOM). Default true for files. */
  hash?: boolean;
}

export interface ColumnReport {
  name: string;
  /** Values per JSON type: string, number, boolean, null, object, array. */
  types: Record<string, number>;
  empty: number;
  constant?: string;
}

export interface SourceReport {
  path: string;
  format: DatasetFormat;
  split?: string;
  reference: boolean;
  bytes: number;
  sha256?: string;
  rows: number;
  roles: ColumnRoles;
  columns: ColumnReport[];
  labels: Record<string, number>;
  /** Text lengths in characters, log2-scale bins (docs/datasets.md). */
  lengthHistogram: number[];
  duplicates: number;
  conflicts: number;
  /** Why the audit of this source is partial (limits, corruption, cancellation); empty when complete. */
  incomplete: string[];
  sampled?: boolean;
}

export interface TriggerCandidate {
  token: string;
  label: string;
  /** Labelled rows carrying the token, and how many of them have `label`. */
  rows: number;
  carriers: number;
  purity: number;
  /** Label prior in the whole audit. */
  prior: number;
  /** Binomial tail of the purity (unadjusted). */
  pPurity: number;
  /** Share of the token's rows whose other words point to another label, and its binomial p-value. */
  contextDisagreement: number;
  pContext: number;
  flagged: boolean;
  /**
   * The clean-label test (DATA015) for pure tokens whose context agrees, when the audit has another
   * split or a reference: the token's share of rows in its most frequent split and in the rest.
   */
  cleanLabel?: { group: string; share: number; comparisonShare: number; pRare: number; flagged: boolean };
}

export interface DriftReport {
  source: string;
  reference: string;
  labelPsi?: number;
  lengthPsi: number;
  lengthKs: number;
  columns: Array<{ name: string; psi: number }>;
  newTokens: Array<{ token: string; share: number; referenceShare: number }>;
}

export interface AuditReport {
  version: 1;
  sources: SourceReport[];
  triggers: TriggerCandidate[];
  drift: DriftReport[];
  summary: {
    sources: number;
    rows: number;
    seconds: number;
    findings: Record<string, number>;
    incomplete: boolean;
    /** Share of labelled rows whose text points to another label (online naive Bayes), a noise estimate. */
    labelNoiseEstimate?: number;
    approximate: string[];
  };
}

export interface AuditResult { findings: Finding[]; report: AuditReport }
