/**
 * Named limits for dataset auditing. Every reader and accumulator stops at one of these and says so
 * (DATA014, "incomplete"): a hostile or huge file yields an explicit partial result, never a crash,
 * a hang or unbounded memory. Tests and the CLI may lower them (AuditOptions.limits).
 */
export interface DatasetLimits {
  /** Longest JSONL line / JSON array element / CSV record read (bytes); longer ones are skipped (DATA013). */
  maxRecordBytes: number;
  /** Deepest nesting accepted in one JSON value; deeper values are malformed (DATA013). */
  maxJsonDepth: number;
  /** Rows audited per source (--sample lowers it); the rest is not read (DATA014). */
  maxRows: number;
  /** Bytes read per source file; the rest is not read (DATA014). */
  maxFileBytes: number;
  /** Columns tracked per source; extra columns are ignored (DATA014). */
  maxColumns: number;
  /** Characters of one text field that are analyzed (tokens, patterns); the rest is ignored. */
  maxTextChars: number;
  /** Distinct tokens held for trigger and drift statistics; rare tokens are pruned beyond it (approximate). */
  maxVocabulary: number;
  /** Distinct labels: beyond it the label column is treated as free text (no label statistics). */
  maxLabels: number;
  /** Rows whose MinHash signature is kept for near-duplicate search. */
  maxNearDupRows: number;
  /** Rows kept in the exact-duplicate table (all sources together). */
  maxTrackedRows: number;
  /** Row-level findings kept per code and source; the rest is counted in one summary finding. */
  maxRowFindingsPerCode: number;
  /** Rows remembered per trigger candidate (rows carrying the token). */
  maxRowsPerToken: number;
  /** Parquet: decompressed bytes of one page. */
  maxParquetPageBytes: number;
  /** Parquet: decompressed bytes per file over all pages. */
  maxParquetDecompressedBytes: number;
  /** Parquet: compression ratio (uncompressed/compressed) of a page beyond which it is a bomb. */
  maxParquetCompressionRatio: number;
  /** Parquet: values one page may claim (a decoder allocates arrays of that length). */
  maxParquetPageValues: number;
  /** Parquet: footer (metadata) size. */
  maxParquetFooterBytes: number;
  /** Parquet: rows decoded at once (one slice of a row group). */
  parquetBatchRows: number;
  /** Arrow IPC: metadata (flatbuffer) bytes of one message (schema, record batch or dictionary header). */
  maxArrowMetadataBytes: number;
  /** Arrow IPC: body bytes of one record batch or dictionary batch, and its decompressed size. */
  maxArrowBatchBytes: number;
  /** Arrow IPC: rows one record batch may claim. */
  maxArrowBatchRows: number;
  /** Arrow IPC: decompressed bytes per file over all compressed (ZSTD, LZ4) batches. */
  maxArrowDecompressedBytes: number;
  /** Hugging Face folders: data files read per folder. */
  maxFolderFiles: number;
  /** Chat turns read per row. */
  maxTurns: number;
}

export const DEFAULT_LIMITS: Readonly<DatasetLimits> = Object.freeze({
  maxRecordBytes: 8 * 1024 * 1024,
  maxJsonDepth: 64,
  maxRows: 50_000_000,
  maxFileBytes: 64 * 1024 * 1024 * 1024,
  maxColumns: 256,
  maxTextChars: 20_000,
  maxVocabulary: 400_000,
  maxLabels: 200,
  maxNearDupRows: 200_000,
  maxTrackedRows: 20_000_000,
  maxRowFindingsPerCode: 1000,
  maxRowsPerToken: 2000,
  maxParquetPageBytes: 256 * 1024 * 1024,
  maxParquetDecompressedBytes: 16 * 1024 * 1024 * 1024,
  maxParquetCompressionRatio: 1000,
  maxParquetPageValues: 1 << 24,
  maxParquetFooterBytes: 64 * 1024 * 1024,
  parquetBatchRows: 16_384,
  maxArrowMetadataBytes: 16 * 1024 * 1024,
  maxArrowBatchBytes: 512 * 1024 * 1024,
  maxArrowBatchRows: 16_000_000,
  maxArrowDecompressedBytes: 16 * 1024 * 1024 * 1024,
  maxFolderFiles: 1000,
  maxTurns: 256,
});

/** Statistics thresholds (documented in docs/datasets.md). */
export const STATS = Object.freeze({
  /** Rows a token must appear in before it is tested as a trigger. */
  minTriggerSupport: 8,
  /** Share of a token's rows that must carry one label. */
  minTriggerPurity: 0.9,
  /** Benjamini–Hochberg false-discovery rate for the context test. */
  triggerFdr: 0.01,
  /** The purity test's (unadjusted) p-value must also be below this. */
  maxPurityP: 0.01,
  /** Share of a candidate's rows whose other words must point to another label (effect size). */
  minContextDisagreement: 0.5,
  /** Floor of the null disagreement rate in the context test (no real data set is cleaner than this). */
  minNullDisagreement: 0.05,
  /** Rows whose tokens all count; beyond them one row in tokenSampleEvery does (large files). */
  exactTokenRows: 1_000_000,
  tokenSampleEvery: 4,
  /** Rows seen before the online context model's predictions count. */
  contextWarmupRows: 100,
  /** Labels beyond this count: no trigger statistics (the context model is per label). */
  maxTriggerLabels: 20,
  /** Estimated Jaccard similarity (MinHash) at which two texts are near-duplicates. */
  nearDupJaccard: 0.8,
  /** Majority/minority ratio reported as imbalance. */
  imbalanceRatio: 10,
  /** Population stability index reported as a shift (rule of thumb: > 0.25 major shift). */
  psiShift: 0.25,
  /** Kolmogorov–Smirnov distance on text lengths reported as a shift. */
  ksShift: 0.2,
  /** A token in this share of a split's rows and rarer than 1/20 of that in the reference dominates. */
  newTokenShare: 0.01,
  /** Chance of a label run this long in a shuffled file below which the run is reported. */
  blockRunP: 1e-6,
});
