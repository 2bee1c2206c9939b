/**
 * How CPython's C unpickler (Modules/_pickle.c, 3.8–3.13) reads a pickle from a FILE OBJECT, as opposed to bytes.
 *
 * With bytes (`pickle.loads`) the whole input is the unpickler's buffer and FRAME only checks that the frame's
 * bytes exist. With a file object the unpickler keeps its own buffer, and the reading depends on the file:
 *   - no `peek` (io.BytesIO — how torch.load reads a zip checkpoint's data.pkl — or any custom reader): FRAME
 *     replaces the buffer with exactly the frame's bytes (`read(frame_len)`). An opcode (or its argument, or a
 *     text line) that does not fit in what is left of the buffer DISCARDS that rest and reads afresh from the
 *     file (`_Unpickler_ReadFromFile` → `_Unpickler_SetStringInput`). Bytes/bytearray payloads
 *     (`_Unpickler_ReadInto`) copy the rest of the buffer first, so they lose nothing.
 *   - `peek` (io.BufferedReader — `pickle.load(open(path, 'rb'))`, legacy `torch.load(path)`): the buffer holds
 *     peeked bytes and consumed ones are skipped on the file before it is refilled, so nothing is lost — except
 *     after a frame larger than what `peek()` returned (bounded by the BufferedReader's buffer size), which is
 *     read with `read(frame_len)` and then behaves as above.
 * A well-formed pickle (CPython's pickler never splits an opcode across a frame end) reads the same every way;
 * a crafted one can show `pickle.loads` and scanners one stream and `torch.load` another.
 *
 * `linearize` replays one reading over the data and returns the bytes the unpickler actually consumes (FRAME
 * opcodes removed, discarded bytes dropped), with a map back to file offsets, so that the ordinary VM can run on
 * that reading. Limits: it walks at most `maxOps` opcodes and stops at the first read error (reported).
 */

export type Reading =
  | { kind: 'stream' }
  /** io.BufferedReader; `prefixReads`: what the loader read before the pickle (a negative entry seeks back), e.g. np.load's header reads. */
  | { kind: 'buffered'; bufferSize: number; prefixReads?: readonly number[] }
  /** zipfile.ZipExtFile (np.load of an .npz member): peek() returns at most `window` bytes from the current position. */
  | { kind: 'window'; window: number };
/**
 * The readings replayed when a stream straddles a frame: io.BytesIO (torch.load's data.pkl), and io.BufferedReader as
 * open(path, 'rb') makes it — its buffer is the file system's st_blksize (4096 on ext4/overlayfs; 128 KiB on e.g. ZFS),
 * io.DEFAULT_BUFFER_SIZE (8192) when there is none.
 */
export const READINGS: readonly Reading[] = [{ kind: 'stream' }, { kind: 'buffered', bufferSize: 4096 }, { kind: 'buffered', bufferSize: 8192 }, { kind: 'buffered', bufferSize: 131072 }];
export function readingName(r: Reading): string {
  if (r.kind === 'stream') return 'a file object without peek (io.BytesIO, as torch.load reads data.pkl)';
  if (r.kind === 'window') return `zipfile.ZipExtFile (peek returns ${r.window} bytes; np.load of an .npz member)`;
  return `io.BufferedReader(buffer_size=${r.bufferSize}) (${r.prefixReads ? 'np.load(path) after the .npy header' : 'pickle.load(open(…))'})`;
}
/** The readings of an .npy object array's pickle: np.load(path) reads the header through the same BufferedReader, and .npz members are ZipExtFiles. */
export function npyReadings(version: number, headerLength: number): Reading[] {
  const reads = [6, -6, 8, version === 1 ? 2 : 4, headerLength]; // np.load: magic peek + seek back; read_magic; header length; header
  return [{ kind: 'stream' }, ...[4096, 8192, 131072].map((b) => ({ kind: 'buffered' as const, bufferSize: b, prefixReads: reads })), { kind: 'window', window: 512 }];
}

/** _pickle.c PREFETCH: the unpickler peeks this much when a read is smaller. */
const PREFETCH = 8192 * 16;
const NL = 0x0a;

export interface Linearized {
  /** The bytes the unpickler consumed, in order (FRAME opcodes omitted). */
  data: Uint8Array;
  /** Contiguous pieces: linear offset `lin` holds file offset `orig` for `len` bytes. */
  segments: { lin: number; orig: number; len: number }[];
  /** Bytes the reading discarded: at file offset, how many. */
  dropped: { offset: number; length: number }[];
  /** A read failed (the C unpickler raises here); file offset. */
  error?: { offset: number; reason: string };
  /** Pickles (STOPs) walked. */
  pickles: number;
}

class ReadError { constructor(readonly offset: number, readonly reason: string) {} }

