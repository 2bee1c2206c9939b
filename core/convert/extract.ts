/**
 * Turns a scanned-safe model file into a flat list of tensors WITHOUT running
 * its pickle: the symbolic VM's value graph is walked with a strict allowlist
 * (containers, torch rebuild calls, NumPy array reconstruction, joblib array
 * wrappers). Anything else is a refusal with a reason. Each tensor points at
 * its bytes (a ByteSource + element offset/shape/strides), nothing is copied here.
 */
import path from 'node:path';
import type { ByteSource } from '../scan/format';
import { DEFAULT_LIMITS } from '../scan/format';
import { memorySource, readAll, windowSource } from '../scan/bytes';
import { readZip, ZIP_METHOD_STORED, type ZipArchive } from '../scan/zip';
import { runPickle, isCall, isGlobal, globalName, type PNode, type CallNode, type PickleRun } from '../scan/pickle/vm';
import { storageFromPersId } from '../scan/pickle/torch';
import { parseNpyHeader } from '../scan/handlers/numpy';
import { numpyItemSize } from '../scan/handlers/pickle';

/** Nodes visited while flattening one value graph (shared nodes count each time they are reached). */
export const MAX_FLATTEN_NODES = 10_000_000;
export const MAX_NESTING = 200;
/** Tensors per file (a memo-shared DAG could otherwise name millions of views of one tensor). */
export const MAX_TENSORS = 1_000_000;
/** Pickle streams (and legacy checkpoints) are parsed in memory; bigger ones are refused. */
export const MAX_IN_MEMORY_PICKLE_BYTES = DEFAULT_LIMITS.maxInMemoryBytes;

export class Refusal extends Error {}

export interface TensorSource {
  name: string;
  /** SafeTensors dtype (F32, BF16, …). */
  dtype: string;
  elementSize: number;
  shape: number[];
  /** Strides in elements. */
  stride: number[];
  /** Where the storage lives, and the element offset of element [0,…,0] inside it. */
  src: ByteSource;
  storageOffset: number;
  /** Identity of the underlying storage (aliases share it). */
  storageId: string;
  /** When the storage bytes lie uncompressed in the input file: their absolute offset (fast copy path). */
  fileOffset?: number;
}

export interface Extracted { tensors: TensorSource[]; skipped: string[] }

const TORCH_DTYPE_TO_ST: Record<string, string> = {
  float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const ST_SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 };
const NUMPY_KIND_TO_ST: Record<string, string> = {
  f8: 'F64', f4: 'F32', f2: 'F16', i8: 'I64', i4: 'I32', i2: 'I16', i1: 'I8', u8: 'U64', u4: 'U32', u2: 'U16', u1: 'U8', b1: 'BOOL',
};
const REBUILD_TENSOR = new Set(['torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2']);
const REBUILD_PARAMETER = new Set(['torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state']);
const NUMPY_RECONSTRUCT = new Set(['numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct']);
const NUMPY_DTYPE = 'numpy.dtype';
const JOBLIB_WRAPPERS = new Set(['joblib.numpy_pickle.NumpyArrayWrapper', 'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper']);
const TORCH_LEGACY_MAGIC = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);

const PICKLE_LIMITS = {
  maxPickleOpcodes: DEFAULT_LIMITS.maxPickleOpcodes, maxMemoEntries: DEFAULT_LIMITS.maxMemoEntries,
  maxStackDepth: DEFAULT_LIMITS.maxStackDepth, maxValueNodes: DEFAULT_LIMITS.maxValueNodes,
};

/** C-order strides (elements) for a shape. */
export function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}
function fortranStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = 0; i < shape.length; i++) { s[i] = acc; acc *= shape[i]; }
  return s;
}
export function elementCount(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) throw new Refusal(`shape [${shape.join(', ')}] is too large`);
  return n;
}

function ints(n: PNode, what: string): number[] {
  if (isCall(n) && isGlobal(n.fn) && globalName(n.fn) === 'torch.Size') n = n.args[0];
  if (typeof n !== 'object' || n === null || (n.kind !== 'tuple' && n.kind !== 'list')) throw new Refusal(`${what} is not a tuple of ints`);
  return n.items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new Refusal(`${what} holds a non-integer or negative value`);
    return x;
  });
}

