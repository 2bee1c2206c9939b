/**
 * A symbolic pickle virtual machine. It follows CPython's C unpickler
 * (Modules/_pickle.c) opcode by opcode for protocols 0–5, but instead of
 * importing globals and calling them it builds a VALUE GRAPH and records every
 * global reference and every call. Nothing is ever imported or executed.
 *
 * Value graph node types (`PNode`):
 *   - primitives: `null` (None), `boolean`, `number` (int or float), `bigint` (ints beyond 2^53), `string` (str;
 *     also protocol-0/1 STRING/BINSTRING, decoded latin-1)
 *   - `{ kind: 'bytes', data: Uint8Array, mutable: boolean }`          BINBYTES*, SHORT_BINBYTES, BYTEARRAY8 (mutable)
 *   - `{ kind: 'list', items: PNode[] }`                                 EMPTY_LIST/LIST + APPEND(S)
 *   - `{ kind: 'tuple', items: PNode[] }`                                EMPTY_TUPLE/TUPLE/TUPLE1-3
 *   - `{ kind: 'dict', keys: PNode[], values: PNode[] }`                 EMPTY_DICT/DICT + SETITEM(S) (insertion order, duplicates kept)
 *   - `{ kind: 'set', items: PNode[], frozen: boolean }`                 EMPTY_SET/FROZENSET + ADDITEMS
 *   - `GlobalNode { kind: 'global', module, name, op, index, offset }`   GLOBAL, STACK_GLOBAL, INST, EXT* (op tells which)
 *   - `CallNode { kind: 'call', fn: PNode, args: PNode[], kwargs?: PNode, op, index, offset,
 *                 state?: PNode, items?: PNode[], setKeys?: PNode[], setValues?: PNode[] }`
 *       REDUCE (fn(*args)), NEWOBJ/NEWOBJ_EX (cls.__new__(cls, *args, **kwargs)), INST/OBJ (cls(*args)).
 *       Later mutations of the result are recorded on the node: BUILD → `state`, APPEND(S)/ADDITEMS → `items`,
 *       SETITEM(S) → `setKeys`/`setValues` (e.g. an OrderedDict's entries).
 *   - `{ kind: 'persid', pid: PNode, index, offset }`                    PERSID/BINPERSID (torch storages)
 *   - `{ kind: 'ext', code: number, index, offset }`                     EXT1/2/4 with no registry entry
 *   - `{ kind: 'buffer', index: number, readonly: boolean }`             NEXT_BUFFER (out-of-band, protocol 5)
 * The graph is a DAG (memo GET shares nodes; mutations can even make cycles): walkers must track visited nodes.
 * Treat the graph as read-only. Dicts and lists are `DictImpl`/`ListImpl` instances whose `keys`/`values`/`items`
 * are accessors: the VM parks a container's first batch of items in a shared slab (a list: every batch) and the
 * accessor unpacks them into ordinary arrays on first read (far fewer objects for the garbage collector to copy
 * on big pickles). A dict that only ever sits on the stack, in the memo and in slabs is not even an object until
 * something reads it: the VM keeps it as a number (see LazyStore), and every read that hands it out of the VM
 * makes its `DictImpl` once (the same node for every reference, as memo GETs require).
 */
import type { ScanLimits } from '../format';

export type PNode = null | boolean | number | bigint | string | BytesNode | ListNode | TupleNode | DictNode | SetNode | GlobalNode | CallNode | PersIdNode | ExtNode | BufferNode;
export interface BytesNode { kind: 'bytes'; data: Uint8Array; mutable: boolean }
export interface ListNode { kind: 'list'; items: PNode[] }
export interface TupleNode { kind: 'tuple'; items: PNode[] }
export interface DictNode { kind: 'dict'; keys: PNode[]; values: PNode[] }
export interface SetNode { kind: 'set'; items: PNode[]; frozen: boolean }
export type GlobalOp = 'GLOBAL' | 'STACK_GLOBAL' | 'INST' | 'EXT';
export interface GlobalNode { kind: 'global'; module: string; name: string; op: GlobalOp; index: number; offset: number }
export type CallOp = 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ';
export interface CallNode {
  kind: 'call'; fn: PNode; args: PNode[]; kwargs?: PNode; op: CallOp; index: number; offset: number;
  state?: PNode; items?: PNode[]; setKeys?: PNode[]; setValues?: PNode[];
}
export interface PersIdNode { kind: 'persid'; pid: PNode; index: number; offset: number }
export interface ExtNode { kind: 'ext'; code: number; index: number; offset: number }
export interface BufferNode { kind: 'buffer'; index: number; readonly: boolean }

/** A structural event the VM noticed (not a policy decision). */
export interface VmEvent { kind: 'build-on-global' | 'ext' | 'persid' | 'next-buffer' | 'mutate-global'; index: number; offset: number; detail: string }

export interface PickleRun {
  /** The value returned by each STOP, in order. */
  values: PNode[];
  /** Byte offset of each pickle's first opcode and of the byte after its STOP. */
  spans: { start: number; end: number }[];
  globals: GlobalNode[];
  calls: CallNode[];
  events: VmEvent[];
  /** Opcodes executed in total. */
  opcodes: number;
  /** Offset after the last opcode read. */
  end: number;
  /** The stream was malformed (the C unpickler would raise here); findings before it still count. */
  error?: { offset: number; index: number; reason: string };
  /** A limit was hit; scanning stopped. */
  limit?: { offset: number; index: number; reason: string };
  /** Highest protocol seen in a PROTO opcode (-1 if none). */
  protocol: number;
  /** FRAME opcodes executed. */
  frames: number;
  /**
   * The first place where an opcode (its argument, a text line, a FRAME header) runs past the end of the frame the
   * C unpickler has buffered: a file-object reading of this stream differs from the bytes reading (pickle/framing.ts).
   */
  frameStraddle?: { offset: number };
  /** afterBuild skipped raw bytes (joblib arrays): the stream is not one opcode sequence, so no other reading applies. */
  dataSkipped?: boolean;
  /** The stream has a FRAME longer than the data that follows (the C unpickler fails; pickle._Unpickler reads on). */
  oversizedFrame?: { offset: number };
}

export interface PickleRunOptions {
  limits: Pick<ScanLimits, 'maxPickleOpcodes' | 'maxMemoEntries' | 'maxStackDepth' | 'maxValueNodes'>;
  /** Where to start (default 0) and the end of the data to consider (default data.length). */
  start?: number;
  end?: number;
  /** Stop after this many pickles (default: keep going while data remains, i.e. stacked pickles). */
  maxPickles?: number;
  /** Opcodes already spent on this file (counted against maxPickleOpcodes). */
  opcodesUsed?: number;
  /**
   * Called after each BUILD with the built object; may return a new read position
   * (joblib writes raw array bytes right after a NumpyArrayWrapper's BUILD).
   * Returning a string aborts with that error.
   */
  afterBuild?(obj: PNode, pos: number, run: PickleRun): number | string | undefined;
  /** Read an oversized FRAME as the pure-Python unpickler does (ignore its length and read on) instead of failing. */
  tolerateOversizedFrames?: boolean;
}

/** Python 2 module names that the unpickler maps for protocols < 3 (fix_imports; _compat_pickle). */
const COMPAT_MODULES: Record<string, string> = {
  __builtin__: 'builtins', copy_reg: 'copyreg', cPickle: 'pickle', Queue: 'queue', SocketServer: 'socketserver',
  ConfigParser: 'configparser', repr: 'reprlib', tkFileDialog: 'tkinter.filedialog', Tkinter: 'tkinter',
  cStringIO: 'io', StringIO: 'io', UserDict: 'collections', UserList: 'collections', UserString: 'collections',
  commands: 'subprocess', urllib2: 'urllib.request', httplib: 'http.client', thread: '_thread', dummy_thread: '_dummy_thread',
  'exceptions': 'builtins', 'sets': 'builtins', '__main__': '__main__', 'multiprocessing.forking': 'multiprocessing.popen_fork',
  whichdb: 'dbm', anydbm: 'dbm', dbhash: 'dbm.bsd', gdbm: 'dbm.gnu', dumbdbm: 'dbm.dumb', HTMLParser: 'html.parser',
  cookielib: 'http.cookiejar', Cookie: 'http.cookies', xmlrpclib: 'xmlrpc.client', SimpleXMLRPCServer: 'xmlrpc.server',
  BaseHTTPServer: 'http.server', CGIHTTPServer: 'http.server', SimpleHTTPServer: 'http.server', robotparser: 'urllib.robotparser',
  urlparse: 'urllib.parse', _winreg: 'winreg', markupbase: '_markupbase', _abcoll: 'collections.abc', itertools: 'itertools', io: 'io',
};
const COMPAT_NAMES: Record<string, [string, string]> = {
  '__builtin__.xrange': ['builtins', 'range'], '__builtin__.reduce': ['functools', 'reduce'], '__builtin__.intern': ['sys', 'intern'],
  '__builtin__.unichr': ['builtins', 'chr'], '__builtin__.unicode': ['builtins', 'str'], '__builtin__.long': ['builtins', 'int'],
  'itertools.izip': ['builtins', 'zip'], 'itertools.imap': ['builtins', 'map'], 'itertools.ifilter': ['builtins', 'filter'],
  'itertools.ifilterfalse': ['itertools', 'filterfalse'], 'itertools.izip_longest': ['itertools', 'zip_longest'],
  'UserDict.IterableUserDict': ['collections', 'UserDict'], 'UserList.UserList': ['collections', 'UserList'],
  'UserString.UserString': ['collections', 'UserString'], '__builtin__.basestring': ['builtins', 'str'],
  'exceptions.StandardError': ['builtins', 'Exception'], 'UserDict.UserDict': ['collections', 'UserDict'],
  'socket._socketobject': ['socket', 'SocketType'],
};
function fixImports(module: string, name: string): [string, string] {
  const n = COMPAT_NAMES[`${module}.${name}`];
  if (n) return n;
  const m = COMPAT_MODULES[module];
  return [m ?? module, name];
}

