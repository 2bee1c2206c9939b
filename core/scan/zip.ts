/**
 * Our own zip reader, modelled on the one PyTorch uses (miniz via
 * caffe2/serialize/inline_container.cc): find the end-of-central-directory
 * record (and its zip64 form), read the central directory, follow each entry to
 * its local header. Like miniz it tolerates bad CRCs and odd header flags —
 * PyTorch still loads such files — but every oddity is REPORTED (ZIP0xx), so a
 * scanner can never be tricked into skipping an archive the loader accepts.
 */
import type * as Zlib from 'node:zlib';
/** node:zlib, loaded on first use (loading it cost every CLI start ~1.6 ms); the archive handler uses it too. */
let zlibModule: typeof Zlib | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const zlib = (): typeof Zlib => (zlibModule ??= require('node:zlib') as typeof Zlib);
import type { ByteSource, ScanContext } from './format';
import { memorySource, readU16, readU32, readU64, windowSource, latin1, utf8 } from './bytes';
import { decompressBzip2 } from './decompress/bzip2';
import { DecompressError, decompressLzmaAlone } from './decompress/lzma';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  dataOffset: number;
}

export interface ZipArchive {
  entries: ZipEntry[];
  /** Human-readable problems (also reported as findings when a context was given). */
  problems: string[];
  /**
   * The entry's bytes: a window for stored entries (nothing read yet), inflated
   * bytes for deflate entries (at most `maxBytes`; undefined when larger, encrypted
   * or an unsupported method — the reason is added to `problems`).
   */
  openEntry(e: ZipEntry, maxBytes: number): ByteSource | undefined;
  /** Compare the entry's CRC with `data` (the whole entry); reports a mismatch once. */
  checkCrc(e: ZipEntry, data: Uint8Array): boolean;
  /** Decompressed bytes produced so far by openEntry (counted against limits). */
  decompressedBytes: number;
}

export const ZIP_EOCD_SEARCH_BYTES = 65_535 + 22;
const SIG_EOCD = 0x06054b50, SIG_EOCD64 = 0x06064b50, SIG_LOC64 = 0x07064b50, SIG_CEN = 0x02014b50, SIG_LOC = 0x04034b50;
export const ZIP_METHOD_STORED = 0, ZIP_METHOD_DEFLATE = 8;
/** Methods Python's zipfile reads (numpy.load of an .npz, pandas read_pickle(compression='zip')); PyTorch's miniz does not. */
export const ZIP_METHOD_BZIP2 = 12, ZIP_METHOD_LZMA = 14;
/** Deflated members up to this size are inflated at once; larger ones lazily (prefix first). */
export const ZIP_EAGER_INFLATE_BYTES = 8 * 1024 * 1024;
const ZIP_HEAD_COMPRESSED_BYTES = 256 * 1024;
const ZIP_HEAD_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** True when the first bytes look like a zip (local header, or an empty archive's EOCD). */
export function sniffZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6) || (head[2] === 7 && head[3] === 8));
}

/** Finds an EOCD record anywhere at the end of the source (also finds zips with prepended data). */
export function hasZipEnd(src: ByteSource): boolean {
  return findEocd(src) !== undefined;
}

function findEocd(src: ByteSource): { at: number; tail: Uint8Array; tailStart: number } | undefined {
  const tailStart = Math.max(0, src.size - ZIP_EOCD_SEARCH_BYTES);
  const tail = src.read(tailStart, src.size - tailStart);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 5 && tail[i + 3] === 6) return { at: tailStart + i, tail, tailStart };
  }
  return undefined;
}

type ZipClassifier = { id: string; claims(archive: ZipArchive): boolean; scan(archive: ZipArchive, src: ByteSource, ctx: ScanContext): void };
const classifiers: ZipClassifier[] = [];
/** Lets other handlers (Keras, …) claim a zip before the generic/PyTorch logic runs. */
export function registerZipClassifier(c: ZipClassifier): void { classifiers.push(c); }
export function zipClassifiers(): readonly ZipClassifier[] { return classifiers; }

function report(ctx: ScanContext | undefined, problems: string[], code: string, sev: 'high' | 'medium' | 'low', msg: string, member?: string, evidence?: string): void {
  problems.push(msg);
  ctx?.finding(code, sev, msg, member !== undefined ? { member: joinMember(ctx.member, member) } : {}, evidence);
}
export function joinMember(parent: string, name: string): string { return parent ? `${parent}!${name}` : name; }

