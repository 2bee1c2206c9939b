// The symbolic VM's compact value graph (slab-parked dict/list items, unboxed floats and short strings) must
// reconstruct exactly what Python's pickle loads, never leak its internal markers into the graph, and stay light.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { runPickle, SLAB_FIRST_SLOTS, SLAB_MAX_SLOTS, LAZY_STRING_MAX_BYTES, type PNode } from '../../../core/scan/pickle/vm';
import { toPlain } from '../../../core/scan/pickle/plain';
import { DEFAULT_LIMITS } from '../../../core/scan/format';
import { normalizeSets } from './normalize';
import { fcParams } from '../../helpers/seed';

const run = (b: Uint8Array, limits = DEFAULT_LIMITS) => runPickle(b, { limits });
const cat = (...parts: (string | number[] | Uint8Array)[]) => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p as Uint8Array)));
const su = (s: string) => { const b = Buffer.from(s, 'utf8'); return cat([0x8c, b.length], b); };
const binfloat = (x: number) => { const b = Buffer.alloc(9); b[0] = 0x47; b.writeDoubleBE(x, 1); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

/** Every object node reachable from `n` has a known kind (no VM-internal marker escaped into the graph). */
function assertOnlyGraphNodes(n: PNode, seen = new Set<object>()): void {
  if (n === null || typeof n !== 'object' || seen.has(n)) return;
  seen.add(n);
  const kinds = ['bytes', 'list', 'tuple', 'dict', 'set', 'global', 'call', 'persid', 'ext', 'buffer'];
  assert.ok(kinds.includes((n as { kind: string }).kind), `unexpected graph node ${String((n as { constructor?: { name?: string } }).constructor?.name)}`);
  switch (n.kind) {
    case 'list': case 'tuple': case 'set': n.items.forEach((x) => assertOnlyGraphNodes(x, seen)); break;
    case 'dict': n.keys.forEach((x) => assertOnlyGraphNodes(x, seen)); n.values.forEach((x) => assertOnlyGraphNodes(x, seen)); break;
    case 'call':
      assertOnlyGraphNodes(n.fn, seen); n.args.forEach((x) => assertOnlyGraphNodes(x, seen));
      if (n.kwargs !== undefined) assertOnlyGraphNodes(n.kwargs, seen);
      if (n.state !== undefined) assertOnlyGraphNodes(n.state, seen);
      for (const xs of [n.items, n.setKeys, n.setValues]) xs?.forEach((x) => assertOnlyGraphNodes(x, seen));
      break;
    case 'persid': assertOnlyGraphNodes(n.pid, seen); break;
  }
}

/** CPython's pickles of one record-heavy object at protocols 0-5 and its canonical JSON, committed (test/fixtures/pickle-records/generate.py). */
const RECORDS = path.resolve(__dirname, '../../fixtures/pickle-records');
const RECORD_COUNT = 1500;
const gunzip = (name: string) => zlib.gunzipSync(fs.readFileSync(path.join(RECORDS, name)));

test('records spanning many slab chunks, big multi-batch dicts and lists equal Python at every protocol', () => {
  const want = normalizeSets(JSON.parse(gunzip('want.json.gz').toString('utf8')));
  assert.equal((want as { dict: [string, unknown[]][] }).dict[0][1].length, RECORD_COUNT);
  for (let proto = 0; proto <= 5; proto++) {
    const data = gunzip(`p${proto}.pkl.gz`);
    assert.equal(data[0] === 0x80 ? data[1] : 0, proto < 2 ? 0 : proto, `p${proto}.pkl.gz is a protocol ${proto} pickle`);
    const r = run(data);
    assert.equal(r.error, undefined, `protocol ${proto}: ${r.error?.reason}`);
    assert.equal(r.limit, undefined);
    assert.equal(r.values.length, 1);
    assertOnlyGraphNodes(r.values[0]);
    assert.deepEqual(normalizeSets(toPlain(r.values[0])), want, `protocol ${proto}`);
  }
});

test('the slab test above really spans chunks: its records × 8 fields exceed two max-size slab chunks', () => {
  assert.ok(RECORD_COUNT * 8 * 2 > 2 * SLAB_MAX_SLOTS);
  assert.equal(LAZY_STRING_MAX_BYTES, 256);
});

test('unboxed floats keep NaN, -0 and infinities through the stack, memo, dicts and lists', () => {
  const vals = [NaN, -0, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 0.1];
  // protocol 4: [ {i: v_i}, ... , v (memoized, fetched back), DUP'ed v ] built from BINFLOAT, MEMOIZE, BINGET, DUP.
  const parts: (string | number[] | Uint8Array)[] = ['\x80\x04]', '('];
  vals.forEach((v, i) => parts.push('}', su(`k${i}`), binfloat(v), 's'));
  parts.push(binfloat(-0), [0x94], 'h\x00', '2', 'e.');
  const r = run(cat(...parts));
  assert.equal(r.error, undefined, r.error?.reason);
  const list = r.values[0] as { kind: 'list'; items: PNode[] };
  const got = list.items.slice(0, vals.length).map((d) => (d as { values: PNode[] }).values[0]);
  vals.forEach((v, i) => assert.ok(Object.is(got[i], v), `float ${i}: ${String(got[i])} vs ${v}`));
  assert.deepEqual(list.items.slice(vals.length).map((x) => Object.is(x, -0)), [true, true, true]);
});

test('unboxed strings: UTF-8, the 255/256-byte boundary, DUP, memo GET, STACK_GLOBAL operands, dict keys', () => {
  const strs = ['', 'a', 'héllo', '日本', '😀', 'x'.repeat(255), 'y'.repeat(256)];
  const parts: (string | number[] | Uint8Array)[] = ['\x80\x04}('];
  strs.forEach((s, i) => { const b = Buffer.from(s, 'utf8'); parts.push(b.length < 256 ? su(`s${i}`) : su(`s${i}`), b.length < 256 ? cat([0x8c, b.length], b) : cat('X', u32(b.length), b)); });
  parts.push('u', su('dup'), su('d'), '2', '\x86', 's', '.'); // d['dup'] = ('d', 'd')
  const r = run(cat(...parts));
  assert.equal(r.error, undefined, r.error?.reason);
  const plain = toPlain(r.values[0]) as { dict: [string, unknown][] };
  assert.deepEqual(plain.dict, [...strs.map((s, i) => [`s${i}`, s]), ['dup', { tuple: ['d', 'd'] }]]);
  // STACK_GLOBAL from memoized unboxed strings, fetched by BINGET and LONG_BINGET.
  const g = run(cat('\x80\x04', su('os'), [0x94], su('system'), [0x94], '0', '0', 'h\x00', 'j', u32(1), [0x93], ')R.'));
  assert.deepEqual(g.globals.map((x) => `${x.module}.${x.name}`), ['os.system']);
  assert.equal(g.calls.length, 1);
});

test('a far-off memo key neither allocates payload room for the gap nor loses the value', () => {
  const before = process.memoryUsage().arrayBuffers;
  const parts: (string | number[] | Uint8Array)[] = ['\x80\x04]('];
  const keys = [0, 1023, 3070, 9000, 30000, 100000, 400000, 1_500_000, 6_000_000, 0xfffff0, 0xfffffe, 0x1000010, 0x7fffffff];
  keys.forEach((k, i) => parts.push(su(`v${i}`), 'r', u32(k), '0', binfloat(i + 0.5), 'r', u32(k + 1 > 0xffffffff ? k : k + 1), '0'));
  keys.forEach((k) => parts.push('j', u32(k), 'j', u32(k + 1)));
  parts.push('e.');
  const r = run(cat(...parts));
  assert.equal(r.error, undefined, r.error?.reason);
  assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024, 'memo payloads grew with the key, not the entry count');
  const items = (r.values[0] as { items: PNode[] }).items;
  assert.deepEqual(items, keys.flatMap((_k, i) => [`v${i}`, i + 0.5]));
});