function describeLeaf(n: PNode): string {
  if (n === null) return 'None';
  if (typeof n !== 'object') return typeof n;
  if (n.kind === 'call') return `a call of ${isGlobal(n.fn) ? globalName(n.fn) : 'a non-global'}`;
  if (n.kind === 'global') return `the global ${globalName(n)}`;
  return n.kind;
}

/** NumPy descr ('<f4', '|u1', 'f8' + byteorder) → SafeTensors dtype, refusing big-endian multi-byte and non-numeric kinds. */
function numpyDescrToSt(descr: string, byteorder?: string): { dtype: string; size: number } {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) throw new Refusal(`NumPy dtype '${descr}' is not a plain numeric dtype`);
  const order = m[1] || byteorder || '=';
  const key = `${m[2] === '?' ? 'b' : m[2]}${m[3]}`;
  const dtype = NUMPY_KIND_TO_ST[key];
  if (!dtype) throw new Refusal(`NumPy dtype '${descr}' has no SafeTensors equivalent`);
  const size = ST_SIZES[dtype];
  // '=' means the writer's native order; NumPy and torch only ship for little-endian hosts in practice, '>' is explicit.
  if (order === '>' && size > 1) throw new Refusal(`NumPy dtype '${descr}' is big-endian`);
  return { dtype, size };
}

interface NumpyArrayRef { descr: string; byteorder?: string; shape: number[]; fortran: boolean; src: ByteSource; id: string }

type ArrayResolver = (c: CallNode) => NumpyArrayRef | undefined;

/**
 * Walks the value graph and flattens containers to dotted names.
 * `storageSource(key, elementSize, numel)` resolves torch storages.
 */
class Flattener {
  tensors: TensorSource[] = [];
  skipped: string[] = [];
  private budget = MAX_FLATTEN_NODES;
  private onPath = new Set<object>();
  constructor(
    private storageSource: ((key: string, elementSize: number) => ByteSource) | undefined,
    private arrayResolver: ArrayResolver | undefined,
  ) {}

  walk(n: PNode, name: string, depth: number): void {
    if (--this.budget < 0) throw new Refusal(`the object graph has more than ${MAX_FLATTEN_NODES} nodes`);
    if (depth > MAX_NESTING) throw new Refusal(`containers are nested deeper than ${MAX_NESTING}`);
    if (n === null || typeof n === 'boolean' || typeof n === 'number' || typeof n === 'bigint' || typeof n === 'string') {
      // Non-tensor leaves (epoch counters, config strings, None) have no place in SafeTensors: skipped and listed.
      this.skipped.push(name || '(root)');
      return;
    }
    if (this.onPath.has(n)) throw new Refusal(`'${name}' refers back to one of its own containers (a cycle)`);
    this.onPath.add(n);
    try {
      switch (n.kind) {
        case 'dict': this.entries(n.keys, n.values, name, depth); return;
        case 'list': case 'tuple': n.items.forEach((x, i) => this.walk(x, join(name, String(i)), depth + 1)); return;
        case 'call': this.call(n, name, depth); return;
        default: throw new Refusal(`'${name || '(root)'}' is ${describeLeaf(n)}, not a tensor or a container of tensors`);
      }
    } finally { this.onPath.delete(n); }
  }