export function readZip(src: ByteSource, ctx?: ScanContext): ZipArchive | undefined {
  const problems: string[] = [];
  const fail = (reason: string): undefined => { problems.push(reason); ctx?.incomplete('ZIP008', `malformed zip: ${reason}`); return undefined; };
  const eocd = findEocd(src);
  if (!eocd) return fail('no end-of-central-directory record');
  const e = eocd.tail.subarray(eocd.at - eocd.tailStart);
  let count = readU16(e, 10);
  let cdSize = readU32(e, 12);
  let cdOffset = readU32(e, 16);
  let zip64 = false;
  // zip64: a locator sits right before the EOCD and points at the zip64 EOCD record.
  if (eocd.at >= 20) {
    const loc = src.read(eocd.at - 20, 20);
    if (loc.length === 20 && readU32(loc, 0) === SIG_LOC64) {
      const recOffset = readU64(loc, 8);
      const rec = Number.isFinite(recOffset) ? src.read(recOffset, 56) : new Uint8Array(0);
      if (rec.length === 56 && readU32(rec, 0) === SIG_EOCD64) {
        zip64 = true;
        count = readU64(rec, 32);
        cdSize = readU64(rec, 40);
        cdOffset = readU64(rec, 48);
      } else return fail('zip64 locator points at no zip64 record');
    }
  }
  const maxMembers = ctx?.options.limits.maxArchiveMembers ?? 100_000;
  if (!Number.isFinite(count) || count > maxMembers) {
    ctx?.incomplete('ARC002', `archive declares ${count} members, above the limit of ${maxMembers}`);
    return undefined;
  }
  // Data prepended to the archive shifts every offset; miniz (like zip -A) corrects by the difference.
  const cdEnd = zip64 ? eocd.at - 20 - 56 : eocd.at;
  let shift = 0;
  if (Number.isFinite(cdOffset) && Number.isFinite(cdSize) && cdOffset + cdSize < cdEnd && !zip64) shift = cdEnd - (cdOffset + cdSize);
  if (!Number.isFinite(cdSize) || cdSize > (ctx?.options.limits.maxHeaderBytes ?? 100 * 1024 * 1024)) return fail(`central directory size ${cdSize} is out of range`);
  const cd = src.read(cdOffset + shift, cdSize);
  if (cd.length < cdSize) return fail('central directory runs past the end of the file');
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || readU32(cd, p) !== SIG_CEN) return fail(`central directory entry ${i} is truncated or has a bad signature`);
    const flags = readU16(cd, p + 8), method = readU16(cd, p + 10), crc = readU32(cd, p + 16);
    let csize = readU32(cd, p + 20), usize = readU32(cd, p + 24);
    const nameLen = readU16(cd, p + 28), extraLen = readU16(cd, p + 30), commentLen = readU16(cd, p + 32);
    let lho = readU32(cd, p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) return fail(`central directory entry ${i} is truncated`);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    const name = flags & 0x800 ? utf8(nameBytes) : latin1(nameBytes);
    // zip64 extended information: only the fields that are 0xFFFFFFFF are present, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = readU16(cd, x), len = readU16(cd, x + 2);
      if (id === 1) {
        let q = x + 4;
        if (usize === 0xffffffff && q + 8 <= x + 4 + len) { usize = readU64(cd, q); q += 8; }
        if (csize === 0xffffffff && q + 8 <= x + 4 + len) { csize = readU64(cd, q); q += 8; }
        if (lho === 0xffffffff && q + 8 <= x + 4 + len) { lho = readU64(cd, q); q += 8; }
      }
      x += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    lho += shift;
    if (!Number.isFinite(lho) || !Number.isFinite(csize) || !Number.isFinite(usize)) return fail(`entry '${name}' has out-of-range sizes`);
    if (seen.has(name)) report(ctx, problems, 'ZIP003', 'high', `duplicate member name '${name}' (which copy a loader reads depends on the reader)`, name);
    seen.add(name);
    if (/(^|[\\/])\.\.([\\/]|$)/.test(name) || name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) {
      report(ctx, problems, 'ZIP002', 'high', `member name '${name}' escapes the extraction folder (path traversal / absolute path)`, name);
    }
    if (flags & 1) {
      problems.push(`member '${name}' is encrypted`);
      ctx?.incomplete('ZIP006', `member '${name}' is encrypted and cannot be scanned`, { member: joinMember(ctx.member, name) });
    }
    const loc = src.read(lho, 30);
    if (loc.length < 30 || readU32(loc, 0) !== SIG_LOC) {
      report(ctx, problems, 'ZIP004', 'medium', `member '${name}': no local header at offset ${lho}`, name);
      continue;
    }
    const lNameLen = readU16(loc, 26), lExtraLen = readU16(loc, 28), lFlags = readU16(loc, 6);
    const lName = latin1(src.read(lho + 30, lNameLen));
    const lCsize = readU32(loc, 18), lUsize = readU32(loc, 22), lMethod = readU16(loc, 8), lCrc = readU32(loc, 14);
    if (lName !== latin1(nameBytes)) report(ctx, problems, 'ZIP004', 'medium', `member '${name}': local header names it '${lName}'`, name);
    const deferred = (lFlags & 8) !== 0;
    if (lMethod !== method) report(ctx, problems, 'ZIP004', 'medium', `member '${name}': local header method ${lMethod} differs from central directory method ${method}`, name);
    else if (!deferred && lCsize !== 0xffffffff && (lCsize !== csize || lUsize !== usize || lCrc !== crc)) {
      report(ctx, problems, 'ZIP004', 'medium', `member '${name}': local header sizes/CRC (${lCsize}/${lUsize}) differ from the central directory (${csize}/${usize})`, name);
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize: csize, size: usize, localHeaderOffset: lho, dataOffset: lho + 30 + lNameLen + lExtraLen });
  }
  if (entries.length) {
    const first = Math.min(...entries.map((en) => en.localHeaderOffset));
    if (first > 0) report(ctx, problems, 'ZIP005', 'medium', `${first} bytes of data before the first zip entry (polyglot or prepended payload)`);
  }
  const crcReported = new Set<ZipEntry>();
  /**
   * One member decompressed whole, within the in-memory limit and what is left of the archive's total
   * decompression budget. `decode` gets the compressed bytes and the byte budget and throws on corrupt data or
   * when the budget is exceeded (`isLimit` tells which); `detail` adds the decoder's reason to a corruption message.
   */
  const decodeWithin = (en: ZipEntry, maxBytes: number, what: string, decode: (data: Uint8Array, budget: number) => Uint8Array,
    isLimit: (err: unknown) => boolean, detail: (err: unknown) => string): Uint8Array | undefined => {
    const memberLoc = { member: ctx ? joinMember(ctx.member, en.name) : en.name };
    if (en.compressedSize > (ctx?.options.limits.maxInMemoryBytes ?? 512 * 1024 * 1024)) {
      ctx?.incomplete('ARC002', `member '${en.name}' is too large to decompress in memory`, memberLoc);
      return undefined;
    }
    const limitTotal = ctx?.options.limits.maxDecompressedBytes ?? 2 * 1024 * 1024 * 1024;
    const budget = Math.max(0, Math.min(maxBytes, limitTotal - archive.decompressedBytes));
    const tooBigMsg = `member '${en.name}' decompresses to more than ${budget} bytes (decompression limit; possible zip bomb)`;
    let out: Uint8Array;
    try {
      out = decode(src.read(en.dataOffset, en.compressedSize), budget);
    } catch (err) {
      const tooBig = isLimit(err);
      const msg = tooBig ? tooBigMsg : `member '${en.name}' has corrupt ${what} data${detail(err)}`;
      problems.push(msg);
      ctx?.incomplete(tooBig ? 'ZIP009' : 'ZIP008', msg, memberLoc);
      return undefined;
    }
    if (out.length > budget) {
      problems.push(tooBigMsg);
      ctx?.incomplete('ZIP009', tooBigMsg, memberLoc);
      return undefined;
    }
    archive.decompressedBytes += out.length;
    archive.checkCrc(en, out);
    return out;
  };
  const inflateFully = (en: ZipEntry, maxBytes: number): Uint8Array | undefined => decodeWithin(en, maxBytes, 'deflate',
    (data, budget) => zlib().inflateRawSync(data, { maxOutputLength: Math.max(1, budget + 1) }),
    (err) => (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || /larger than|maxOutputLength|Cannot create a Buffer/i.test(String(err)),
    () => '');
  /** bzip2 (12) and LZMA (14) members, decompressed whole within the same limits as deflate. */
  const decodeOther = (en: ZipEntry, maxBytes: number): Uint8Array | undefined => decodeWithin(en, maxBytes,
    en.method === ZIP_METHOD_BZIP2 ? 'bzip2' : 'LZMA',
    (data, budget) => {
      if (en.method === ZIP_METHOD_BZIP2) return decompressBzip2(data, budget);
      // APPNOTE 5.8: u16 LZMA SDK version, u16 properties size (5), the properties, then the raw stream
      // (ended by an end marker when flag bit 1 is set). Re-framed as "LZMA alone": properties, u64 size.
      if (data.length < 9 || (data[2] | (data[3] << 8)) !== 5) throw new DecompressError('bad LZMA member header');
      const head = new Uint8Array(13);
      head.set(data.subarray(4, 9), 0);
      if (en.flags & 2) head.fill(0xff, 5);
      else { let v = en.size; for (let i = 5; i < 13; i++) { head[i] = v % 256; v = Math.floor(v / 256); } }
      const alone = new Uint8Array(13 + data.length - 9);
      alone.set(head, 0); alone.set(data.subarray(9), 13);
      return decompressLzmaAlone(alone, budget);
    },
    (err) => err instanceof DecompressError && !!err.limit,
    (err) => ` (${(err as Error).message})`);
  const archive: ZipArchive = {
    entries,
    problems,
    decompressedBytes: 0,
    openEntry(en: ZipEntry, maxBytes: number): ByteSource | undefined {
      if (en.flags & 1) return undefined;
      if (en.method === ZIP_METHOD_STORED) {
        if (en.dataOffset + en.compressedSize > src.size) {
          problems.push(`member '${en.name}' runs past the end of the archive`);
          ctx?.incomplete('ZIP008', `member '${en.name}' runs past the end of the archive`, { member: ctx ? joinMember(ctx.member, en.name) : en.name });
        }
        return windowSource(src, en.dataOffset, en.compressedSize);
      }
      if (en.method === ZIP_METHOD_DEFLATE) {
        const memberLoc = { member: ctx ? joinMember(ctx.member, en.name) : en.name };
        const limitTotal = ctx?.options.limits.maxDecompressedBytes ?? 2 * 1024 * 1024 * 1024;
        if (en.size > limitTotal - archive.decompressedBytes) {
          const msg = `member '${en.name}' declares ${en.size} decompressed bytes, above the decompression limit (possible zip bomb)`;
          problems.push(msg);
          ctx?.incomplete('ZIP009', msg, memberLoc);
          return undefined;
        }
        if (en.size <= ZIP_EAGER_INFLATE_BYTES) {
          const out = inflateFully(en, maxBytes);
          return out ? memorySource(out) : undefined;
        }
        // Large member: inflate only a prefix for sniffing/headers (a .npy header, a pickle's first opcodes);
        // the whole member is inflated, within limits, only if a handler reads past that prefix.
        let head: Uint8Array = new Uint8Array(0);
        try {
          head = zlib().inflateRawSync(src.read(en.dataOffset, Math.min(en.compressedSize, ZIP_HEAD_COMPRESSED_BYTES)),
            { finishFlush: zlib().constants.Z_SYNC_FLUSH, maxOutputLength: ZIP_HEAD_MAX_OUTPUT_BYTES });
        } catch { head = new Uint8Array(0); }
        let full: Uint8Array | undefined | null = null;
        return {
          size: en.size,
          read(offset: number, length: number): Uint8Array {
            if (offset < 0 || length <= 0 || offset >= en.size) return new Uint8Array(0);
            const end = Math.min(en.size, offset + length);
            if (end <= head.length) return head.subarray(offset, end);
            if (full === null) full = inflateFully(en, maxBytes);
            return full ? full.subarray(offset, end) : new Uint8Array(0);
          },
        };
      }
      if (en.method === ZIP_METHOD_BZIP2 || en.method === ZIP_METHOD_LZMA) {
        const out = decodeOther(en, maxBytes);
        return out ? memorySource(out) : undefined;
      }
      const msg = `member '${en.name}' uses compression method ${en.method}, which cannot be scanned`;
      problems.push(msg);
      ctx?.incomplete('ZIP007', msg, { member: ctx ? joinMember(ctx.member, en.name) : en.name });
      return undefined;
    },
    checkCrc(en: ZipEntry, data: Uint8Array): boolean {
      const actual = zlib().crc32(data) >>> 0;
      if (actual === en.crc32) return true;
      if (!crcReported.has(en)) {
        crcReported.add(en);
        report(ctx, problems, 'ZIP001', 'medium', `member '${en.name}' fails its CRC check (PyTorch loads it anyway; Python's zipfile refuses it)`, en.name,
          `stored ${en.crc32.toString(16).padStart(8, '0')}, actual ${actual.toString(16).padStart(8, '0')}`);
      }
      return false;
    },
  };
  return archive;
}