class PickleError { constructor(readonly reason: string, readonly isLimit = false) {} }

const MARK_NONE = -1;
const NL = 0x0a;
const asciiDecoder = new TextDecoder('latin1');
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

type NodeBuffer = Uint8Array & { utf8Slice(s: number, e: number): string; latin1Slice(s: number, e: number): string };
/** Node's Buffer slices decode straight into one V8 string (no intermediate copies or cons strings). */
function asNodeBuffer(d: Uint8Array): NodeBuffer {
  return (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength)) as unknown as NodeBuffer;
}
function decodeUtf8(d: Uint8Array, s: number, e: number): string {
  return (d as NodeBuffer).utf8Slice ? (d as NodeBuffer).utf8Slice(s, e) : utf8Decoder.decode(d.subarray(s, e));
}
function decodeLatin1(d: Uint8Array, s: number, e: number): string {
  return (d as NodeBuffer).latin1Slice ? (d as NodeBuffer).latin1Slice(s, e) : asciiDecoder.decode(d.subarray(s, e));
}

/** Python's raw-unicode-escape (protocol 0 UNICODE): \uXXXX and \UXXXXXXXX escapes, other bytes latin-1. */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) => {
    const cp = parseInt((a ?? b)!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : _m;
  });
}

/** Python string-escape decoding for protocol-0 STRING literals ('...' / "..."). */
function unescapeStringLiteral(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/gs, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    switch (e) {
      case 'n': return '\n'; case 't': return '\t'; case 'r': return '\r'; case '\\': return '\\'; case "'": return "'"; case '"': return '"';
      case 'a': return '\x07'; case 'b': return '\b'; case 'f': return '\f'; case 'v': return '\v'; case '\n': return '';
      default: return '\\' + e;
    }
  });
}