test('memo keys split between chunks and the sparse-key map keep one value per key, the latest one', () => {
  const parts: (string | number[] | Uint8Array)[] = ['\x80\x04'];
  [[30, 'a'], [40, 'b'], [50, 'c']].forEach(([chunk, v]) => parts.push(su(v as string), 'r', u32((chunk as number) * 4096), '0'));
  for (let i = 0; i < 3000; i++) parts.push('J', u32(i), [0x94], '0'); // MEMOIZE: keys 3 .. 3002
  parts.push(su('z'), 'r', u32(5), '0'); // overwrite an early (map-resident) key after its chunk exists
  parts.push(binfloat(0.5), 'r', u32(2000), '0'); // and a chunk-resident one with an unboxed float
  parts.push('](');
  for (const k of [30 * 4096, 40 * 4096, 50 * 4096, 5, 6, 2000, 2001, 3002]) parts.push('j', u32(k));
  parts.push('e.');
  const r = run(cat(...parts));
  assert.equal(r.error, undefined, r.error?.reason);
  assert.deepEqual((r.values[0] as { items: PNode[] }).items, ['a', 'b', 'c', 'z', 3, 0.5, 1998, 2999]);
  assert.match(run(cat('\x80\x04N', 'r', u32(7), '0', 'j', u32(8), '.')).error?.reason ?? '', /memo key 8 does not exist/);
});