  private entries(keys: PNode[], values: PNode[], name: string, depth: number): void {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k !== 'string' && typeof k !== 'number') throw new Refusal(`a dict key under '${name || '(root)'}' is ${describeLeaf(k)}, not a string or int`);
      this.walk(values[i], join(name, String(k)), depth + 1);
    }
  }

  private call(c: CallNode, name: string, depth: number): void {
    const fn = isGlobal(c.fn) ? globalName(c.fn) : '';
    if (fn === 'collections.OrderedDict') {
      // OrderedDict(), or OrderedDict([(k, v), …]); entries set later via SETITEMS. Its BUILD state (state_dict's
      // `_metadata` attribute: module versions) is not tensor data.
      const init = c.args[0];
      if (c.args.length > 1) throw new Refusal(`OrderedDict at '${name}' is called with unexpected arguments`);
      if (init !== undefined) {
        if (typeof init !== 'object' || init === null || (init.kind !== 'list' && init.kind !== 'tuple')) throw new Refusal(`OrderedDict at '${name}' is built from ${describeLeaf(init)}`);
        for (const pair of init.items) {
          if (typeof pair !== 'object' || pair === null || (pair.kind !== 'tuple' && pair.kind !== 'list') || pair.items.length !== 2) throw new Refusal(`OrderedDict at '${name}' has a malformed item`);
          this.entries([pair.items[0]], [pair.items[1]], name, depth);
        }
      }
      if (c.setKeys && c.setValues) this.entries(c.setKeys, c.setValues, name, depth);
      if (c.items?.length) throw new Refusal(`OrderedDict at '${name}' has appended items`);
      return;
    }
    if (REBUILD_PARAMETER.has(fn) || fn === 'torch.nn.parameter.Parameter') { this.walk(c.args[0], name, depth + 1); return; }
    if (REBUILD_TENSOR.has(fn)) { this.torchTensor(c, name); return; }
    if (fn === 'torch._tensor._rebuild_from_type_v2') {
      const inner = c.args[0], cls = c.args[1], args = c.args[2];
      if (!isGlobal(inner) || !REBUILD_TENSOR.has(globalName(inner)) || !isGlobal(cls) || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(globalName(cls)) ||
        typeof args !== 'object' || args === null || args.kind !== 'tuple') throw new Refusal(`'${name}' is rebuilt by an unsupported tensor subclass`);
      this.torchTensor({ ...c, fn: inner, args: args.items }, name);
      return;
    }
    const arr = this.arrayResolver?.(c);
    if (arr) { this.numpyArray(arr, name); return; }
    throw new Refusal(`'${name || '(root)'}' is ${describeLeaf(c)}, which the converter does not reconstruct`);
  }

  private torchTensor(c: CallNode, name: string): void {
    if (!this.storageSource) throw new Refusal(`'${name}' is a torch tensor outside a torch checkpoint`);
    const storage = storageFromPersId(c.args[0]);
    if (!storage) throw new Refusal(`'${name}' is not backed by a ('storage', type, key, location, numel) persistent id`);
    const dtype = TORCH_DTYPE_TO_ST[storage.dtype];
    if (storage.storageType.endsWith('UntypedStorage')) throw new Refusal(`'${name}' is backed by an UntypedStorage, whose element type the converter does not infer`);
    if (!dtype) throw new Refusal(`'${name}' has dtype ${storage.dtype} (${storage.storageType}), which SafeTensors cannot hold`);
    const offset = c.args[1];
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new Refusal(`'${name}' has a bad storage offset`);
    const shape = ints(c.args[2], `shape of '${name}'`);
    const stride = ints(c.args[3], `stride of '${name}'`);
    if (stride.length !== shape.length) throw new Refusal(`'${name}' has ${shape.length} dims but ${stride.length} strides`);
    const src = this.storageSource(storage.key, storage.elementSize);
    this.push({ name, dtype, elementSize: storage.elementSize, shape, stride, src, storageOffset: offset, storageId: `torch:${storage.key}` });
  }

  private numpyArray(a: NumpyArrayRef, name: string): void {
    const { dtype, size } = numpyDescrToSt(a.descr, a.byteorder);
    this.push({ name, dtype, elementSize: size, shape: a.shape, stride: a.fortran ? fortranStrides(a.shape) : contiguousStrides(a.shape), src: a.src, storageOffset: 0, storageId: a.id });
  }

  push(t: TensorSource): void {
    if (!t.name) throw new Refusal('the file holds a single unnamed tensor at its root; SafeTensors needs names');
    if (this.tensors.length >= MAX_TENSORS) throw new Refusal(`more than ${MAX_TENSORS} tensors`);
    // Bounds: the last element addressed must lie inside the storage.
    let count = 1, last = t.storageOffset;
    for (let i = 0; i < t.shape.length; i++) { count *= t.shape[i]; if (t.shape[i] > 0) last += (t.shape[i] - 1) * t.stride[i]; }
    if (!Number.isSafeInteger(last) || !Number.isSafeInteger(count * t.elementSize)) throw new Refusal(`'${t.name}' is too large`);
    if (count > 0 && (last + 1) * t.elementSize > t.src.size) throw new Refusal(`'${t.name}' addresses bytes past the end of its storage (${(last + 1) * t.elementSize} > ${t.src.size})`);
    this.tensors.push(t);
  }
}

function join(a: string, b: string): string { return a ? `${a}.${b}` : b; }

