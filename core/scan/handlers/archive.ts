/**
 * Container handlers: zip (PyTorch checkpoints, TorchScript archives, .npz,
 * generic zips — other handlers may claim a zip first via registerZipClassifier),
 * tar (incl. torch's legacy tar layout), compressed streams (gzip, zlib, bzip2, xz,
 * raw LZMA, joblib's legacy ZF: decompressed with limits and re-sniffed), and
 * formats we cannot open (7z, rar, lz4, zstd, encrypted zips): those are
 * unscannable, never safe.
 */
import { registerFormat, type ByteSource, type ScanContext } from '../format';
import { memorySource, readAll, windowSource, latin1 } from '../bytes';
import { readZip, sniffZip, hasZipEnd, zipClassifiers, joinMember, zlib, type ZipArchive, type ZipEntry } from '../zip'; // zlib: node:zlib loaded on first use
import { scanPickleStream } from '../pickle/scan';
import type { Reading } from '../pickle/framing';
import { sniffPickle } from '../pickle/vm';
import { findTorchTensors, storageFromPersId, tensorInfos } from '../pickle/torch';
import { loadInMemory } from './pickle';
import { checkTensorBytes } from '../weights/check';
import { DecompressError, decompressLzmaAlone, decompressXz, sniffLzmaAlone, sniffXz } from '../decompress/lzma';
import { decompressBzip2, sniffBzip2 } from '../decompress/bzip2';

/** Largest pickle member read into memory from an archive. */
const MAX_PICKLE_MEMBER_BYTES = 512 * 1024 * 1024;

function readMember(archive: ZipArchive, e: ZipEntry, ctx: ScanContext, max: number): Uint8Array | undefined {
  if (e.size > max) {
    ctx.incomplete('ARC002', `member '${e.name}' is ${e.size} bytes, above the in-memory limit for pickles (${max})`, { member: joinMember(ctx.member, e.name) });
    return undefined;
  }
  const src = archive.openEntry(e, max);
  if (!src) return undefined;
  const data = readAll(src);
  if (e.method === 0) archive.checkCrc(e, data);
  return data;
}