function parsePyInt(text: string): number | bigint {
  const t = text.trim().replace(/_/g, '');
  if (!/^[+-]?\d+$/.test(t)) throw new PickleError(`invalid literal for int(): '${text.slice(0, 40)}'`);
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

function decodeLong(d: Uint8Array, s: number, n: number): number | bigint {
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + d[s + i];
    if (d[s + n - 1] & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(d[s + i]);
  if (d[s + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export const HIGHEST_PROTOCOL = 5;

/**
 * Slab sizes for container items. A big pickle holds hundreds of thousands of small dicts; with two arrays per
 * dict, the scavenger copied ~5 objects per dict into the old generation and GC was half the scan time. Items of a
 * container's first SETITEMS/APPENDS batch go into one shared slab chunk instead (see SlabChunk; chunks grow from
 * the first size to the max). At the max, a chunk's payloads are 64 KiB (from malloc's arena; bigger ones are
 * mapped fresh and page-fault on every chunk) and its optional value array is still a regular heap object.
 * Bigger batches get their own arrays.
 */
export const SLAB_FIRST_SLOTS = 256;
export const SLAB_MAX_SLOTS = 8192;
/** Strings shorter than this many UTF-8 bytes stay undecoded (offset and length packed in one double) until read. */
export const LAZY_STRING_MAX_BYTES = 256;

/**
 * Unboxed scalars. Floats and short UTF-8 strings sit on the VM stack, in the memo and in slabs as one of these
 * markers plus a double in a parallel Float64Array (the float itself, or `offset * 256 + byteLength` of the
 * string in the pickle data), so the VM allocates nothing for them. Every read that hands a value out of the VM
 * (pop, top, popMark, slab unpacking) turns them into a real number/string: markers never reach the graph.
 */
class Unboxed { constructor(readonly what: string) {} }
const LAZY_FLOAT = new Unboxed('float') as unknown as PNode;
const LAZY_UTF8 = new Unboxed('utf8') as unknown as PNode;
/** A dict not yet made into a node: its payload is its id in the run's LazyStore. */
const LAZY_DICT = new Unboxed('dict') as unknown as PNode;
/** Identity tests, not `instanceof` (which V8 did not inline here: it went through the generic builtin). */
function isUnboxed(v: PNode): boolean { return v === LAZY_UTF8 || v === LAZY_FLOAT || v === LAZY_DICT; }
/** Truncates a JS array by popping (inlined), not by `length = n` (a runtime call per opcode). */
function truncate(a: PNode[], n: number): void { while (a.length > n) a.pop(); }
function box(v: PNode, num: number, store: LazyStore): PNode {
  if (v === LAZY_FLOAT) return num;
  if (v === LAZY_UTF8) { const n = num % LAZY_STRING_MAX_BYTES, s = (num - n) / LAZY_STRING_MAX_BYTES; return decodeUtf8(store.data, s, s + n); }
  if (v === LAZY_DICT) return store.dict(num);
  return v;
}

/** What a slab slot holds. Scalars and lazy dicts live in the typed arrays only; other values in the chunk's JS array. */
const SLOT_VALUE = 0, SLOT_NUMBER = 1, SLOT_UTF8 = 2, SLOT_TRUE = 3, SLOT_FALSE = 4, SLOT_NONE = 5, SLOT_DICT = 6;

/**
 * One slab chunk. A container of scalars (ints, floats, short strings, bools, None — the bulk of big data
 * pickles) costs no heap object at all here: kinds and payloads are typed arrays outside the JS heap, and the
 * JS array for other values is only made when a chunk first needs it. Lazy strings point into the store's data,
 * lazy dicts into the store.
 */
class SlabChunk {
  readonly kinds: Uint8Array;
  readonly nums: Float64Array;
  vals: PNode[] | undefined = undefined;
  constructor(readonly size: number, readonly store: LazyStore) {
    this.kinds = new Uint8Array(size);
    this.nums = new Float64Array(size);
  }
  valuesArray(): PNode[] {
    if (this.vals === undefined) {
      const vals: PNode[] = new Array(this.size);
      vals[0] = null; // object elements from the start (a double first would make V8 convert the whole array later)
      this.vals = vals;
    }
    return this.vals;
  }
  /** The value in `slot` as a graph value. */
  get(slot: number): PNode {
    switch (this.kinds[slot]) {
      case SLOT_NUMBER: return this.nums[slot];
      case SLOT_UTF8: return box(LAZY_UTF8, this.nums[slot], this.store);
      case SLOT_TRUE: return true;
      case SLOT_FALSE: return false;
      case SLOT_NONE: return null;
      case SLOT_DICT: return this.store.dict(this.nums[slot]);
      default: return this.vals![slot];
    }
  }
}

/**
 * Lazy dicts of one VM run. A big data pickle holds hundreds of thousands of small dicts (EMPTY_DICT, MEMOIZE, MARK,
 * SETITEMS, then APPENDS into a list): as objects, every one was copied twice by the scavenger (into the survivor
 * space, then the old generation) and GC was a third of the scan. Instead EMPTY_DICT takes an id here, the VM moves
 * the id around like an unboxed scalar, and the dict's first SETITEMS batch is parked in a slab with its location
 * recorded under the id (typed arrays, outside the JS heap). `dict(id)` makes the node when something reads it (or
 * when the VM needs an object: a second batch, SETITEM, BUILD, a call argument …), once per id.
 */
class LazyStore {
  /** Per dict id: 0 never written, > 0 parked in chunks[dictChunks[id] - 1] (`dictSlots`: at * PARK_SPLIT + n), -1 made into a node (`nodes`). */
  dictChunks = new Int32Array(64);
  dictSlots = new Int32Array(64);
  dictCount = 0;
  readonly nodes = new Map<number, DictImpl>();
  /** Every slab chunk of the run, by index. */
  readonly chunks: SlabChunk[] = [];
  constructor(readonly data: Uint8Array) {}
  /** A new, empty dict's id (the caller has counted the node against maxValueNodes, which bounds the ids). */
  newDict(): number {
    const id = this.dictCount++;
    if (id >= this.dictChunks.length) {
      const c = new Int32Array(this.dictChunks.length * 2), l = new Int32Array(c.length);
      c.set(this.dictChunks); l.set(this.dictSlots); this.dictChunks = c; this.dictSlots = l;
    }
    return id;
  }
  /** Dict `id` (never written) holds `n` key, value pairs in chunks[chunk] from slot `at` (int32 arithmetic only). */
  park(id: number, chunk: number, at: number, n: number): void {
    this.dictChunks[id] = chunk + 1;
    this.dictSlots[id] = at * PARK_SPLIT + n;
  }
  /** The node of dict `id`, made on first use. */
  dict(id: number): DictImpl {
    const c = this.dictChunks[id];
    if (c < 0) return this.nodes.get(id)!;
    const d = new DictImpl();
    if (c > 0) { const loc = this.dictSlots[id], n = loc % PARK_SPLIT; d.park(this.chunks[c - 1], (loc - n) / PARK_SPLIT, n); }
    this.dictChunks[id] = -1;
    this.nodes.set(id, d);
    return d;
  }
}
const NO_SLAB = new SlabChunk(0, new LazyStore(new Uint8Array(0)));
/**
 * The memo is chunked (no growing array copied over and over on big pickles). Keys under MEMO_DENSE_KEYS go to
 * chunks of MEMO_CHUNK_SLOTS, as long as the chunks allocated stay within MEMO_SLOTS_PER_ENTRY per memo entry
 * (LONG_BINPUT with far-off keys must not allocate chunks for the gaps); other keys go to a Map. A chunk is typed
 * arrays, as a slab is: what each slot holds (MEMO_*) and the unboxed payloads, outside the JS heap; a JS array
 * only for the values that are objects or plain scalars (a records pickle memoizes dicts and strings, both
 * unboxed: its memo is never copied by the scavenger).
 */
const MEMO_CHUNK_BITS = 12;
const MEMO_UNSET = 0, MEMO_VALUE = 1, MEMO_UTF8 = 2, MEMO_FLOAT = 3, MEMO_DICT = 4;
const MEMO_CHUNK_SLOTS = 1 << MEMO_CHUNK_BITS;
const MEMO_DENSE_KEYS = 0x1000000;
const MEMO_SLOTS_PER_ENTRY = 4;

/** `loc` of a parked container: first slot * PARK_SPLIT + item count (a small integer: at < SLAB_MAX_SLOTS, n ≤ SLAB_MAX_SLOTS). */
const PARK_SPLIT = 2 * SLAB_MAX_SLOTS;
interface DictItems { keys: PNode[]; values: PNode[] }

/**
 * A dict node whose items may still sit in a slab (unpacked into `keys`/`values` on first access). Two fields
 * only (a big pickle holds hundreds of thousands of dicts, and the scavenger copies each one): `src` is
 * undefined while fresh, the slab chunk while parked (`loc` says where), then the unpacked arrays.
 */
export class DictImpl implements DictNode {
  /** On the prototype, not a field: one word less on each of possibly millions of dicts. */
  declare readonly kind: 'dict';
  private src: SlabChunk | DictItems | undefined = undefined;
  private loc = 0;
  get keys(): PNode[] { return this.unpacked().keys; }
  set keys(v: PNode[]) { this.unpacked().keys = v; }
  get values(): PNode[] { return this.unpacked().values; }
  set values(v: PNode[]) { this.unpacked().values = v; }
  /** Items count without unpacking. */
  get size(): number { const s = this.src; return s === undefined ? 0 : s instanceof SlabChunk ? this.loc % PARK_SPLIT : s.keys.length; }
  /** Empty and never written: the VM may park the first batch in a slab. */
  get fresh(): boolean { return this.src === undefined; }
  /** VM only: the dict's items are slab[at .. at + 2n) as key, value pairs. Requires `fresh`. */
  park(slab: SlabChunk, at: number, n: number): void { this.src = slab; this.loc = at * PARK_SPLIT + n; }
  private unpacked(): DictItems {
    const s = this.src;
    if (s !== undefined && !(s instanceof SlabChunk)) return s;
    const n = s === undefined ? 0 : this.loc % PARK_SPLIT;
    const keys = new Array<PNode>(n), values = new Array<PNode>(n);
    if (s !== undefined) for (let i = 0, j = (this.loc - n) / PARK_SPLIT; i < n; i++, j += 2) { keys[i] = s.get(j); values[i] = s.get(j + 1); }
    const items: DictItems = { keys, values };
    this.src = items;
    return items;
  }
}
Object.defineProperty(DictImpl.prototype, 'kind', { value: 'dict', enumerable: true });

/** Copies the items of one parked batch (`loc` = at * PARK_SPLIT + n in `slab`) into `out` from `k`; returns the index after them. */
function unparkInto(slab: SlabChunk, loc: number, out: PNode[], k: number): number {
  const n = loc % PARK_SPLIT;
  for (let j = (loc - n) / PARK_SPLIT, end = j + n; j < end; j++) out[k++] = slab.get(j);
  return k;
}

/** A list's batches after the first, each parked in a slab: chunk and `at * PARK_SPLIT + n` per batch, in order. */
class ListRuns {
  readonly chunks: SlabChunk[] = [];
  readonly locs: number[] = [];
  count = 0;
  add(slab: SlabChunk, loc: number): void { this.chunks.push(slab); this.locs.push(loc); this.count += loc % PARK_SPLIT; }
}

/**
 * A list node whose items may still sit in slabs (unpacked into `items` on first access); two fields, as DictImpl.
 * `src`: undefined while fresh, the slab chunk of its one parked batch (`loc` says where), ListRuns when more
 * batches were parked, then the unpacked array.
 */
export class ListImpl implements ListNode {
  declare readonly kind: 'list';
  private src: SlabChunk | ListRuns | PNode[] | undefined;
  private loc = 0;
  constructor(items?: PNode[]) { this.src = items; }
  get items(): PNode[] {
    const s = this.src;
    if (s !== undefined && !(s instanceof SlabChunk) && !(s instanceof ListRuns)) return s;
    let its: PNode[];
    if (s instanceof ListRuns) {
      its = new Array<PNode>(s.count);
      for (let r = 0, k = 0; r < s.chunks.length; r++) k = unparkInto(s.chunks[r], s.locs[r], its, k);
    } else {
      its = new Array<PNode>(s === undefined ? 0 : this.loc % PARK_SPLIT);
      if (s !== undefined) unparkInto(s, this.loc, its, 0);
    }
    this.src = its;
    return its;
  }
  set items(v: PNode[]) { this.src = v; }
  get size(): number { const s = this.src; return s === undefined ? 0 : s instanceof SlabChunk ? this.loc % PARK_SPLIT : s instanceof ListRuns ? s.count : s.length; }
  get fresh(): boolean { return this.src === undefined; }
  /** Items never unpacked: a next batch may be parked too. */
  get parked(): boolean { const s = this.src; return s === undefined || s instanceof SlabChunk || s instanceof ListRuns; }
  /** VM only: the next `n` items are slab[at .. at + n). Requires `parked`. */
  park(slab: SlabChunk, at: number, n: number): void {
    const s = this.src;
    if (s === undefined) { this.src = slab; this.loc = at * PARK_SPLIT + n; return; }
    let runs: ListRuns;
    if (s instanceof ListRuns) runs = s;
    else { runs = new ListRuns(); runs.add(s as SlabChunk, this.loc); this.src = runs; this.loc = 0; }
    runs.add(slab, at * PARK_SPLIT + n);
  }
}
Object.defineProperty(ListImpl.prototype, 'kind', { value: 'list', enumerable: true });

/** Opcode bytes valid as the first byte of a pickle (used to sniff and to decide whether stacked data is a pickle). */
export const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT', 0x4b: 'BININT1',
  0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS',
  0x47: 'BINFLOAT', 0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

export function isGlobal(n: PNode): n is GlobalNode { return typeof n === 'object' && n !== null && (n as GlobalNode).kind === 'global'; }
export function isCall(n: PNode): n is CallNode { return typeof n === 'object' && n !== null && (n as CallNode).kind === 'call'; }
export function globalName(g: GlobalNode): string { return `${g.module}.${g.name}`; }

/** The VM's mutable state; helpers are methods so that V8 sees one monomorphic callee per site across runs. */
class VmState {
  pos: number; opIndex: number; nodes = 0; stack: PNode[] = []; marks: number[] = []; fence = 0;
  /** Unboxed payloads parallel to `stack` (see Unboxed). */
  stackNums = new Float64Array(64);
  /** Memo chunks by key >> MEMO_CHUNK_BITS (slot kinds, unboxed payloads, other values); `memoBig` for sparse keys. */
  memoKinds: (Uint8Array | undefined)[] = []; memoNumChunks: (Float64Array | undefined)[] = []; memoValChunks: (PNode[] | undefined)[] = []; memoSlots = 0;
  memoBig: Map<number, PNode> | undefined = undefined; memoCount = 0; proto = 0; pickleStart: number; opStart: number;
  slab: SlabChunk = NO_SLAB; slabUsed = 0;
  /** Lazy dicts and the slab chunks of this run; `slabIndex` is `slab`'s index in `store.chunks`. */
  readonly store: LazyStore; slabIndex = -1;
  /** The loop checks `pos >= check` once per opcode: the end of the data, or the end of the buffered frame. */
  check: number; bufEnd = -1; tolerateOversized = false;
  /** For BINFLOAT: TurboFan turns DataView reads into plain loads. */
  readonly view: DataView;
  readonly maxNodes: number; readonly maxStack: number; readonly maxMemo: number;
  constructor(readonly data: Uint8Array, readonly endAll: number, readonly run: PickleRun, limits: PickleRunOptions['limits'], start: number, opIndex: number) {
    this.pos = start; this.opIndex = opIndex; this.pickleStart = start; this.opStart = start; this.check = endAll;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.store = new LazyStore(data);
    this.maxNodes = limits.maxValueNodes; this.maxStack = limits.maxStackDepth; this.maxMemo = limits.maxMemoEntries;
  }
  need(n: number): number {
    if (n < 0 || this.pos + n > this.endAll) throw new PickleError(n < 0 ? 'negative length' : `truncated: needs ${n} bytes at offset ${this.pos}, only ${this.endAll - this.pos} left`);
    const p = this.pos; this.pos += n; return p;
  }
  readLine(): [number, number] {
    const nl = this.data.indexOf(NL, this.pos);
    if (nl < 0 || nl >= this.endAll) throw new PickleError('truncated line (no newline before the end of data)');
    const s = this.pos; this.pos = nl + 1; return [s, nl];
  }
  pop(): PNode {
    if (this.stack.length <= this.fence) throw new PickleError('unpickling stack underflow');
    const v = this.stack.pop() as PNode;
    return isUnboxed(v) ? box(v, this.stackNums[this.stack.length], this.store) : v;
  }
  /** Pops without boxing (the value is discarded). */
  drop(): void {
    if (this.stack.length <= this.fence) throw new PickleError('unpickling stack underflow');
    this.stack.pop();
  }
  top(): PNode {
    if (this.stack.length <= this.fence) throw new PickleError('unpickling stack underflow');
    const i = this.stack.length - 1, v = this.stack[i];
    if (isUnboxed(v)) { const b = box(v, this.stackNums[i], this.store); this.stack[i] = b; return b; }
    return v;
  }
  push(v: PNode): void {
    if (this.stack.length >= this.maxStack) throw new PickleError(`stack depth limit (${this.maxStack}) reached`, true);
    this.stack.push(v);
  }
  /**
   * Pushes an unboxed-scalar marker and returns its stack index; the caller writes the payload to stackNums[index].
   * (Payload doubles never pass through call arguments, where V8 would box each one in a HeapNumber.)
   */
  pushMarker(marker: PNode): number {
    const i = this.stack.length;
    if (i >= this.maxStack) throw new PickleError(`stack depth limit (${this.maxStack}) reached`, true);
    if (i >= this.stackNums.length) { const g = new Float64Array(Math.min(this.maxStack, i * 2)); g.set(this.stackNums); this.stackNums = g; }
    this.stack.push(marker);
    return i;
  }
  /** Pushes the UTF-8 string data[s, s + n) undecoded (n < LAZY_STRING_MAX_BYTES). */
  pushLazyString(s: number, n: number): void { const i = this.pushMarker(LAZY_UTF8); this.stackNums[i] = s * LAZY_STRING_MAX_BYTES + n; }
  /** EMPTY_DICT: pushes a new lazy dict (the caller has counted the node). */
  pushDict(): void { const i = this.pushMarker(LAZY_DICT); this.stackNums[i] = this.store.newDict(); }
  /** Pushes the big-endian double at data[s, s + 8) unboxed. */
  pushFloatAt(s: number): void {
    const i = this.pushMarker(LAZY_FLOAT); this.stackNums[i] = this.view.getFloat64(s, false);
  }
  /** Removes and returns (boxed) everything above stack index `m`. */
  spliceFrom(m: number): PNode[] {
    const out = this.stack.splice(m);
    for (let i = 0; i < out.length; i++) if (isUnboxed(out[i])) out[i] = box(out[i], this.stackNums[m + i], this.store);
    return out;
  }
  popMark(): PNode[] {
    if (this.marks.length === 0) throw new PickleError('could not find MARK');
    const m = this.marks.pop()!;
    this.fence = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    return this.spliceFrom(m);
  }
  /** Copies stack[m ..] into a slab (unboxed scalars stay unboxed), truncates the stack; returns the first slot. */
  moveToSlab(m: number): number {
    const n = this.stack.length - m;
    const at = this.reserve(n), slab = this.slab, kinds = slab.kinds, nums = slab.nums, stack = this.stack, stackNums = this.stackNums;
    const lazyUtf8 = LAZY_UTF8, lazyFloat = LAZY_FLOAT, lazyDict = LAZY_DICT;
    for (let i = 0; i < n; i++) {
      const v = stack[m + i], slot = at + i;
      if (v === lazyUtf8) { kinds[slot] = SLOT_UTF8; nums[slot] = stackNums[m + i]; }
      else if (v === lazyFloat) { kinds[slot] = SLOT_NUMBER; nums[slot] = stackNums[m + i]; }
      else if (v === lazyDict) { kinds[slot] = SLOT_DICT; nums[slot] = stackNums[m + i]; }
      else if (typeof v === 'number') { kinds[slot] = SLOT_NUMBER; nums[slot] = v; }
      else if (v === true) kinds[slot] = SLOT_TRUE;
      else if (v === false) kinds[slot] = SLOT_FALSE;
      else if (v === null) kinds[slot] = SLOT_NONE;
      else { kinds[slot] = SLOT_VALUE; slab.valuesArray()[slot] = v; }
    }
    truncate(stack, m);
    return at;
  }
  /** Reserves `n` (≤ SLAB_MAX_SLOTS) consecutive slots in `this.slab`; returns the first one's index. */
  reserve(n: number): number {
    if (this.slabUsed + n > this.slab.size) {
      // n ≤ SLAB_MAX_SLOTS (callers check), so the new chunk always fits the batch.
      this.slab = new SlabChunk(Math.min(SLAB_MAX_SLOTS, Math.max(SLAB_FIRST_SLOTS, this.slab.size * 2, n)), this.store);
      this.slabIndex = this.store.chunks.length;
      this.store.chunks.push(this.slab);
      this.slabUsed = 0;
    }
    const at = this.slabUsed; this.slabUsed += n; return at;
  }
  /** At `check`: the previous opcode ended exactly at the frame end (clean) or ran past it (a straddle). */
  passCheck(): void {
    if (this.pos > this.bufEnd && this.bufEnd >= 0 && this.run.frameStraddle === undefined) this.run.frameStraddle = { offset: this.bufEnd };
    this.check = this.endAll;
  }
  countNode(): void {
    if (++this.nodes > this.maxNodes) throw new PickleError(`value-node limit (${this.maxNodes}) reached`, true);
  }
  /** Memoizes the stack top under `key` (unboxed scalars stay unboxed in chunked memo slots). */
  memoPutTop(key: number): void {
    if (this.stack.length <= this.fence) throw new PickleError('unpickling stack underflow');
    if (key < 0) throw new PickleError('negative PUT argument');
    const ti = this.stack.length - 1;
    let v = this.stack[ti];
    if (this.memoBig === undefined || !this.memoBig.has(key)) { // a key lives in one place: a chunk or the Map
      const c = key >>> MEMO_CHUNK_BITS;
      let kinds = key < MEMO_DENSE_KEYS && c < this.memoKinds.length ? this.memoKinds[c] : undefined; // (an out-of-bounds read deoptimized the loop)
      if (kinds === undefined && key < MEMO_DENSE_KEYS && this.memoSlots + MEMO_CHUNK_SLOTS <= MEMO_SLOTS_PER_ENTRY * this.memoCount + 2 * MEMO_CHUNK_SLOTS) {
        kinds = new Uint8Array(MEMO_CHUNK_SLOTS); // all MEMO_UNSET
        this.memoKinds[c] = kinds; this.memoSlots += MEMO_CHUNK_SLOTS;
      }
      if (kinds !== undefined) {
        const slot = key & (MEMO_CHUNK_SLOTS - 1);
        if (kinds[slot] === MEMO_UNSET && ++this.memoCount > this.maxMemo) throw new PickleError(`memo limit (${this.maxMemo} entries) reached`, true);
        if (isUnboxed(v)) {
          let nums = c < this.memoNumChunks.length ? this.memoNumChunks[c] : undefined;
          if (nums === undefined) { nums = new Float64Array(MEMO_CHUNK_SLOTS); this.memoNumChunks[c] = nums; }
          nums[slot] = this.stackNums[ti];
          kinds[slot] = v === LAZY_DICT ? MEMO_DICT : v === LAZY_UTF8 ? MEMO_UTF8 : MEMO_FLOAT;
        } else {
          let vals = c < this.memoValChunks.length ? this.memoValChunks[c] : undefined;
          if (vals === undefined) { vals = new Array<PNode>(MEMO_CHUNK_SLOTS); vals[0] = null; this.memoValChunks[c] = vals; } // object elements from the start
          vals[slot] = v;
          kinds[slot] = MEMO_VALUE;
        }
        return;
      }
      if (++this.memoCount > this.maxMemo) throw new PickleError(`memo limit (${this.maxMemo} entries) reached`, true);
    }
    if (isUnboxed(v)) { v = box(v, this.stackNums[ti], this.store); this.stack[ti] = v; }
    (this.memoBig ??= new Map()).set(key, v);
  }
  /** Pushes memo[key] (GET/BINGET/LONG_BINGET). */
  pushMemo(key: number): void {
    const c = key >>> MEMO_CHUNK_BITS;
    const kinds = key < MEMO_DENSE_KEYS && c < this.memoKinds.length ? this.memoKinds[c] : undefined;
    if (kinds !== undefined) {
      const slot = key & (MEMO_CHUNK_SLOTS - 1), k = kinds[slot];
      if (k === MEMO_VALUE) { this.push(this.memoValChunks[c]![slot]); return; }
      if (k !== MEMO_UNSET) { const i = this.pushMarker(k === MEMO_DICT ? LAZY_DICT : k === MEMO_UTF8 ? LAZY_UTF8 : LAZY_FLOAT); this.stackNums[i] = this.memoNumChunks[c]![slot]; return; }
    }
    const v = this.memoBig !== undefined ? this.memoBig.get(key) : undefined;
    if (v === undefined) throw new PickleError(`memo key ${key} does not exist`);
    this.push(v);
  }
  makeGlobal(module: string, name: string, op: GlobalOp): GlobalNode {
    this.countNode();
    if (this.proto < 3) [module, name] = fixImports(module, name);
    const g: GlobalNode = { kind: 'global', module, name, op, index: this.opIndex, offset: this.opStart };
    this.run.globals.push(g);
    return g;
  }
  makeCall(fn: PNode, args: PNode, op: CallOp, kwargs?: PNode): CallNode {
    this.countNode();
    const argList = typeof args === 'object' && args !== null && ((args as TupleNode).kind === 'tuple' || (args as ListNode).kind === 'list')
      ? (args as TupleNode).items : [args];
    const c: CallNode = { kind: 'call', fn, args: argList, op, index: this.opIndex, offset: this.opStart };
    if (kwargs !== undefined) c.kwargs = kwargs;
    this.run.calls.push(c);
    return c;
  }
  /** APPENDS: straight from the stack into the list (no temporary array). */
  appends(): void {
    if (this.marks.length === 0) throw new PickleError('could not find MARK');
    const m = this.marks.pop()!;
    this.fence = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    let t = m > this.fence ? this.stack[m - 1] : this.top();
    if (t === LAZY_DICT) { t = this.store.dict(this.stackNums[m - 1]); this.stack[m - 1] = t; } // (no append: appendTo raises)
    if (typeof t === 'object' && t !== null && (t as ListNode).kind === 'list') {
      const l = t as ListImpl; // the VM makes every list a ListImpl
      const n = this.stack.length - m;
      if (l.parked && n > 0 && n <= SLAB_MAX_SLOTS) { const at = this.moveToSlab(m); l.park(this.slab, at, n); } // each batch: into the slab
      else { const items = l.items, more = this.spliceFrom(m); for (let i = 0; i < more.length; i++) items.push(more[i]); }
    } else this.appendTo(t, this.spliceFrom(m));
  }
  /** SETITEMS: straight from the stack into the dict (no temporary array). */
  setItemsMark(): void {
    if (this.marks.length === 0) throw new PickleError('could not find MARK');
    const m = this.marks.pop()!;
    this.fence = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    let t = m > this.fence ? this.stack[m - 1] : this.top();
    if (t === LAZY_DICT) {
      const id = this.stackNums[m - 1], slots = this.stack.length - m;
      // Never written: the first batch of key, value pairs is parked and the dict stays a number.
      if (this.store.dictChunks[id] === 0 && slots > 0 && slots <= SLAB_MAX_SLOTS && slots % 2 === 0) { const at = this.moveToSlab(m); this.store.park(id, this.slabIndex, at, slots >> 1); return; }
      t = this.store.dict(id); this.stack[m - 1] = t;
    }
    if ((this.stack.length - m) % 2 === 0 && typeof t === 'object' && t !== null && (t as DictNode).kind === 'dict') {
      const d = t as DictImpl; // the VM makes every dict a DictImpl
      const slots = this.stack.length - m;
      if (d.fresh && slots > 0 && slots <= SLAB_MAX_SLOTS) { const at = this.moveToSlab(m); d.park(this.slab, at, slots >> 1); } // first batch: key, value pairs
      else { const ks = d.keys, vs = d.values, kv = this.spliceFrom(m); for (let i = 0; i < kv.length; i += 2) { ks.push(kv[i]); vs.push(kv[i + 1]); } }
    } else this.setItems(t, this.spliceFrom(m));
  }
  appendTo(target: PNode, values: PNode[]): void {
    if (typeof target === 'object' && target !== null) {
      const k = (target as ListNode).kind;
      if (k === 'list') { const items = (target as ListNode).items; for (let i = 0; i < values.length; i++) items.push(values[i]); return; }
      if (k === 'call') { const c = target as CallNode; (c.items ??= []).push(...values); return; }
      if (k === 'global') { this.run.events.push({ kind: 'mutate-global', index: this.opIndex, offset: this.opStart, detail: `append on ${globalName(target as GlobalNode)}` }); return; }
      if (k === 'persid' || k === 'ext') return;
    }
    throw new PickleError('APPEND(S) target has no append/extend');
  }
  setItems(target: PNode, kv: PNode[]): void {
    if (kv.length % 2) throw new PickleError('odd number of items for SETITEMS');
    if (typeof target === 'object' && target !== null) {
      const k = (target as DictNode).kind;
      if (k === 'dict') { const d = target as DictNode; const ks = d.keys, vs = d.values; for (let i = 0; i < kv.length; i += 2) { ks.push(kv[i]); vs.push(kv[i + 1]); } return; }
      if (k === 'call') { const c = target as CallNode; c.setKeys ??= []; c.setValues ??= []; for (let i = 0; i < kv.length; i += 2) { c.setKeys.push(kv[i]); c.setValues.push(kv[i + 1]); } return; }
      if (k === 'global') { this.run.events.push({ kind: 'mutate-global', index: this.opIndex, offset: this.opStart, detail: `__setitem__ on ${globalName(target as GlobalNode)}` }); return; }
      if (k === 'list' || k === 'persid' || k === 'ext') return;
    }
    throw new PickleError('SETITEM(S) target does not support item assignment');
  }
}

/**
 * Opcodes that big real-world pickles (protocol 2+) rarely or never use. They live outside `runPickle` so that
 * its hot dispatch loop stays small: TurboFan compiles it in a fraction of the time and the first big file
 * is not run in baseline code. Semantics are exactly those of the C unpickler, as in the hot loop.
 */
function rareOpcode(st: VmState, op: number): void {
  const data = st.data, run = st.run, endAll = st.endAll;
  switch (op) {
    case 0x80: { // PROTO
      const p = data[st.need(1)];
      if (p > HIGHEST_PROTOCOL) throw new PickleError(`unsupported pickle protocol: ${p}`);
      st.proto = p; if (p > run.protocol) run.protocol = p;
      break;
    }
    case 0x95: { // FRAME: the C unpickler prefetches the frame, so its bytes must exist.
      const s = st.need(8);
      const lo = data[s] | (data[s + 1] << 8) | (data[s + 2] << 16), lo2 = data[s + 3], hi = data[s + 4] | (data[s + 5] << 8) | (data[s + 6] << 16) | (data[s + 7] << 24);
      const len = hi !== 0 ? Infinity : lo + lo2 * 0x1000000;
      run.frames++;
      if (st.opStart < st.bufEnd && st.pos > st.bufEnd && run.frameStraddle === undefined) run.frameStraddle = { offset: st.bufEnd }; // the header itself straddles
      if (len > endAll - st.pos) {
        run.oversizedFrame ??= { offset: st.opStart };
        if (!st.tolerateOversized) throw new PickleError(`FRAME of ${len} bytes exceeds the remaining ${endAll - st.pos} bytes`);
        break;
      }
      // Stream semantics: a frame that fits in the current buffer does not replace it.
      if (st.pos + len > st.bufEnd) { st.bufEnd = st.pos + len; st.check = st.bufEnd; }
      break;
    }
    case 0x31: { // POP_MARK
      if (st.marks.length === 0) throw new PickleError('could not find MARK');
      const m = st.marks.pop()!;
      st.fence = st.marks.length ? st.marks[st.marks.length - 1] : 0;
      truncate(st.stack, m);
      break;
    }
    case 0x49: { // INT (also encodes bools as 00/01)
      const [s, e] = st.readLine();
      const t = decodeLatin1(data, s, e);
      if (t === '00') st.push(false); else if (t === '01') st.push(true); else st.push(parsePyInt(t));
      break;
    }
    case 0x4c: { // LONG
      const [s, e] = st.readLine();
      let t = decodeLatin1(data, s, e);
      if (t.endsWith('L')) t = t.slice(0, -1);
      st.push(parsePyInt(t));
      break;
    }
    case 0x8a: { const n = data[st.need(1)]; const s = st.need(n); st.push(decodeLong(data, s, n)); break; }
    case 0x8b: {
      const s0 = st.need(4); const n = data[s0] | (data[s0 + 1] << 8) | (data[s0 + 2] << 16) | (data[s0 + 3] << 24);
      if (n < 0) throw new PickleError('LONG pickle has negative byte count');
      if (n > 1_000_000) throw new PickleError(`LONG4 of ${n} bytes exceeds the integer size limit`, true);
      const s = st.need(n); st.push(decodeLong(data, s, n)); break;
    }
    case 0x46: { // FLOAT
      const [s, e] = st.readLine();
      const t = decodeLatin1(data, s, e).trim();
      const v = Number(t);
      if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|nan|infinity)$/i.test(t)) throw new PickleError('could not convert string to float');
      st.push(Number.isNaN(v) ? (/nan/i.test(t) ? NaN : (t.startsWith('-') ? -Infinity : Infinity)) : v);
      break;
    }
    case 0x53: { // STRING: a quoted Python literal
      const [s, e] = st.readLine();
      const t = decodeLatin1(data, s, e);
      if (t.length < 2 || t[0] !== t[t.length - 1] || (t[0] !== "'" && t[0] !== '"')) throw new PickleError('the STRING opcode argument must be quoted');
      st.push(unescapeStringLiteral(t.slice(1, -1)));
      break;
    }
    case 0x54: {
      const s0 = st.need(4); const n = data[s0] | (data[s0 + 1] << 8) | (data[s0 + 2] << 16) | (data[s0 + 3] << 24);
      if (n < 0) throw new PickleError('BINSTRING pickle has negative byte count');
      const s = st.need(n); st.push(decodeLatin1(data, s, s + n)); break;
    }
    case 0x55: { const n = data[st.need(1)]; const s = st.need(n); st.push(decodeLatin1(data, s, s + n)); break; }
    case 0x56: { const [s, e] = st.readLine(); st.push(rawUnicodeEscape(decodeLatin1(data, s, e))); break; }
    case 0x8d: case 0x8e: case 0x96: { // BINUNICODE8, BINBYTES8, BYTEARRAY8
      const s0 = st.need(8);
      const hi = (data[s0 + 4] | (data[s0 + 5] << 8) | (data[s0 + 6] << 16)) + data[s0 + 7] * 0x1000000;
      const n = hi > 0 ? Infinity : (data[s0] | (data[s0 + 1] << 8) | (data[s0 + 2] << 16)) + data[s0 + 3] * 0x1000000;
      if (!Number.isFinite(n)) throw new PickleError('8-byte length exceeds the data');
      const s = st.need(n);
      if (op === 0x8d) st.push(decodeUtf8(data, s, s + n));
      else { st.countNode(); st.push({ kind: 'bytes', data: data.subarray(s, s + n), mutable: op === 0x96 }); }
      break;
    }
    case 0x8f: st.countNode(); st.push({ kind: 'set', items: [], frozen: false }); break;
    case 0x6c: { const items = st.popMark(); st.countNode(); st.push(new ListImpl(items)); break; }
    case 0x91: { const items = st.popMark(); st.countNode(); st.push({ kind: 'set', items, frozen: true }); break; }
    case 0x64: { // DICT
      const kv = st.popMark();
      if (kv.length % 2) throw new PickleError('odd number of items for DICT');
      st.countNode();
      const d = new DictImpl();
      const ks = d.keys, vs = d.values;
      for (let i = 0; i < kv.length; i += 2) { ks.push(kv[i]); vs.push(kv[i + 1]); }
      st.push(d);
      break;
    }
    case 0x90: { // ADDITEMS
      const items = st.popMark(); const t = st.top();
      if (typeof t === 'object' && t !== null && (t as SetNode).kind === 'set') (t as SetNode).items.push(...items);
      else if (isCall(t)) (t.items ??= []).push(...items);
      else throw new PickleError('ADDITEMS target has no add');
      break;
    }
    case 0x63: { // GLOBAL module\nname\n
      const [ms, me] = st.readLine(); const [ns, ne] = st.readLine();
      st.push(st.makeGlobal(decodeUtf8(data, ms, me), decodeUtf8(data, ns, ne), 'GLOBAL'));
      break;
    }
    case 0x69: { // INST module\nname\n: cls(*args_since_mark)
      const [ms, me] = st.readLine(); const [ns, ne] = st.readLine();
      const g = st.makeGlobal(decodeUtf8(data, ms, me), decodeUtf8(data, ns, ne), 'INST');
      const args = st.popMark();
      st.push(st.makeCall(g, { kind: 'tuple', items: args }, 'INST'));
      break;
    }
    case 0x6f: { // OBJ: cls, *args since mark
      const items = st.popMark();
      if (items.length === 0) throw new PickleError('OBJ without a class');
      st.push(st.makeCall(items[0], { kind: 'tuple', items: items.slice(1) }, 'OBJ'));
      break;
    }
    case 0x92: { const kwargs = st.pop(); const args = st.pop(); const cls = st.pop(); st.push(st.makeCall(cls, args, 'NEWOBJ_EX', kwargs)); break; }
    case 0x82: case 0x83: case 0x84: { // EXT1/2/4: copyreg's extension registry is empty by default
      const n = op === 0x82 ? 1 : op === 0x83 ? 2 : 4;
      const s = st.need(n);
      let code = 0; for (let i = n - 1; i >= 0; i--) code = code * 256 + data[s + i];
      if (code <= 0) throw new PickleError('EXT specifies code <= 0');
      st.countNode();
      run.events.push({ kind: 'ext', index: st.opIndex, offset: st.opStart, detail: `extension code ${code}` });
      st.push({ kind: 'ext', code, index: st.opIndex, offset: st.opStart });
      break;
    }
    case 0x50: { // PERSID
      const [s, e] = st.readLine(); st.countNode();
      st.push({ kind: 'persid', pid: decodeLatin1(data, s, e), index: st.opIndex, offset: st.opStart });
      break;
    }
    case 0x67: { // GET
      const [s, e] = st.readLine();
      const k = parsePyInt(decodeLatin1(data, s, e));
      st.pushMemo(typeof k === 'bigint' ? -1 : k);
      break;
    }
    case 0x70: { // PUT
      const [s, e] = st.readLine();
      const k = parsePyInt(decodeLatin1(data, s, e));
      if (typeof k === 'bigint' || k > 0xffffffff) throw new PickleError('PUT index too large');
      st.memoPutTop(k);
      break;
    }
    case 0x97: // NEXT_BUFFER: needs a buffers= argument that torch/joblib/numpy loaders never pass
      run.events.push({ kind: 'next-buffer', index: st.opIndex, offset: st.opStart, detail: 'out-of-band buffer' });
      throw new PickleError('pickle stream refers to out-of-band data but no buffers argument was given');
    case 0x98: st.top(); break; // READONLY_BUFFER
    default:
      throw new PickleError(`invalid load key 0x${op.toString(16).padStart(2, '0')}`);
  }
}

/** Opcodes `fastOps` runs (1) — the bulk of big protocol 2–5 data pickles; everything else goes to runPickle's loop. */
const FAST_OPS = (() => {
  const t = new Uint8Array(256);
  for (const op of [0x28, 0x4e, 0x88, 0x89, 0x4a, 0x4b, 0x4d, 0x47, 0x58, 0x8c, 0x5d, 0x29, 0x7d, 0x85, 0x86, 0x87, 0x65, 0x75, 0x68, 0x6a, 0x71, 0x72, 0x94, 0x95]) t[op] = 1;
  return t;
})();

/**
 * The hot path of the dispatch loop, kept small so that TurboFan compiles it in a few milliseconds (the whole loop
 * took 100–200 ms on a background thread while a fresh process ran the first big file in baseline code, ~10×
 * slower). Runs opcodes while they are in FAST_OPS, within the buffered frame (`check`) and the opcode budget, and
 * returns at the first one it leaves to runPickle's switch, unread. Each case is exactly runPickle's. Frame ends and
 * FRAME opcodes are handled here too, so a big stream is one call (one on-stack-replacement compile, no second
 * compile of the whole function for the next call).
 */
function fastOps(st: VmState, opBudget: number): void {
  const data = st.data;
  const fast = FAST_OPS;
  for (;;) {
    let p = st.pos;
    if (p >= st.check) { // as in runPickle's loop; the truncation error is raised there
      if (p >= st.endAll) return;
      st.passCheck();
      p = st.pos;
    }
    if (st.opIndex >= opBudget) return;
    const op = data[p];
    if (fast[op] === 0) return;
    ++st.opIndex;
    st.opStart = p;
    st.pos = p + 1;
    switch (op) {
      case 0x28: // MARK
        if (st.marks.length >= st.maxStack) throw new PickleError(`MARK depth limit (${st.maxStack}) reached`, true);
        st.marks.push(st.stack.length); st.fence = st.stack.length; break;
      case 0x4e: st.push(null); break;
      case 0x88: st.push(true); break;
      case 0x89: st.push(false); break;
      case 0x4a: { const s = st.need(4); st.push(data[s] | (data[s + 1] << 8) | (data[s + 2] << 16) | (data[s + 3] << 24)); break; }
      case 0x4b: st.push(data[st.need(1)]); break;
      case 0x4d: { const s = st.need(2); st.push(data[s] | (data[s + 1] << 8)); break; }
      case 0x47: st.pushFloatAt(st.need(8)); break;
      case 0x58: {
        const s0 = st.need(4); const n = (data[s0] | (data[s0 + 1] << 8) | (data[s0 + 2] << 16)) + data[s0 + 3] * 0x1000000;
        const s = st.need(n);
        if (n < LAZY_STRING_MAX_BYTES) st.pushLazyString(s, n); else st.push(decodeUtf8(data, s, s + n));
        break;
      }
      case 0x8c: { const n = data[st.need(1)]; const s = st.need(n); st.pushLazyString(s, n); break; }
      case 0x5d: st.countNode(); st.push(new ListImpl()); break;
      case 0x29: st.countNode(); st.push({ kind: 'tuple', items: [] }); break;
      case 0x7d: st.countNode(); st.pushDict(); break;
      case 0x85: { const a = st.pop(); st.countNode(); st.push({ kind: 'tuple', items: [a] }); break; }
      case 0x86: { const b = st.pop(); const a = st.pop(); st.countNode(); st.push({ kind: 'tuple', items: [a, b] }); break; }
      case 0x87: { const c = st.pop(); const b = st.pop(); const a = st.pop(); st.countNode(); st.push({ kind: 'tuple', items: [a, b, c] }); break; }
      case 0x65: st.appends(); break;
      case 0x75: st.setItemsMark(); break;
      case 0x68: st.pushMemo(data[st.need(1)]); break;
      case 0x6a: { const s = st.need(4); st.pushMemo((data[s] | (data[s + 1] << 8) | (data[s + 2] << 16)) + data[s + 3] * 0x1000000); break; }
      case 0x71: { const k = data[st.need(1)]; st.memoPutTop(k); break; }
      case 0x72: { const s = st.need(4); st.memoPutTop((data[s] | (data[s + 1] << 8) | (data[s + 2] << 16)) + data[s + 3] * 0x1000000); break; }
      case 0x94: st.memoPutTop(st.memoCount); break; // MEMOIZE
      default: rareOpcode(st, op); break; // FRAME (0x95), the same code as from runPickle's loop
    }
  }
}

/**
 * Runs the symbolic VM over `data` from `start`. Never throws on hostile input:
 * malformed streams end with `error`, exhausted limits with `limit`.
 * The returned graph reads dict/list items lazily from `input` (short strings are decoded on first access):
 * do not modify the input bytes while the graph is in use.
 */
export function runPickle(input: Uint8Array, opts: PickleRunOptions): PickleRun {
  if (!warmedUp && input.length - (opts.start ?? 0) >= WARMUP_MIN_BYTES) warmUp();
  const data: Uint8Array = asNodeBuffer(input);
  const limits = opts.limits;
  // Read once: callers pass options objects of several shapes, and a read in the loop deoptimized it.
  const maxPickles = opts.maxPickles;
  const endAll = Math.min(opts.end ?? data.length, data.length);
  const run: PickleRun = { values: [], spans: [], globals: [], calls: [], events: [], opcodes: 0, end: opts.start ?? 0, protocol: -1, frames: 0 };
  const opBudget = limits.maxPickleOpcodes;
  const maxStack = limits.maxStackDepth;
  const st = new VmState(data, endAll, run, limits, opts.start ?? 0, opts.opcodesUsed ?? 0);
  st.tolerateOversized = opts.tolerateOversizedFrames === true;

  for (;;) {
    if (st.pos >= endAll) break;
    st.pickleStart = st.pos;
    st.stack = []; st.marks = []; st.fence = 0; st.memoKinds = []; st.memoNumChunks = []; st.memoValChunks = []; st.memoSlots = 0; st.memoBig = undefined; st.memoCount = 0; st.proto = 0;
    st.bufEnd = -1; st.check = endAll; // a fresh Unpickler: no buffered frame
    let stopped = false;
    try {
      while (!stopped) {
        fastOps(st, opBudget);
        if (st.pos >= st.check) { if (st.pos >= endAll) throw new PickleError('pickle data was truncated (no STOP)'); st.passCheck(); }
        if (++st.opIndex > opBudget) throw new PickleError(`opcode limit (${opBudget}) reached`, true);
        st.opStart = st.pos;
        const op = data[st.pos++];
        switch (op) {
          case 0x28: // MARK
            if (st.marks.length >= maxStack) throw new PickleError(`MARK depth limit (${maxStack}) reached`, true);
            st.marks.push(st.stack.length); st.fence = st.stack.length; break;
          case 0x2e: { // STOP
            const v = st.pop();
            run.values.push(v);
            run.spans.push({ start: st.pickleStart, end: st.pos });
            stopped = true;
            break;
          }
          case 0x30: // POP: pops a MARK if the mark is at the top (as _pickle.c does)
            if (st.marks.length && st.marks[st.marks.length - 1] === st.stack.length) { st.marks.pop(); st.fence = st.marks.length ? st.marks[st.marks.length - 1] : 0; }
            else st.drop();
            break;
          case 0x32: st.push(st.top()); break; // DUP
          case 0x4e: st.push(null); break;
          case 0x88: st.push(true); break;
          case 0x89: st.push(false); break;
          case 0x4a: { const s = st.need(4); st.push(data[s] | (data[s + 1] << 8) | (data[s + 2] << 16) | (data[s + 3] << 24)); break; }
          case 0x4b: st.push(data[st.need(1)]); break;
          case 0x4d: { const s = st.need(2); st.push(data[s] | (data[s + 1] << 8)); break; }
          case 0x47: { // BINFLOAT: big-endian double, kept unboxed
            const s = st.need(8);
            st.pushFloatAt(s);
            break;
          }
          case 0x58: {
            const s0 = st.need(4); const n = (data[s0] | (data[s0 + 1] << 8) | (data[s0 + 2] << 16)) + data[s0 + 3] * 0x1000000;
            const s = st.need(n);
            if (n < LAZY_STRING_MAX_BYTES) st.pushLazyString(s, n); else st.push(decodeUtf8(data, s, s + n));
            break;
          }
          case 0x8c: { const n = data[st.need(1)]; const s = st.need(n); st.pushLazyString(s, n); break; }
          case 0x42: {
            const s0 = st.need(4); const n = (data[s0] | (data[s0 + 1] << 8) | (data[s0 + 2] << 16)) + data[s0 + 3] * 0x1000000;
            const s = st.need(n); st.countNode(); st.push({ kind: 'bytes', data: data.subarray(s, s + n), mutable: false }); break;
          }
          case 0x43: { const n = data[st.need(1)]; const s = st.need(n); st.countNode(); st.push({ kind: 'bytes', data: data.subarray(s, s + n), mutable: false }); break; }
          case 0x5d: st.countNode(); st.push(new ListImpl()); break;
          case 0x29: st.countNode(); st.push({ kind: 'tuple', items: [] }); break;
          case 0x7d: st.countNode(); st.pushDict(); break;
          case 0x74: { const items = st.popMark(); st.countNode(); st.push({ kind: 'tuple', items }); break; }
          case 0x85: { const a = st.pop(); st.countNode(); st.push({ kind: 'tuple', items: [a] }); break; }
          case 0x86: { const b = st.pop(); const a = st.pop(); st.countNode(); st.push({ kind: 'tuple', items: [a, b] }); break; }
          case 0x87: { const c = st.pop(); const b = st.pop(); const a = st.pop(); st.countNode(); st.push({ kind: 'tuple', items: [a, b, c] }); break; }
          case 0x61: { const v = st.pop(); st.appendTo(st.top(), [v]); break; }
          case 0x65: st.appends(); break; // APPENDS
          case 0x73: { const v = st.pop(); const k = st.pop(); st.setItems(st.top(), [k, v]); break; }
          case 0x75: st.setItemsMark(); break; // SETITEMS
          case 0x93: { // STACK_GLOBAL: both operands must be str (from any string opcode or the st.memo)
            const name = st.pop(); const module = st.pop();
            if (typeof name !== 'string' || typeof module !== 'string') throw new PickleError('STACK_GLOBAL requires str');
            st.push(st.makeGlobal(module, name, 'STACK_GLOBAL'));
            break;
          }
          case 0x81: { const args = st.pop(); const cls = st.pop(); st.push(st.makeCall(cls, args, 'NEWOBJ')); break; }
          case 0x52: { const args = st.pop(); const fn = st.pop(); st.push(st.makeCall(fn, args, 'REDUCE')); break; }
          case 0x62: { // BUILD
            const state = st.pop(); const inst = st.top();
            if (isCall(inst)) inst.state = inst.state === undefined ? state : inst.state;
            else if (isGlobal(inst)) run.events.push({ kind: 'build-on-global', index: st.opIndex, offset: st.opStart, detail: `BUILD sets attributes on ${globalName(inst)}` });
            if (opts.afterBuild) {
              const r = opts.afterBuild(inst, st.pos, run);
              if (typeof r === 'string') throw new PickleError(r);
              if (typeof r === 'number') { if (r < st.pos || r > endAll) throw new PickleError('array data runs past the end of the stream'); if (r > st.pos) run.dataSkipped = true; st.pos = r; }
            }
            break;
          }
          case 0x51: { const pid = st.pop(); st.countNode(); st.push({ kind: 'persid', pid, index: st.opIndex, offset: st.opStart }); break; }
          case 0x68: st.pushMemo(data[st.need(1)]); break;
          case 0x6a: { const s = st.need(4); st.pushMemo((data[s] | (data[s + 1] << 8) | (data[s + 2] << 16)) + data[s + 3] * 0x1000000); break; }
          case 0x71: { const k = data[st.need(1)]; st.memoPutTop(k); break; }
          case 0x72: { const s = st.need(4); st.memoPutTop((data[s] | (data[s + 1] << 8) | (data[s + 2] << 16)) + data[s + 3] * 0x1000000); break; }
          case 0x94: st.memoPutTop(st.memoCount); break; // MEMOIZE
          default: rareOpcode(st, op); break; // protocol 0/1 text opcodes and other rare ones, kept out of the hot loop
        }
      }
    } catch (err) {
      run.end = st.pos;
      run.opcodes = st.opIndex - (opts.opcodesUsed ?? 0);
      if (err instanceof PickleError) {
        if (err.isLimit) run.limit = { offset: st.opStart, index: st.opIndex, reason: err.reason };
        else run.error = { offset: st.opStart, index: st.opIndex, reason: err.reason };
        return run;
      }
      run.error = { offset: st.opStart, index: st.opIndex, reason: `internal: ${String(err)}` };
      return run;
    }
    run.end = st.pos;
    if (maxPickles !== undefined && run.values.length >= maxPickles) break;
  }
  run.opcodes = st.opIndex - (opts.opcodesUsed ?? 0);
  return run;
}

/**
 * Do these bytes start a pickle? What counts is what the C unpickler accepts: it starts on ANY valid opcode
 * (a LONG1, BINBYTES8, EMPTY_SET … pushed and then POPped is a perfectly good start), so the VM runs over the
 * head whatever the first opcode is (never a fixed list of "typical" first opcodes). The head is a pickle when
 * the VM reaches STOP, names an importable global (the C unpickler would import it before any later error), or
 * is still running when the head ends. Text that merely starts with an opcode letter fails within an opcode or
 * two, or names globals that are not identifiers.
 */
export function sniffPickle(head: Uint8Array): number {
  if (head.length < 2) return 0;
  if (head[0] === 0x80) {
    if (head[1] > HIGHEST_PROTOCOL) return 0;
    if (head.length >= 3 && OPCODE_NAMES[head[2]] === undefined) return 0;
    return head[1] >= 2 ? 90 : 70;
  }
  const first = head[0];
  if (OPCODE_NAMES[first] === undefined || first === 0x2e) return 0;
  // An oversized FRAME stops the C unpickler but not the pure-Python one (joblib): sniff as the more permissive reader.
  const r = runPickle(head, { limits: SNIFF_LIMITS, maxPickles: 1, tolerateOversizedFrames: true });
  // Text that happens to start with an opcode letter yields nonsense global names; real pickles name identifiers.
  const ident = /^[A-Za-z_][\w.]*$/;
  if (r.globals.some((g) => !ident.test(g.module) || !ident.test(g.name))) return 0;
  if (r.values.length) return 60;
  if (r.globals.length) return 50;
  if (r.error && /truncated/.test(r.error.reason) && r.opcodes >= 3) return 40;
  if (r.limit && r.opcodes >= 3) return 40;
  return 0;
}
const SNIFF_LIMITS = { maxPickleOpcodes: 10_000, maxMemoEntries: 10_000, maxStackDepth: 10_000, maxValueNodes: 10_000 };

/**
 * JIT warm-up: one small pickle that executes every opcode handler, run a few
 * times before the first big stream (WARMUP_MIN_BYTES) so that V8 has type feedback
 * for the whole dispatch loop before it optimizes it. Without it, the first big file
 * deoptimizes the loop each time it meets an opcode for the first time (e.g. the first
 * APPENDS after 1,000 items). Not at module load: a process that scans only small
 * files (a one-file CLI run, most model folders) would pay ~20 ms for nothing.
 */
function warmupPickle(): Uint8Array {
  const b: number[] = [];
  const s = (t: string) => { for (const ch of Buffer.from(t, 'latin1')) b.push(ch); };
  const u64 = (n: number) => { b.push(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, 0, 0, 0, 0); };
  s('\x80\x05\x95'); u64(0);
  s(']\x94(K\x01M\x01\x02J\x01\x02\x03\x04\x8a\x02\x01\x02\x8b\x01\x00\x00\x00\x05G?\xf8\x00\x00\x00\x00\x00\x00F1.5\nI12\nI01\nL12L\nN\x88\x89');
  s('X\x01\x00\x00\x00a\x8c\x01b\x8d'); u64(1); s('cB\x01\x00\x00\x00dC\x01e\x8e'); u64(1); s('f\x96'); u64(1); s("g\x98S'h'\nT\x01\x00\x00\x00iU\x01jVk\\u0041\ne");
  s('}\x94(\x8c\x01kK\x01u\x8c\x01mK\x02s]K\x01a\x8f(K\x01\x90(K\x01\x91)K\x01\x85K\x01K\x02\x86K\x01K\x02K\x03\x87(K\x01t(K\x01l(\x8c\x01aK\x01d');
  s('20(1(0h\x00j\x00\x00\x00\x00q\x01r\x02\x00\x00\x00p3\ng3\n');
  s('ccollections\nOrderedDict\n)R\x8c\x0bcollections\x8c\x0bOrderedDict\x93)\x81\x8c\x0bcollections\x8c\x0bOrderedDict\x93)}\x92}b(ccollections\nOrderedDict\no(icollections\nOrderedDict\n');
  s('P1\nK\x01Q\x82\x01\x83\x01\x00\x84\x01\x00\x00\x00');
  // Lists of objects appended in several APPENDS batches (the first parks in the slab, later ones push):
  // with only small-int items here, the first big list of records deoptimized the loop ("wrong map").
  s('](}}e(}}e(X\x01\x00\x00\x00aK\x01G?\xf8\x00\x00\x00\x00\x00\x00\x88e0');
  s('ccollections\nOrderedDict\n)R(K\x01K\x02u(K\x01K\x02e]K\x01a(K\x01K\x02e}(K\x01K\x02u(K\x03K\x04u.');
  return Uint8Array.from(b);
}
const WARMUP_LIMITS = { maxPickleOpcodes: 100_000, maxMemoEntries: 1000, maxStackDepth: 1000, maxValueNodes: 100_000 };
export const WARMUP_PICKLE = warmupPickle();
/** Streams at least this long warm the VM up first (once per thread). */
export const WARMUP_MIN_BYTES = 1 << 20;
let warmedUp = false;
function warmUp(): void {
  warmedUp = true;
  for (let i = 0; i < 12; i++) runPickle(WARMUP_PICKLE, { limits: WARMUP_LIMITS });
  // A short string more than 8 MiB into the data packs `offset * 256 + length` past int32: give that arithmetic
  // double feedback now, or the first big file deoptimizes the hot loop there ("overflow").
  const run: PickleRun = { values: [], spans: [], globals: [], calls: [], events: [], opcodes: 0, end: 0, protocol: -1, frames: 0 };
  new VmState(WARMUP_PICKLE, WARMUP_PICKLE.length, run, WARMUP_LIMITS, 0, 0).pushLazyString(2 ** 24, 1);
}
