/**
 * Pickle-stream handlers: raw pickles (any name: sniffed by protocol/opcode
 * structure), joblib files (array buffers interleaved after NumpyArrayWrapper
 * BUILDs), and legacy `torch.save` streams (magic pickle, protocol pickle,
 * sys_info pickle, the object pickle, storage keys, raw storages).
 */
import { registerFormat, type ByteSource, type ScanContext } from '../format';
import { readAll, windowSource } from '../bytes';
import { scanPickleStream } from '../pickle/scan';
import { isCall, isGlobal, globalName, sniffPickle, runPickle, type PNode, type PickleRun, type DictNode } from '../pickle/vm';
import { findTorchTensors, referencesTensorRebuild, storageFromPersId, tensorInfos } from '../pickle/torch';

/** torch.serialization.MAGIC_NUMBER, pickled as LONG1 by protocol 2: 0x1950a86a20f9469cfc6c. */
const TORCH_LEGACY_MAGIC = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
const JOBLIB_WRAPPERS = new Set(['joblib.numpy_pickle.NumpyArrayWrapper', 'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper']);

export function loadInMemory(src: ByteSource, ctx: ScanContext, what: string): Uint8Array | undefined {
  if (src.size > ctx.options.limits.maxInMemoryBytes) {
    ctx.incomplete('SCAN004', `${what} is ${src.size} bytes, above the in-memory limit (${ctx.options.limits.maxInMemoryBytes})`);
    return undefined;
  }
  return readAll(src);
}