function scanZip(src: ByteSource, ctx: ScanContext): void {
  const archive = readZip(src, ctx);
  if (!archive) return;
  for (const c of zipClassifiers()) {
    let claimed = false;
    try { claimed = c.claims(archive); } catch { claimed = false; }
    if (claimed) { ctx.setFormat(c.id); c.scan(archive, src, ctx); return; }
  }
  const limits = ctx.options.limits;
  const maxPickle = Math.min(MAX_PICKLE_MEMBER_BYTES, limits.maxInMemoryBytes);
  // PyTorch's reader (caffe2 inline_container.cc on miniz): the archive name is the FIRST central-directory entry's
  // name up to its first '/', and every record is looked up as '<archive name>/<record>' with
  // mz_zip_reader_locate_file(…, flags 0): whole name, ASCII case-insensitive. So 'archive/DATA.PKL' is the pickle
  // torch.load runs, and with several case variants it may pick any (miniz binary-searches a sorted directory).
  const byName = new Map<string, ZipEntry[]>();
  for (const e of archive.entries) { const k = asciiLower(e.name); const l = byName.get(k); if (l) l.push(e); else byName.set(k, [e]); }
  const record = (name: string) => byName.get(asciiLower(name)) ?? [];
  const first = archive.entries[0]?.name ?? '';
  const torchRoot = first.includes('/') ? first.slice(0, first.indexOf('/') + 1) : undefined;
  let dataPkls = torchRoot !== undefined ? record(`${torchRoot}data.pkl`) : [];
  // Other layouts (a data.pkl in another top folder or at the root): not what torch would read, still scanned as the pickle.
  if (!dataPkls.length) { const alt = archive.entries.find((e) => /^([^/]+\/)?data\.pkl$/i.test(e.name)); if (alt) dataPkls = record(alt.name); }
  const dataPkl = dataPkls[0];
  const root = dataPkl ? dataPkl.name.slice(0, dataPkl.name.length - 'data.pkl'.length) : '';
  const rootLower = asciiLower(root);
  if (dataPkls.length > 1) {
    ctx.finding('ZIP003', 'high', `${dataPkls.length} members are '${root}data.pkl' to PyTorch's case-insensitive lookup (${dataPkls.map((e) => `'${e.name}'`).join(', ')}); which one torch.load runs depends on the directory order — all are scanned`,
      { member: joinMember(ctx.member, dataPkl.name) });
  }
  const isTorchScript = !!dataPkl && archive.entries.some((e) => asciiLower(e.name).startsWith(`${rootLower}code/`) || asciiLower(e.name) === `${rootLower}constants.pkl`);
  const storageKeys = new Set<string>();
  if (dataPkl) ctx.setFormat(isTorchScript ? 'torchscript' : 'pytorch-zip');
  for (const pkl of dataPkls) {
    const data = readMember(archive, pkl, ctx, maxPickle);
    if (!data) continue;
    // torch.load unpickles data.pkl from io.BytesIO(zip_file.get_record(...)): that is the file-object reading to replay.
    const run = scanPickleStream(data, withMember(ctx, pkl.name), { allowExtra: isTorchScript ? torchScriptGlobal : undefined, readings: TORCH_ZIP_READINGS });
    for (const c of run.calls) for (const a of c.args) { const s = storageFromPersId(a); if (s) storageKeys.add(s.key); }
    const refs = run.values.flatMap((v) => findTorchTensors(v));
    for (const r of refs) storageKeys.add(r.storage.key);
    for (const t of tensorInfos(refs)) ctx.tensor(t);
    // Weight-level checks on the raw storages (hidden executables, NaN/Inf, statistics): bytes only, never unpickled.
    if (ctx.options.weights && src.size <= ctx.options.weightsMaxBytes) {
      const checked = new Set<string>();
      for (const r of refs) {
        if (checked.has(r.storage.key)) continue;
        checked.add(r.storage.key);
        const e = record(`${root}data/${r.storage.key}`)[0];
        const storage = e && archive.openEntry(e, Math.min(limits.maxInMemoryBytes, limits.maxDecompressedBytes));
        if (storage) checkTensorBytes(storage, { name: r.name, dtype: r.dtype, offset: 0, length: storage.size }, withMember(ctx, e!.name));
      }
    }
    const missing = refs.filter((r) => !record(`${root}data/${r.storage.key}`).length);
    if (refs.length && missing.length) ctx.finding('ZIP010', 'low', `${missing.length} tensor storages referenced by data.pkl are missing from the archive`, { member: joinMember(ctx.member, pkl.name) });
  }
  if (isTorchScript) {
    const code = archive.entries.filter((e) => asciiLower(e.name).startsWith(`${rootLower}code/`) && !e.name.endsWith('/'));
    const py = code.filter((e) => e.name.endsWith('.py')).map((e) => e.name.slice(root.length));
    ctx.finding('TS001', 'low', `TorchScript archive carries ${code.length} code file(s); torch.jit.load compiles and runs them in the TorchScript interpreter`,
      { member: joinMember(ctx.member, `${root}code/`) }, py.slice(0, 20).join(', ') + (py.length > 20 ? ', …' : ''));
    reviewTorchScriptCode(archive, code, ctx);
  }
  let npyMembers = 0;
  const storageLower = new Set([...storageKeys].map((k) => asciiLower(`${root}data/${k}`)));
  for (const e of archive.entries) {
    if (dataPkls.includes(e) || e.name.endsWith('/') || (e.flags & 1)) continue;
    const lower = asciiLower(e.name);
    if (dataPkl && storageLower.has(lower)) continue; // raw tensor bytes, never unpickled
    // Under '<root>/data/' torch reads raw storage bytes only; such a member is scanned, but an unknown one is not a finding.
    // TorchScript's `_extra_files` (<root>/extra/) are handed to the caller as bytes, never parsed by torch either.
    const rawStorage = !!dataPkl && (lower.startsWith(`${rootLower}data/`) || (isTorchScript && lower.startsWith(`${rootLower}extra/`)));
    if (e.name.endsWith('.npy')) npyMembers++;
    const isPklName = /\.pkl$/i.test(e.name);
    const memberSrc = archive.openEntry(e, Math.min(limits.maxInMemoryBytes, limits.maxDecompressedBytes));
    if (!memberSrc) continue;
    if (isTorchScript && (isPklName || lower.endsWith('.debug_pkl') || sniffPickle(memberSrc.read(0, 4096)) > 0)) {
      const data = readMember(archive, e, ctx, maxPickle);
      if (data) scanPickleStream(data, withMember(ctx, e.name), { allowExtra: torchScriptGlobal });
      continue;
    }
    if (isPklName && memberSrc.size > 0 && sniffPickle(memberSrc.read(0, 4096)) === 0) {
      ctx.finding('ZIP011', 'low', `member '${e.name}' is named like a pickle but does not parse as one`, { member: joinMember(ctx.member, e.name) });
    }
    if (e.method === 0 && e.size <= 64 * 1024 * 1024) archive.checkCrc(e, readAll(memberSrc));
    ctx.scanNested(e.name, memberSrc, rawStorage ? { rawData: true } : undefined);
  }
  if (!dataPkl && npyMembers > 0 && npyMembers === archive.entries.filter((e) => !e.name.endsWith('/')).length) ctx.setFormat('npz');
}

