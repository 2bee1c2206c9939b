/**
 * LZMA decoding for the compressions joblib and pandas read: raw `.lzma` ("LZMA alone", Python's
 * lzma.FORMAT_ALONE, joblib compress='lzma') and `.xz` (LZMA2 blocks in the xz container, lzma.FORMAT_XZ,
 * joblib 'xz', pandas compression='xz'). Written from the LZMA specification (LzmaSpec.cpp in the LZMA SDK) and
 * the .xz file format 1.1.0. Hostile input is normal: output is bounded by `maxOutput` (a DecompressError with
 * `limit` set), every length and distance is checked, and nothing is read past the input.
 */

export class DecompressError extends Error {
  constructor(message: string, readonly limit = false) { super(message); }
}

const PROB_INIT = 1024;
const NUM_STATES = 12;
const POS_STATES_MAX = 16;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const LEN_LOW_BITS = 3, LEN_MID_BITS = 3, LEN_HIGH_BITS = 8;
const MATCH_MIN_LEN = 2;

/** Growable output with a hard cap (the decompression limit). */
export class Output {
  buf: Uint8Array;
  pos = 0;
  constructor(readonly max: number, initial = 64 * 1024) { this.buf = new Uint8Array(Math.max(16, Math.min(initial, max + 1))); }
  private grow(n: number): void {
    if (this.pos + n > this.max) throw new DecompressError(`decompressed data exceeds the limit of ${this.max} bytes`, true);
    let size = this.buf.length;
    while (size < this.pos + n) size *= 2;
    const b = new Uint8Array(Math.min(size, this.max + 1)); b.set(this.buf.subarray(0, this.pos)); this.buf = b;
  }
  put(byte: number): void { if (this.pos >= this.buf.length) this.grow(1); this.buf[this.pos++] = byte; }
  /** `n` copies of `byte`. */
  fill(byte: number, n: number): void { if (this.pos + n > this.buf.length) this.grow(n); this.buf.fill(byte, this.pos, this.pos + n); this.pos += n; }
  /** Copies `len` bytes from `dist + 1` bytes back (overlapping copies repeat, as LZ77 requires). */
  copyMatch(dist: number, len: number): void {
    if (this.pos + len > this.buf.length) this.grow(len);
    const b = this.buf; let p = this.pos; let s = p - dist - 1;
    for (let i = 0; i < len; i++) b[p++] = b[s++];
    this.pos = p;
  }
  putBytes(src: Uint8Array): void { if (this.pos + src.length > this.buf.length) this.grow(src.length); this.buf.set(src, this.pos); this.pos += src.length; }
  result(): Uint8Array { return this.buf.subarray(0, this.pos); }
}

/**
 * The range decoder. `range` and `code` are unsigned 32-bit values kept as int32 (so V8 keeps them as small
 * integers, never heap numbers); unsigned comparisons flip the sign bit.
 */
class RangeDecoder {
  range = -1; code = 0; pos: number;
  constructor(readonly data: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
    if (this.byte() !== 0) throw new DecompressError('corrupt LZMA data (range coder start byte)');
    for (let i = 0; i < 4; i++) this.code = (this.code << 8) | this.byte();
    if (this.code === this.range) throw new DecompressError('corrupt LZMA data (range coder)');
  }
  byte(): number {
    if (this.pos >= this.end) throw new DecompressError('LZMA data is truncated');
    return this.data[this.pos++];
  }
  finishedOk(): boolean { return this.code === 0; }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i];
    const bound = Math.imul(this.range >>> 11, p);
    let bit: number;
    if ((this.code ^ 0x80000000) < (bound ^ 0x80000000)) { probs[i] = p + ((2048 - p) >>> 5); this.range = bound; bit = 0; }
    else { probs[i] = p - (p >>> 5); this.code = (this.code - bound) | 0; this.range = (this.range - bound) | 0; bit = 1; }
    if ((this.range & 0xff000000) === 0) { this.range <<= 8; this.code = (this.code << 8) | this.byte(); }
    return bit;
  }
  direct(n: number): number {
    let res = 0;
    for (; n > 0; n--) {
      this.range = this.range >>> 1; // < 2^31: a positive int32
      let bit = 0;
      if ((this.code ^ 0x80000000) >= (this.range ^ 0x80000000)) { this.code = (this.code - this.range) | 0; bit = 1; }
      res = ((res << 1) | bit) >>> 0;
      if ((this.range & 0xff000000) === 0) { this.range <<= 8; this.code = (this.code << 8) | this.byte(); }
    }
    return res;
  }
  tree(probs: Uint16Array, off: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, off + m);
    return m - (1 << bits);
  }
  reverse(probs: Uint16Array, off: number, bits: number): number {
    let m = 1, sym = 0;
    for (let i = 0; i < bits; i++) { const b = this.bit(probs, off + m); m = (m << 1) + b; sym |= b << i; }
    return sym;
  }
}

