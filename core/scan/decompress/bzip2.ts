/**
 * bzip2 decoding (Python's bz2 module, joblib compress='bz2', pandas compression='bz2'), written from the
 * format as bzip2 1.0 writes it: 'BZh1'–'BZh9' streams (several may be concatenated), blocks of Huffman-coded
 * MTF/RLE2 symbols, the inverse Burrows–Wheeler transform and the final RLE1 pass. Output is bounded by
 * `maxOutput`; every table size, selector and pointer is checked; randomised blocks (obsolete since 0.9.5)
 * are refused.
 */
import { DecompressError, Output } from './lzma';

const BLOCK_MAGIC_HI = 0x314159, BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245, END_MAGIC_LO = 0x385090;
const MAX_GROUPS = 6, MAX_ALPHA = 258, MAX_CODE_LEN = 20, GROUP_SIZE = 50, MAX_SELECTORS = 32768;

/** 'BZh1'–'BZh9' (what bz2.open checks): the block magic is not required, so a damaged stream is still claimed. */
export function sniffBzip2(h: Uint8Array): boolean {
  return h.length >= 4 && h[0] === 0x42 && h[1] === 0x5a && h[2] === 0x68 && h[3] >= 0x31 && h[3] <= 0x39;
}

class Bits {
  pos = 0; bitBuf = 0; bitCount = 0;
  constructor(readonly d: Uint8Array) {}
  bits(n: number): number {
    while (this.bitCount < n) {
      if (this.pos >= this.d.length) throw new DecompressError('bzip2 data is truncated');
      this.bitBuf = (this.bitBuf << 8) | this.d[this.pos++];
      this.bitCount += 8;
    }
    const v = (this.bitBuf >>> (this.bitCount - n)) & ((1 << n) - 1);
    this.bitCount -= n;
    return v;
  }
  bit(): number { return this.bits(1); }
  alignToByte(): void { this.bitCount -= this.bitCount % 8; }
  atEnd(): boolean { return this.pos >= this.d.length && this.bitCount < 8; }
}

interface Huffman { limit: Int32Array; base: Int32Array; perm: Int32Array; minLen: number; maxLen: number }

function makeHuffman(lengths: Uint8Array, alpha: number): Huffman {
  let minLen = 32, maxLen = 0;
  for (let i = 0; i < alpha; i++) { if (lengths[i] > maxLen) maxLen = lengths[i]; if (lengths[i] < minLen) minLen = lengths[i]; }
  const perm = new Int32Array(MAX_ALPHA), base = new Int32Array(MAX_CODE_LEN + 2), limit = new Int32Array(MAX_CODE_LEN + 1);
  let pp = 0;
  for (let l = minLen; l <= maxLen; l++) for (let s = 0; s < alpha; s++) if (lengths[s] === l) perm[pp++] = s;
  const count = new Int32Array(MAX_CODE_LEN + 2);
  for (let s = 0; s < alpha; s++) count[lengths[s] + 1]++;
  for (let i = 1; i < count.length; i++) count[i] += count[i - 1];
  // base[l] = first index in perm of length-l codes minus the first code of length l; limit[l] = last code of length l.
  let code = 0;
  for (let l = minLen; l <= maxLen; l++) {
    const n = count[l + 1] - count[l];
    base[l] = count[l] - code;
    code += n;
    limit[l] = code - 1;
    code <<= 1;
  }
  return { limit, base, perm, minLen, maxLen };
}

function decodeSymbol(b: Bits, h: Huffman): number {
  let l = h.minLen;
  let code = b.bits(l);
  for (;;) {
    if (code <= h.limit[l]) {
      const idx = h.base[l] + code;
      if (idx < 0 || idx >= MAX_ALPHA) throw new DecompressError('corrupt bzip2 data (bad Huffman code)');
      return h.perm[idx];
    }
    if (++l > h.maxLen) throw new DecompressError('corrupt bzip2 data (bad Huffman code)');
    code = (code << 1) | b.bit();
  }
}

