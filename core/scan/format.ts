/**
 * The plug-in contract between the scan engine (core/scan/engine.ts) and the
 * format handlers (pickle, zip, numpy, safetensors, gguf, onnx, …). Handlers
 * read through a ByteSource so that huge files are never loaded whole: a
 * handler asks for exactly the bytes it needs.
 */
import type { GlobalRef, ScanFinding, ScanLocation, ScanSeverity, TensorInfo } from './types';

/** Random-access, synchronous reads. `read` returns fewer bytes only at the end. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /**
   * Optional: read `[offset, offset + target.length)` into `target` and return the bytes read (fewer
   * only at the end of the source). Streaming readers use it to avoid a fresh buffer per chunk.
   */
  readInto?(offset: number, target: Uint8Array): number;
}

export interface ScanLimits {
  /** Largest member/stream a handler may hold in memory (bytes). */
  maxInMemoryBytes: number;
  /** Total decompressed bytes across one file's archive members. */
  maxDecompressedBytes: number;
  /** Archive members per archive. */
  maxArchiveMembers: number;
  /** Nesting depth of archives in archives / pickles in pickles. */
  maxNestingDepth: number;
  /** Pickle opcodes per file. */
  maxPickleOpcodes: number;
  /** Pickle memo entries. */
  maxMemoEntries: number;
  /** Pickle stack depth (values) and MARK depth. */
  maxStackDepth: number;
  /** Symbolic value graph nodes (containers, calls) per pickle. */
  maxValueNodes: number;
  /** Header/metadata bytes for header-based formats (safetensors JSON, GGUF KV, protobuf). */
  maxHeaderBytes: number;
  /** Files per scan (folders). */
  maxFiles: number;
}

export const DEFAULT_LIMITS: Readonly<ScanLimits> = Object.freeze({
  maxInMemoryBytes: 512 * 1024 * 1024,
  maxDecompressedBytes: 2 * 1024 * 1024 * 1024,
  maxArchiveMembers: 100_000,
  maxNestingDepth: 8,
  maxPickleOpcodes: 50_000_000,
  maxMemoEntries: 5_000_000,
  maxStackDepth: 100_000,
  maxValueNodes: 20_000_000,
  maxHeaderBytes: 100 * 1024 * 1024,
  maxFiles: 1_000_000,
});

export interface ScanOptions {
  limits: ScanLimits;
  /** Run weight-level checks (hidden payloads, NaN/Inf, statistics). */
  weights: boolean;
  /** Skip weight-level checks for files larger than this. */
  weightsMaxBytes: number;
}

export interface ScanContext {
  /** Path of the file on disk. */
  readonly path: string;
  /** Member path inside archives ('' at top level; nested joined with '!'). */
  readonly member: string;
  /** Archive/pickle nesting depth (0 at top level). */
  readonly depth: number;
  readonly options: ScanOptions;
  finding(code: string, severity: ScanSeverity, message: string, location?: ScanLocation, evidence?: string): void;
  global(g: GlobalRef): void;
  tensor(t: TensorInfo): void;
  meta(key: string, value: string): void;
  /**
   * The scan could not be completed (limit hit, malformed data, unsupported
   * encoding): records a finding with `code` and makes the verdict at least
   * 'unscannable'.
   */
  incomplete(code: string, reason: string, location?: ScanLocation): void;
  /**
   * Sniff and scan an embedded stream (archive member, nested pickle, decompressed stream) as `name`. A stream no
   * handler recognizes is unscannable (SCAN006) unless it is inert data (text, images, …; core/scan/inert.ts) or
   * the caller says it is raw data its loader never parses (`rawData`, e.g. a torch zip's tensor storages).
   */
  scanNested(name: string, src: ByteSource, opts?: { rawData?: boolean }): void;
  /** Formats detected for nested members, so a container can tell e.g. 'pytorch-zip' from 'zip'. */
  setFormat(format: string): void;
}

export interface FormatHandler {
  /** Format id reported in FileReport.format. */
  readonly id: string;
  /**
   * Confidence (0 = not this format, 100 = certain) from the first bytes
   * (`head`, up to 4 KiB), the name (context only) and the total size.
   */
  sniff(head: Uint8Array, name: string, size: number): number;
  scan(src: ByteSource, ctx: ScanContext): void;
}

/** A check that looks at a whole folder (HF model folders, SavedModel dirs, ONNX external data). */
export interface FolderCheck {
  readonly id: string;
  /** `files` are the folder's direct entries (names); findings are attached to `report(path)`. */
  check(dir: string, files: readonly string[], report: (relPath: string) => ScanContext): void;
}

const handlers: FormatHandler[] = [];
const folderChecks: FolderCheck[] = [];
export function registerFormat(h: FormatHandler): void { handlers.push(h); }
export function registerFolderCheck(c: FolderCheck): void { folderChecks.push(c); }
export function formatHandlers(): readonly FormatHandler[] { return handlers; }
export function handlerById(id: string): FormatHandler | undefined { return handlers.find((h) => h.id === id); }
export function folderCheckList(): readonly FolderCheck[] { return folderChecks; }

/** The best handler for a stream, or undefined when nothing recognizes it. */
export function pickHandler(head: Uint8Array, name: string, size: number): FormatHandler | undefined {
  let best: FormatHandler | undefined;
  let score = 0;
  for (const h of handlers) {
    const s = h.sniff(head, name, size);
    if (s > score) { score = s; best = h; }
  }
  return best;
}
