/**
 * The scan engine: walks paths, sniffs every file by content, dispatches to the
 * registered format handlers through a ScanContext, and assembles FileReports
 * (verdict from findings + completeness). Handlers read through ByteSources, so a
 * multi-gigabyte checkpoint costs what its pickle costs (plus the streamed hash).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import './handlers/index';
import './formats/index';
import { DEFAULT_LIMITS, folderCheckList, handlerById, pickHandler, type ByteSource, type ScanContext, type ScanOptions } from './format';
import { verdictOf, type FileReport, type GlobalRef, type ScanFinding, type ScanLocation, type ScanOutput, type ScanSeverity, type TensorInfo } from './types';
import { fdSource, memorySource } from './bytes';
import { hasZipEnd, joinMember } from './zip';
import { inertKind } from './inert';

export const ENGINE_VERSION = '1';
/** Milliseconds on a monotonic clock; process.hrtime, not the `performance` global (which loads perf_hooks, ~0.8 ms of CLI start). */
export function monotonicMs(): number { const [s, ns] = process.hrtime(); return s * 1e3 + ns / 1e6; }
/** Bytes given to sniffers. */
export const SNIFF_BYTES = 4096;
const HASH_CHUNK_BYTES = 4 * 1024 * 1024;
/** Most findings kept per file (a hostile file could otherwise produce millions). */
export const MAX_FINDINGS_PER_FILE = 1000;
/** Names that announce a model file: when nothing recognizes such a file it is unscannable, never safe. */
const MODEL_EXTENSIONS = /\.(bin|pt|pth|ckpt|pkl|pickle|p|joblib|jbl|sav|model|npy|npz|h5|hdf5|keras|onnx|gguf|ggml|safetensors|pb|tflite|mar|nemo|dat|data|pkl\.gz|tar|zip|7z|rar|xz|bz2|gz|lz4|zst)$/i;

export interface EngineOptions extends ScanOptions {
  /** Compute the file's sha256 (default true; benchmarks turn it off to time parsing alone). */
  hash: boolean;
}

export function resolveOptions(opts?: Partial<EngineOptions>): EngineOptions {
  return {
    limits: { ...DEFAULT_LIMITS, ...(opts?.limits ?? {}) },
    weights: opts?.weights ?? true,
    weightsMaxBytes: opts?.weightsMaxBytes ?? 2 * 1024 * 1024 * 1024,
    hash: opts?.hash ?? true,
  };
}

class ReportBuilder {
  findings: ScanFinding[] = [];
  globals = new Map<string, GlobalRef>();
  tensors: TensorInfo[] = [];
  metadata: Record<string, string> = {};
  incomplete = false;
  format = 'unknown';
  dropped = 0;
  opcodesUsed = 0;
  add(f: ScanFinding): void {
    if (this.findings.length >= MAX_FINDINGS_PER_FILE) { this.dropped++; if (f.severity !== 'critical' || this.findings.some((x) => x.severity === 'critical')) return; }
    this.findings.push(f);
  }
}

const SEVERITY_RANK: Record<ScanSeverity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

function makeContext(b: ReportBuilder, filePath: string, member: string, depth: number, options: EngineOptions): ScanContext {
  const ctx: ScanContext = {
    path: filePath,
    member,
    depth,
    options,
    finding(code, severity, message, location?: ScanLocation, evidence?: string) {
      const loc: ScanLocation = { ...(location ?? {}) };
      if (loc.member === undefined && member) loc.member = member;
      b.add({ code, severity, message, location: loc, ...(evidence !== undefined ? { evidence } : {}) });
    },
    global(g) {
      const key = `${g.module}\u0000${g.name}\u0000${g.member ?? ''}`;
      const prev = b.globals.get(key);
      if (!prev || (prev.status === 'allowed' && g.status !== 'allowed') || (prev.status === 'unknown' && g.status === 'dangerous')) b.globals.set(key, g);
    },
    tensor(t) { if (b.tensors.length < 1_000_000) b.tensors.push(t); },
    meta(k, v) { b.metadata[member ? `${member}:${k}` : k] = v; },
    incomplete(code, reason, location?: ScanLocation) {
      b.incomplete = true;
      ctx.finding(code, 'low', reason, location);
    },
    scanNested(name: string, src: ByteSource, opts?: { rawData?: boolean }) {
      const childMember = joinMember(member, name);
      if (depth + 1 > options.limits.maxNestingDepth) {
        ctx.incomplete('ARC002', `nesting depth limit (${options.limits.maxNestingDepth}) reached at '${childMember}'`, { member: childMember });
        return;
      }
      const child = makeContext(b, filePath, childMember, depth + 1, options);
      if (dispatch(child, src, name, false) || opts?.rawData) return;
      // A nested stream nobody recognizes is never skipped: its loader (torch.load, joblib.load, …) may run it.
      if (inertKind(src.read(0, SNIFF_BYTES), src.size) === undefined) {
        child.incomplete('SCAN006', `nested stream '${childMember}' (${src.size} bytes) matches no known format, so it was not scanned; a loader may still read it`);
      }
    },
    setFormat(format: string) { if (depth === 0 || b.format === 'unknown') b.format = format; },
  };
  return ctx;
}

