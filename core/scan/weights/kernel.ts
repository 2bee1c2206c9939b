/**
 * The hot loop of the weight checks as a small WebAssembly SIMD kernel, with a
 * plain TypeScript twin (same contract) for runtimes without wasm SIMD and as
 * the reference the kernel is tested against.
 *
 * Why wasm: a JS loop over an Int32Array tops out near 1–2 GB/s on simple sums
 * here, and the checks need ~10 operations per word; SIMD does them 16 bytes at
 * a time. The module is emitted from the instruction list below (no binary blob
 * in the repository, no build step, nothing fetched): every opcode is named.
 *
 * Contract of `scan(from, to, first)` over kernel memory, `from`/`to` a whole number
 * of 16-byte steps apart and at most KERNEL_MAX_CALL_BYTES (the CAND area holds one
 * entry per step of that), data bytes up to `to + 32` readable (the caller zero-pads):
 * - per 16-byte step at p (4 little-endian 32-bit words):
 *   - lane counters: words whose exponent bits are all ones (NaN or ±Inf; the
 *     caller tells them apart in the rare ranges that have any), words whose low
 *     16 bits are zero; OR of (word ^ first);
 *   - low-byte histogram: HIST[byte p]++ (every 4th word's low byte);
 *   - candidate step: some byte p+i (i < 16) equals a signature's first byte while
 *     the same signature's second byte sits 1, 2, 3 or 4 bytes later — the pair
 *     distance in the raw bytes (1) and in the low-1/2/3-byte streams (4/3/2 and 1);
 *     the step offset p is appended to CAND and counted in the return value.
 *   Candidates are a superset: the caller re-checks pairs per stream and validates.
 * - lane counters are stored at STATS_AT (3 × v128: allOnesExp, low16Zero, diff).
 */

/** Signature first/second bytes: ELF "\x7fE", PE "MZ", ZIP "PK", shebang "#!". */
export const SIGNATURE_PAIRS: ReadonlyArray<readonly [number, number]> = [[0x7f, 0x45], [0x4d, 0x5a], [0x50, 0x4b], [0x23, 0x21]];
/** Bytes the kernel processes per call at most (one statistics block is 64 KiB; calls stay below this). */
export const KERNEL_MAX_CALL_BYTES = 64 * 1024;
/** Largest data window the kernel memory holds (a read chunk plus its look-ahead). */
export const KERNEL_DATA_BYTES = 2 * 1024 * 1024;
/** Zero bytes kept after the data so the kernel's look-ahead loads (up to 32 bytes) see no stale data. */
export const KERNEL_PAD_BYTES = 64;

export const STATS_AT = 0; // 3 × 16 bytes
export const HIST_AT = 1024; // 256 × u32
export const CAND_AT = 2048; // KERNEL_MAX_CALL_BYTES / 16 × u32
export const DATA_AT = 65536;
const PAGES = Math.ceil((DATA_AT + KERNEL_DATA_BYTES + KERNEL_PAD_BYTES) / 65536);

export interface Kernel {
  /** Kernel memory (bytes); data goes at DATA_AT. */
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  scan(from: number, to: number, first: number): number;
  readonly kind: 'wasm-simd' | 'js';
}

// ---------------------------------------------------------------- wasm emitter
const enum Op {
  block = 0x02, loop = 0x03, if_ = 0x04, end = 0x0b, br = 0x0c, brIf = 0x0d,
  localGet = 0x20, localSet = 0x21, localTee = 0x22,
  i32Load = 0x28, i32Load8u = 0x2d, i32Store = 0x36, i32Const = 0x41,
  i32GeU = 0x4f, i32Add = 0x6a, i32Shl = 0x74,
}
/** SIMD opcodes (prefix 0xfd, then the LEB128 sub-opcode). */
const Simd = {
  load: 0x00, store: 0x0b, const: 0x0c, shuffle: 0x0d, swizzle: 0x0e, i32x4Splat: 0x11,
  i32x4Eq: 0x37, and: 0x4e, or: 0x50, xor: 0x51, anyTrue: 0x53, i16x8ShrU: 0x8d, i32x4Sub: 0xb1,
} as const;

function uleb(n: number): number[] { const o: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; }
function sleb(n: number): number[] {
  const o: number[] = [];
  for (;;) { const b = n & 0x7f; n >>= 7; if ((n === 0 && !(b & 0x40)) || (n === -1 && (b & 0x40))) { o.push(b); return o; } o.push(b | 0x80); }
}
const simd = (op: number) => [0xfd, ...uleb(op)];
const v128Const = (bytes: number[]) => [...simd(Simd.const), ...bytes];
const splat32 = (x: number) => { const b: number[] = []; for (let i = 0; i < 4; i++) b.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24); return b; };
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];

