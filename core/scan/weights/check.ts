/**
 * Weight-level checks over a tensor's byte range, streamed in fixed chunks
 * (bounded memory, never the whole tensor): hidden executables/archives/scripts
 * in the raw bytes and in the low 1/2/3 bytes of 4-byte values (EvilModel),
 * NaN/Inf counts, all-constant tensors, low-byte statistics outliers and
 * "bfloat16-origin except a few" low-bit patterns.
 *
 * Every signature hit is validated structurally (ELF ident fields, PE e_lfanew
 * → "PE\0\0", ZIP header fields, a shebang path) so that chance matches in
 * random mantissa bytes never count.
 */
import type { ByteSource, ScanContext } from '../format';

/** Bytes read per step (aligned to 4). */
export const WEIGHT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Extra bytes read past a chunk so a payload header that starts near its end can be validated. */
export const WEIGHT_LOOKAHEAD_BYTES = 20 * 1024; // ≥ 4 × (PE_MAX_LFANEW + header) for the 1-byte stream
/** Words per statistics block (chi-square over the low byte). */
export const STAT_BLOCK_WORDS = 16 * 1024;
/** Every n-th word feeds the low-byte histogram. */
export const STAT_SAMPLE_STRIDE = 4;
/** Block chi-square (255 degrees of freedom, expected ≈ 255 ± 23) that counts as an outlier… */
export const STAT_OUTLIER_CHI2 = 1000;
/** …when the tensor's median block is at most this (the tensor otherwise looks like trained weights). */
export const STAT_NORMAL_MEDIAN_CHI2 = 400;
/** Smallest tensor (elements) for statistical checks. */
export const STAT_MIN_WORDS = 4 * STAT_BLOCK_WORDS;
/** Findings per tensor for hidden payloads (one is enough to condemn it). */
export const MAX_PAYLOAD_FINDINGS_PER_TENSOR = 4;
/** e_lfanew must point inside this many stream bytes. */
const PE_MAX_LFANEW = 4096;

export interface TensorRange { name: string; dtype: string; offset: number; length: number }

const FIRST_BYTE = new Uint8Array(256);
for (const b of [0x7f, 0x4d, 0x50, 0x23]) FIRST_BYTE[b] = 1; // ELF, MZ, PK, #!

type Hit = { kind: 'ELF' | 'PE' | 'ZIP' | 'shebang'; detail: string };

/**
 * A view of the payload stream "low n bytes of each 4-byte word" (n = 1..3) or
 * the raw bytes (n = 4), starting at byte `start` of `buf`.
 */
function streamByte(buf: Uint8Array, start: number, n: number, k: number): number {
  if (n === 4) { const i = start + k; return i < buf.length ? buf[i] : -1; }
  const pos = start & 3;
  const abs = pos + k; // k-th stream byte counted from byte `pos` of the word at `start - pos`
  const word = Math.floor(abs / n), within = abs % n;
  const i = start - pos + word * 4 + within;
  return i < buf.length ? buf[i] : -1;
}

function streamBytes(buf: Uint8Array, start: number, n: number, from: number, count: number): number[] {
  const out: number[] = [];
  for (let k = from; k < from + count; k++) out.push(streamByte(buf, start, n, k));
  return out;
}

function isPrintablePathByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2f || b === 0x2e || b === 0x5f || b === 0x2d;
}