/** Sniff `src` and run the best handler; returns the handler id or undefined. */
function dispatch(ctx: ScanContext, src: ByteSource, name: string, topLevel: boolean): string | undefined {
  const head = src.read(0, SNIFF_BYTES);
  // A zip whose entries start after other bytes (zipfile, miniz and unzip all read it from its end record).
  const h = pickHandler(head, name, src.size) ?? (hasZipEnd(src) ? handlerById('zip') : undefined);
  if (!h) return undefined;
  if (topLevel) ctx.setFormat(h.id);
  try {
    h.scan(src, ctx);
  } catch (e) {
    ctx.incomplete('SCAN002', `internal error while scanning as ${h.id}: ${(e as Error)?.message ?? String(e)}`);
  }
  return h.id;
}

function finish(b: ReportBuilder, filePath: string, size: number, sha256: string): FileReport {
  if (b.dropped) b.metadata.droppedFindings = String(b.dropped);
  b.findings.sort((x, y) => SEVERITY_RANK[y.severity] - SEVERITY_RANK[x.severity]);
  const report: FileReport = {
    path: filePath,
    format: b.format,
    verdict: verdictOf(b.findings, b.incomplete),
    findings: b.findings,
    globals: [...b.globals.values()],
    sha256,
    size,
  };
  if (b.tensors.length) report.tensors = b.tensors;
  if (Object.keys(b.metadata).length) report.metadata = b.metadata;
  return report;
}

/** Files up to this size are read into memory once (hashed and scanned from there); bigger ones are streamed. */
export const WHOLE_READ_MAX_BYTES = 32 * 1024 * 1024;

function hashFd(fd: number, size: number): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, Math.max(1, size)));
  let pos = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    hash.update(buf.subarray(0, n));
    pos += n;
  }
  return hash.digest('hex');
}

function runHandlers(b: ReportBuilder, filePath: string, src: ByteSource, options: EngineOptions): void {
  const ctx = makeContext(b, filePath, '', 0, options);
  const id = dispatch(ctx, src, path.basename(filePath), true);
  if (!id && MODEL_EXTENSIONS.test(filePath)) {
    ctx.incomplete('SCAN003', `'${path.basename(filePath)}' looks like a model file by its name, but its content matches no known format`);
  }
}