export function decompressBzip2(data: Uint8Array, maxOutput: number): Uint8Array {
  const out = new Output(maxOutput);
  const b = new Bits(data);
  let streams = 0;
  while (!b.atEnd()) {
    if (streams > 0) { b.alignToByte(); if (b.atEnd()) break; }
    if (b.bits(8) !== 0x42 || b.bits(8) !== 0x5a || b.bits(8) !== 0x68) throw new DecompressError(streams ? 'data after the bzip2 stream' : 'not a bzip2 stream');
    const level = b.bits(8) - 0x30;
    if (level < 1 || level > 9) throw new DecompressError('bad bzip2 block size');
    const maxBlock = level * 100_000;
    const tt = new Uint32Array(maxBlock);
    for (;;) {
      const hi = b.bits(24), lo = b.bits(24);
      if (hi === END_MAGIC_HI && lo === END_MAGIC_LO) { b.bits(16); b.bits(16); break; } // combined CRC
      if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO) throw new DecompressError('corrupt bzip2 data (bad block magic)');
      b.bits(16); b.bits(16); // block CRC
      if (b.bit()) throw new DecompressError('randomised bzip2 blocks are not supported');
      const origPtr = b.bits(24);
      // symbol map
      const used = b.bits(16);
      const seqToUnseq: number[] = [];
      for (let i = 0; i < 16; i++) if (used & (0x8000 >>> i)) { const w = b.bits(16); for (let j = 0; j < 16; j++) if (w & (0x8000 >>> j)) seqToUnseq.push(i * 16 + j); }
      if (seqToUnseq.length === 0) throw new DecompressError('corrupt bzip2 data (no symbols)');
      const alpha = seqToUnseq.length + 2;
      const nGroups = b.bits(3);
      if (nGroups < 2 || nGroups > MAX_GROUPS) throw new DecompressError('corrupt bzip2 data (group count)');
      const nSelectors = b.bits(15);
      if (nSelectors < 1) throw new DecompressError('corrupt bzip2 data (selector count)');
      const mtfGroups = Uint8Array.of(0, 1, 2, 3, 4, 5);
      const selectors = new Uint8Array(Math.min(nSelectors, MAX_SELECTORS));
      for (let i = 0; i < nSelectors; i++) {
        let j = 0;
        while (b.bit()) { if (++j >= nGroups) throw new DecompressError('corrupt bzip2 data (selector)'); }
        const v = mtfGroups[j]; for (let k = j; k > 0; k--) mtfGroups[k] = mtfGroups[k - 1]; mtfGroups[0] = v;
        if (i < selectors.length) selectors[i] = v;
      }
      const tables: Huffman[] = [];
      for (let t = 0; t < nGroups; t++) {
        const lengths = new Uint8Array(MAX_ALPHA);
        let curr = b.bits(5);
        for (let s = 0; s < alpha; s++) {
          for (;;) {
            if (curr < 1 || curr > MAX_CODE_LEN) throw new DecompressError('corrupt bzip2 data (code length)');
            if (!b.bit()) break;
            curr += b.bit() ? -1 : 1;
          }
          lengths[s] = curr;
        }
        tables.push(makeHuffman(lengths, alpha));
      }
      // MTF + RLE2 symbols → byte counts and the BWT vector
      const mtf = Uint8Array.from(seqToUnseq);
      const counts = new Int32Array(256);
      let n = 0, group = 0, left = 0, sel = 0, run = 0, runWeight = 1;
      const eob = alpha - 1;
      let table = tables[0];
      for (;;) {
        if (left === 0) {
          if (sel >= selectors.length) throw new DecompressError('corrupt bzip2 data (selectors exhausted)');
          group = selectors[sel++]; table = tables[group]; left = GROUP_SIZE;
        }
        left--;
        const sym = decodeSymbol(b, table);
        if (sym <= 1) { run += runWeight << sym; runWeight <<= 1; if (run > maxBlock) throw new DecompressError('corrupt bzip2 data (run too long)'); continue; }
        if (run > 0) {
          if (n + run > maxBlock) throw new DecompressError('corrupt bzip2 data (block too long)');
          const v = mtf[0]; counts[v] += run;
          for (; run > 0; run--) tt[n++] = v;
          runWeight = 1;
        }
        if (sym === eob) break;
        if (n >= maxBlock) throw new DecompressError('corrupt bzip2 data (block too long)');
        const k = sym - 1;
        const v = mtf[k]; if (k > 0) { mtf.copyWithin(1, 0, k); mtf[0] = v; }
        counts[v]++; tt[n++] = v;
      }
      if (origPtr >= n) throw new DecompressError('corrupt bzip2 data (origin pointer)');
      // inverse BWT
      const cftab = new Int32Array(256);
      for (let i = 0, sum = 0; i < 256; i++) { cftab[i] = sum; sum += counts[i]; }
      for (let i = 0; i < n; i++) { const v = tt[i] & 0xff; tt[cftab[v]++] |= i << 8; }
      let tPos = tt[origPtr] >>> 8;
      // RLE1: four equal bytes are followed by a repeat count
      let last = -1, same = 0;
      for (let i = 0; i < n; i++) {
        tPos = tt[tPos]; const ch = tPos & 0xff; tPos >>>= 8;
        if (same === 4) { if (ch) out.fill(last, ch); same = 0; last = -1; continue; }
        if (ch === last) same++; else { last = ch; same = 1; }
        if (out.pos < out.buf.length) out.buf[out.pos++] = ch; else out.put(ch);
      }
    }
    streams++;
  }
  return out.result();
}