test('a memoized unboxed value overwritten by PUT under the same key is replaced, not mixed up', () => {
  const r = run(cat('\x80\x04](', su('first'), 'q\x00', '0', '}', 'q\x00', '0', binfloat(2.5), 'q\x01', '0', su('third'), 'q\x01', '0', 'h\x00h\x01e.'));
  assert.equal(r.error, undefined, r.error?.reason);
  const [a, b] = (r.values[0] as { items: PNode[] }).items;
  assert.equal((a as { kind: string }).kind, 'dict');
  assert.equal(b, 'third');
});

test('an unboxed scalar as APPENDS/SETITEMS/BUILD target fails like the C unpickler does for a str or float', () => {
  assert.match(run(cat('\x80\x04', su('s'), '(K\x01e.')).error?.reason ?? '', /APPEND/);
  assert.match(run(cat('\x80\x04', binfloat(1), '(K\x01K\x02u.')).error?.reason ?? '', /SETITEM/);
  assert.match(run(cat('\x80\x04', su('s'), 'K\x01a.')).error?.reason ?? '', /APPEND/);
});

test('second and later SETITEMS/APPENDS batches extend a parked container in order', () => {
  const parts: (string | number[] | Uint8Array)[] = ['\x80\x04}'];
  for (let batch = 0; batch < 3; batch++) {
    parts.push('(');
    for (let i = 0; i < 4; i++) parts.push(su(`k${batch}-${i}`), binfloat(batch * 10 + i));
    parts.push('u');
  }
  parts.push(su('one'), su('more'), 's.');
  const d = run(cat(...parts)).values[0] as { keys: PNode[]; values: PNode[] };
  assert.deepEqual(d.keys, [...Array.from({ length: 12 }, (_, j) => `k${Math.floor(j / 4)}-${j % 4}`), 'one']);
  assert.deepEqual(d.values, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 'more']);
  const l = run(cat('\x80\x04](K\x01', su('a'), 'e(', binfloat(1.5), 'K\x02ea', '.'));
  assert.match(l.error?.reason ?? '', /underflow|APPEND/); // 'a' with nothing to append: underflow
  const l2 = run(cat('\x80\x04](K\x01', su('a'), 'e(', binfloat(1.5), 'K\x02e', su('z'), 'a.'));
  assert.deepEqual((l2.values[0] as { items: PNode[] }).items, [1, 'a', 1.5, 2, 'z']);
});

test('a dict kept as a number until read is one node for every reference, whenever it is made', () => {
  // Parked, then fetched twice from the memo: the same node twice.
  const r1 = run(cat('\x80\x04}\x94(', su('k'), 'K\x01u', 'h\x00h\x00\x86.'));
  assert.equal(r1.error, undefined, r1.error?.reason);
  const [a, b] = (r1.values[0] as { items: PNode[] }).items as { keys: PNode[]; values: PNode[] }[];
  assert.ok(a === b, 'one node for both memo GETs');
  assert.deepEqual([a.keys, a.values], [['k'], [1]]);
  // Made into a node while empty (TUPLE1 pops it), then written through another memo GET: the tuple sees the items.
  const r2 = run(cat('\x80\x04}\x94h\x00\x85\x940h\x00(', su('k'), 'K\x01u00h\x01.'));
  assert.equal(r2.error, undefined, r2.error?.reason);
  const d2 = (r2.values[0] as { items: PNode[] }).items[0] as { keys: PNode[]; values: PNode[] };
  assert.deepEqual([d2.keys, d2.values], [['k'], [1]]);
  // A second SETITEMS batch on a parked dict reached through the memo, then SETITEM on the result.
  const r3 = run(cat('\x80\x04}\x94(', su('a'), 'K\x01u0h\x00(', su('b'), 'K\x02u', su('c'), 'K\x03s.'));
  assert.equal(r3.error, undefined, r3.error?.reason);
  const d3 = r3.values[0] as { keys: PNode[]; values: PNode[] };
  assert.deepEqual([d3.keys, d3.values], [['a', 'b', 'c'], [1, 2, 3]]);
  // Dicts inside dicts and lists, across several APPENDS batches, read back in order and shared where memoized.
  const r4 = run(cat('\x80\x04]\x94(}\x94(', su('x'), '}\x94(', su('y'), 'K\x01uu', 'h\x01e(h\x02}e(h\x01e.'));
  assert.equal(r4.error, undefined, r4.error?.reason);
  const items = (r4.values[0] as { items: PNode[] }).items as { keys: PNode[]; values: PNode[] }[];
  assert.equal(items.length, 5); // [outer, outer (GET), inner (GET), {}, outer (GET)]
  assert.ok(items[0] === items[1] && items[0] === items[4], 'memo GETs of the outer dict are the same node');
  assert.ok(items[0].values[0] === items[2], 'the inner dict from the memo is the node inside the outer dict');
  assert.deepEqual([items[0].keys, items[2].keys, items[2].values, items[3].keys], [['x'], ['y'], [1], []]);
  assert.ok(items[3] !== items[2]);
  assertOnlyGraphNodes(r4.values[0]);
  // A dict is no list: APPENDS onto it fails as the C unpickler does (dict has no append/extend).
  assert.match(run(cat('\x80\x04}(K\x01e.')).error?.reason ?? '', /APPEND/);
  assert.match(run(cat('\x80\x04}\x94(K\x01K\x02u0h\x00(K\x01e.')).error?.reason ?? '', /APPEND/);
});