function startsWith(b: Uint8Array, p: Uint8Array): boolean {
  if (b.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false;
  return true;
}

function dictGet(d: PNode, key: string): PNode | undefined {
  if (typeof d !== 'object' || d === null || d.kind !== 'dict') return undefined;
  const dn = d as DictNode;
  for (let i = 0; i < dn.keys.length; i++) if (dn.keys[i] === key) return dn.values[i];
  return undefined;
}

/** Item size of a NumPy dtype descriptor like 'f8', '<i4', 'U10', 'S3', 'b1', 'c16', 'M8'. */
export function numpyItemSize(descr: string): number | undefined {
  const m = /^[<>|=]?([a-zA-Z])(\d*)/.exec(descr);
  if (!m) return undefined;
  const kind = m[1], n = m[2] ? Number(m[2]) : undefined;
  if (kind === 'O') return 8;
  if (kind === 'U') return n !== undefined ? n * 4 : undefined;
  if (kind === '?') return 1;
  if (n === undefined) return { b: 1, B: 1, h: 2, H: 2, i: 4, I: 4, l: 8, L: 8, q: 8, Q: 8, e: 2, f: 4, d: 8, g: 16, F: 8, D: 16 }[kind];
  return n;
}

/** joblib writes each non-object array's bytes right after its wrapper's BUILD; object arrays as a nested pickle. */
function joblibAfterBuild(data: Uint8Array, ctx: ScanContext) {
  return (obj: PNode, pos: number, run: PickleRun): number | string | undefined => {
    if (!isCall(obj) || !isGlobal(obj.fn) || !JOBLIB_WRAPPERS.has(globalName(obj.fn))) return undefined;
    const state = obj.state;
    const dtype = dictGet(state ?? null, 'dtype') ?? null;
    const shape = dictGet(state ?? null, 'shape') ?? null;
    if (!isCall(dtype) || typeof dtype.args[0] !== 'string') return 'joblib array wrapper without a readable dtype';
    const descr = dtype.args[0];
    if (descr.startsWith('O')) {
      const nested = scanPickleStream(data, ctx, { start: pos, maxPickles: 1, opcodesUsed: run.opcodes });
      if (nested.error || nested.limit) return 'malformed object-array pickle inside joblib stream';
      return nested.end;
    }
    let count = 1;
    if (typeof shape === 'object' && shape !== null && shape.kind === 'tuple') {
      for (const d of shape.items) { if (typeof d !== 'number' || d < 0) return 'joblib array shape is not a tuple of ints'; count *= d; }
    } else return 'joblib array wrapper without a shape';
    let item = numpyItemSize(descr);
    const dstate = dtype.state;
    if (typeof dstate === 'object' && dstate !== null && dstate.kind === 'tuple' && typeof dstate.items[5] === 'number' && dstate.items[5] > 0) item = dstate.items[5];
    if (item === undefined) return `unknown joblib dtype '${descr}'`;
    let p = pos;
    if (dictGet(state ?? null, 'numpy_array_alignment_bytes') !== undefined) {
      if (p >= data.length) return 'joblib array padding runs past the end';
      p += 1 + data[p];
    }
    const bytes = count * item;
    if (!Number.isSafeInteger(bytes) || p + bytes > data.length) return 'joblib array data runs past the end of the file';
    return p + bytes;
  };
}

function scanPickleFile(src: ByteSource, ctx: ScanContext): void {
  const data = loadInMemory(src, ctx, 'pickle stream');
  if (!data) return;
  if (startsWith(data, TORCH_LEGACY_MAGIC) || opensWithTorchMagic(data)) { scanLegacyTorch(data, ctx); return; }
  const run = scanPickleStream(data, ctx, { afterBuild: joblibAfterBuild(data, ctx), reportErrors: false });
  const tailStart = run.spans.length ? run.spans[run.spans.length - 1].end : -1;
  if (run.error && tailStart > 0 && run.error.offset >= tailStart && data[tailStart] === 0x50 && data[tailStart + 1] === 0x4b && data[tailStart + 2] === 3 && data[tailStart + 3] === 4) {
    // pickle + zip polyglot: each loader sees a different file; scan both.
    ctx.finding('ZIP005', 'medium', `a zip archive is appended after the pickle at offset ${tailStart} (polyglot file)`, { offset: tailStart });
    ctx.scanNested(`appended-zip@${tailStart}`, windowSource(src, tailStart, src.size - tailStart));
  } else {
    if (run.error) ctx.incomplete('PKL007', `malformed pickle: ${run.error.reason}`, { offset: run.error.offset, opcodeIndex: run.error.index - 1 });
    if (run.limit) ctx.incomplete('PKL008', `pickle scan stopped: ${run.limit.reason}`, { offset: run.limit.offset, opcodeIndex: run.limit.index - 1 });
  }
  const names = new Set(run.globals.map(globalName));
  if ([...names].some((n) => JOBLIB_WRAPPERS.has(n))) ctx.setFormat('joblib');
  else if ([...names].some((n) => n.startsWith('pandas.'))) ctx.setFormat('pandas');
  if (referencesTensorRebuild(run.globals)) {
    const tensors = run.values.flatMap((v) => findTorchTensors(v));
    for (const t of tensorInfos(tensors)) ctx.tensor(t);
  }
}

/** torch.serialization.MAGIC_NUMBER as the value of the first pickle, whatever opcodes produce it (torch.load compares values, not bytes). */
const TORCH_MAGIC_VALUE = 0x1950a86a20f9469cfc6cn;
const MAGIC_PROBE_LIMITS = { maxPickleOpcodes: 64, maxMemoEntries: 64, maxStackDepth: 64, maxValueNodes: 64 };
function opensWithTorchMagic(data: Uint8Array): boolean {
  const r = runPickle(data, { limits: MAGIC_PROBE_LIMITS, maxPickles: 1 });
  return r.values.length === 1 && r.values[0] === TORCH_MAGIC_VALUE;
}

/** Legacy (pre-1.6) torch.save: five pickles, then each storage as <u64 numel><numel × element size bytes>. */
function scanLegacyTorch(data: Uint8Array, ctx: ScanContext): void {
  ctx.setFormat('pytorch-legacy');
  const run = scanPickleStream(data, ctx, { maxPickles: 5 });
  if (run.error || run.limit) return;
  if (run.values.length < 5) { ctx.incomplete('LEG001', 'legacy torch.save stream ends before its storage list'); return; }
  const main = run.values[3];
  const keys = run.values[4];
  const refs = findTorchTensors(main);
  for (const t of tensorInfos(refs)) ctx.tensor(t);
  // Element sizes per storage key, from every persistent id in the object pickle.
  const elem = new Map<string, number>();
  for (const c of run.calls) for (const a of c.args) { const s = storageFromPersId(a); if (s) elem.set(s.key, s.elementSize); }
  for (const r of refs) elem.set(r.storage.key, r.storage.elementSize);
  if (typeof keys !== 'object' || keys === null || keys.kind !== 'list') { ctx.incomplete('LEG001', 'legacy torch.save storage key list is not a list'); return; }
  let pos = run.end;
  for (const k of keys.items) {
    const size = elem.get(String(k));
    if (size === undefined) { ctx.incomplete('LEG001', `legacy storage '${String(k)}' is not referenced by the object pickle`, { offset: pos }); return; }
    if (pos + 8 > data.length) { ctx.incomplete('LEG001', `legacy storage '${String(k)}' is truncated`, { offset: pos }); return; }
    const numel = new DataView(data.buffer, data.byteOffset + pos, 8).getBigUint64(0, true);
    const bytes = Number(numel) * size;
    if (!Number.isSafeInteger(bytes) || pos + 8 + bytes > data.length) { ctx.incomplete('LEG001', `legacy storage '${String(k)}' runs past the end of the file`, { offset: pos }); return; }
    pos += 8 + bytes;
  }
  if (pos < data.length) {
    // torch.load stops here; anything appended is still scanned if it is a pickle.
    if (sniffPickle(data.subarray(pos, pos + 4096)) > 0) scanPickleStream(data, ctx, { start: pos, baseOffset: 0 });
    else ctx.finding('LEG002', 'low', `${data.length - pos} unexpected bytes after the last legacy storage`, { offset: pos });
  }
}

registerFormat({
  id: 'pickle',
  sniff(head: Uint8Array): number {
    if (startsWith(head, TORCH_LEGACY_MAGIC)) return 95;
    return sniffPickle(head);
  },
  scan: scanPickleFile,
});
