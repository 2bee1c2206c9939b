// What counts as a pickle is what the C unpickler accepts: any valid first opcode. A benign or malicious
// pickle behind a random push-then-POP prefix (LONG1/LONG4, BINBYTES8, EMPTY_SET, BYTEARRAY8, BINUNICODE8, …)
// gets the same verdict and globals as the unprefixed pickle — at top level and inside every container a
// loader unpickles from (zip member, torch.storage._load_from_bytes bytes, a joblib zlib stream, a tar member).
// Property test, seeded (test/helpers/seed.ts: MODELVET_SEED or random; the seed is printed on failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { SEED, fcParams } from '../../helpers/seed';
import { scanBytes } from '../../../core/scan/engine';
import { sniffPickle } from '../../../core/scan/pickle/vm';
import { makeTar, makeZip, loadFromBytes } from './containers';
import { loadRecords, loadStreams } from './framing-oracle';

const dir = path.join(__dirname, '../../fixtures/models');
const BASES = [
  'benign/structure_p0.pkl', 'benign/structure_p1.pkl', 'benign/structure_p2.pkl', 'benign/structure_p4.pkl', 'benign/structure_p5.pkl',
  'benign/sklearn_tree.pkl', 'benign/pandas_series.pkl', 'benign/numpy_pickle_p2.pkl', 'benign/sklearn_tree.joblib', 'benign/torch_legacy_state_dict.bin',
  'malicious/reduce_os_system_p0.pkl', 'malicious/reduce_os_system_p2.pkl', 'malicious/stack_global_memo.pkl', 'malicious/custom_class.pkl',
  'malicious/inst_opcode_p0.pkl', 'malicious/joblib_payload_after_array.joblib', 'malicious/torch_legacy_with_payload.pt',
].map((f) => ({ name: f, data: new Uint8Array(fs.readFileSync(path.join(dir, f))) }));

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeUInt32LE(n); return b; };
const op = (code: number, ...parts: Uint8Array[]) => Buffer.concat([Buffer.from([code]), ...parts]);

/** One value-pushing opcode (or MARK) followed by POP: the C unpickler runs it and discards the value. */
const pushThenPop: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 12 }).map((b) => op(0x8a, Buffer.from([b.length]), b)), // LONG1
  fc.uint8Array({ maxLength: 12 }).map((b) => op(0x8b, u32(b.length), b)), // LONG4
  fc.uint8Array({ maxLength: 40 }).map((b) => op(0x8e, u64(b.length), b)), // BINBYTES8
  fc.uint8Array({ maxLength: 40 }).map((b) => op(0x96, u64(b.length), b)), // BYTEARRAY8
  fc.string({ maxLength: 20 }).map((s) => { const b = Buffer.from(s, 'utf8'); return op(0x8d, u64(b.length), b); }), // BINUNICODE8
  fc.string({ maxLength: 20 }).map((s) => { const b = Buffer.from(s, 'utf8'); return op(0x58, u32(b.length), b); }), // BINUNICODE
  fc.uint8Array({ maxLength: 40 }).map((b) => op(0x42, u32(b.length), b)), // BINBYTES
  fc.uint8Array({ maxLength: 40 }).map((b) => op(0x43, Buffer.from([b.length]), b)), // SHORT_BINBYTES
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return op(0x4a, b); }), // BININT
  fc.integer({ min: -1e9, max: 1e9 }).map((n) => Buffer.from(`I${n}\n`, 'latin1')), // INT
  fc.double({ noNaN: true }).map((d) => { const b = Buffer.alloc(8); b.writeDoubleBE(d); return op(0x47, b); }), // BINFLOAT
  fc.constantFrom(0x8f, 0x5d, 0x7d, 0x29, 0x4e, 0x88, 0x89, 0x28).map((c) => Buffer.from([c])), // EMPTY_SET/LIST/DICT/TUPLE, NONE, TRUE, FALSE, MARK
  fc.constant(Buffer.from('(\x8c\x01a\x91', 'latin1')), // MARK … FROZENSET
).map((b) => Buffer.concat([b, Buffer.from([0x30])]));
const prefix = fc.array(pushThenPop, { minLength: 1, maxLength: 4 }).map((xs) => Buffer.concat(xs));