/** Nibble tables: byte b is signature first byte k ⇔ bit k of LO[b & 15] & HI[b >> 4]; second byte k ⇔ bit k + 4. */
function nibbleTables(): { lo: number[]; hi: number[] } {
  const lo = new Array<number>(16).fill(0), hi = new Array<number>(16).fill(0);
  SIGNATURE_PAIRS.forEach(([a, b], k) => { lo[a & 15] |= 1 << k; hi[a >> 4] |= 1 << k; lo[b & 15] |= 1 << (k + 4); hi[b >> 4] |= 1 << (k + 4); });
  return { lo, hi };
}

function buildModule(): Uint8Array {
  // Locals: params 0 from, 1 to, 2 first; 3 count (i32); v128 locals 4..16; 17 histogram address (i32).
  const FROM = 0, TO = 1, FIRST = 2, COUNT = 3, ADDR = 17;
  const [V, CUR, NEXT, ACC_EXP, ACC_LOW, ACC_DIFF, FIRSTS, LO_T, HI_T, NIB, EXP, LOW16, ZERO] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const get = (l: number) => [Op.localGet, l], set = (l: number) => [Op.localSet, l];
  const memarg = (offset: number) => [0, ...uleb(offset)]; // alignment hint 1: loads are unaligned
  const { lo, hi } = nibbleTables();
  // classify(x on stack) → class bits per byte.  Uses NIB (0x0f splat), LO_T, HI_T.
  const classifyTop = (local: number) => [
    ...get(LO_T), ...get(local), ...get(NIB), ...simd(Simd.and), ...simd(Simd.swizzle),
    ...get(HI_T), ...get(local), Op.i32Const, 4, ...simd(Simd.i16x8ShrU), ...get(NIB), ...simd(Simd.and), ...simd(Simd.swizzle),
    ...simd(Simd.and),
  ];
  const shuffleFrom = (k: number) => [...get(CUR), ...get(NEXT), ...simd(Simd.shuffle), ...Array.from({ length: 16 }, (_, i) => i + k)];
  const countLanes = (acc: number, mask: number[]) => [...get(acc), ...mask, ...simd(Simd.i32x4Sub), ...set(acc)];

  const body = [
    ...v128Const(lo), ...set(LO_T), ...v128Const(hi), ...set(HI_T),
    ...v128Const(new Array(16).fill(0x0f)), ...set(NIB),
    ...v128Const(splat32(0x7f800000)), ...set(EXP),
    ...v128Const(splat32(0x0000ffff)), ...set(LOW16),
    ...get(FIRST), ...simd(Simd.i32x4Splat), ...set(FIRSTS),
    // CUR = classify(load from)
    ...get(FROM), ...simd(Simd.load), ...memarg(0), ...set(V), ...classifyTop(V), ...set(CUR),
    Op.block, 0x40, Op.loop, 0x40,
    ...get(FROM), ...get(TO), Op.i32GeU, Op.brIf, 1,
    ...get(FROM), ...simd(Simd.load), ...memarg(0), ...set(V),
    // exponent all ones (NaN or Inf); low 16 bits zero; OR of differences from the first word
    ...countLanes(ACC_EXP, [...get(V), ...get(EXP), ...simd(Simd.and), ...get(EXP), ...simd(Simd.i32x4Eq)]),
    ...countLanes(ACC_LOW, [...get(V), ...get(LOW16), ...simd(Simd.and), ...get(ZERO), ...simd(Simd.i32x4Eq)]),
    ...get(ACC_DIFF), ...get(V), ...get(FIRSTS), ...simd(Simd.xor), ...simd(Simd.or), ...set(ACC_DIFF),
    // HIST[byte at from]++  (address HIST_AT + 4·byte)
    ...get(FROM), Op.i32Load8u, 0, 0, Op.i32Const, 2, Op.i32Shl,
    Op.localTee, ADDR, ...get(ADDR), Op.i32Load, 2, ...uleb(HIST_AT), Op.i32Const, 1, Op.i32Add, Op.i32Store, 2, ...uleb(HIST_AT),
    // NEXT = classify(load from+16); candidates: first-byte bits of CUR & second-byte bits 1..4 bytes later
    ...get(FROM), ...simd(Simd.load), ...memarg(16), ...set(V), ...classifyTop(V), ...set(NEXT),
    ...get(CUR),
    ...shuffleFrom(1), ...shuffleFrom(2), ...simd(Simd.or), ...shuffleFrom(3), ...simd(Simd.or), ...shuffleFrom(4), ...simd(Simd.or),
    Op.i32Const, 4, ...simd(Simd.i16x8ShrU), ...get(NIB), ...simd(Simd.and), ...simd(Simd.and), ...simd(Simd.anyTrue),
    Op.if_, 0x40,
    ...get(COUNT), Op.i32Const, 2, Op.i32Shl, ...get(FROM), Op.i32Store, 2, ...uleb(CAND_AT),
    ...get(COUNT), Op.i32Const, 1, Op.i32Add, ...set(COUNT),
    Op.end,
    ...get(NEXT), ...set(CUR),
    ...get(FROM), Op.i32Const, 16, Op.i32Add, ...set(FROM),
    Op.br, 0,
    Op.end, Op.end,
    Op.i32Const, ...sleb(STATS_AT), ...get(ACC_EXP), ...simd(Simd.store), ...memarg(0),
    Op.i32Const, ...sleb(STATS_AT), ...get(ACC_LOW), ...simd(Simd.store), ...memarg(16),
    Op.i32Const, ...sleb(STATS_AT), ...get(ACC_DIFF), ...simd(Simd.store), ...memarg(32),
    ...get(COUNT),
    Op.end,
  ];
  const locals = vec([[1, 0x7f], [13, 0x7b], [1, 0x7f]]);
  const code = [...locals, ...body];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[0x7f], [0x7f], [0x7f]]), ...vec([[0x7f]])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(PAGES)]])),
    ...section(7, vec([[...name('scan'), 0x00, 0], [...name('mem'), 0x02, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ];
  return new Uint8Array(bytes);
}

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { scan: Kernel['scan']; mem: { buffer: ArrayBuffer } } };
}

