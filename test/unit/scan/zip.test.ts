// Zip reader: structure problems are reported, PyTorch-style tolerance, limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readZip, registerZipClassifier } from '../../../core/scan/zip';
import { memorySource, readAll } from '../../../core/scan/bytes';
import { scanBytes } from '../../../core/scan/engine';
import { makeZip } from './containers';

const PAYLOAD = Buffer.from('\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.', 'latin1');
const BENIGN = Buffer.from('\x80\x02}q\x00.', 'latin1');

test('reads stored and deflate members', () => {
  const z = readZip(memorySource(makeZip([{ name: 'a.bin', data: Buffer.from('hello') }, { name: 'b.bin', data: Buffer.alloc(1000, 7), deflate: true }])))!;
  assert.deepEqual(z.entries.map((e) => [e.name, e.method, e.size]), [['a.bin', 0, 5], ['b.bin', 8, 1000]]);
  assert.equal(Buffer.from(readAll(z.openEntry(z.entries[1], 10_000)!)).toString(), Buffer.alloc(1000, 7).toString());
  assert.deepEqual(z.problems, []);
});

test('CRC mismatch is tolerated (the member is still scanned) but reported', () => {
  const r = scanBytes('m.pt', makeZip([{ name: 'archive/data.pkl', data: PAYLOAD, crc: 0x1234 }]));
  assert.equal(r.verdict, 'malicious');
  assert.ok(r.findings.some((f) => f.code === 'ZIP001'));
  assert.ok(r.findings.some((f) => f.code === 'PKL001' && f.location.member === 'archive/data.pkl'));
});

test('duplicate names, traversal, local/central disagreement are reported', () => {
  const r = scanBytes('m.zip', makeZip([{ name: 'x/data.pkl', data: BENIGN }, { name: 'x/data.pkl', data: BENIGN }, { name: '../evil', data: Buffer.from('a') }, { name: 'c', data: Buffer.from('b'), localName: 'd' }]));
  const codes = new Set(r.findings.map((f) => f.code));
  for (const c of ['ZIP002', 'ZIP003', 'ZIP004']) assert.ok(codes.has(c), c);
  assert.notEqual(r.verdict, 'safe');
});

test('encrypted members and zip bombs are unscannable with a reason', () => {
  const enc = scanBytes('e.zip', makeZip([{ name: 'data.pkl', data: BENIGN, flags: 1 }]));
  assert.equal(enc.verdict, 'unscannable');
  assert.ok(enc.findings.some((f) => f.code === 'ZIP006'));
  const bomb = scanBytes('b.zip', makeZip([{ name: 'inner.bin', data: Buffer.alloc(50 * 1024 * 1024), deflate: true }]), { limits: { maxDecompressedBytes: 1024 * 1024 } as never });
  assert.equal(bomb.verdict, 'unscannable');
  assert.ok(bomb.findings.some((f) => f.code === 'ZIP009'), JSON.stringify(bomb.findings));
});

test('every member is routed by content: a payload in data.txt is found', () => {
  const r = scanBytes('m.zip', makeZip([{ name: 'data.txt', data: PAYLOAD, deflate: true }]));
  assert.equal(r.verdict, 'malicious');
});

test('a registered zip classifier claims archives before the built-in logic', () => {
  let scanned = 0;
  registerZipClassifier({ id: 'test-claim', claims: (a) => a.entries.some((e) => e.name === 'claim-me.json'), scan: () => { scanned++; } });
  const r = scanBytes('k.zip', makeZip([{ name: 'claim-me.json', data: Buffer.from('{}') }]));
  assert.equal(scanned, 1);
  assert.equal(r.format, 'test-claim');
});

test('large deflated members: prefix for sniffing, full (limited) inflate only when a handler reads on', () => {
  // A 10 MB pickle whose payload sits at the very end: the whole member must be read.
  const batch = Buffer.concat([Buffer.from('(', 'latin1'), Buffer.from('K\x07'.repeat(1000), 'latin1'), Buffer.from('e', 'latin1')]); // APPENDS batches like the pickler's
  const big = Buffer.concat([Buffer.from('\x80\x04]\x94', 'latin1'), ...Array.from({ length: 5000 }, () => batch), Buffer.from('0', 'latin1'), PAYLOAD.subarray(2)]);
  const r = scanBytes('big.zip', makeZip([{ name: 'model.bin', data: big, deflate: true }]));
  assert.equal(r.verdict, 'malicious', JSON.stringify(r.findings));
  // A 12 MB .npy member: only the header is needed.
  const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1500000,), }";
  const padded = header + ' '.repeat(118 - header.length) + '\n';
  const npy = Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from([padded.length, 0]), Buffer.from(padded), Buffer.alloc(12_000_000)]);
  const n = scanBytes('a.npz', makeZip([{ name: 'a.npy', data: npy, deflate: true }]));
  assert.equal(n.verdict, 'safe', JSON.stringify(n.findings));
  assert.deepEqual(n.tensors?.map((t) => [t.name, t.shape[0], t.bytes]), [['a.npy', 1500000, 12_000_000]]);
});
