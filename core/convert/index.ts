/**
 * Safe conversion to SafeTensors: the source is scanned first (anything not
 * `safe` is refused with the scanner's reason), then its tensors are
 * reconstructed from the symbolic pickle VM's value graph — the pickle is never
 * run — and streamed into a temp file next to the output, fsynced, renamed, and
 * re-read with a strict header reader to verify every offset and the data sha256.
 *
 * Choices (documented in docs and the report):
 *  - Non-tensor leaves (ints, floats, strings, None) are SKIPPED and their names listed in
 *    `__metadata__["modelvet.skipped"]`; any other object is a refusal.
 *  - Shared storages / tied weights: every tensor is written as its own contiguous copy
 *    (SafeTensors forbids overlapping tensors); names that view the same storage are listed in
 *    `__metadata__["modelvet.shared"]` as JSON {name: [other names]}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ConvertResult } from '../protocol';
import type { FileReport } from '../scan/types';
import { scanFile } from '../scan/engine';
import { fdSource } from '../scan/bytes';
import { extractTensors, elementCount, contiguousStrides, Refusal, type TensorSource } from './extract';
import { readSafetensorsHeader, MAX_SAFETENSORS_HEADER_BYTES } from './safetensors';
import { streamHasher, fileRangeHasher, type ByteHasher, type RangeHasher } from './hashers';

export const CONVERTER_VERSION = 'modelvet-convert/1';
/** Bytes moved per read/write call. */
export const COPY_CHUNK_BYTES = 8 * 1024 * 1024;
/** A non-contiguous tensor is gathered from its storage span in memory; bigger spans are refused. */
export const MAX_STRIDED_SPAN_BYTES = 512 * 1024 * 1024;

/** Outputs at least this big hash on worker threads (overlapping the copy); smaller ones hash inline. Tests lower it. */
export const convertTuning = { parallelHashMinBytes: 64 * 1024 * 1024 };

export { Refusal } from './extract';
export { readSafetensorsHeader } from './safetensors';

export interface ConvertOptions { output?: string; overwrite?: boolean }

export function defaultOutputPath(input: string): string {
  const ext = path.extname(input);
  return (ext ? input.slice(0, -ext.length) : input) + '.safetensors';
}

/** Why a scan report is not safe: the worst findings, offending globals first. */
export function refusalReason(r: FileReport): string {
  const order = ['critical', 'high', 'medium', 'low', 'info'];
  const bad = r.globals.filter((g) => g.status !== 'allowed').map((g) => `${g.module}.${g.name}`);
  const findings = [...r.findings].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity)).slice(0, 3)
    .map((f) => `${f.code}: ${f.message}`);
  const parts = [`scan verdict is ${r.verdict}`];
  if (bad.length) parts.push(`unsafe globals: ${[...new Set(bad)].slice(0, 5).join(', ')}`);
  if (findings.length) parts.push(findings.join('; '));
  return parts.join(' — ');
}

/** Prefixes of reasons that are I/O failures (not refusals of the content). */
const IO_FAILURE_PREFIXES = ['cannot write ', 'conversion failed: ', 'cannot read '];
export function isIoFailure(r: ConvertResult): boolean {
  return !r.ok && IO_FAILURE_PREFIXES.some((p) => r.reason.startsWith(p));
}