function wasmKernel(): Kernel | undefined {
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wasm) return undefined;
    const bytes = buildModule();
    if (!wasm.validate(bytes)) return undefined; // e.g. no SIMD support
    const { exports } = new wasm.Instance(new wasm.Module(bytes), {});
    const buf = exports.mem.buffer; // fixed size: the module never grows its memory, so views stay valid
    return { u8: new Uint8Array(buf), u32: new Uint32Array(buf), i32: new Int32Array(buf), scan: exports.scan, kind: 'wasm-simd' };
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ JS twin
/** Signature id + 1 for a first byte; the matching second byte. */
const FIRST_ID = new Uint8Array(256);
const SECOND_OF = new Int16Array(SIGNATURE_PAIRS.length + 1);
SIGNATURE_PAIRS.forEach(([a, b], k) => { FIRST_ID[a] = k + 1; SECOND_OF[k + 1] = b; });
/** 1 when either byte of a 16-bit value is a signature's first byte; built on first use (a 65,536-step loop at load cost every CLI start ~2 ms). */
let firstIn16: Uint8Array | undefined;
function firstIn16Table(): Uint8Array {
  if (!firstIn16) {
    firstIn16 = new Uint8Array(65536);
    for (let v = 0; v < 65536; v++) firstIn16[v] = FIRST_ID[v & 0xff] || FIRST_ID[v >>> 8] ? 1 : 0;
  }
  return firstIn16;
}

export function jsKernel(): Kernel {
  const FIRST_IN_16 = firstIn16Table();
  const buf = new ArrayBuffer(PAGES * 65536);
  const u8 = new Uint8Array(buf), u32 = new Uint32Array(buf), i32 = new Int32Array(buf);
  const scan = (from: number, to: number, first: number): number => {
    let count = 0, allOnes = 0, low16Zero = 0, diff = 0;
    const hist = HIST_AT >> 2, cand = CAND_AT >> 2;
    for (let p = from; p < to; p += 16) {
      let firstBytes = 0;
      for (let w = p >> 2, e = w + 4; w < e; w++) {
        const v = i32[w];
        if ((v & 0x7f800000) === 0x7f800000) allOnes++;
        if ((v & 0xffff) === 0) low16Zero++;
        diff |= v ^ first;
        firstBytes |= FIRST_IN_16[v & 0xffff] | FIRST_IN_16[v >>> 16];
      }
      u32[hist + u8[p]]++;
      if (firstBytes === 0) continue;
      for (let i = p, e = p + 16; i < e; i++) {
        const id = FIRST_ID[u8[i]];
        if (id === 0) continue;
        const s = SECOND_OF[id];
        if (u8[i + 1] === s || u8[i + 2] === s || u8[i + 3] === s || u8[i + 4] === s) { u32[cand + count++] = p; break; }
      }
    }
    // Same layout as the wasm kernel's lane counters, totals in lane 0.
    const S = STATS_AT >> 2;
    i32.fill(0, S, S + 12);
    i32[S] = allOnes; i32[S + 4] = low16Zero; i32[S + 8] = diff;
    return count;
  };
  return { u8, u32, i32, scan, kind: 'js' };
}

let shared: Kernel | undefined;
/** The process-wide kernel (checks are synchronous, so one memory is enough). */
export function kernel(): Kernel { return (shared ??= wasmKernel() ?? jsKernel()); }
/** Test hook: force the JS twin (true) or restore the default (false). */
export function useJsKernelForTests(on: boolean): void { shared = on ? jsKernel() : undefined; }
