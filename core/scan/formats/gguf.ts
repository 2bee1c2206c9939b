/**
 * GGUF v2/v3: header, metadata key/values (types validated, counts and
 * lengths limited), tensor infos and data layout. The chat template is
 * reviewed statically; tokenizer arrays are sanity-checked; float32 tensors
 * get the weight-level checks.
 */
import type { ByteSource, FormatHandler, ScanContext } from '../format';
import { utf8 } from '../bytes';
import { reviewChatTemplate } from './chat-template';
import { checkTensorBytes } from '../weights/check';

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_MAX_KV = 100_000;
export const GGUF_MAX_TENSORS = 1_000_000;
export const GGUF_MAX_STRING_BYTES = 16 * 1024 * 1024;
export const GGUF_MAX_ARRAY_ITEMS = 16 * 1024 * 1024;
export const GGUF_MAX_DIMS = 8;
/** Nested arrays (arrays of arrays) deeper than this are refused. */
export const GGUF_MAX_ARRAY_NESTING = 3;
/** Strings kept from an array (tokens) for duplicate checks. */
export const GGUF_MAX_KEPT_TOKENS = 4 * 1024 * 1024;
const BLOCK_BYTES = 256 * 1024;

const T_U8 = 0, T_I8 = 1, T_U16 = 2, T_I16 = 3, T_U32 = 4, T_I32 = 5, T_F32 = 6, T_BOOL = 7, T_STRING = 8, T_ARRAY = 9, T_U64 = 10, T_I64 = 11, T_F64 = 12;
const FIXED_SIZE: Record<number, number> = { [T_U8]: 1, [T_I8]: 1, [T_U16]: 2, [T_I16]: 2, [T_U32]: 4, [T_I32]: 4, [T_F32]: 4, [T_BOOL]: 1, [T_U64]: 8, [T_I64]: 8, [T_F64]: 8 };

/** ggml type id → [name, elements per block, bytes per block]. */
export const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ['F32', 1, 4], 1: ['F16', 1, 2], 2: ['Q4_0', 32, 18], 3: ['Q4_1', 32, 20], 6: ['Q5_0', 32, 22], 7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34], 9: ['Q8_1', 32, 36], 10: ['Q2_K', 256, 84], 11: ['Q3_K', 256, 110], 12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176], 14: ['Q6_K', 256, 210], 15: ['Q8_K', 256, 292], 16: ['IQ2_XXS', 256, 66], 17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98], 19: ['IQ1_S', 256, 50], 20: ['IQ4_NL', 32, 18], 21: ['IQ3_S', 256, 110], 22: ['IQ2_S', 256, 82],
  23: ['IQ4_XS', 256, 136], 24: ['I8', 1, 1], 25: ['I16', 1, 2], 26: ['I32', 1, 4], 27: ['I64', 1, 8], 28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56], 30: ['BF16', 1, 2], 34: ['TQ1_0', 256, 54], 35: ['TQ2_0', 256, 66], 39: ['MXFP4', 32, 17],
};

class GgufError extends Error { constructor(message: string, readonly offset: number, readonly limit = false) { super(message); } }

/** Sequential little-endian reader with a block cache. */
class Cursor {
  pos = 0;
  private blockStart = -1;
  private block: Uint8Array = new Uint8Array(0);
  constructor(private readonly src: ByteSource, private readonly maxPos: number) {}
  private ensure(n: number): void {
    if (this.pos + n > this.src.size) throw new GgufError('unexpected end of file', this.pos);
    if (this.pos + n > this.maxPos) throw new GgufError('metadata above the header size cap', this.pos, true);
    if (this.pos < this.blockStart || this.pos + n > this.blockStart + this.block.length) {
      this.blockStart = this.pos;
      this.block = this.src.read(this.pos, Math.max(n, BLOCK_BYTES));
    }
  }
  bytes(n: number): Uint8Array { this.ensure(n); const o = this.pos - this.blockStart; this.pos += n; return this.block.subarray(o, o + n); }
  skip(n: number): void {
    if (!Number.isSafeInteger(n) || this.pos + n > this.src.size) throw new GgufError('unexpected end of file', this.pos);
    if (this.pos + n > this.maxPos) throw new GgufError('metadata above the header size cap', this.pos, true);
    this.pos += n;
  }
  u8(): number { return this.bytes(1)[0]; }
  u32(): number { const b = this.bytes(4); return (b[0] | (b[1] << 8) | (b[2] << 16)) + b[3] * 0x1000000; }
  u64(): number { const lo = this.u32(), hi = this.u32(); return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo; }
  string(): string {
    const at = this.pos;
    const n = this.u64();
    if (n > GGUF_MAX_STRING_BYTES) throw new GgufError(`string of ${n} bytes above the ${GGUF_MAX_STRING_BYTES}-byte limit`, at, true);
    return utf8(this.bytes(n));
  }
}

type Value = number | bigint | boolean | string | { arrayType: number; count: number; strings?: string[] };