function dictGet(d: PNode | undefined, key: string): PNode | undefined {
  if (typeof d !== 'object' || d === null || d.kind !== 'dict') return undefined;
  for (let i = 0; i < d.keys.length; i++) if (d.keys[i] === key) return d.values[i];
  return undefined;
}

/** numpy.dtype('f4', False, True) with BUILD state (3, '<', …) → descr + byteorder. */
function numpyDtype(n: PNode | undefined): { descr: string; byteorder?: string } {
  if (n === undefined || !isCall(n) || !isGlobal(n.fn) || globalName(n.fn) !== NUMPY_DTYPE || typeof n.args[0] !== 'string') throw new Refusal('NumPy array without a readable dtype');
  const st = n.state;
  let byteorder: string | undefined;
  if (typeof st === 'object' && st !== null && st.kind === 'tuple') {
    if (typeof st.items[1] === 'string') byteorder = st.items[1];
    if (st.items[3] !== null && st.items[3] !== undefined) throw new Refusal(`structured NumPy dtype '${n.args[0]}'`);
  }
  if (n.args[0].startsWith('O')) throw new Refusal('NumPy object array (dtype O): its elements are pickled Python objects');
  return { descr: n.args[0], byteorder };
}

function bytesOf(n: PNode | undefined): Uint8Array | undefined {
  if (n === undefined) return undefined;
  if (typeof n === 'object' && n !== null && n.kind === 'bytes') return n.data;
  // protocol ≤ 2 pickles bytes as _codecs.encode(latin1 str, 'latin1')
  if (isCall(n) && isGlobal(n.fn) && globalName(n.fn) === '_codecs.encode' && typeof n.args[0] === 'string' && (n.args[1] === 'latin1' || n.args[1] === 'latin-1')) {
    const s = n.args[0];
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c > 255) return undefined; b[i] = c; }
    return b;
  }
  return undefined;
}

/** Pickled ndarray: _reconstruct(ndarray, (0,), b'b') + BUILD (version, shape, dtype, is_fortran, raw bytes). */
function numpyReconstruct(c: CallNode): NumpyArrayRef | undefined {
  if (!isGlobal(c.fn) || !NUMPY_RECONSTRUCT.has(globalName(c.fn))) return undefined;
  if (!isGlobal(c.args[0]) || globalName(c.args[0]) !== 'numpy.ndarray') throw new Refusal(`NumPy reconstruct of a subclass (${isGlobal(c.args[0]) ? globalName(c.args[0]) : '?'})`);
  const st = c.state;
  if (typeof st !== 'object' || st === null || st.kind !== 'tuple' || st.items.length !== 5) throw new Refusal('NumPy array without a (version, shape, dtype, fortran, data) state');
  const shape = ints(st.items[1], 'NumPy array shape');
  const dt = numpyDtype(st.items[2]);
  const raw = bytesOf(st.items[4]);
  if (!raw) throw new Refusal('NumPy array data is not a bytes object');
  return { ...dt, shape, fortran: st.items[3] === true, src: memorySource(raw), id: `np:${c.offset}` };
}

// ---------------------------------------------------------------------------------------------- formats

function runOne(data: Uint8Array, what: string, extra: Partial<Parameters<typeof runPickle>[1]> = {}): PickleRun {
  const run = runPickle(data, { limits: PICKLE_LIMITS, maxPickles: 1, ...extra });
  if (run.error) throw new Refusal(`${what} is malformed: ${run.error.reason}`);
  if (run.limit) throw new Refusal(`${what} hit a parser limit: ${run.limit.reason}`);
  if (!run.values.length) throw new Refusal(`${what} holds no pickle`);
  return run;
}

