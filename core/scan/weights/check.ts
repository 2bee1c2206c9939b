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
import { CAND_AT, DATA_AT, HIST_AT, KERNEL_DATA_BYTES, KERNEL_MAX_CALL_BYTES, KERNEL_PAD_BYTES, SIGNATURE_PAIRS, STATS_AT, kernel } from './kernel';

/** Bytes read per step (aligned to 4). */
export const WEIGHT_CHUNK_BYTES = 1024 * 1024;
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
/**
 * Payload-header validations per tensor. Trained weights need a handful; a tensor made of repeated
 * signature bytes would need one per word (minutes for a gigabyte): past this, the payload search
 * stops for the tensor and the file is reported incomplete (W007), never safe.
 */
export const MAX_PAYLOAD_VALIDATIONS_PER_TENSOR = 1_000_000;
/** e_lfanew must point inside this many stream bytes. */
const PE_MAX_LFANEW = 4096;

export interface TensorRange { name: string; dtype: string; offset: number; length: number }

const FIRST_BYTE = new Uint8Array(256);
for (const [b] of SIGNATURE_PAIRS) FIRST_BYTE[b] = 1; // ELF, MZ, PK, #!

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

/** ZIP compression methods seen in real archives (stored, deflate, deflate64, bzip2, lzma, zstd, xz). */
const ZIP_METHODS = [0, 8, 9, 12, 14, 93, 95];

/** Structural validation of a candidate payload header at `start` in stream `n`. */
export function validatePayload(buf: Uint8Array, start: number, n: number): Hit | undefined {
  // Header fields are read one stream byte at a time, rejecting as early as possible: hostile tensors
  // can be made of signature pairs end to end, and each one is validated (no closures or arrays until late).
  const b0 = streamByte(buf, start, n, 0), b1 = streamByte(buf, start, n, 1), b2 = streamByte(buf, start, n, 2);
  if (b0 === 0x7f && b1 === 0x45) {
    // "LF", EI_CLASS 1|2, EI_DATA 1|2, EI_VERSION 1, e_type 1..4, e_version (at 20) == 1 checked via byte 20.
    if (b2 !== 0x4c || streamByte(buf, start, n, 3) !== 0x46) return undefined;
    const cls = streamByte(buf, start, n, 4), data = streamByte(buf, start, n, 5);
    if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2) || streamByte(buf, start, n, 6) !== 1) return undefined;
    const le = data === 1;
    const eType = le ? streamByte(buf, start, n, 16) | (streamByte(buf, start, n, 17) << 8) : (streamByte(buf, start, n, 16) << 8) | streamByte(buf, start, n, 17);
    const eVersion = streamByte(buf, start, n, le ? 20 : 23);
    if (eType >= 1 && eType <= 4 && eVersion === 1) return { kind: 'ELF', detail: `ELF${cls === 2 ? '64' : '32'} ${le ? 'LE' : 'BE'} type ${eType}` };
    return undefined;
  }
  if (b0 === 0x4d && b1 === 0x5a) {
    const l0 = streamByte(buf, start, n, 0x3c), l1 = streamByte(buf, start, n, 0x3d), l2 = streamByte(buf, start, n, 0x3e), l3 = streamByte(buf, start, n, 0x3f);
    if (l0 < 0 || l1 < 0 || l2 < 0 || l3 < 0) return undefined;
    const lfanew = l0 | (l1 << 8) | (l2 << 16) | (l3 << 24);
    if (lfanew < 0x40 || lfanew > PE_MAX_LFANEW) return undefined;
    if (streamByte(buf, start, n, lfanew) === 0x50 && streamByte(buf, start, n, lfanew + 1) === 0x45 && streamByte(buf, start, n, lfanew + 2) === 0 && streamByte(buf, start, n, lfanew + 3) === 0) {
      const machine = streamByte(buf, start, n, lfanew + 4) | (streamByte(buf, start, n, lfanew + 5) << 8);
      return { kind: 'PE', detail: `PE e_lfanew=0x${lfanew.toString(16)} machine=0x${machine.toString(16)}` };
    }
    return undefined;
  }
  if (b0 === 0x50 && b1 === 0x4b) {
    if (b2 !== 3 || streamByte(buf, start, n, 3) !== 4) return undefined;
    const version = streamByte(buf, start, n, 4) | (streamByte(buf, start, n, 5) << 8), method = streamByte(buf, start, n, 8) | (streamByte(buf, start, n, 9) << 8);
    const nameLen = streamByte(buf, start, n, 26) | (streamByte(buf, start, n, 27) << 8);
    if (version > 63 || !ZIP_METHODS.includes(method) || nameLen <= 0 || nameLen > 255) return undefined;
    const name = streamBytes(buf, start, n, 30, nameLen);
    if (!name.every((c) => c >= 0x20 && c < 0x7f)) return undefined;
    return { kind: 'ZIP', detail: `ZIP local header, member '${String.fromCharCode(...name)}'` };
  }
  if (b0 === 0x23 && b1 === 0x21) {
    if (b2 !== 0x2f && (b2 !== 0x20 || streamByte(buf, start, n, 3) !== 0x2f)) return undefined;
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

/** Valid first two bytes of a payload header: "\x7fE", "MZ", "PK", "#!" (index: first << 8 | second). */
const PAIR = new Uint8Array(65536);
for (const [a, b] of SIGNATURE_PAIRS) PAIR[(a << 8) | b] = 1;

/** ±Inf words in bytes [from, to) of `b` (asked only for ranges that hold NaN/Inf at all). */
function countInf(b: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i + 4 <= to; i += 4) if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 0x80 && (b[i + 3] & 0x7f) === 0x7f) n++;
  return n;
}

