/**
 * A small protobuf wire-format reader over a ByteSource. It walks fields
 * without materializing messages and SKIPS length-delimited payloads it is not
 * asked to open, so tensor bytes are never read. Limits bound depth and the
 * number of fields; violations throw ProtoError (the caller reports
 * "incomplete").
 */
import type { ByteSource } from '../format';
import { utf8 } from '../bytes';

export const PROTO_MAX_DEPTH = 64;
export const PROTO_MAX_FIELDS = 10_000_000;
/** Strings we decode (names, op types, paths) are never longer than this. */
export const PROTO_MAX_STRING_BYTES = 1024 * 1024;
const BLOCK_BYTES = 64 * 1024;

export class ProtoError extends Error {
  constructor(message: string, readonly offset: number, readonly limit = false) { super(message); }
}

export const WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5;

export interface ProtoField {
  num: number;
  wire: number;
  /** Varint value (as a number; > 2^53 becomes an approximation), or the fixed value's low 32 bits. */
  value: number;
  /** For WIRE_LEN: payload start and length (absolute offsets in the source). */
  start: number;
  length: number;
}

/** Shared state: cached block reads and the field budget across a whole file. */
export class ProtoSource {
  private blockStart = -1;
  private block: Uint8Array = new Uint8Array(0);
  fieldsRead = 0;
  constructor(readonly src: ByteSource, readonly maxFields = PROTO_MAX_FIELDS) {}

  byte(off: number): number {
    if (off < this.blockStart || off >= this.blockStart + this.block.length) {
      if (off >= this.src.size || off < 0) throw new ProtoError('unexpected end of data', off);
      this.blockStart = off;
      this.block = this.src.read(off, BLOCK_BYTES);
    }
    return this.block[off - this.blockStart];
  }

  bytes(start: number, length: number, max = PROTO_MAX_STRING_BYTES): Uint8Array {
    if (length > max) throw new ProtoError(`string of ${length} bytes above the ${max}-byte limit`, start, true);
    return this.src.read(start, length);
  }

  string(f: ProtoField, max = PROTO_MAX_STRING_BYTES): string { return utf8(this.bytes(f.start, f.length, max)); }

  /** Iterates the fields of the message in [start, end). */
  *fields(start: number, end: number, depth: number): Generator<ProtoField> {
    if (depth > PROTO_MAX_DEPTH) throw new ProtoError(`message nesting deeper than ${PROTO_MAX_DEPTH}`, start, true);
    if (end > this.src.size) throw new ProtoError('message runs past the end of the data', start);
    let p = start;
    while (p < end) {
      if (++this.fieldsRead > this.maxFields) throw new ProtoError(`more than ${this.maxFields} protobuf fields`, p, true);
      const [tag, q] = this.varint(p, end);
      const num = Math.floor(tag / 8), wire = tag % 8;
      if (num === 0) throw new ProtoError('field number 0', p);
      p = q;
      let value = 0, fstart = p, length = 0;
      switch (wire) {
        case WIRE_VARINT: [value, p] = this.varint(p, end); break;
        case WIRE_I64: if (p + 8 > end) throw new ProtoError('truncated fixed64', p); value = this.u32(p); p += 8; break;
        case WIRE_I32: if (p + 4 > end) throw new ProtoError('truncated fixed32', p); value = this.u32(p); p += 4; break;
        case WIRE_LEN: {
          [length, p] = this.varint(p, end);
          fstart = p;
          if (length > end - p) throw new ProtoError(`length-delimited field ${num} (${length} bytes) runs past its message`, p);
          p += length;
          break;
        }
        default: throw new ProtoError(`unsupported wire type ${wire} (field ${num})`, p);
      }
      yield { num, wire, value, start: fstart, length };
    }
  }

  private u32(p: number): number { return (this.byte(p) | (this.byte(p + 1) << 8) | (this.byte(p + 2) << 16)) + this.byte(p + 3) * 0x1000000; }

  varint(p: number, end: number): [number, number] {
    let result = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw new ProtoError('truncated varint', p);
      const b = this.byte(p++);
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return [result, p];
      mul *= 128;
    }
    throw new ProtoError('varint longer than 10 bytes', p);
  }

  /** Repeated int64 field values, packed (LEN) or not (VARINT). */
  ints(f: ProtoField): number[] {
    if (f.wire === WIRE_VARINT) return [f.value];
    if (f.wire !== WIRE_LEN) return [];
    const out: number[] = [];
    let p = f.start;
    const end = f.start + f.length;
    while (p < end) { const [v, q] = this.varint(p, end); out.push(v); p = q; if (out.length > 1024) throw new ProtoError('more than 1024 packed values', p, true); }
    return out;
  }
}