/** Argument layout of each opcode for the walk: r = fixed Read(n), c = counted Read, i = counted ReadInto, l = lines. */
type Arg = { k: 'none' } | { k: 'r'; n: number } | { k: 'c' | 'i'; n: number; signed?: boolean } | { k: 'l'; lines: number } | { k: 'frame' };
const ARGS: (Arg | undefined)[] = new Array(256);
for (const op of [0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x5d, 0x29, 0x7d, 0x8f, 0x61, 0x65, 0x73, 0x75, 0x85, 0x86, 0x87, 0x74, 0x6c, 0x64,
  0x62, 0x52, 0x81, 0x92, 0x93, 0x94, 0x51, 0x6f, 0x91, 0x90, 0x97, 0x98]) ARGS[op] = { k: 'none' };
for (const [op, n] of [[0x4a, 4], [0x4b, 1], [0x4d, 2], [0x47, 8], [0x68, 1], [0x6a, 4], [0x71, 1], [0x72, 4], [0x80, 1], [0x82, 1], [0x83, 2], [0x84, 4]]) ARGS[op] = { k: 'r', n };
for (const [op, n, signed] of [[0x8a, 1, false], [0x8b, 4, true], [0x55, 1, false], [0x54, 4, true], [0x8c, 1, false], [0x58, 4, false], [0x8d, 8, false]] as const) ARGS[op] = { k: 'c', n, signed };
for (const [op, n] of [[0x43, 1], [0x42, 4], [0x8e, 8], [0x96, 8]]) ARGS[op] = { k: 'i', n };
for (const op of [0x49, 0x4c, 0x46, 0x53, 0x56, 0x50, 0x67, 0x70]) ARGS[op] = { k: 'l', lines: 1 };
for (const op of [0x63, 0x69]) ARGS[op] = { k: 'l', lines: 2 };
ARGS[0x95] = { k: 'frame' };

function uint(d: Uint8Array, p: number, n: number, signed = false): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + d[p + i];
  if (signed && n === 4 && v >= 0x80000000) v -= 0x100000000;
  return v;
}

/** A file object with peek: what peek/read/readinto/readline return (positions in the data). */
interface PeekFile { pos: number; peek(): [number, number]; read(n: number): [number, number]; readinto(n: number): [number, number]; readline(data: Uint8Array): [number, number] }

/** zipfile.ZipExtFile: reads return exactly what was asked; peek() at most `window` bytes from the current position. */
class WindowFile implements PeekFile {
  constructor(readonly size: number, readonly window: number, public pos: number) {}
  peek(): [number, number] { return [this.pos, Math.min(this.size, this.pos + this.window)]; }
  read(n: number): [number, number] { const s = this.pos; this.pos = Math.min(this.size, this.pos + n); return [s, this.pos]; }
  readinto(n: number): [number, number] { return this.read(n); }
  readline(data: Uint8Array): [number, number] {
    const nl = data.indexOf(NL, this.pos); const s = this.pos;
    this.pos = nl < 0 || nl >= this.size ? this.size : nl + 1; return [s, this.pos];
  }
}

/** io.BufferedReader over a regular file (Modules/_io/bufferedio.c): what peek/read/readline return. */
class BufferedFile implements PeekFile {
  pos: number; bufStart: number; bufEnd: number; // [bufStart, bufEnd) is buffered; raw file position = bufEnd
  constructor(readonly size: number, readonly B: number, start: number) { this.pos = start; this.bufStart = start; this.bufEnd = start; }
  private fill(): number { this.bufStart = this.pos; this.bufEnd = Math.min(this.size, this.pos + this.B); return this.bufEnd - this.pos; }
  peek(): [number, number] {
    if (this.pos < this.bufEnd) return [this.pos, this.bufEnd];
    this.fill();
    return [this.pos, this.bufEnd];
  }
  /** read(n): returns [start, end) of what was read. */
  read(n: number): [number, number] {
    const start = this.pos;
    const avail = this.bufEnd - this.pos;
    if (n <= avail) { this.pos += n; return [start, this.pos]; }
    let remaining = n - avail;
    this.pos = this.bufEnd; // the buffered part, then raw reads from the raw position
    const direct = Math.floor(remaining / this.B) * this.B;
    if (direct > 0) { const got = Math.min(direct, this.size - this.pos); this.pos += got; remaining -= got; this.bufStart = this.bufEnd = this.pos; if (got < direct) return [start, this.pos]; }
    if (remaining > 0) {
      const got = this.fill();
      const take = Math.min(got, remaining);
      this.pos += take;
    }
    return [start, this.pos];
  }
  /** readinto(n) (_buffered_readinto_generic): the buffered part, then either one raw read of the rest (more than a buffer) or buffer fills. */
  readinto(n: number): [number, number] {
    const start = this.pos;
    if (this.bufEnd - this.pos >= n) { this.pos += n; return [start, this.pos]; }
    let remaining = n - (this.bufEnd - this.pos);
    this.pos = this.bufEnd; this.bufStart = this.bufEnd = this.pos;
    while (remaining > 0) {
      if (remaining > this.B) {
        const got = Math.min(remaining, this.size - this.pos);
        if (got === 0) break;
        this.pos += got; remaining -= got; this.bufStart = this.bufEnd = this.pos;
      } else {
        const got = this.fill();
        if (got === 0) break;
        const take = Math.min(got, remaining); this.pos += take; remaining -= take;
      }
    }
    return [start, this.pos];
  }
  readline(data: Uint8Array): [number, number] {
    const start = this.pos;
    const nl = data.indexOf(NL, this.pos);
    const end = nl < 0 || nl >= this.size ? this.size : nl + 1;
    if (end <= this.bufEnd) { this.pos = end; return [start, end]; }
    // Refills block by block from the raw position until the newline's block.
    let blockStart = this.bufEnd;
    while (blockStart + this.B < end) blockStart += this.B;
    this.bufStart = blockStart; this.bufEnd = Math.min(this.size, blockStart + this.B);
    this.pos = end;
    return [start, end];
  }
}