/** Structural validation of a candidate payload header at `start` in stream `n`. */
export function validatePayload(buf: Uint8Array, start: number, n: number): Hit | undefined {
  const b0 = streamByte(buf, start, n, 0), b1 = streamByte(buf, start, n, 1);
  if (b0 === 0x7f && b1 === 0x45) {
    const h = streamBytes(buf, start, n, 2, 18);
    // "LF", EI_CLASS 1|2, EI_DATA 1|2, EI_VERSION 1, e_type 1..4, e_version (at 20) == 1 checked via byte 20.
    if (h[0] === 0x4c && h[1] === 0x46 && (h[2] === 1 || h[2] === 2) && (h[3] === 1 || h[3] === 2) && h[4] === 1) {
      const le = h[3] === 1;
      const eType = le ? h[14] | (h[15] << 8) : (h[14] << 8) | h[15];
      const eVersion = streamByte(buf, start, n, le ? 20 : 23);
      if (eType >= 1 && eType <= 4 && eVersion === 1) return { kind: 'ELF', detail: `ELF${h[2] === 2 ? '64' : '32'} ${le ? 'LE' : 'BE'} type ${eType}` };
    }
    return undefined;
  }
  if (b0 === 0x4d && b1 === 0x5a) {
    const l = streamBytes(buf, start, n, 0x3c, 4);
    if (l.some((x) => x < 0)) return undefined;
    const lfanew = l[0] | (l[1] << 8) | (l[2] << 16) | (l[3] << 24);
    if (lfanew < 0x40 || lfanew > PE_MAX_LFANEW) return undefined;
    const pe = streamBytes(buf, start, n, lfanew, 6);
    if (pe[0] === 0x50 && pe[1] === 0x45 && pe[2] === 0 && pe[3] === 0) {
      const machine = pe[4] | (pe[5] << 8);
      return { kind: 'PE', detail: `PE e_lfanew=0x${lfanew.toString(16)} machine=0x${machine.toString(16)}` };
    }
    return undefined;
  }
  if (b0 === 0x50 && b1 === 0x4b) {
    const h = streamBytes(buf, start, n, 2, 28);
    if (h[0] !== 3 || h[1] !== 4) return undefined;
    const version = h[2] | (h[3] << 8), method = h[6] | (h[7] << 8);
    const nameLen = h[24] | (h[25] << 8);
    if (version > 63 || ![0, 8, 9, 12, 14, 93, 95].includes(method) || nameLen === 0 || nameLen > 255) return undefined;
    const name = streamBytes(buf, start, n, 30, nameLen);
    if (!name.every((c) => c >= 0x20 && c < 0x7f)) return undefined;
    return { kind: 'ZIP', detail: `ZIP local header, member '${String.fromCharCode(...name)}'` };
  }
  if (b0 === 0x23 && b1 === 0x21) {
    const h = streamBytes(buf, start, n, 2, 64);
    let i = h[0] === 0x20 ? 1 : 0;
    if (h[i] !== 0x2f) return undefined;
    let path = '';
    for (; i < h.length && isPrintablePathByte(h[i]); i++) path += String.fromCharCode(h[i]);
    // A real interpreter path: "/x…/name" of reasonable length, then a space or a newline.
    if (path.length < 5 || !/^\/[a-z0-9_.-]+(\/[a-z0-9_.+-]+)+$/.test(path) || (h[i] !== 0x0a && h[i] !== 0x20)) return undefined;
    return { kind: 'shebang', detail: `script '#!${path}'` };
  }
  return undefined;
}

const STREAM_LABEL = ['', 'low byte of each 4-byte value', 'low 2 bytes of each 4-byte value', 'low 3 bytes of each 4-byte value', 'raw bytes'];

function chiSquare(hist: Uint32Array, total: number): number {
  const expected = total / 256;
  let chi = 0;
  for (let i = 0; i < 256; i++) { const d = hist[i] - expected; chi += (d * d) / expected; }
  return chi;
}
function entropy(hist: Uint32Array, total: number): number {
  let h = 0;
  for (let i = 0; i < 256; i++) if (hist[i]) { const p = hist[i] / total; h -= p * Math.log2(p); }
  return h;
}

/** FIRST_BYTE for either byte of a little-endian 16-bit value. */
const FIRST_BYTE_IN_16 = new Uint8Array(65536);
for (let k = 0; k < 65536; k++) FIRST_BYTE_IN_16[k] = FIRST_BYTE[k & 0xff] | FIRST_BYTE[k >>> 8];

/** Up to 3 candidates per word of a chunk: sized so that no candidate is ever dropped (shared; checks are synchronous). */
let scratch: Int32Array | undefined;
function candidateScratch(): Int32Array { return (scratch ??= new Int32Array(3 * (WEIGHT_CHUNK_BYTES / 4))); }

/** Valid first two bytes of a payload header: "\x7fE", "MZ", "PK", "#!". */
const PAIR = new Uint8Array(65536);
for (const p of [0x7f45, 0x4d5a, 0x504b, 0x2321]) PAIR[p] = 1;

/**
 * The hot loop over one chunk's 4-byte words: NaN/Inf, constant, low-16-bit and
 * low-byte histogram statistics, and candidate payload starts (first byte of a
 * signature in byte 0/1/2 of a word) collected for validation outside the loop.
 * st = [nan, inf, low16NonZero, notConstant, samples in the open block].
 */