function readValue(c: Cursor, type: number, nesting: number): Value {
  const at = c.pos;
  if (type === T_STRING) return c.string();
  if (type === T_ARRAY) {
    if (nesting >= GGUF_MAX_ARRAY_NESTING) throw new GgufError('arrays nested too deep', at, true);
    const et = c.u32();
    const count = c.u64();
    if (count > GGUF_MAX_ARRAY_ITEMS) throw new GgufError(`array of ${count} items above the ${GGUF_MAX_ARRAY_ITEMS} limit`, at, true);
    if (et === T_STRING) {
      const strings: string[] = [];
      for (let i = 0; i < count; i++) { const s = c.string(); if (strings.length < GGUF_MAX_KEPT_TOKENS) strings.push(s); }
      return { arrayType: et, count, strings };
    }
    if (et === T_ARRAY) { for (let i = 0; i < count; i++) readValue(c, T_ARRAY, nesting + 1); return { arrayType: et, count }; }
    const size = FIXED_SIZE[et];
    if (size === undefined) throw new GgufError(`unknown array element type ${et}`, at);
    if (et === T_BOOL) { for (let i = 0; i < count; i++) if (c.u8() > 1) throw new GgufError('bool array item is neither 0 nor 1', c.pos - 1); }
    else c.skip(size * count);
    return { arrayType: et, count };
  }
  switch (type) {
    case T_U8: return c.u8();
    case T_I8: return (c.u8() << 24) >> 24;
    case T_U16: { const b = c.bytes(2); return b[0] | (b[1] << 8); }
    case T_I16: { const b = c.bytes(2); return ((b[0] | (b[1] << 8)) << 16) >> 16; }
    case T_U32: return c.u32();
    case T_I32: return c.u32() | 0;
    case T_F32: { const b = c.bytes(4); return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true); }
    case T_BOOL: { const v = c.u8(); if (v > 1) throw new GgufError(`bool value ${v}`, at); return v === 1; }
    case T_U64: return c.u64();
    case T_I64: { const b = c.bytes(8); return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true); }
    case T_F64: { const b = c.bytes(8); return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true); }
    default: throw new GgufError(`unknown metadata value type ${type}`, at);
  }
}

export function sniffGguf(head: Uint8Array): number {
  return head.length >= 8 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46 ? 100 : 0;
}

/** Expected value types of well-known keys ('array:<element type>' for arrays). */
const EXPECTED_TYPES: Record<string, string[]> = {
  'general.architecture': ['8'], 'general.name': ['8'], 'general.alignment': ['4'], 'general.file_type': ['4'],
  'tokenizer.ggml.model': ['8'], 'tokenizer.chat_template': ['8'], 'tokenizer.ggml.tokens': ['array:8'],
  'tokenizer.ggml.scores': ['array:6'], 'tokenizer.ggml.token_type': ['array:5', 'array:4'], 'tokenizer.ggml.merges': ['array:8'],
  'tokenizer.ggml.bos_token_id': ['4'], 'tokenizer.ggml.eos_token_id': ['4'], 'tokenizer.ggml.unknown_token_id': ['4'], 'tokenizer.ggml.padding_token_id': ['4'],
};

interface TensorEntry { name: string; type: number; dims: number[]; offset: number; bytes: number }