/**
 * Optional ByteSource extension: read `[offset, offset + target.length)` into `target`, return the
 * bytes read (fewer only at the end of the source). Lets the checks read straight into the kernel's
 * memory — no per-chunk allocation (fresh buffers cost page faults) and no copy.
 */
export interface ByteSourceWithReadInto extends ByteSource {
  readInto(offset: number, target: Uint8Array): number;
}

/** Bytes per statistics block. */
const STAT_BLOCK_BYTES = STAT_BLOCK_WORDS * 4;
/** The kernel samples the low byte of the first word of every 16-byte step: every 4th word. */
const KERNEL_STEP_BYTES = 16;
if (STAT_SAMPLE_STRIDE * 4 !== KERNEL_STEP_BYTES || STAT_BLOCK_BYTES > KERNEL_MAX_CALL_BYTES || STAT_BLOCK_BYTES % KERNEL_STEP_BYTES !== 0
  || WEIGHT_CHUNK_BYTES % STAT_BLOCK_BYTES !== 0 || WEIGHT_CHUNK_BYTES + WEIGHT_LOOKAHEAD_BYTES > KERNEL_DATA_BYTES) {
  throw new Error('weight-check constants are inconsistent with the kernel layout');
}

/**
 * Runs the weight-level checks on one tensor's bytes `[offset, offset+length)` of `src`.
 * Called by the SafeTensors handler and by the PyTorch/NumPy handlers on storages.
 *
 * Each chunk (plus look-ahead) is read or copied into the kernel's memory; the
 * kernel makes one SIMD pass per statistics block (counters, histogram, candidate
 * 16-byte steps); only candidate steps are looked at byte by byte here.
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
  let validations = 0;
  let searchStopped = false;
  const overBudget = (absOffset: number): boolean => {
    if (++validations <= MAX_PAYLOAD_VALIDATIONS_PER_TENSOR) return false;
    if (!searchStopped) {
      searchStopped = true;
      ctx.incomplete('W007', `payload search stopped in tensor '${tensor.name}' after ${MAX_PAYLOAD_VALIDATIONS_PER_TENSOR} candidate headers (MAX_PAYLOAD_VALIDATIONS_PER_TENSOR)`, where(absOffset));
    }
    return true;
  };
  /** Re-checks the pairs starting in bytes [from, to) of `chunk` per stream, then validates. */
  const checkCandidates = (chunk: Uint8Array, from: number, to: number, chunkPos: number): void => {
    for (let i = from; i < to && payloadFindings < MAX_PAYLOAD_FINDINGS_PER_TENSOR && !searchStopped; i++) {
      const b = chunk[i];
      if (!FIRST_BYTE[b]) continue;
      if (i + 1 < chunk.length && PAIR[(b << 8) | chunk[i + 1]]) {
        if (overBudget(chunkPos + i)) return;
        const h = validatePayload(chunk, i, 4); if (h) report(h, chunkPos + i, 4);
      }
      if (!fourByte) continue;
      // Byte position p of a word starts a candidate in every stream that passes through it (n > p).
      for (let n = (i & 3) + 1; n <= 3; n++) {
        const second = streamByte(chunk, i, n, 1);
        if (second < 0 || !PAIR[(b << 8) | second]) continue;
        if (overBudget(chunkPos + i)) return;
        const h = validatePayload(chunk, i, n);
        if (h) report(h, chunkPos + i, n);
      }
    }
  };

  const K = kernel();
  const readInto = (src as Partial<ByteSourceWithReadInto>).readInto;
  const hist = K.u32.subarray(HIST_AT >> 2, (HIST_AT >> 2) + 256);
  hist.fill(0);
  // Per-tensor statistics (4-byte dtypes; for other dtypes only the constant check, on bytes).
  let nanCount = 0, infCount = 0, words = 0, low16NonZero = 0, constant = true, firstWord = 0;
  let kernelFirst = 0; // what the kernel compares every word against
  const nonZeroLow16Offsets: number[] = [];
  const blockChi: number[] = [];
  const blockEntropy: number[] = [];
  let blockBytes = 0; // bytes of the open statistics block
  let blockSamples = 0;

  for (let pos = start; pos < end; pos += WEIGHT_CHUNK_BYTES) {
    const mainLen = Math.min(WEIGHT_CHUNK_BYTES, end - pos);
    const readLen = Math.min(mainLen + WEIGHT_LOOKAHEAD_BYTES, end - pos);
    // Sources that can fill a caller's buffer skip the allocation and the copy (see ByteSourceWithReadInto).
    const chunk = readInto
      ? K.u8.subarray(DATA_AT, DATA_AT + Math.max(0, Math.min(readLen, readInto.call(src, pos, K.u8.subarray(DATA_AT, DATA_AT + readLen)) | 0)))
      : src.read(pos, readLen);
    if (chunk.length === 0) break;
    const main = Math.min(mainLen, chunk.length);
    if (pos === start) {
      firstWord = chunk.length >= 4 ? (chunk[0] | (chunk[1] << 8) | (chunk[2] << 16) | (chunk[3] << 24)) >>> 0 : 0;
      kernelFirst = fourByte ? firstWord | 0 : Math.imul(chunk[0], 0x01010101);
    }
    if (!readInto) K.u8.set(chunk, DATA_AT);
    K.u8.fill(0, DATA_AT + chunk.length, DATA_AT + chunk.length + KERNEL_PAD_BYTES);

    const stepEnd = main - (main % KERNEL_STEP_BYTES);
    for (let p = 0; p < stepEnd;) {
      const q = Math.min(stepEnd, p + (STAT_BLOCK_BYTES - blockBytes));
      const candidates = K.scan(DATA_AT + p, DATA_AT + q, kernelFirst);
      const s = K.i32; // lane counters at STATS_AT: [allOnesExponent ×4, low16Zero ×4, diff ×4]
      const S = STATS_AT >> 2;
      if (s[S + 8] | s[S + 9] | s[S + 10] | s[S + 11]) constant = false;
      if (fourByte) {
        const allOnes = s[S] + s[S + 1] + s[S + 2] + s[S + 3];
        if (allOnes) { const inf = countInf(chunk, p, q); nanCount += allOnes - inf; infCount += inf; }
        const nonZero = ((q - p) >> 2) - (s[S + 4] + s[S + 5] + s[S + 6] + s[S + 7]);
        low16NonZero += nonZero;
        // Offsets for the W006 evidence: only ranges that have such words are looked at.
        for (let i = p; nonZero > 0 && i < q && nonZeroLow16Offsets.length < 8; i += 4) if (chunk[i] | chunk[i + 1]) nonZeroLow16Offsets.push(pos + i);
        blockSamples += (q - p) / KERNEL_STEP_BYTES;
      }
      for (let c = 0; c < candidates && payloadFindings < MAX_PAYLOAD_FINDINGS_PER_TENSOR && !searchStopped; c++) {
        const step = K.u32[(CAND_AT >> 2) + c] - DATA_AT;
        checkCandidates(chunk, step, step + KERNEL_STEP_BYTES, pos);
      }
      blockBytes += q - p;
      if (blockBytes === STAT_BLOCK_BYTES) {
        if (fourByte) {
          const chi = chiSquare(hist, blockSamples);
          blockChi.push(chi);
          blockEntropy.push(chi > STAT_OUTLIER_CHI2 ? entropy(hist, blockSamples) : NaN); // only outliers' entropy is ever shown
        }
        hist.fill(0);
        blockBytes = 0; blockSamples = 0;
      }
      p = q;
    }
    // The last < 16 bytes of the tensor (or of a short read): same checks in plain code.
    checkCandidates(chunk, stepEnd, main, pos);
    if (fourByte) {
      for (let i = stepEnd; i + 4 <= main; i += 4) {
        const v = chunk[i] | (chunk[i + 1] << 8) | (chunk[i + 2] << 16) | (chunk[i + 3] << 24);
        if ((v & 0x7f800000) === 0x7f800000) { if (v & 0x7fffff) nanCount++; else infCount++; }
        if (v !== kernelFirst) constant = false;
        if (v & 0xffff) { low16NonZero++; if (nonZeroLow16Offsets.length < 8) nonZeroLow16Offsets.push(pos + i); }
      }
      if (main - stepEnd >= 4) { hist[chunk[stepEnd]]++; blockSamples++; }
      blockBytes += (main - stepEnd) & ~3;
    } else {
      for (let i = stepEnd; i < main; i++) if (chunk[i] !== (kernelFirst & 0xff)) constant = false;
    }
    words += main >>> 2;
    if (main < mainLen) break; // short read: the source ended early
  }

  const loc = where(start);
  if (isF32 && (nanCount || infCount)) {
    ctx.finding('W003', 'low', `tensor '${tensor.name}' has ${nanCount} NaN and ${infCount} Inf values`, loc);
  }
  if ((fourByte && words > 1 && constant) || (!fourByte && end - start > 1 && constant)) {
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
