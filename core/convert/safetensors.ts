/**
 * A small, strict SafeTensors header reader used to verify what the converter
 * wrote (and usable by tests). Strict: the header must be a JSON object of
 * {dtype, shape, data_offsets} entries plus an optional string-valued
 * `__metadata__`, offsets must tile the data section exactly (no gaps, no
 * overlaps) and each size must equal dtype size × element count.
 */
import fs from 'node:fs';

export const SAFETENSORS_DTYPE_SIZES: Readonly<Record<string, number>> = Object.freeze({
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
});
/** The reference implementation refuses headers above 100 MB. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry { name: string; dtype: string; shape: number[]; begin: number; end: number }
export interface SafetensorsHeader { headerBytes: number; dataStart: number; entries: SafetensorsEntry[]; metadata: Record<string, string> }

/** Parse and validate the header of the safetensors file open on `fd` (size `fileSize`). Throws with a reason. */
export function readSafetensorsHeader(fd: number, fileSize: number): SafetensorsHeader {
  if (fileSize < 8) throw new Error('file is shorter than the 8-byte header length');
  const lenBuf = Buffer.alloc(8);
  fs.readSync(fd, lenBuf, 0, 8, 0);
  const n = lenBuf.readBigUInt64LE(0);
  if (n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) throw new Error(`header length ${n} exceeds the limit`);
  const headerBytes = Number(n);
  if (8 + headerBytes > fileSize) throw new Error('header runs past the end of the file');
  const hb = Buffer.alloc(headerBytes);
  if (fs.readSync(fd, hb, 0, headerBytes, 8) !== headerBytes) throw new Error('short read of the header');
  let json: unknown;
  try { json = JSON.parse(hb.toString('utf8')); } catch (e) { throw new Error(`header is not JSON: ${(e as Error).message}`); }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('header is not a JSON object');
  const entries: SafetensorsEntry[] = [];
  const metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('__metadata__ is not an object');
      for (const [k, s] of Object.entries(v)) { if (typeof s !== 'string') throw new Error(`metadata '${k}' is not a string`); metadata[k] = s; }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw new Error(`entry '${name}' is not an object`);
    const size = typeof e.dtype === 'string' ? SAFETENSORS_DTYPE_SIZES[e.dtype] : undefined;
    if (size === undefined) throw new Error(`entry '${name}' has an unknown dtype`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`entry '${name}' has a bad shape`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) throw new Error(`entry '${name}' has bad data_offsets`);
    let count = 1; for (const d of e.shape as number[]) count *= d;
    if (!Number.isSafeInteger(count * size) || count * size !== off[1] - off[0]) throw new Error(`entry '${name}' size does not match dtype × shape`);
    entries.push({ name, dtype: e.dtype as string, shape: e.shape as number[], begin: off[0], end: off[1] });
  }
  const dataStart = 8 + headerBytes;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) throw new Error(`entry '${e.name}' does not start where the previous one ends (gap or overlap)`);
    pos = e.end;
  }
  if (dataStart + pos !== fileSize) throw new Error(`data section is ${fileSize - dataStart} bytes but the entries cover ${pos}`);
  return { headerBytes, dataStart, entries, metadata };
}
