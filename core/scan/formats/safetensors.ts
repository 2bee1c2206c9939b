/**
 * SafeTensors: 8-byte little-endian header length, a JSON header, then the
 * data section. A valid file is judged from the header alone; the weight
 * checks (optional) stream each tensor's bytes.
 */
import type { ByteSource, FormatHandler, ScanContext } from '../format';
import { readU64, utf8 } from '../bytes';
import { checkJsonKeys } from './json-keys';
import { checkTensorBytes } from '../weights/check';

/** Element sizes in bits by dtype (the spec's dtype list). */
export const SAFETENSORS_DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, I64: 64, U64: 64, F64: 64, C64: 64,
};
/** Tensors per header (a header naming more is unscannable). */
export const SAFETENSORS_MAX_TENSORS = 1_000_000;
/** Dimensions per tensor. */
export const SAFETENSORS_MAX_RANK = 64;

export function sniffSafetensors(head: Uint8Array, size: number): number {
  if (head.length < 10) return 0;
  const n = readU64(head, 0);
  if (!Number.isFinite(n) || n < 2 || 8 + n > size) return 0;
  // The header starts with '{' (optionally after spaces, which the spec allows as padding at the end only).
  return head[8] === 0x7b && (head[9] === 0x22 || head[9] === 0x7d || head[9] === 0x20) ? 90 : 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function scanSafetensors(src: ByteSource, ctx: ScanContext): void {
  const first = src.read(0, 8);
  if (first.length < 8) return ctx.incomplete('ST001', 'file is shorter than the 8-byte header length');
  const headerLen = readU64(first, 0);
  const cap = ctx.options.limits.maxHeaderBytes;
  if (!Number.isFinite(headerLen) || headerLen === 0 || 8 + headerLen > src.size) {
    return ctx.incomplete('ST001', `header length ${headerLen} runs past the end of the ${src.size}-byte file`, { offset: 0 });
  }
  if (headerLen > cap) return ctx.incomplete('ST001', `header length ${headerLen} is above the ${cap}-byte cap`, { offset: 0 });
  const text = utf8(src.read(8, headerLen)).replace(/ +$/, '');
  const keys = checkJsonKeys(text);
  if (keys.error) return ctx.incomplete('ST002', `header is not valid JSON: ${keys.error}`, { offset: 8 });
  for (const d of keys.duplicates) ctx.finding('ST003', 'high', `duplicate key '${d}' in the header`, { offset: 8 }, 'JSON parsers disagree on which copy wins');
  const header = JSON.parse(text) as unknown;
  if (!isPlainObject(header)) return ctx.incomplete('ST002', 'header is not a JSON object', { offset: 8 });

  const dataStart = 8 + headerLen;
  const dataSize = src.size - dataStart;
  const ranges: { name: string; begin: number; end: number; dtype: string }[] = [];
  let malformed = false;
  let count = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry)) { ctx.finding('ST007', 'medium', '__metadata__ is not an object', { offset: 8 }); continue; }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') ctx.finding('ST007', 'medium', `__metadata__['${k}'] is a ${Array.isArray(v) ? 'array' : typeof v}, not a string`, { offset: 8 });
        else ctx.meta(k, v);
      }
      continue;
    }
    if (++count > SAFETENSORS_MAX_TENSORS) return ctx.incomplete('ST002', `more than ${SAFETENSORS_MAX_TENSORS} tensors in the header`);
    if (!isPlainObject(entry)) { ctx.finding('ST004', 'high', `tensor '${name}' entry is not an object`); malformed = true; continue; }
    const { dtype, shape, data_offsets: offs } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const bits = typeof dtype === 'string' ? SAFETENSORS_DTYPE_BITS[dtype] : undefined;
    if (bits === undefined) { ctx.finding('ST004', 'high', `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`); malformed = true; continue; }
    if (!Array.isArray(shape) || shape.length > SAFETENSORS_MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      ctx.finding('ST004', 'high', `tensor '${name}' has an invalid shape ${JSON.stringify(shape)?.slice(0, 80)}`); malformed = true; continue;
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      ctx.finding('ST005', 'high', `tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)?.slice(0, 80)}`); malformed = true; continue;
    }
    // Checked arithmetic: the element count can overflow 2^53 in a crafted header.
    let elements = 1;
    for (const d of shape as number[]) { elements *= d; if (!Number.isSafeInteger(elements)) break; }
    const expectedBytes = Number.isSafeInteger(elements) ? Math.ceil((elements * bits) / 8) : Infinity;
    const [begin, end] = offs as number[];
    if (end - begin !== expectedBytes) {
      ctx.finding('ST005', 'high', `tensor '${name}' spans ${end - begin} bytes but ${dtype}×${JSON.stringify(shape)} needs ${expectedBytes}`, { offset: dataStart + begin });
      malformed = true;
    }
    if (end > dataSize) {
      ctx.finding('ST005', 'high', `tensor '${name}' data [${begin}, ${end}) runs past the end of the data section (${dataSize} bytes)`, { offset: dataStart + begin });
      malformed = true;
    }
    ranges.push({ name, begin, end, dtype: dtype as string });
    ctx.tensor({ name, dtype: dtype as string, shape: shape as number[], bytes: end - begin });
  }
  // Overlaps and gaps: sorted by start, the tensors must tile [0, dataSize) exactly.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let overlapReports = 0, gapReports = 0;
  for (const r of ranges) {
    if (r.begin < cursor) {
      if (overlapReports++ < 10) ctx.finding('ST005', 'high', `tensor '${r.name}' [${r.begin}, ${r.end}) overlaps another tensor`, { offset: dataStart + r.begin });
      malformed = true;
    } else if (r.begin > cursor && r.end > r.begin) {
      if (gapReports++ < 10) ctx.finding('ST006', 'medium', `${r.begin - cursor} bytes before tensor '${r.name}' belong to no tensor`, { offset: dataStart + cursor });
    }
    cursor = Math.max(cursor, r.end);
  }
  if (cursor < dataSize) ctx.finding('ST006', 'medium', `${dataSize - cursor} bytes after the last tensor belong to no tensor`, { offset: dataStart + cursor });

  const o = ctx.options;
  if (o.weights && src.size <= o.weightsMaxBytes && !malformed) {
    for (const r of ranges) checkTensorBytes(src, { name: r.name, dtype: r.dtype, offset: dataStart + r.begin, length: r.end - r.begin }, ctx);
  }
}

export const safetensorsHandler: FormatHandler = {
  id: 'safetensors',
  sniff: (head, _name, size) => sniffSafetensors(head, size),
  scan: scanSafetensors,
};