const TORCH_ZIP_READINGS: readonly Reading[] = [{ kind: 'stream' }];

/** miniz's MZ_TOLOWER: ASCII letters only. */
function asciiLower(s: string): string { return s.replace(/[A-Z]+/g, (m) => m.toLowerCase()); }

/** TorchScript operators that read or write files or load native code (torch.jit.load runs them; CVE-2025-32434). */
const TS_DANGEROUS_OPS = /\b(?:torch|ops\.aten|torch\.ops\.aten)\.(?:from_file|save|load|_load_for_mobile|_save_for_mobile|jit\.load|jit\.save)\s*\(|\b(?:torch\.)?ops\.load_library\b/;
function reviewTorchScriptCode(archive: ZipArchive, code: ZipEntry[], ctx: ScanContext): void {
  for (const e of code) {
    if (!e.name.endsWith('.py') || e.size > 16 * 1024 * 1024) continue;
    const s = archive.openEntry(e, 16 * 1024 * 1024);
    if (!s) continue;
    const text = latin1(readAll(s));
    const m = TS_DANGEROUS_OPS.exec(text);
    if (m) ctx.finding('TS002', 'high', `TorchScript code calls '${m[0].replace(/\s*\($/, '')}', which reads/writes files or loads native code when torch.jit.load (or torch.load, even with weights_only=True before torch 2.6) runs the archive`,
      { member: joinMember(ctx.member, e.name) }, text.slice(Math.max(0, m.index - 60), m.index + 80));
  }
}

/** TorchScript data.pkl/constants.pkl reference classes compiled from the archive's code/ folder. */
function torchScriptGlobal(module: string, name: string): boolean {
  return module === '__torch__' || module.startsWith('__torch__.') || (module === 'torch.jit._pickle' && /^(build_|restore_type_tag)/.test(name));
}

function withMember(ctx: ScanContext, name: string): ScanContext {
  const member = joinMember(ctx.member, name);
  return {
    ...ctx,
    member,
    finding: (code, sev, msg, loc, ev) => ctx.finding(code, sev, msg, { ...(loc ?? {}), member: loc?.member ?? member }, ev),
    global: (g) => ctx.global({ ...g, member: g.member ?? member }),
    tensor: (t) => ctx.tensor(t),
    meta: (k, v) => ctx.meta(`${name}:${k}`, v),
    incomplete: (code, reason, loc) => ctx.incomplete(code, reason, { ...(loc ?? {}), member: loc?.member ?? member }),
    scanNested: (n, s, o) => ctx.scanNested(`${name}!${n}`, s, o),
    setFormat: (f) => ctx.setFormat(f),
  };
}

registerFormat({
  id: 'zip',
  sniff(head: Uint8Array, _name: string, size: number): number {
    if (sniffZip(head)) return 80;
    void size;
    return 0;
  },
  scan: scanZip,
});

// ---- tar ----------------------------------------------------------------------------------------

const TAR_BLOCK = 512;
function octal(b: Uint8Array, s: number, n: number): number {
  if (b[s] & 0x80) { // GNU base-256
    let v = 0; for (let i = s + 1; i < s + n; i++) v = v * 256 + b[i]; return v;
  }
  const t = latin1(b.subarray(s, s + n)).replace(/\0.*$/s, '').trim();
  return t === '' ? 0 : /^[0-7]+$/.test(t) ? parseInt(t, 8) : NaN;
}
function tarChecksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return octal(h, 148, 8) === sum;
}
export function sniffTar(head: Uint8Array): boolean {
  if (head.length < TAR_BLOCK) return false;
  const magic = latin1(head.subarray(257, 262));
  return (magic === 'ustar' || tarChecksumOk(head)) && head[0] !== 0;
}
function cstr(b: Uint8Array, s: number, n: number): string {
  const sub = b.subarray(s, s + n); const z = sub.indexOf(0); return latin1(z >= 0 ? sub.subarray(0, z) : sub);
}