type Wrap = { name: string; wrap(p: Uint8Array): Uint8Array };
const WRAPS: Wrap[] = [
  { name: 'top level', wrap: (p) => p },
  { name: 'zip member', wrap: (p) => makeZip([{ name: 'payload/blob', data: p }, { name: 'payload/readme.txt', data: Buffer.from('hello\n') }]) },
  { name: '_load_from_bytes', wrap: (p) => loadFromBytes(p) },
  { name: 'joblib zlib stream', wrap: (p) => zlib.deflateSync(p, { level: 3 }) },
  { name: 'tar member', wrap: (p) => makeTar([{ name: 'model/blob', data: p }]) },
];

function summary(data: Uint8Array) {
  const r = scanBytes('stream', data, { hash: false });
  const globals = [...new Set(r.globals.map((g) => `${g.module}.${g.name}:${g.status}`))].sort();
  return { verdict: r.verdict, globals, codes: [...new Set(r.findings.map((f) => f.code))].sort() };
}

test('every prefix opcode is a valid pickle start: prefixed pickles sniff as pickles', () => {
  fc.assert(fc.property(prefix, fc.integer({ min: 0, max: BASES.length - 1 }), (pre, bi) => {
    const data = Buffer.concat([pre, BASES[bi].data]);
    assert.ok(sniffPickle(data.subarray(0, 4096)) > 0, `not sniffed: ${data.subarray(0, 24).toString('hex')}`);
  }), fcParams({ numRuns: 300 }));
});

for (const w of WRAPS) {
  test(`push-then-POP prefixes change neither verdict nor globals (${w.name})`, () => {
    const plain = BASES.map((b) => summary(w.wrap(b.data)));
    // The unprefixed pickles themselves: benign ones safe, malicious ones not (else the property is vacuous).
    BASES.forEach((b, i) => assert.equal(plain[i].verdict === 'safe', b.name.startsWith('benign/'), `${w.name} ${b.name}: ${JSON.stringify(plain[i])}`));
    fc.assert(fc.property(prefix, fc.integer({ min: 0, max: BASES.length - 1 }), (pre, bi) => {
      const got = summary(w.wrap(Buffer.concat([pre, BASES[bi].data])));
      assert.deepEqual({ verdict: got.verdict, globals: got.globals }, { verdict: plain[bi].verdict, globals: plain[bi].globals },
        `${w.name} ${BASES[bi].name} with prefix ${pre.toString('hex')} (seed ${SEED})`);
    }), fcParams({ numRuns: 60 }));
  });
}

test('random benign pickles (CPython-made, test/fixtures/framing) keep verdict and globals behind random prefixes, in every container', () => {
  const rec = loadRecords(path.join(__dirname, '../../fixtures/framing'));
  const streams = loadStreams(path.join(__dirname, '../../fixtures/framing'));
  const loadable = streams.filter((_, i) => 'ok' in (rec.records[i].readings.loads as object));
  assert.ok(loadable.length > 200);
  fc.assert(fc.property(prefix, fc.integer({ min: 0, max: loadable.length - 1 }), fc.integer({ min: 0, max: WRAPS.length - 1 }), (pre, i, wi) => {
    const w = WRAPS[wi];
    const plain = summary(w.wrap(loadable[i]));
    const got = summary(w.wrap(Buffer.concat([pre, loadable[i]])));
    assert.deepEqual({ verdict: got.verdict, globals: got.globals }, { verdict: plain.verdict, globals: plain.globals }, `${w.name} stream ${i} prefix ${pre.toString('hex')}`);
  }), fcParams({ numRuns: 200 }));
});

test('a nested stream nothing recognizes is unscannable (SCAN006), never skipped; text and raw storages are not', () => {
  const blob = Buffer.from([0x01, 0x02, 0xfe, 0xfd, 0x00, 0x11, 0x7f, 0x80, 0x81, 0x99]);
  for (const w of WRAPS.slice(1)) {
    const r = scanBytes('stream', w.wrap(blob), { hash: false });
    assert.equal(r.verdict, 'unscannable', `${w.name}: ${JSON.stringify(r.findings)}`);
    assert.ok(r.findings.some((f) => f.code === 'SCAN006'), w.name);
  }
  const text = scanBytes('t.zip', makeZip([{ name: 'a/config.json', data: Buffer.from('{"a": 1}\n') }, { name: 'a/notes.md', data: Buffer.from('# héllo\n') }]), { hash: false });
  assert.equal(text.verdict, 'safe', JSON.stringify(text.findings));
});
