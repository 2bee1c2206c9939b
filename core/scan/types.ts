/**
 * The model-scan output contract, shared by `modelvet scan`, the server's scan
 * request, the report view and the converter. See docs/scan-output.md.
 */

export type Verdict = 'safe' | 'suspicious' | 'malicious' | 'unscannable';
export type ScanSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface ScanLocation {
  /** Archive member path (nested archives joined with '!'), when inside a container. */
  member?: string;
  /** Byte offset within the member (or the file). */
  offset?: number;
  /** Index of the pickle opcode (0-based, across stacked pickles of the member). */
  opcodeIndex?: number;
}

export interface ScanFinding {
  /** Stable finding code, e.g. PKL001, ZIP003, ST002 (registered in the rule registry, category 'scan'). */
  code: string;
  severity: ScanSeverity;
  message: string;
  location: ScanLocation;
  /** Short supporting detail: the call chain, the bytes, the config path. */
  evidence?: string;
}

export type GlobalStatus = 'allowed' | 'unknown' | 'dangerous';
export interface GlobalRef { module: string; name: string; status: GlobalStatus; member?: string }

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte size of the tensor data (dtype size × elements). */
  bytes: number;
}

export interface FileReport {
  path: string;
  /** Detected format, e.g. 'pickle', 'pytorch-zip', 'pytorch-legacy', 'torchscript', 'numpy', 'npz', 'joblib', 'safetensors', 'gguf', 'onnx', 'keras', 'hdf5', 'tf-savedmodel', 'zip', 'tar', 'gzip', 'unknown'. */
  format: string;
  verdict: Verdict;
  findings: ScanFinding[];
  globals: GlobalRef[];
  /** Hex sha256 of the whole file (streamed). */
  sha256: string;
  size: number;
  /** Tensors declared by the file (headers / symbolic pickle; data never loaded). */
  tensors?: TensorInfo[];
  metadata?: Record<string, string>;
}

export interface ScanSummary { files: number; malicious: number; suspicious: number; unscannable: number; safe: number; seconds: number }
export interface ScanOutput { version: 1; files: FileReport[]; summary: ScanSummary }

const VERDICT_RANK: Record<Verdict, number> = { safe: 0, unscannable: 1, suspicious: 2, malicious: 3 };
export function worseVerdict(a: Verdict, b: Verdict): Verdict { return VERDICT_RANK[a] >= VERDICT_RANK[b] ? a : b; }
export function verdictRank(v: Verdict): number { return VERDICT_RANK[v]; }

/**
 * The verdict that follows from a set of findings. Any critical finding makes the
 * file malicious; high/medium findings make it suspicious; `incomplete` (a limit
 * was hit, the stream was malformed, the format cannot be opened) makes it at
 * least unscannable — never safe. low/info findings alone leave it safe.
 */
export function verdictOf(findings: readonly ScanFinding[], incomplete: boolean): Verdict {
  let v: Verdict = incomplete ? 'unscannable' : 'safe';
  for (const f of findings) {
    if (f.severity === 'critical') return 'malicious';
    if (f.severity === 'high' || f.severity === 'medium') v = worseVerdict(v, 'suspicious');
  }
  return v;
}
