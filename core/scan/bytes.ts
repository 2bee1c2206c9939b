/**
 * ByteSource implementations: over an in-memory Uint8Array, over a file
 * descriptor (synchronous positional reads — huge files are never loaded whole),
 * and windows (sub-ranges) of another source.
 */
import fs from 'node:fs';
import type { ByteSource } from './format';

const EMPTY = new Uint8Array(0);

export function memorySource(data: Uint8Array): ByteSource {
  return {
    size: data.length,
    read(offset: number, length: number): Uint8Array {
      if (offset < 0 || length <= 0 || offset >= data.length) return EMPTY;
      return data.subarray(offset, Math.min(data.length, offset + length));
    },
    readInto(offset: number, target: Uint8Array): number {
      if (offset < 0 || offset >= data.length) return 0;
      const part = data.subarray(offset, Math.min(data.length, offset + target.length));
      target.set(part);
      return part.length;
    },
  };
}

/** Reads through fs.readSync; the caller owns (and closes) the descriptor. */
export function fdSource(fd: number, size: number): ByteSource {
  return {
    size,
    read(offset: number, length: number): Uint8Array {
      if (offset < 0 || length <= 0 || offset >= size) return EMPTY;
      const n = Math.min(length, size - offset);
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const r = fs.readSync(fd, buf, got, n - got, offset + got);
        if (r <= 0) break;
        got += r;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, got);
    },
    readInto(offset: number, target: Uint8Array): number {
      if (offset < 0 || offset >= size || !target.length) return 0;
      const n = Math.min(target.length, size - offset);
      let got = 0;
      while (got < n) {
        const r = fs.readSync(fd, target, got, n - got, offset + got);
        if (r <= 0) break;
        got += r;
      }
      return got;
    },
  };
}

/** A window [start, start+length) of `src`, clamped to its size. */
export function windowSource(src: ByteSource, start: number, length: number): ByteSource {
  const s = Math.max(0, Math.min(start, src.size));
  const size = Math.max(0, Math.min(length, src.size - s));
  return {
    size,
    read(offset: number, len: number): Uint8Array {
      if (offset < 0 || len <= 0 || offset >= size) return EMPTY;
      return src.read(s + offset, Math.min(len, size - offset));
    },
    ...(src.readInto ? {
      readInto(offset: number, target: Uint8Array): number {
        if (offset < 0 || offset >= size) return 0;
        return src.readInto!(s + offset, target.subarray(0, Math.min(target.length, size - offset)));
      },
    } : {}),
  };
}

/** The whole source as one array (the caller has checked the size against limits). */
export function readAll(src: ByteSource): Uint8Array {
  return src.read(0, src.size);
}

export function readU16(b: Uint8Array, o: number): number { return b[o] | (b[o + 1] << 8); }
export function readU32(b: Uint8Array, o: number): number { return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000; }
/** Little-endian u64 as a number; values above 2^53 become Infinity (always out of range for us). */
export function readU64(b: Uint8Array, o: number): number {
  const lo = readU32(b, o), hi = readU32(b, o + 4);
  return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
}

export function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 8192)));
  return s;
}
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
export function utf8(b: Uint8Array): string { return utf8Decoder.decode(b); }