test('a first batch bigger than the first slab chunk, and batches at the max chunk size, keep every item', () => {
  for (const n of [SLAB_FIRST_SLOTS - 1, SLAB_FIRST_SLOTS + 1, 1000, SLAB_MAX_SLOTS, SLAB_MAX_SLOTS + 1]) {
    const parts: (string | number[] | Uint8Array)[] = ['\x80\x04](']; // list: n items in one APPENDS
    for (let i = 0; i < n; i++) parts.push(i % 3 === 0 ? binfloat(i + 0.25) : i % 3 === 1 ? cat('J', u32(i)) : su(`s${i}`));
    parts.push('e}('); // then a dict with n / 2 pairs in one SETITEMS
    for (let i = 0; i < n >> 1; i++) parts.push(su(`k${i}`), cat('J', u32(i)));
    parts.push('u\x86.');
    const r = run(cat(...parts));
    assert.equal(r.error, undefined, r.error?.reason);
    const [list, dict] = (r.values[0] as { items: PNode[] }).items as unknown as [{ items: PNode[] }, { keys: PNode[]; values: PNode[] }];
    assert.deepEqual(list.items, Array.from({ length: n }, (_, i) => (i % 3 === 0 ? i + 0.25 : i % 3 === 1 ? i : `s${i}`)), `list of ${n}`);
    assert.deepEqual(dict.keys, Array.from({ length: n >> 1 }, (_, i) => `k${i}`), `dict of ${n >> 1}`);
    assert.deepEqual(dict.values, Array.from({ length: n >> 1 }, (_, i) => i));
  }
});

test('mutated record pickles never leak VM markers into the graph', () => {
  const parts: (string | number[] | Uint8Array)[] = ['\x80\x04]\x94('];
  for (let i = 0; i < 40; i++) parts.push('}\x94(', su('id'), 'J', u32(i), su('w'), binfloat(i / 3), su('tag'), su(`t${i}`), [0x94], 'u');
  parts.push('e.');
  const seed = new Uint8Array(cat(...parts));
  fc.assert(fc.property(fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }), (edits) => {
    const data = seed.slice();
    for (const e of edits) data[e.at % data.length] = e.byte;
    const r = run(data);
    for (const v of r.values) assertOnlyGraphNodes(v);
    for (const c of r.calls) assertOnlyGraphNodes(c);
  }), fcParams({ numRuns: 400 }));
});

test('a scalar-record graph retains far fewer heap bytes per record than per-dict arrays would', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const n = 20_000;
  const parts: Buffer[] = [cat('\x80\x04]\x94(')];
  for (let i = 0; i < n; i++) parts.push(cat('}\x94(', su('id'), 'J', u32(i), su('w'), binfloat(i / 3), su('tag'), su(`tag-${String(i).padStart(12, '0')}`), [0x94], su('ok'), '\x88u'));
  parts.push(cat('e.'));
  const data = Buffer.concat(parts);
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  const r = run(data);
  gc(); gc();
  const perRecord = (process.memoryUsage().heapUsed - before) / n;
  assert.equal((r.values[0] as { items: PNode[] }).items.length, n);
  // Two arrays per dict plus a boxed float and a string were ~260 bytes per record; the compact graph is ~150.
  assert.ok(perRecord < 200, `retained ${perRecord.toFixed(0)} heap bytes per record`);
});