function wordLoop(i32: Int32Array, n: number, first: number, hist: Uint32Array, blockWords: number, st: Float64Array,
  cand: { at: Int32Array; count: number }, blocks: number[]): number {
  const FB = FIRST_BYTE, FB16 = FIRST_BYTE_IN_16;
  const at = cand.at;
  let nan = 0, inf = 0, low16 = 0, notConstant = 0, count = cand.count;
  let w = 0;
  while (w < n) {
    // Tight inner loop up to the next statistics block boundary.
    const end = Math.min(n, w + (STAT_BLOCK_WORDS - blockWords));
    blockWords += end - w;
    // Low-byte histogram on every STAT_SAMPLE_STRIDE-th word (a separate, cheap pass: the statistic is low-confidence anyway).
    let samples = 0;
    for (let k = w; k < end; k += STAT_SAMPLE_STRIDE) { hist[i32[k] & 0xff]++; samples++; }
    st[4] += samples;
    for (; w < end; w++) {
      const v = i32[w];
      const b0 = v & 0xff;
      if ((v & 0x7f800000) === 0x7f800000) { if (v & 0x7fffff) nan++; else inf++; }
      if (v !== first) notConstant = 1;
      if (v & 0xffff) low16++;
      // Prefilter: does byte 0, 1 or 2 equal a signature's first byte? (one 16-bit and one 8-bit table load)
      if (FB16[v & 0xffff] | FB[(v >>> 16) & 0xff]) {
        // Second-byte check inline, so that only real two-byte signature starts reach validation:
        // a stream starting at byte 0 continues with byte 1 (n = 2, 3) or the next word's byte 0 (n = 1);
        // at byte 1 with byte 2 (n = 3) or the next word's byte 0 (n = 2); at byte 2 with the next word's byte 0.
        const b1 = (v >>> 8) & 0xff, b2 = (v >>> 16) & 0xff;
        const base = w << 2;
        if (w + 1 < n) {
          const nb0 = i32[w + 1] & 0xff;
          if (FB[b0] && (PAIR[(b0 << 8) | b1] | PAIR[(b0 << 8) | nb0])) at[count++] = base;
          if (FB[b1] && (PAIR[(b1 << 8) | b2] | PAIR[(b1 << 8) | nb0])) at[count++] = base + 1;
          if (FB[b2] && PAIR[(b2 << 8) | nb0]) at[count++] = base + 2;
        } else {
          // Last word of the chunk: the next byte is in the look-ahead; validation sorts it out.
          if (FB[b0]) at[count++] = base;
          if (FB[b1]) at[count++] = base + 1;
          if (FB[b2]) at[count++] = base + 2;
        }
      }
    }
    if (blockWords === STAT_BLOCK_WORDS) {
      blocks.push(chiSquare(hist, st[4]), entropy(hist, st[4]));
      hist.fill(0);
      st[4] = 0;
      blockWords = 0;
    }
  }
  cand.count = count;
  st[0] += nan; st[1] += inf; st[2] += low16; if (notConstant) st[3] = 1;
  return blockWords;
}

/** Searches `needle` in `buf` (native memmem via Buffer.indexOf). */
function indexOfBytes(buf: Buffer, needle: Buffer, from: number): number { return buf.indexOf(needle, from); }
const RAW_SIGNATURES = [Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.from('MZ'), Buffer.from([0x50, 0x4b, 3, 4]), Buffer.from('#!/')];

/**
 * Runs the weight-level checks on one tensor's bytes `[offset, offset+length)` of `src`.
 * Called by the SafeTensors handler and by the PyTorch/NumPy handlers on storages.
 */