export function convertToSafetensors(input: string, opts: ConvertOptions = {}): ConvertResult {
  const output = path.resolve(opts.output ?? defaultOutputPath(input));
  if (path.resolve(input) === output) return { ok: false, reason: 'output path is the input file' };
  if (!opts.overwrite && fs.existsSync(output)) return { ok: false, exists: true, reason: `${output} already exists (use overwrite/--force to replace it)` };

  const report = scanFile(input, { weights: false });
  if (report.verdict !== 'safe') return { ok: false, reason: refusalReason(report) };

  let fd: number | undefined;
  try {
    fd = fs.openSync(input, 'r');
    const size = fs.fstatSync(fd).size;
    if (size !== report.size) return { ok: false, reason: 'the input changed while it was being scanned' };
    const extracted = extractTensors(report.format, fdSource(fd, size), input);
    if (!extracted.tensors.length) return { ok: false, reason: 'the file holds no tensors' };
    return writeSafetensors(extracted.tensors, extracted.skipped, report.sha256, output, !!opts.overwrite, fd);
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.message };
    return { ok: false, reason: `conversion failed: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

interface Planned { t: TensorSource; begin: number; end: number }

function buildHeader(tensors: TensorSource[], skipped: string[], sourceSha: string): { header: Buffer; plan: Planned[] } {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) if (sorted[i].name === sorted[i - 1].name) throw new Refusal(`two tensors are both named '${sorted[i].name}'`);
  const plan: Planned[] = [];
  let pos = 0;
  const json: Record<string, unknown> = {};
  const shared = new Map<string, string[]>();
  for (const t of sorted) {
    const bytes = elementCount(t.shape) * t.elementSize;
    plan.push({ t, begin: pos, end: pos + bytes });
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [pos, pos + bytes] };
    pos += bytes;
    if (!Number.isSafeInteger(pos)) throw new Refusal('total tensor size is too large');
    const group = shared.get(t.storageId) ?? [];
    group.push(t.name);
    shared.set(t.storageId, group);
  }
  const metadata: Record<string, string> = { format: 'pt', 'modelvet.source_sha256': sourceSha, 'modelvet.converter': CONVERTER_VERSION };
  const aliases: Record<string, string[]> = {};
  for (const names of shared.values()) if (names.length > 1) for (const n of names) aliases[n] = names.filter((m) => m !== n);
  if (Object.keys(aliases).length) metadata['modelvet.shared'] = JSON.stringify(aliases);
  if (skipped.length) metadata['modelvet.skipped'] = JSON.stringify(skipped);
  const text = JSON.stringify({ __metadata__: metadata, ...json });
  let header = Buffer.from(text, 'utf8');
  if (header.length > MAX_SAFETENSORS_HEADER_BYTES) throw new Refusal(`the SafeTensors header would be ${header.length} bytes, above the ${MAX_SAFETENSORS_HEADER_BYTES} limit readers accept`);
  const pad = (8 - ((8 + header.length) % 8)) % 8;
  if (pad) header = Buffer.concat([header, Buffer.alloc(pad, 0x20)]);
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(header.length));
  return { header: Buffer.concat([lenBuf, header]), plan };
}

/** Writes sequentially; every chunk is hashed as written AND re-read from the file by a second hasher. */
class OutWriter {
  pos = 0;
  constructor(private fd: number, private written: ByteHasher, private reread: RangeHasher) {}
  writeRaw(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off, this.pos + off);
    this.written.update(b);
    this.reread.range(this.pos, this.pos + b.length);
    this.pos += b.length;
  }
}

function isContiguous(t: TensorSource): boolean {
  const want = contiguousStrides(t.shape);
  for (let i = 0; i < t.shape.length; i++) if (t.shape[i] > 1 && t.stride[i] !== want[i]) return false;
  return true;
}

function copyTensor(w: OutWriter, t: TensorSource, bytes: number, inputFd: number, buf: Buffer): void {
  if (bytes === 0) return;
  const es = t.elementSize;
  if (isContiguous(t) && t.fileOffset !== undefined) {
    // Uncompressed in the input file: read into one reused buffer (no per-chunk allocation).
    const start = t.fileOffset + t.storageOffset * es;
    for (let done = 0; done < bytes;) {
      const n = Math.min(buf.length, bytes - done);
      let got = 0;
      while (got < n) {
        const r = fs.readSync(inputFd, buf, got, n - got, start + done + got);
        if (r <= 0) throw new Error(`short read in '${t.name}'`);
        got += r;
      }
      w.writeRaw(buf.subarray(0, n));
      done += n;
    }
    return;
  }
  if (isContiguous(t)) {
    const start = t.storageOffset * es;
    for (let done = 0; done < bytes;) {
      const n = Math.min(COPY_CHUNK_BYTES, bytes - done);
      const chunk = t.src.read(start + done, n);
      if (chunk.length !== n) throw new Error(`short read in '${t.name}'`);
      w.writeRaw(chunk);
      done += n;
    }
    return;
  }
  // Gather a strided view: read the storage span it covers once, then copy row by row.
  let last = 0;
  for (let i = 0; i < t.shape.length; i++) last += (t.shape[i] - 1) * t.stride[i];
  const spanBytes = (last + 1) * es;
  if (spanBytes > MAX_STRIDED_SPAN_BYTES) throw new Refusal(`non-contiguous tensor '${t.name}' spans ${spanBytes} bytes, above the ${MAX_STRIDED_SPAN_BYTES} limit`);
  const span = t.src.read(t.storageOffset * es, spanBytes);
  if (span.length !== spanBytes) throw new Error(`short read in '${t.name}'`);
  const nd = t.shape.length;
  const inner = t.shape[nd - 1], innerStride = t.stride[nd - 1];
  const rowBytes = inner * es;
  const out = Buffer.allocUnsafe(Math.min(bytes, Math.max(COPY_CHUNK_BYTES, rowBytes)));
  let fill = 0;
  const flush = () => { if (fill) { w.writeRaw(out.subarray(0, fill)); fill = 0; } };
  const idx = new Array<number>(Math.max(0, nd - 1)).fill(0);
  const rows = bytes / rowBytes;
  for (let r = 0; r < rows; r++) {
    let base = 0;
    for (let i = 0; i < nd - 1; i++) base += idx[i] * t.stride[i];
    if (fill + rowBytes > out.length) flush();
    if (innerStride === 1) { out.set(span.subarray(base * es, base * es + rowBytes), fill); fill += rowBytes; }
    else for (let j = 0; j < inner; j++) { const s = (base + j * innerStride) * es; for (let b = 0; b < es; b++) out[fill++] = span[s + b]; }
    for (let i = nd - 2; i >= 0; i--) { if (++idx[i] < t.shape[i]) break; idx[i] = 0; }
  }
  flush();
}

function writeSafetensors(tensors: TensorSource[], skipped: string[], sourceSha: string, output: string, overwrite: boolean, inputFd: number): ConvertResult {
  const { header, plan } = buildHeader(tensors, skipped, sourceSha);
  const dir = path.dirname(output);
  const tmp = path.join(dir, `.${path.basename(output)}.modelvet-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  let linked = false;
  const total = header.length + (plan.length ? plan[plan.length - 1].end : 0);
  const parallel = total >= convertTuning.parallelHashMinBytes;
  let written: ByteHasher | undefined, reread: RangeHasher | undefined;
  try {
    fd = fs.openSync(tmp, 'wx+', 0o644);
    const rfd = fd;
    written = streamHasher(parallel);
    reread = fileRangeHasher(tmp, parallel, (start, end) => {
      const b = Buffer.allocUnsafe(end - start);
      if (fs.readSync(rfd, b, 0, b.length, start) !== b.length) throw new Error('verification: short read');
      return [b];
    });
    const w = new OutWriter(fd, written, reread);
    w.writeRaw(header);
    const buf = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    for (const p of plan) {
      const before = w.pos;
      copyTensor(w, p.t, p.end - p.begin, inputFd, buf);
      if (w.pos - before !== p.end - p.begin) throw new Error(`wrote ${w.pos - before} bytes for '${p.t.name}', expected ${p.end - p.begin}`);
    }
    fs.fsyncSync(fd);
    const fileSha = written.digest();
    verifyOutput(fd, w.pos, plan);
    if (reread.digest() !== fileSha) throw new Error('verification: the file read back differs from what was written (sha256)');
    fs.closeSync(fd);
    fd = undefined;
    if (overwrite) fs.renameSync(tmp, output);
    else {
      // link() fails with EEXIST instead of replacing a file that appeared meanwhile.
      try { fs.linkSync(tmp, output); linked = true; } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { ok: false, exists: true, reason: `${output} already exists (use overwrite/--force to replace it)` };
        throw e;
      }
    }
    try { const dfd = fs.openSync(dir, 'r'); try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); } } catch { /* directory fsync is best effort (not on all platforms) */ }
    return { ok: true, output, tensors: plan.length, bytes: w.pos, sha256: fileSha };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.message };
    return { ok: false, reason: `cannot write ${output}: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    written?.close();
    reread?.close();
    if (fd !== undefined) { try { fs.closeSync(fd); } catch { /* already failing */ } }
    // The temp file never survives: renamed away on success, removed otherwise (or after link()).
    if (linked || fs.existsSync(tmp)) { try { fs.unlinkSync(tmp); } catch { /* nothing left to clean */ } }
  }
}

function verifyOutput(fd: number, size: number, plan: Planned[]): void {
  const h = readSafetensorsHeader(fd, size);
  if (h.entries.length !== plan.length) throw new Error(`verification: header lists ${h.entries.length} tensors, wrote ${plan.length}`);
  const byName = new Map(h.entries.map((e) => [e.name, e]));
  for (const p of plan) {
    const e = byName.get(p.t.name);
    if (!e || e.begin !== p.begin || e.end !== p.end || e.dtype !== p.t.dtype || e.shape.join(',') !== p.t.shape.join(',')) throw new Error(`verification: entry '${p.t.name}' does not match what was written`);
  }
}