/**
 * Replays the C unpickler reading `data[start, end)` through a file object and returns what it consumed.
 * Stops after `maxPickles` STOPs (default: every stacked pickle, each read by a fresh Unpickler on the same file).
 */
export function linearize(data: Uint8Array, reading: Reading, opts: { start?: number; end?: number; maxPickles?: number; maxOps?: number } = {}): Linearized {
  const size = Math.min(opts.end ?? data.length, data.length);
  const maxOps = opts.maxOps ?? 50_000_000;
  const out = new Uint8Array(Math.max(0, size - (opts.start ?? 0)));
  let outLen = 0;
  const segments: Linearized['segments'] = [];
  const dropped: Linearized['dropped'] = [];
  // Contiguous pieces are only extended; bytes are copied once per piece (a piece ends at a FRAME or a drop).
  let curOrig = 0, curLin = 0, curLen = 0;
  const flush = () => {
    if (!curLen) return;
    out.set(data.subarray(curOrig, curOrig + curLen), curLin);
    segments.push({ lin: curLin, orig: curOrig, len: curLen });
    outLen = curLin + curLen; curLen = 0;
  };
  const emit = (s: number, e: number) => {
    if (e <= s) return;
    if (curLen && curOrig + curLen === s) { curLen += e - s; return; }
    flush(); curOrig = s; curLin = outLen; curLen = e - s;
  };
  let bf: PeekFile | undefined;
  if (reading.kind === 'window') bf = new WindowFile(size, reading.window, opts.start ?? 0);
  else if (reading.kind === 'buffered') {
    if (reading.prefixReads) {
      const b = new BufferedFile(size, reading.bufferSize, 0);
      for (const n of reading.prefixReads) { if (n >= 0) b.read(n); else b.pos = Math.max(b.bufStart, b.pos + n); } // a seek back inside the buffer
      b.pos = opts.start ?? b.pos;
      bf = b;
    } else bf = new BufferedFile(size, reading.bufferSize, opts.start ?? 0);
  }
  // Stream (no peek) file position; the unpickler buffer [ubStart, ubEnd) with next read at idx;
  // `filePos` is where the file is (for peek mode: ubStart + prefetched index).
  let filePos = opts.start ?? 0;
  let ubStart = filePos, ubEnd = filePos, idx = filePos, prefetched = filePos;

  const fileRead = (n: number): [number, number] => {
    if (bf) { const r = bf.read(n); filePos = bf.pos; return r; }
    const s = filePos, e = Math.min(size, filePos + n); filePos = e; return [s, e];
  };
  const fileReadline = (): [number, number] => {
    if (bf) { const r = bf.readline(data); filePos = bf.pos; return r; }
    const nl = data.indexOf(NL, filePos);
    const e = nl < 0 || nl >= size ? size : nl + 1; const s = filePos; filePos = e; return [s, e];
  };
  const skipConsumed = () => { if (bf && idx > prefetched) { fileRead(idx - prefetched); prefetched = idx; } };
  /** After skipConsumed: unread buffer bytes the file has already moved past are lost. */
  const drop = () => { if (filePos > idx && ubEnd > idx) dropped.push({ offset: idx, length: Math.min(ubEnd, filePos) - idx }); };
  /** _Unpickler_ReadFromFile(n) (n < 0: a whole line): the new buffer. */
  const readFromFile = (n: number): void => {
    skipConsumed();
    drop();
    if (n < 0) { const [s, e] = fileReadline(); ubStart = s; ubEnd = e; idx = s; prefetched = e; return; }
    if (bf && n < PREFETCH) {
      const [s, e] = bf.peek();
      ubStart = s; ubEnd = e; idx = s; prefetched = s;
      if (n <= e - s) return;
    }
    const [s, e] = fileRead(n); ubStart = s; ubEnd = e; idx = s; prefetched = e;
  };
  /** _Unpickler_Read(n): the file offsets of the n bytes returned. */
  const read = (n: number, at: number): number => {
    if (idx + n <= ubEnd) { const p = idx; idx += n; return p; }
    readFromFile(n);
    if (ubEnd - ubStart < n) throw new ReadError(at, 'pickle data was truncated');
    const p = ubStart; idx = ubStart + n; return p;
  };
  /** _Unpickler_ReadInto(n): copies the rest of the buffer, then reads the remainder from the file. */
  const readInto = (n: number, at: number): [number, number][] => {
    const inBuf = Math.min(Math.max(0, ubEnd - idx), n);
    const parts: [number, number][] = [];
    if (inBuf > 0) { parts.push([idx, idx + inBuf]); idx += inBuf; }
    let rest = n - inBuf;
    if (rest === 0) return parts;
    skipConsumed();
    let s: number, e: number;
    if (bf) { [s, e] = bf.readinto(rest); filePos = bf.pos; } else [s, e] = fileRead(rest);
    if (e - s < rest) throw new ReadError(at, 'pickle data was truncated');
    parts.push([s, e]); rest = 0;
    ubStart = ubEnd = idx = prefetched = e;
    return parts;
  };
  const readline = (at: number): [number, number] => {
    const nl = data.indexOf(NL, idx);
    if (nl >= 0 && nl < ubEnd) { const s = idx; idx = nl + 1; return [s, idx]; }
    readFromFile(-1);
    if (ubEnd === ubStart || data[ubEnd - 1] !== NL) throw new ReadError(at, 'pickle data was truncated');
    idx = ubEnd;
    return [ubStart, ubEnd];
  };

  let pickles = 0, ops = 0;
  let error: Linearized['error'];
  try {
    outer: while (true) {
      // A fresh Unpickler per pickle on the same file (legacy torch.save: five pickle.load calls).
      if (bf) { ubStart = ubEnd = idx = prefetched = filePos; } else { ubStart = ubEnd = idx = filePos; }
      if (filePos >= size) break;
      for (;;) {
        if (++ops > maxOps) throw new ReadError(idx, `opcode limit (${maxOps}) reached`);
        const at = idx < ubEnd ? idx : (bf ? idx : filePos);
        const p = read(1, at);
        const op = data[p];
        const a = ARGS[op];
        if (!a) { emit(p, p + 1); break outer; } // the VM reports the invalid load key
        if (a.k === 'frame') {
          const h = read(8, p);
          const len = uint(data, h, 8);
          if (len > size) throw new ReadError(p, `FRAME of ${len} bytes exceeds the data`);
          const f = read(len, p); idx = f; // prefetch, then rewind to the frame's start
          continue;
        }
        emit(p, p + 1);
        if (a.k === 'r') { const s = read(a.n, p); emit(s, s + a.n); }
        else if (a.k === 'c' || a.k === 'i') {
          const s = read(a.n, p); emit(s, s + a.n);
          const n = uint(data, s, a.n, a.signed);
          if (n < 0 || n > size) throw new ReadError(p, 'length exceeds the data');
          if (a.k === 'c') { const b = read(n, p); emit(b, b + n); }
          else for (const [x, y] of readInto(n, p)) emit(x, y);
        } else if (a.k === 'l') {
          for (let i = 0; i < a.lines; i++) { const [s, e] = readline(p); emit(s, e); }
        }
        if (op === 0x2e) { // STOP: load() ends; with peek it syncs the file position first
          pickles++;
          if (bf) { skipConsumed(); filePos = idx; } else filePos = Math.max(filePos, ubEnd);
          if (opts.maxPickles !== undefined && pickles >= opts.maxPickles) break outer;
          break;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof ReadError)) throw e;
    error = { offset: e.offset, reason: e.reason };
  }
  flush();
  return { data: out.subarray(0, outLen), segments, dropped, error, pickles };
}

/** Maps an offset in the linearized data back to the file. */
export function originOf(lin: Linearized, offset: number): number {
  const s = lin.segments;
  let lo = 0, hi = s.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid].lin + s[mid].len <= offset) lo = mid + 1; else if (s[mid].lin > offset) hi = mid - 1; else return s[mid].orig + offset - s[mid].lin;
  }
  const last = s[s.length - 1];
  return last ? last.orig + last.len : offset;
}