export function checkTensorBytes(src: ByteSource, tensor: TensorRange, ctx: ScanContext): void {
  const start = Math.max(0, Math.min(tensor.offset, src.size));
  const end = Math.max(start, Math.min(tensor.offset + tensor.length, src.size));
  if (end <= start) return;
  const dtype = tensor.dtype.toUpperCase();
  const isF32 = dtype === 'F32' || dtype === 'FLOAT32' || dtype === 'FLOAT';
  const fourByte = isF32 || dtype === 'I32' || dtype === 'U32' || dtype === 'INT32' || dtype === 'UINT32';
  const where = (off: number) => ({ member: ctx.member || undefined, offset: off });
  let payloadFindings = 0;
  const seenPayloadAt = new Set<string>();
  const report = (hit: Hit, absOffset: number, n: number): void => {
    const key = `${hit.kind}@${absOffset}/${n}`;
    if (seenPayloadAt.has(key) || payloadFindings >= MAX_PAYLOAD_FINDINGS_PER_TENSOR) return;
    seenPayloadAt.add(key);
    payloadFindings++;
    const exe = hit.kind === 'ELF' || hit.kind === 'PE';
    ctx.finding(exe ? 'W001' : 'W002', exe ? 'critical' : 'high',
      `${hit.kind} payload hidden in tensor '${tensor.name}' (${STREAM_LABEL[n]})`, where(absOffset), hit.detail);
  };

  // Per-tensor statistics (4-byte dtypes).
  let nanCount = 0, infCount = 0, words = 0, low16NonZero = 0, constant = true, firstWord = 0;
  const nonZeroLow16Offsets: number[] = [];
  const blockChi: number[] = [];
  const blockEntropy: number[] = [];
  const blockHist = new Uint32Array(256);
  let blockWords = 0;
  const stats = new Float64Array(5);
  const candidates = { at: candidateScratch(), count: 0 };
  const finishedBlocks: number[] = [0.5]; // seeded so the array holds doubles from the start (no map change in the hot loop)
  finishedBlocks.length = 0;
  let constantBytes = true;
  let firstByte = -1;

  for (let pos = start; pos < end; pos += WEIGHT_CHUNK_BYTES) {
    const mainLen = Math.min(WEIGHT_CHUNK_BYTES, end - pos);
    const readLen = Math.min(mainLen + WEIGHT_LOOKAHEAD_BYTES, end - pos);
    let chunk = src.read(pos, readLen);
    if (chunk.length === 0) break;
    const main = Math.min(mainLen, chunk.length);
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);

    // Raw-byte signatures (native search, then structural validation).
    for (const sig of RAW_SIGNATURES) {
      let i = indexOfBytes(buf, sig, 0);
      while (i >= 0 && i < main && payloadFindings < MAX_PAYLOAD_FINDINGS_PER_TENSOR) {
        const hit = validatePayload(chunk, i, 4);
        if (hit) report(hit, pos + i, 4);
        i = indexOfBytes(buf, sig, i + 1);
      }
    }

    if (!fourByte) {
      if (constantBytes) {
        if (firstByte < 0) firstByte = chunk[0];
        for (let i = 0; i < main; i++) if (chunk[i] !== firstByte) { constantBytes = false; break; }
      }
      continue;
    }
    // Word view (copy when the chunk is unaligned).
    if (chunk.byteOffset & 3) { const c = new Uint8Array(chunk.length); c.set(chunk); chunk = c; }
    const nWords = main >>> 2;
    const i32 = new Int32Array(chunk.buffer, chunk.byteOffset, nWords);
    if (words === 0 && nWords > 0) firstWord = i32[0] >>> 0;
    stats[0] = stats[1] = stats[2] = stats[3] = 0; // stats[4] (samples in the open block) carries over
    blockWords = wordLoop(i32, nWords, firstWord | 0, blockHist, blockWords, stats, candidates, finishedBlocks);
    nanCount += stats[0]; infCount += stats[1]; low16NonZero += stats[2];
    if (stats[3]) constant = false;
    if (nonZeroLow16Offsets.length < 8) for (let w = 0; w < nWords && nonZeroLow16Offsets.length < 8; w++) if (i32[w] & 0xffff) nonZeroLow16Offsets.push(pos + w * 4);
    for (let k = 0; k < candidates.count; k++) {
      const base = candidates.at[k];
      // Byte position p of a word starts a candidate in every stream that passes through it (n > p).
      for (let n = (base & 3) + 1; n <= 3; n++) {
        const second = streamByte(chunk, base, n, 1);
        if (second < 0 || !PAIR[(chunk[base] << 8) | second]) continue;
        const h = validatePayload(chunk, base, n);
        if (h) report(h, pos + base, n);
      }
    }
    candidates.count = 0;
    for (let k = 0; k < finishedBlocks.length; k += 2) { blockChi.push(finishedBlocks[k]); blockEntropy.push(finishedBlocks[k + 1]); }
    finishedBlocks.length = 0;
    words += nWords;
  }

  const loc = where(start);
  if (isF32 && (nanCount || infCount)) {
    ctx.finding('W003', 'low', `tensor '${tensor.name}' has ${nanCount} NaN and ${infCount} Inf values`, loc);
  }
  if ((fourByte && words > 1 && constant) || (!fourByte && end - start > 1 && constantBytes)) {
    ctx.finding('W004', 'info', `tensor '${tensor.name}' is all-constant`, loc, fourByte ? `0x${firstWord.toString(16).padStart(8, '0')}` : undefined);
  }
  if (isF32 && words >= STAT_MIN_WORDS && !constant) {
    // Statistics only make sense on tensors that otherwise look like trained float32 weights.
    const sorted = [...blockChi].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1] ?? 0;
    if (median <= STAT_NORMAL_MEDIAN_CHI2) {
      const outliers = blockChi.map((c, i) => [c, i] as const).filter(([c]) => c > STAT_OUTLIER_CHI2);
      if (outliers.length) {
        const [c, i] = outliers.reduce((a, b) => (b[0] > a[0] ? b : a));
        ctx.finding('W005', 'low', `tensor '${tensor.name}': ${outliers.length} block(s) with low-byte statistics unlike the rest of the tensor`,
          where(start + i * STAT_BLOCK_WORDS * 4), `block ${i}: chi2=${c.toFixed(0)} entropy=${blockEntropy[i].toFixed(2)} bits (tensor median chi2=${median.toFixed(0)})`);
      }
    }
    const maxFew = Math.max(1, Math.floor(words / 1000));
    if (low16NonZero > 0 && low16NonZero <= maxFew) {
      ctx.finding('W006', 'low', `tensor '${tensor.name}': low 16 bits are zero in all but ${low16NonZero} of ${words} values`,
        where(nonZeroLow16Offsets[0] ?? start), `first offsets: ${nonZeroLow16Offsets.join(', ')}`);
    }
  }
}