class LenDecoder {
  choice = new Uint16Array(2);
  low = new Uint16Array(POS_STATES_MAX << LEN_LOW_BITS);
  mid = new Uint16Array(POS_STATES_MAX << LEN_MID_BITS);
  high = new Uint16Array(1 << LEN_HIGH_BITS);
  reset(): void { this.choice.fill(PROB_INIT); this.low.fill(PROB_INIT); this.mid.fill(PROB_INIT); this.high.fill(PROB_INIT); }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << LEN_LOW_BITS, LEN_LOW_BITS);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << LEN_MID_BITS, LEN_MID_BITS);
    return 16 + rc.tree(this.high, 0, LEN_HIGH_BITS);
  }
}

/** The LZMA decoder state (kept across LZMA2 chunks unless a chunk resets it). */
export class LzmaDecoder {
  lc = 3; lp = 0; pb = 2;
  private lit = new Uint16Array(0x300 << 4);
  private posSlot = new Uint16Array(4 << 6);
  private posDec = new Uint16Array(1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX);
  private align = new Uint16Array(1 << ALIGN_BITS);
  private isMatch = new Uint16Array(NUM_STATES << 4);
  private isRep = new Uint16Array(NUM_STATES);
  private isRepG0 = new Uint16Array(NUM_STATES);
  private isRepG1 = new Uint16Array(NUM_STATES);
  private isRepG2 = new Uint16Array(NUM_STATES);
  private isRep0Long = new Uint16Array(NUM_STATES << 4);
  private len = new LenDecoder();
  private repLen = new LenDecoder();
  state = 0; rep0 = 0; rep1 = 0; rep2 = 0; rep3 = 0;
  /** Output position where the current dictionary starts (LZMA2 dictionary resets). */
  dictStart = 0;
  constructor(readonly out: Output, readonly dictSize: number) {}