export function scanGguf(src: ByteSource, ctx: ScanContext): void {
  const c = new Cursor(src, Math.min(src.size, ctx.options.limits.maxHeaderBytes));
  const kv = new Map<string, Value>();
  const tensors: TensorEntry[] = [];
  try {
    if (c.u32() !== GGUF_MAGIC) throw new GgufError('bad magic', 0);
    const version = c.u32();
    if (version !== 2 && version !== 3) throw new GgufError(`unsupported GGUF version ${version} (big-endian or v1 files are not supported)`, 4);
    ctx.meta('gguf.version', String(version));
    const tensorCount = c.u64(), kvCount = c.u64();
    if (kvCount > GGUF_MAX_KV) throw new GgufError(`${kvCount} metadata entries above the ${GGUF_MAX_KV} limit`, 16, true);
    if (tensorCount > GGUF_MAX_TENSORS) throw new GgufError(`${tensorCount} tensors above the ${GGUF_MAX_TENSORS} limit`, 8, true);
    for (let i = 0; i < kvCount; i++) {
      const at = c.pos;
      const key = c.string();
      const type = c.u32();
      const value = readValue(c, type, 0);
      const expected = EXPECTED_TYPES[key];
      const actual = typeof value === 'object' && value !== null && 'arrayType' in value ? `array:${value.arrayType}` : String(type);
      if (expected && !expected.includes(actual)) ctx.finding('GGUF001', 'medium', `metadata '${key}' has type ${actual}, expected ${expected.join(' or ')}`, { offset: at });
      if (kv.has(key)) ctx.finding('GGUF001', 'medium', `duplicate metadata key '${key}'`, { offset: at });
      kv.set(key, value);
      if (typeof value === 'string' && (key.startsWith('general.') || key === 'tokenizer.ggml.model') && value.length <= 256) ctx.meta(key, value);
    }
    for (let i = 0; i < tensorCount; i++) {
      const at = c.pos;
      const name = c.string();
      const nDims = c.u32();
      if (nDims > GGUF_MAX_DIMS) throw new GgufError(`tensor '${name}' has ${nDims} dimensions`, at);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(c.u64());
      const type = c.u32();
      const offset = c.u64();
      const t = GGML_TYPES[type];
      if (!t) throw new GgufError(`tensor '${name}' has unknown ggml type ${type}`, at);
      let elements = 1;
      for (const d of dims) { elements *= d; if (!Number.isSafeInteger(elements)) break; }
      const bytes = Number.isSafeInteger(elements) && elements % t[1] === 0 ? (elements / t[1]) * t[2] : Infinity;
      if (!Number.isFinite(bytes)) throw new GgufError(`tensor '${name}' has an invalid size (${JSON.stringify(dims)} of ${t[0]})`, at);
      tensors.push({ name, type, dims, offset, bytes });
      ctx.tensor({ name, dtype: t[0], shape: [...dims].reverse(), bytes });
    }
  } catch (e) {
    if (!(e instanceof GgufError)) throw e;
    ctx.incomplete('GGUF001', `${e.limit ? 'limit reached' : 'malformed GGUF'}: ${e.message}`, { offset: e.offset });
    reviewMetadata(kv, ctx); // what was read still counts
    return;
  }
  reviewMetadata(kv, ctx);

  // Data layout: tensors live after the (aligned) header, aligned, inside the file, without overlaps.
  const alignV = kv.get('general.alignment');
  if (alignV !== undefined && !(typeof alignV === 'number' && alignV > 0 && alignV % 8 === 0 && alignV <= 1 << 20)) {
    ctx.finding('GGUF001', 'medium', `general.alignment ${String(alignV)} is not a positive multiple of 8`);
  }
  const alignment = typeof alignV === 'number' && alignV > 0 && Number.isInteger(alignV) ? alignV : 32;
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const dataSize = src.size - dataStart;
  let layoutOk = true;
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  let cursor = 0;
  for (const t of sorted) {
    if (t.offset % alignment !== 0 || t.offset + t.bytes > dataSize || t.offset < cursor) {
      ctx.finding('GGUF001', 'medium', `tensor '${t.name}' data [${t.offset}, ${t.offset + t.bytes}) is misaligned, overlaps another tensor or runs past the end of the file`, { offset: dataStart + Math.min(t.offset, dataSize) });
      layoutOk = false;
    }
    cursor = Math.max(cursor, t.offset + t.bytes);
  }
  const o = ctx.options;
  if (layoutOk && o.weights && src.size <= o.weightsMaxBytes) {
    for (const t of tensors) if (t.type === 0) checkTensorBytes(src, { name: t.name, dtype: 'F32', offset: dataStart + t.offset, length: t.bytes }, ctx);
  }
}

function reviewMetadata(kv: Map<string, Value>, ctx: ScanContext): void {
  for (const [key, value] of kv) {
    if (!(key === 'tokenizer.chat_template' || key.startsWith('tokenizer.chat_template.'))) continue;
    if (typeof value !== 'string') { ctx.finding('GGUF001', 'medium', `${key} is not a string`); continue; }
    for (const issue of reviewChatTemplate(value)) {
      const code = issue.kind === 'escape' ? 'GGUF002' : issue.kind === 'hidden' ? 'GGUF003' : 'GGUF004';
      ctx.finding(code, issue.severity, `${key}: ${issue.message}`, { member: ctx.member || undefined }, issue.evidence);
    }
  }
  // Tokenizer sanity.
  const tokens = kv.get('tokenizer.ggml.tokens');
  if (tokens && typeof tokens === 'object' && 'strings' in tokens && tokens.strings) {
    const seen = new Set<string>();
    const dups: string[] = [];
    let dupCount = 0;
    for (const t of tokens.strings) { if (seen.has(t)) { dupCount++; if (dups.length < 10) dups.push(t); } else seen.add(t); }
    if (dupCount) ctx.finding('GGUF005', 'medium', `tokenizer.ggml.tokens has ${dupCount} duplicate token(s)`, {}, dups.map((d) => JSON.stringify(d)).join(', '));
    for (const k of ['tokenizer.ggml.scores', 'tokenizer.ggml.token_type']) {
      const v = kv.get(k);
      if (v && typeof v === 'object' && 'count' in v && v.count !== tokens.count) ctx.finding('GGUF005', 'medium', `${k} has ${v.count} entries but tokenizer.ggml.tokens has ${tokens.count}`);
    }
    const arch = kv.get('general.architecture');
    const vocab = typeof arch === 'string' ? kv.get(`${arch}.vocab_size`) : undefined;
    if (typeof vocab === 'number' && vocab !== tokens.count) ctx.finding('GGUF005', 'medium', `${arch}.vocab_size is ${vocab} but the tokenizer has ${tokens.count} tokens`);
  }
}

export const ggufHandler: FormatHandler = { id: 'gguf', sniff: (head) => sniffGguf(head), scan: scanGguf };