function scanTar(src: ByteSource, ctx: ScanContext): void {
  let pos = 0;
  let members = 0;
  let longName: string | undefined;
  const names: string[] = [];
  while (pos + TAR_BLOCK <= src.size) {
    const h = src.read(pos, TAR_BLOCK);
    if (h.every((x) => x === 0)) break;
    if (!tarChecksumOk(h)) { ctx.incomplete('TAR002', `tar header checksum mismatch at offset ${pos}`, { offset: pos }); return; }
    const type = String.fromCharCode(h[156] || 0x30);
    const size = octal(h, 124, 12);
    if (!Number.isFinite(size) || size < 0) { ctx.incomplete('TAR002', `bad tar member size at offset ${pos}`, { offset: pos }); return; }
    const prefix = latin1(h.subarray(257, 262)) === 'ustar' ? cstr(h, 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    longName = undefined;
    const dataStart = pos + TAR_BLOCK;
    pos = dataStart + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (++members > ctx.options.limits.maxArchiveMembers) { ctx.incomplete('ARC002', `tar has more than ${ctx.options.limits.maxArchiveMembers} members`); return; }
    if (type === 'L') { longName = cstr(src.read(dataStart, Math.min(size, 65536)), 0, size); continue; }
    if (type === 'x' || type === 'g') {
      const pax = latin1(src.read(dataStart, Math.min(size, 65536)));
      const m = /\d+ path=([^\n]*)\n/.exec(pax);
      if (m && type === 'x') longName = m[1];
      continue;
    }
    if (/(^|\/)\.\.(\/|$)/.test(name) || name.startsWith('/')) ctx.finding('TAR001', 'high', `tar member '${name}' escapes the extraction folder`, { member: joinMember(ctx.member, name) });
    if (type === '1' || type === '2') {
      const target = cstr(h, 157, 100);
      if (target.startsWith('/') || /(^|\/)\.\.(\/|$)/.test(target)) ctx.finding('TAR001', 'high', `tar link '${name}' points outside the archive ('${target}')`, { member: joinMember(ctx.member, name) });
      continue;
    }
    if (type !== '0' && type !== '7') continue;
    if (dataStart + size > src.size) { ctx.incomplete('TAR002', `tar member '${name}' runs past the end of the archive`, { member: joinMember(ctx.member, name) }); return; }
    names.push(name);
    const member = windowSource(src, dataStart, size);
    if (name === 'storages' || name === 'tensors' || name.endsWith('/storages') || name.endsWith('/tensors')) { scanTorchTarStream(member, withMember(ctx, name), name.endsWith('storages')); continue; }
    ctx.scanNested(name, member);
    name = '';
  }
  if (names.includes('pickle') && names.includes('storages')) ctx.setFormat('pytorch-tar');
}

/** torch's legacy tar: 'storages' = count pickle, then per storage a (key, location, type) pickle + <i8 numel> + bytes;
 *  'tensors' = count pickle, then per tensor a (key, storage_id, type) pickle + <i4 ndim> + 4 pad bytes + ndim×<i8 size> + ndim×<i8 stride> + <i8 offset>. */
function scanTorchTarStream(src: ByteSource, ctx: ScanContext, storages: boolean): void {
  const data = loadInMemory(src, ctx, 'torch tar member');
  if (!data) return;
  const first = scanPickleStream(data, ctx, { maxPickles: 1 });
  if (first.error || first.limit) return;
  const count = first.values[0];
  if (typeof count !== 'number' || count < 0) { ctx.incomplete('LEG001', 'torch tar member does not start with a count'); return; }
  let pos = first.end;
  for (let i = 0; i < count; i++) {
    const r = scanPickleStream(data, ctx, { start: pos, maxPickles: 1 });
    if (r.error || r.limit || !r.values.length) return;
    pos = r.end;
    const v = r.values[0];
    const items = typeof v === 'object' && v !== null && v.kind === 'tuple' ? v.items : [];
    const view = new DataView(data.buffer, data.byteOffset);
    if (storages) {
      const t = items[2];
      const s = t && typeof t === 'object' && t.kind === 'global' ? storageFromPersId({ kind: 'persid', pid: { kind: 'tuple', items: ['storage', t, '0', 'cpu', 0] }, index: 0, offset: 0 }) : undefined;
      if (!s || pos + 8 > data.length) { ctx.incomplete('LEG001', 'torch tar storage record is malformed', { offset: pos }); return; }
      const bytes = Number(view.getBigInt64(pos, true)) * s.elementSize;
      if (!Number.isSafeInteger(bytes) || bytes < 0 || pos + 8 + bytes > data.length) { ctx.incomplete('LEG001', 'torch tar storage runs past the end', { offset: pos }); return; }
      pos += 8 + bytes;
    } else {
      if (pos + 4 > data.length) { ctx.incomplete('LEG001', 'torch tar tensor record is truncated', { offset: pos }); return; }
      const ndim = view.getInt32(pos, true);
      const len = 8 + ndim * 16 + 8; // <i4 ndim>, 4 legacy padding bytes, sizes, strides, <i8 offset>
      if (ndim < 0 || ndim > 64 || pos + len > data.length) { ctx.incomplete('LEG001', 'torch tar tensor record is malformed', { offset: pos }); return; }
      pos += len;
    }
  }
  if (pos < data.length) scanPickleStream(data, ctx, { start: pos });
  void findTorchTensors; void tensorInfos;
}

registerFormat({ id: 'tar', sniff: (head) => (sniffTar(head) ? 70 : 0), scan: scanTar });

// ---- compressed streams -----------------------------------------------------------------------

/** Every compression joblib and pandas read (joblib's compressors + its legacy ZF container; pandas' read_pickle). */
type Compression = 'gzip' | 'zlib' | 'bzip2' | 'xz' | 'lzma' | 'joblib-zf';
const COMPRESSION_NAMES: Record<Compression, string> = { gzip: 'gzip', zlib: 'zlib', bzip2: 'bzip2', xz: 'xz', lzma: 'raw LZMA (.lzma)', 'joblib-zf': "joblib legacy 'ZF' (zlib)" };
const INNER_NAMES: Record<Compression, string> = { gzip: 'gunzipped', zlib: 'inflated', bzip2: 'bunzipped', xz: 'unxz', lzma: 'unlzma', 'joblib-zf': 'inflated' };

/** joblib < 0.10 (numpy_pickle_compat.write_zfile): b'ZF' + hex(len(data)).ljust(19) + zlib.compress(data). */
const ZF_HEADER_BYTES = 2 + 19;
function zfHeader(head: Uint8Array): { length: number; dataStart: number } | undefined {
  if (head.length < ZF_HEADER_BYTES + 2 || head[0] !== 0x5a || head[1] !== 0x46) return undefined;
  const text = latin1(head.subarray(2, ZF_HEADER_BYTES));
  const m = /^\s*(0x[0-9a-fA-F]+)L?\s*$/.exec(text);
  if (!m) return undefined;
  const dataStart = head[ZF_HEADER_BYTES] === 0x20 ? ZF_HEADER_BYTES + 1 : ZF_HEADER_BYTES; // joblib <= 0.8.4 wrote one more space
  if (head[dataStart] !== 0x78) return undefined;
  return { length: parseInt(m[1], 16), dataStart };
}

function isLimitError(e: unknown): boolean {
  if (e instanceof DecompressError) return e.limit;
  const msg = String((e as Error)?.message ?? e);
  return /larger than|maxOutputLength|ERR_BUFFER_TOO_LARGE|Cannot create a Buffer/i.test(msg) || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
}

/** Decompress with limits and scan the content as a nested stream; failures name the compression. */
function decompressInto(ctx: ScanContext, src: ByteSource, kind: Compression): void {
  const what = COMPRESSION_NAMES[kind];
  ctx.meta('compression', what);
  if (src.size > ctx.options.limits.maxInMemoryBytes) { ctx.incomplete('ARC002', `${what} stream too large to decompress in memory`); return; }
  const limit = Math.min(ctx.options.limits.maxInMemoryBytes, ctx.options.limits.maxDecompressedBytes);
  let out: Uint8Array;
  try {
    const raw = readAll(src);
    switch (kind) {
      case 'gzip': out = zlib().gunzipSync(raw, { maxOutputLength: limit }); break;
      case 'zlib': out = zlib().inflateSync(raw, { maxOutputLength: limit }); break;
      case 'bzip2': out = decompressBzip2(raw, limit); break;
      case 'xz': out = decompressXz(raw, limit); break;
      case 'lzma': out = decompressLzmaAlone(raw, limit); break;
      case 'joblib-zf': {
        const h = zfHeader(raw)!;
        if (h.length > limit) throw new DecompressError(`declares ${h.length} bytes`, true);
        out = zlib().inflateSync(raw.subarray(h.dataStart), { maxOutputLength: limit });
        if (out.length !== h.length) ctx.finding('ARC003', 'low', `${what} stream holds ${out.length} bytes but its header declares ${h.length} (joblib refuses it)`);
        break;
      }
    }
  } catch (e) {
    if (isLimitError(e)) ctx.incomplete('ZIP009', `${what} stream decompresses to more than ${limit} bytes (decompression limit; possible bomb)`);
    else if (e instanceof DecompressError && /not supported/.test(e.message)) ctx.incomplete('ARC001', `${what} stream: ${e.message}, so its content was not scanned`);
    else ctx.incomplete('ARC003', `corrupt ${what} stream: ${String((e as Error)?.message ?? e)}`);
    return;
  }
  ctx.scanNested(INNER_NAMES[kind], memorySource(out));
}

registerFormat({
  id: 'gzip',
  sniff: (head) => (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8 ? 80 : 0),
  scan: (src, ctx) => decompressInto(ctx, src, 'gzip'),
});
registerFormat({
  id: 'zlib', // joblib's compress=True / 'zlib'
  // Only the four headers zlib actually writes (levels 1, 2-5, 6, 7-9): 'x ' at the start of a text file is not zlib.
  sniff: (head) => (head.length >= 2 && head[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(head[1]) ? 30 : 0),
  scan: (src, ctx) => decompressInto(ctx, src, 'zlib'),
});
registerFormat({ id: 'bz2', sniff: (head) => (sniffBzip2(head) ? 85 : 0), scan: (src, ctx) => decompressInto(ctx, src, 'bzip2') });
registerFormat({ id: 'xz', sniff: (head) => (sniffXz(head) ? 85 : 0), scan: (src, ctx) => decompressInto(ctx, src, 'xz') });
registerFormat({ id: 'lzma', sniff: (head) => (sniffLzmaAlone(head) ? 60 : 0), scan: (src, ctx) => decompressInto(ctx, src, 'lzma') });
registerFormat({ id: 'joblib-zf', sniff: (head) => (zfHeader(head) ? 90 : 0), scan: (src, ctx) => decompressInto(ctx, src, 'joblib-zf') });

const UNSCANNABLE: { id: string; magic: number[]; what: string }[] = [
  { id: '7z', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: '7-Zip archive' },
  { id: 'rar', magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], what: 'RAR archive' },
  { id: 'lz4', magic: [0x04, 0x22, 0x4d, 0x18], what: 'LZ4 frame' },
  { id: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], what: 'Zstandard frame' },
];
for (const u of UNSCANNABLE) {
  registerFormat({
    id: u.id,
    sniff: (head) => (head.length >= u.magic.length && u.magic.every((b, i) => head[i] === b) ? 85 : 0),
    scan: (_src, ctx) => ctx.incomplete('ARC001', `${u.what}: ModelVet cannot decompress it, so its content was not scanned (a loader that can may run what is inside)`),
  });
}

export { hasZipEnd };