  setProps(props: number): void {
    if (props >= 9 * 5 * 5) throw new DecompressError('invalid LZMA properties');
    this.lc = props % 9; props = Math.floor(props / 9); this.lp = props % 5; this.pb = Math.floor(props / 5);
    if (this.lc + this.lp > 12) throw new DecompressError('invalid LZMA properties');
    const need = 0x300 << (this.lc + this.lp);
    if (this.lit.length < need) this.lit = new Uint16Array(need);
  }
  resetState(): void {
    this.lit.fill(PROB_INIT); this.posSlot.fill(PROB_INIT); this.posDec.fill(PROB_INIT); this.align.fill(PROB_INIT);
    this.isMatch.fill(PROB_INIT); this.isRep.fill(PROB_INIT); this.isRepG0.fill(PROB_INIT); this.isRepG1.fill(PROB_INIT);
    this.isRepG2.fill(PROB_INIT); this.isRep0Long.fill(PROB_INIT); this.len.reset(); this.repLen.reset();
    this.state = 0; this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = Math.min(len, 3);
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const nd = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << nd) >>> 0;
    if (slot < END_POS_MODEL_INDEX) return (dist + rc.reverse(this.posDec, dist - slot, nd)) >>> 0;
    dist = (dist + ((rc.direct(nd - ALIGN_BITS) << ALIGN_BITS) >>> 0)) >>> 0;
    return (dist + rc.reverse(this.align, 0, ALIGN_BITS)) >>> 0;
  }

  /**
   * Decodes from `rc` until `unpack` more bytes were produced (unpack ≥ 0) or the end marker (unpack < 0:
   * size unknown, marker required). Returns true when it stopped at an end marker.
   */
  decode(rc: RangeDecoder, unpack: number, allowMarker: boolean): boolean {
    const out = this.out, pbMask = (1 << this.pb) - 1, lpMask = (1 << this.lp) - 1, lc = this.lc;
    const sized = unpack >= 0;
    let remaining = unpack;
    for (;;) {
      if (sized && remaining === 0 && !allowMarker) return false;
      if (sized && remaining === 0 && rc.finishedOk()) return false;
      const total = out.pos;
      const posState = total & pbMask;
      const st = this.state;
      if (rc.bit(this.isMatch, (st << 4) + posState) === 0) {
        if (sized && remaining === 0) throw new DecompressError('corrupt LZMA data (data after the end)');
        const prev = total > this.dictStart ? out.buf[total - 1] : 0;
        const base = 0x300 * (((total & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (st >= 7) {
          if (this.rep0 + 1 > total - this.dictStart) throw new DecompressError('corrupt LZMA data (distance)');
          let matchByte = out.buf[total - this.rep0 - 1];
          do {
            const mb = (matchByte >>> 7) & 1; matchByte <<= 1;
            const b = rc.bit(this.lit, base + ((1 + mb) << 8) + sym);
            sym = (sym << 1) | b;
            if (mb !== b) break;
          } while (sym < 0x100);
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.lit, base + sym);
        out.put(sym - 0x100);
        this.state = st < 4 ? 0 : st < 10 ? st - 3 : st - 6;
        remaining--;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, st) !== 0) {
        if (sized && remaining === 0) throw new DecompressError('corrupt LZMA data (data after the end)');
        if (total === this.dictStart) throw new DecompressError('corrupt LZMA data (repeat before any data)');
        if (rc.bit(this.isRepG0, st) === 0) {
          if (rc.bit(this.isRep0Long, (st << 4) + posState) === 0) {
            this.state = st < 7 ? 9 : 11;
            if (this.rep0 + 1 > total - this.dictStart) throw new DecompressError('corrupt LZMA data (distance)');
            out.put(out.buf[total - this.rep0 - 1]);
            remaining--;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, st) === 0) dist = this.rep1;
          else {
            if (rc.bit(this.isRepG2, st) === 0) dist = this.rep2;
            else { dist = this.rep3; this.rep3 = this.rep2; }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0; this.rep0 = dist;
        }
        len = this.repLen.decode(rc, posState);
        this.state = st < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2; this.rep2 = this.rep1; this.rep1 = this.rep0;
        len = this.len.decode(rc, posState);
        this.state = st < 7 ? 7 : 10;
        this.rep0 = this.distance(rc, len);
        if (this.rep0 === 0xffffffff) {
          if (!allowMarker || !rc.finishedOk()) throw new DecompressError('corrupt LZMA data (unexpected end marker)');
          return true;
        }
        if (sized && remaining === 0) throw new DecompressError('corrupt LZMA data (data after the end)');
        if (this.rep0 >= this.dictSize || this.rep0 + 1 > total - this.dictStart) throw new DecompressError('corrupt LZMA data (distance beyond the dictionary)');
      }
      len += MATCH_MIN_LEN;
      if (sized && len > remaining) throw new DecompressError('corrupt LZMA data (match past the declared size)');
      out.copyMatch(this.rep0, len);
      remaining -= len;
    }
  }
}

/** "LZMA alone" (.lzma): 1 properties byte, u32 dictionary size, u64 uncompressed size (all ones = unknown). */
export function sniffLzmaAlone(h: Uint8Array): boolean {
  if (h.length < 13 || h[0] >= 9 * 5 * 5) return false;
  const dict = (h[1] | (h[2] << 8) | (h[3] << 16)) + h[4] * 0x1000000;
  // xz-utils/liblzma only write dictionary sizes 2^n or 2^n + 2^(n-1); joblib and Python write 0x5d properties.
  const okDict = dict >= 4096 && [...Array(32).keys()].some((n) => dict === 2 ** n || dict === 2 ** n + 2 ** (n - 1));
  let unknown = true; for (let i = 5; i < 13; i++) if (h[i] !== 0xff) unknown = false;
  const sizeOk = unknown || (h[11] === 0 && h[12] === 0);
  return h[0] === 0x5d && okDict && sizeOk && h[13] === 0;
}

export function decompressLzmaAlone(data: Uint8Array, maxOutput: number): Uint8Array {
  if (data.length < 13) throw new DecompressError('LZMA header is truncated');
  const dictSize = Math.max(4096, (data[1] | (data[2] << 8) | (data[3] << 16)) + data[4] * 0x1000000);
  let unknown = true; for (let i = 5; i < 13; i++) if (data[i] !== 0xff) unknown = false;
  let size = -1;
  if (!unknown) {
    size = 0; for (let i = 12; i >= 5; i--) size = size * 256 + data[i];
    if (size > maxOutput) throw new DecompressError(`LZMA stream declares ${size} bytes, above the limit of ${maxOutput}`, true);
  }
  const out = new Output(maxOutput, size >= 0 ? size : 64 * 1024);
  const dec = new LzmaDecoder(out, dictSize);
  dec.setProps(data[0]); dec.resetState();
  const rc = new RangeDecoder(data, 13, data.length);
  dec.decode(rc, size, true);
  return out.result();
}

// ---- xz ------------------------------------------------------------------------------------------

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
export function sniffXz(h: Uint8Array): boolean { return h.length >= 6 && XZ_MAGIC.every((b, i) => h[i] === b); }
const XZ_CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const FILTER_LZMA2 = 0x21;

function varint(d: Uint8Array, p: { pos: number }, end: number): number {
  let v = 0, mul = 1;
  for (let i = 0; i < 9; i++) {
    if (p.pos >= end) throw new DecompressError('xz header is truncated');
    const b = d[p.pos++];
    v += (b & 0x7f) * mul; mul *= 128;
    if (!(b & 0x80)) return v;
  }
  throw new DecompressError('xz varint is too long');
}

/** LZMA2 chunks from `pos` up to the end control byte; returns the position after it. */
function decodeLzma2(data: Uint8Array, pos: number, out: Output, dictSize: number): number {
  const dec = new LzmaDecoder(out, dictSize);
  let needProps = true, needDictReset = true;
  for (;;) {
    if (pos >= data.length) throw new DecompressError('LZMA2 data is truncated');
    const c = data[pos++];
    if (c === 0x00) return pos;
    if (c === 0x01 || c === 0x02) {
      if (pos + 2 > data.length) throw new DecompressError('LZMA2 data is truncated');
      const n = ((data[pos] << 8) | data[pos + 1]) + 1; pos += 2;
      if (c === 0x01) { dec.dictStart = out.pos; needDictReset = false; } else if (needDictReset) throw new DecompressError('corrupt LZMA2 data (no dictionary reset)');
      if (pos + n > data.length) throw new DecompressError('LZMA2 data is truncated');
      out.putBytes(data.subarray(pos, pos + n)); pos += n;
      continue;
    }
    if (c < 0x80) throw new DecompressError(`corrupt LZMA2 data (control byte 0x${c.toString(16)})`);
    if (pos + 4 > data.length) throw new DecompressError('LZMA2 data is truncated');
    const unpacked = ((c & 0x1f) << 16) + ((data[pos] << 8) | data[pos + 1]) + 1;
    const packed = ((data[pos + 2] << 8) | data[pos + 3]) + 1;
    pos += 4;
    const reset = (c >>> 5) & 3;
    if (reset === 3) { dec.dictStart = out.pos; needDictReset = false; } else if (needDictReset) throw new DecompressError('corrupt LZMA2 data (no dictionary reset)');
    if (reset >= 2) { if (pos >= data.length) throw new DecompressError('LZMA2 data is truncated'); dec.setProps(data[pos++]); needProps = false; }
    else if (needProps) throw new DecompressError('corrupt LZMA2 data (no properties)');
    if (reset >= 1) dec.resetState();
    const end = pos + packed;
    if (end > data.length) throw new DecompressError('LZMA2 data is truncated');
    dec.decode(new RangeDecoder(data, pos, end), unpacked, false);
    pos = end;
  }
}

/** An .xz file (one or more streams, stream padding allowed); only the LZMA2 filter is supported. */
export function decompressXz(data: Uint8Array, maxOutput: number): Uint8Array {
  const out = new Output(maxOutput);
  let pos = 0;
  let streams = 0;
  while (pos < data.length) {
    if (streams > 0) { while (pos < data.length && data[pos] === 0) pos++; if (pos >= data.length) break; }
    if (pos + 12 > data.length || !XZ_MAGIC.every((b, i) => data[pos + i] === b)) throw new DecompressError(streams ? 'data after the xz stream' : 'not an xz stream');
    const check = data[pos + 7] & 0x0f;
    pos += 12;
    for (;;) {
      if (pos >= data.length) throw new DecompressError('xz stream is truncated');
      if (data[pos] === 0x00) break; // index
      const hsize = (data[pos] + 1) * 4;
      const hend = pos + hsize;
      if (hend > data.length) throw new DecompressError('xz block header is truncated');
      const flags = data[pos + 1];
      const p = { pos: pos + 2 };
      if (flags & 0x40) varint(data, p, hend - 4);
      if (flags & 0x80) varint(data, p, hend - 4);
      const nFilters = (flags & 3) + 1;
      let dictSize = -1;
      for (let f = 0; f < nFilters; f++) {
        const id = varint(data, p, hend - 4);
        const psize = varint(data, p, hend - 4);
        if (id !== FILTER_LZMA2 || f !== nFilters - 1) throw new DecompressError(`xz filter 0x${id.toString(16)} is not supported (only LZMA2)`);
        if (psize !== 1 || p.pos >= hend - 4) throw new DecompressError('xz LZMA2 filter properties are malformed');
        const bits = data[p.pos++] & 0x3f;
        if (bits > 40) throw new DecompressError('xz LZMA2 dictionary size is invalid');
        dictSize = bits === 40 ? 0xffffffff : (2 | (bits & 1)) * 2 ** (Math.floor(bits / 2) + 11);
      }
      let q = decodeLzma2(data, hend, out, dictSize);
      while ((q - hend) % 4 !== 0) q++; // block padding (relative to the block start: the header is a multiple of 4)
      pos = q + XZ_CHECK_SIZE[check];
      if (pos > data.length) throw new DecompressError('xz block check is truncated');
    }
    // Index: 0x00, record count, records, padding to 4, CRC32; then the 12-byte stream footer.
    const ip = { pos: pos + 1 };
    const records = varint(data, ip, data.length);
    for (let i = 0; i < records; i++) { varint(data, ip, data.length); varint(data, ip, data.length); }
    while ((ip.pos - pos) % 4 !== 0) ip.pos++;
    pos = ip.pos + 4 + 12;
    if (pos > data.length) throw new DecompressError('xz index or footer is truncated');
    streams++;
  }
  return out.result();
}
