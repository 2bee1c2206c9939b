/**
 * Container handlers: zip (PyTorch checkpoints, TorchScript archives, .npz,
 * generic zips — other handlers may claim a zip first via registerZipClassifier),
 * tar (incl. torch's legacy tar layout), gzip/zlib streams (decompressed with
 * limits and re-sniffed), and formats we cannot open (7z, rar, xz, bz2, lz4,
 * zstd, encrypted zips): those are unscannable, never safe.
 */
import zlib from 'node:zlib';
import { registerFormat, type ByteSource, type ScanContext } from '../format';
import { memorySource, readAll, windowSource, latin1 } from '../bytes';
import { readZip, sniffZip, hasZipEnd, zipClassifiers, joinMember, type ZipArchive, type ZipEntry } from '../zip';
import { scanPickleStream } from '../pickle/scan';
import { sniffPickle } from '../pickle/vm';
import { findTorchTensors, storageFromPersId, tensorInfos } from '../pickle/torch';
import { loadInMemory } from './pickle';
import { checkTensorBytes } from '../weights/check';

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
  // PyTorch: '<root>/data.pkl' (any root folder name), raw storages under '<root>/data/'.
  const dataPkl = archive.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name) || e.name === 'data.pkl');
  const root = dataPkl ? dataPkl.name.slice(0, dataPkl.name.length - 'data.pkl'.length) : '';
  const isTorchScript = !!dataPkl && archive.entries.some((e) => e.name.startsWith(`${root}code/`)) ;
  const storageKeys = new Set<string>();
  let opcodes = 0;
  if (dataPkl) {
    ctx.setFormat(isTorchScript ? 'torchscript' : 'pytorch-zip');
    const data = readMember(archive, dataPkl, ctx, maxPickle);
    if (data) {
      const run = scanPickleStream(data, withMember(ctx, dataPkl.name), { allowExtra: isTorchScript ? torchScriptGlobal : undefined });
      opcodes += run.opcodes;
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
          const e = archive.entries.find((x) => x.name === `${root}data/${r.storage.key}`);
          const storage = e && archive.openEntry(e, Math.min(limits.maxInMemoryBytes, limits.maxDecompressedBytes));
          if (storage) checkTensorBytes(storage, { name: r.name, dtype: r.dtype, offset: 0, length: storage.size }, withMember(ctx, e!.name));
        }
      }
      const big = refs.filter((r) => { const e = archive.entries.find((x) => x.name === `${root}data/${r.storage.key}`); return !e; });
      if (refs.length && big.length) ctx.finding('ZIP010', 'low', `${big.length} tensor storages referenced by data.pkl are missing from the archive`, { member: joinMember(ctx.member, dataPkl.name) });
    }
  }
  if (isTorchScript) {
    const code = archive.entries.filter((e) => e.name.startsWith(`${root}code/`) && !e.name.endsWith('/'));
    const py = code.filter((e) => e.name.endsWith('.py')).map((e) => e.name.slice(root.length));
    ctx.finding('TS001', 'low', `TorchScript archive carries ${code.length} code file(s); torch.jit.load compiles and runs them in the TorchScript interpreter`,
      { member: joinMember(ctx.member, `${root}code/`) }, py.slice(0, 20).join(', ') + (py.length > 20 ? ', …' : ''));
  }
  let npyMembers = 0;
  for (const e of archive.entries) {
    if (e === dataPkl || e.name.endsWith('/') || (e.flags & 1)) continue;
    if (root && e.name.startsWith(`${root}data/`) && storageKeys.has(e.name.slice(`${root}data/`.length))) continue; // raw tensor bytes, never unpickled
    if (e.name.endsWith('.npy')) npyMembers++;
    const isPklName = /\.pkl$/.test(e.name);
    const memberSrc = archive.openEntry(e, Math.min(limits.maxInMemoryBytes, limits.maxDecompressedBytes));
    if (!memberSrc) continue;
    if (isTorchScript && (isPklName || e.name.endsWith('.debug_pkl') || sniffPickle(memberSrc.read(0, 4096)) > 0)) {
      const data = readMember(archive, e, ctx, maxPickle);
      if (data) scanPickleStream(data, withMember(ctx, e.name), { allowExtra: torchScriptGlobal });
      continue;
    }
    if (isPklName && memberSrc.size > 0 && sniffPickle(memberSrc.read(0, 4096)) === 0) {
      ctx.finding('ZIP011', 'low', `member '${e.name}' is named like a pickle but does not parse as one`, { member: joinMember(ctx.member, e.name) });
    }
    if (e.method === 0 && e.size <= 64 * 1024 * 1024) archive.checkCrc(e, readAll(memberSrc));
    ctx.scanNested(e.name, memberSrc);
  }
  if (!dataPkl && npyMembers > 0 && npyMembers === archive.entries.filter((e) => !e.name.endsWith('/')).length) ctx.setFormat('npz');
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

function decompressInto(ctx: ScanContext, src: ByteSource, kind: 'gzip' | 'zlib', innerName: string): void {
  if (src.size > ctx.options.limits.maxInMemoryBytes) { ctx.incomplete('ARC002', `${kind} stream too large to decompress in memory`); return; }
  const limit = Math.min(ctx.options.limits.maxInMemoryBytes, ctx.options.limits.maxDecompressedBytes);
  let out: Uint8Array;
  try {
    const raw = readAll(src);
    out = kind === 'gzip' ? zlib.gunzipSync(raw, { maxOutputLength: limit }) : zlib.inflateSync(raw, { maxOutputLength: limit });
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    if (/larger than|maxOutputLength|ERR_BUFFER_TOO_LARGE|Cannot create a Buffer/i.test(msg) || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') ctx.incomplete('ZIP009', `${kind} stream decompresses to more than ${limit} bytes (decompression limit; possible bomb)`);
    else ctx.incomplete('ARC003', `corrupt ${kind} stream: ${msg}`);
    return;
  }
  ctx.scanNested(innerName, memorySource(out));
}

registerFormat({
  id: 'gzip',
  sniff: (head) => (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8 ? 80 : 0),
  scan: (src, ctx) => decompressInto(ctx, src, 'gzip', 'gunzipped'),
});
registerFormat({
  id: 'zlib', // joblib's compress=True / 'zlib'
  // Only the four headers zlib actually writes (levels 1, 2-5, 6, 7-9): 'x ' at the start of a text file is not zlib.
  sniff: (head) => (head.length >= 2 && head[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(head[1]) ? 30 : 0),
  scan: (src, ctx) => decompressInto(ctx, src, 'zlib', 'inflated'),
});

const UNSCANNABLE: { id: string; magic: number[]; what: string }[] = [
  { id: '7z', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: '7-Zip archive' },
  { id: 'rar', magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], what: 'RAR archive' },
  { id: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: 'xz stream' },
  { id: 'bz2', magic: [0x42, 0x5a, 0x68], what: 'bzip2 stream' },
  { id: 'lz4', magic: [0x04, 0x22, 0x4d, 0x18], what: 'LZ4 frame' },
  { id: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], what: 'Zstandard frame' },
];
for (const u of UNSCANNABLE) {
  registerFormat({
    id: u.id,
    sniff: (head) => (head.length >= u.magic.length && u.magic.every((b, i) => head[i] === b) && (u.id !== 'bz2' || (head[3] >= 0x31 && head[3] <= 0x39)) ? 85 : 0),
    scan: (_src, ctx) => ctx.incomplete('ARC001', `${u.what}: ModelVet cannot decompress it, so its content was not scanned (a loader that can may run what is inside)`),
  });
}

export { hasZipEnd };