function fromTorchZip(src: ByteSource): Extracted {
  const zip = readZip(src);
  if (!zip) throw new Refusal('the zip archive is malformed');
  const pkl = zip.entries.filter((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
  if (pkl.length !== 1) throw new Refusal(`expected one data.pkl in the archive, found ${pkl.length}`);
  const prefix = pkl[0].name.slice(0, -'data.pkl'.length);
  const byteorder = zip.entries.find((e) => e.name === `${prefix}byteorder`);
  if (byteorder) {
    const b = zip.openEntry(byteorder, 64);
    const text = b ? Buffer.from(readAll(b)).toString('latin1').trim() : '';
    if (text !== 'little') throw new Refusal(`checkpoint byte order is '${text}', only little-endian is converted`);
  }
  const pklSrc = zip.openEntry(pkl[0], MAX_IN_MEMORY_PICKLE_BYTES);
  if (!pklSrc) throw new Refusal(`cannot open data.pkl: ${zip.problems.join('; ')}`);
  const run = runOne(readAll(pklSrc), 'data.pkl');
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  const opened = new Map<string, ByteSource>();
  const fileOffsets = new Map<string, number>();
  const storage = (key: string): ByteSource => {
    let s = opened.get(key);
    if (!s) {
      const e = byName.get(`${prefix}data/${key}`);
      if (!e) throw new Refusal(`storage '${key}' is missing from the archive`);
      s = zip.openEntry(e, DEFAULT_LIMITS.maxInMemoryBytes);
      if (!s) throw new Refusal(`cannot open storage '${key}': ${zip.problems.join('; ')}`);
      opened.set(key, s);
      if (e.method === ZIP_METHOD_STORED && e.dataOffset + e.size <= src.size) fileOffsets.set(key, e.dataOffset);
    }
    return s;
  };
  const f = new Flattener(storage, undefined);
  f.walk(run.values[0], '', 0);
  for (const t of f.tensors) t.fileOffset = fileOffsets.get(t.storageId.slice('torch:'.length));
  return { tensors: f.tensors, skipped: f.skipped };
}

function fromTorchLegacy(data: Uint8Array): Extracted {
  const run = runPickle(data, { limits: PICKLE_LIMITS, maxPickles: 5 });
  if (run.error || run.limit) throw new Refusal(`legacy checkpoint is malformed: ${(run.error ?? run.limit)!.reason}`);
  if (run.values.length < 5) throw new Refusal('legacy checkpoint ends before its storage list');
  const sysInfo = run.values[2];
  if (dictGet(sysInfo, 'little_endian') === false) throw new Refusal('legacy checkpoint was written on a big-endian machine');
  const keys = run.values[4];
  if (typeof keys !== 'object' || keys === null || keys.kind !== 'list') throw new Refusal('legacy storage key list is not a list');
  // Element sizes per storage key from every persistent id in the object pickle.
  const elem = new Map<string, number>();
  for (const c of run.calls) for (const a of c.args) { const s = storageFromPersId(a); if (s) elem.set(s.key, s.elementSize); }
  const windows = new Map<string, ByteSource>();
  const whole = memorySource(data);
  let pos = run.end;
  for (const k of keys.items) {
    const key = String(k);
    const size = elem.get(key);
    if (size === undefined) throw new Refusal(`legacy storage '${key}' is not referenced by the object pickle`);
    if (pos + 8 > data.length) throw new Refusal(`legacy storage '${key}' is truncated`);
    const numel = new DataView(data.buffer, data.byteOffset + pos, 8).getBigUint64(0, true);
    const bytes = Number(numel) * size;
    if (!Number.isSafeInteger(bytes) || pos + 8 + bytes > data.length) throw new Refusal(`legacy storage '${key}' runs past the end of the file`);
    windows.set(key, windowSource(whole, pos + 8, bytes));
    pos += 8 + bytes;
  }
  const f = new Flattener((key) => {
    const w = windows.get(key);
    if (!w) throw new Refusal(`legacy storage '${key}' is not in the storage list`);
    return w;
  }, undefined);
  f.walk(run.values[3], '', 0);
  return { tensors: f.tensors, skipped: f.skipped };
}

function fromNpy(src: ByteSource, name: string, id: string): TensorSource {
  const h = parseNpyHeader(src);
  if (typeof h === 'string') throw new Refusal(`malformed .npy${name ? ` '${name}'` : ''}: ${h}`);
  if (h.hasObject) throw new Refusal(`.npy${name ? ` '${name}'` : ''} is an object array (its elements are pickled)`);
  const { dtype, size } = numpyDescrToSt(h.descr);
  const f = new Flattener(undefined, undefined);
  f.push({ name, dtype, elementSize: size, shape: h.shape, stride: h.fortranOrder ? fortranStrides(h.shape) : contiguousStrides(h.shape),
    src: windowSource(src, h.dataOffset, src.size - h.dataOffset), storageOffset: 0, storageId: id });
  return f.tensors[0];
}

function fromNpz(src: ByteSource): Extracted {
  const zip: ZipArchive | undefined = readZip(src);
  if (!zip) throw new Refusal('the .npz archive is malformed');
  const tensors: TensorSource[] = [];
  for (const e of zip.entries) {
    if (e.name.endsWith('/')) continue;
    if (!e.name.endsWith('.npy')) throw new Refusal(`.npz member '${e.name}' is not a .npy array`);
    const s = zip.openEntry(e, DEFAULT_LIMITS.maxInMemoryBytes);
    if (!s) throw new Refusal(`cannot open .npz member '${e.name}': ${zip.problems.join('; ')}`);
    tensors.push(fromNpy(s, e.name.slice(0, -4), `npz:${e.name}`));
  }
  return { tensors, skipped: [] };
}

/** Plain pickles and joblib dumps: arrays inline (_reconstruct) or after each NumpyArrayWrapper's BUILD (joblib). */
function fromPickle(data: Uint8Array): Extracted {
  const whole = memorySource(data);
  const wrappers = new Map<CallNode, NumpyArrayRef>();
  const afterBuild = (obj: PNode, pos: number): number | string | undefined => {
    if (!isCall(obj) || !isGlobal(obj.fn) || !JOBLIB_WRAPPERS.has(globalName(obj.fn))) return undefined;
    try {
      const state = obj.state;
      const dt = numpyDtype(dictGet(state, 'dtype'));
      const shape = ints(dictGet(state, 'shape') ?? null, 'joblib array shape');
      const order = dictGet(state, 'order');
      const subclass = dictGet(state, 'subclass');
      if (subclass !== undefined && !(isGlobal(subclass) && globalName(subclass) === 'numpy.ndarray')) return 'joblib array of an ndarray subclass';
      let item = numpyItemSize(dt.descr);
      if (item === undefined) return `unknown joblib dtype '${dt.descr}'`;
      const dstate = (dictGet(state, 'dtype') as CallNode).state;
      if (typeof dstate === 'object' && dstate !== null && dstate.kind === 'tuple' && typeof dstate.items[5] === 'number' && dstate.items[5] > 0) item = dstate.items[5];
      let p = pos;
      if (dictGet(state, 'numpy_array_alignment_bytes') !== undefined) {
        if (p >= data.length) return 'joblib array padding runs past the end';
        p += 1 + data[p];
      }
      const bytes = elementCount(shape) * item;
      if (!Number.isSafeInteger(bytes) || p + bytes > data.length) return 'joblib array data runs past the end of the file';
      wrappers.set(obj, { ...dt, shape, fortran: order === 'F', src: windowSource(whole, p, bytes), id: `joblib:${p}` });
      return p + bytes;
    } catch (e) { return e instanceof Refusal ? e.message : String(e); }
  };
  const run = runOne(data, 'the pickle', { afterBuild });
  if (run.end < data.length) throw new Refusal(`${data.length - run.end} bytes follow the pickle's STOP`);
  const f = new Flattener(undefined, (c) => wrappers.get(c) ?? numpyReconstruct(c));
  f.walk(run.values[0], '', 0);
  return { tensors: f.tensors, skipped: f.skipped };
}

function startsWith(b: Uint8Array, p: Uint8Array): boolean {
  if (b.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false;
  return true;
}

/** Dispatch on the format the scanner recognized. */
export function extractTensors(format: string, src: ByteSource, filePath: string): Extracted {
  switch (format) {
    case 'pytorch-zip': return fromTorchZip(src);
    case 'numpy': {
      const t = fromNpy(src, path.basename(filePath).replace(/\.npy$/i, '') || 'array', 'npy');
      t.fileOffset = src.size - t.src.size;
      return { tensors: [t], skipped: [] };
    }
    case 'npz': return fromNpz(src);
    case 'pytorch-legacy': case 'pickle': case 'joblib': {
      if (src.size > MAX_IN_MEMORY_PICKLE_BYTES) throw new Refusal(`pickle stream of ${src.size} bytes is above the in-memory limit (${MAX_IN_MEMORY_PICKLE_BYTES})`);
      const data = readAll(src);
      if (startsWith(data, TORCH_LEGACY_MAGIC)) return fromTorchLegacy(data);
      return fromPickle(data);
    }
    default: throw new Refusal(`format '${format}' is not converted (supported: PyTorch zip and legacy checkpoints, .npy, .npz, tensor-only pickles and joblib files)`);
  }
}