/** Scan one file. Never throws for file content; I/O errors give an unscannable report. */
export function scanFile(filePath: string, opts?: Partial<EngineOptions>): FileReport {
  const options = resolveOptions(opts);
  const b = new ReportBuilder();
  let fd: number | undefined;
  let size = 0;
  let sha = '';
  try {
    fd = fs.openSync(filePath, 'r');
    size = fs.fstatSync(fd).size;
    let src = fdSource(fd, size);
    if (options.hash && size <= WHOLE_READ_MAX_BYTES && size <= options.limits.maxInMemoryBytes) {
      // Small enough to hold: read once (one allocation), hash that, and scan it from memory; the pickle
      // handlers would load it whole anyway, and the file is not read a second time for the hash.
      const data = src.read(0, size);
      sha = createHash('sha256').update(data).digest('hex');
      src = memorySource(data);
    } else if (options.hash) sha = hashFd(fd, size);
    runHandlers(b, filePath, src, options);
  } catch (e) {
    b.incomplete = true;
    b.add({ code: 'SCAN001', severity: 'low', message: `cannot read file: ${(e as Error)?.message ?? String(e)}`, location: {} });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return finish(b, filePath, size, sha);
}

/** Scan in-memory bytes as if they were the file `name` (tests, the server's unsaved buffers). */
export function scanBytes(name: string, data: Uint8Array, opts?: Partial<EngineOptions>): FileReport {
  const options = resolveOptions(opts);
  const b = new ReportBuilder();
  runHandlers(b, name, memorySource(data), options);
  return finish(b, name, data.length, options.hash ? createHash('sha256').update(data).digest('hex') : '');
}

export interface ScanPathsOptions extends Partial<EngineOptions> {
  onProgress?(done: number, total: number, current: string): void;
  isCancelled?(): boolean;
}

/** Every regular file under the paths (directories recursed, `.git` skipped, symlinked folders not followed). */
export function listFiles(paths: string[], maxFiles = DEFAULT_LIMITS.maxFiles): { files: string[]; dirs: Map<string, string[]>; truncated: boolean } {
  const files: string[] = [];
  const dirs = new Map<string, string[]>();
  let truncated = false;
  const walk = (p: string) => {
    if (files.length >= maxFiles) { truncated = true; return; }
    let st: fs.Stats;
    try { st = fs.lstatSync(p); } catch { files.push(p); return; }
    if (st.isSymbolicLink()) {
      try { st = fs.statSync(p); } catch { return; }
      if (st.isDirectory()) return;
    }
    if (st.isDirectory()) {
      let names: string[];
      try { names = fs.readdirSync(p).sort(); } catch { return; }
      dirs.set(p, names);
      for (const n of names) { if (n === '.git') continue; walk(path.join(p, n)); }
    } else if (st.isFile()) files.push(p);
  };
  for (const p of paths) walk(p);
  return { files, dirs, truncated };
}

function summarize(files: FileReport[], started: number): ScanOutput {
  const s = { files: files.length, malicious: 0, suspicious: 0, unscannable: 0, safe: 0, seconds: Math.round((monotonicMs() - started)) / 1000 };
  for (const f of files) s[f.verdict]++;
  return { version: 1, files, summary: s };
}

export function applyFolderChecks(dirs: Map<string, string[]>, reports: Map<string, FileReport>, options: EngineOptions): void {
  const checks = folderCheckList();
  if (!checks.length) return;
  for (const [dir, names] of dirs) {
    for (const check of checks) {
      const builders = new Map<string, ReportBuilder>();
      try {
        check.check(dir, names, (rel) => {
          const p = path.join(dir, rel);
          let b = builders.get(p);
          if (!b) { b = new ReportBuilder(); builders.set(p, b); }
          return makeContext(b, p, '', 0, options);
        });
      } catch { /* a failing folder check must not abort the scan */ }
      for (const [p, b] of builders) {
        const existing = reports.get(p);
        if (existing) {
          existing.findings.push(...b.findings);
          existing.globals.push(...b.globals.values());
          existing.verdict = verdictOf(existing.findings, existing.verdict === 'unscannable' || b.incomplete);
        } else {
          reports.set(p, finish(b, p, 0, ''));
        }
      }
    }
  }
}

export function scanPaths(paths: string[], opts: ScanPathsOptions = {}): ScanOutput {
  const started = monotonicMs();
  const options = resolveOptions(opts);
  const { files, dirs, truncated } = listFiles(paths, options.limits.maxFiles);
  const reports = new Map<string, FileReport>();
  let done = 0;
  for (const f of files) {
    if (opts.isCancelled?.()) break;
    opts.onProgress?.(done, files.length, f);
    reports.set(f, scanFile(f, options));
    done++;
  }
  opts.onProgress?.(done, files.length, '');
  applyFolderChecks(dirs, reports, options);
  const list = [...reports.values()];
  if (truncated) list.push(limitReport(paths[0] ?? '.', options.limits.maxFiles));
  return summarize(list, started);
}

function limitReport(p: string, max: number): FileReport {
  return { path: p, format: 'unknown', verdict: 'unscannable', sha256: '', size: 0, globals: [],
    findings: [{ code: 'ARC002', severity: 'low', message: `file limit (${max}) reached; remaining files were not scanned`, location: {} }] };
}

export { scanPathsParallel } from './parallel';
