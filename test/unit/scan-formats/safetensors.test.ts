import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { safetensorsHandler } from '../../../core/scan/formats/safetensors';
import { checkJsonKeys } from '../../../core/scan/formats/json-keys';
import { fdSource } from '../../../core/scan/bytes';
import { scanFixture, scanWith } from './harness';

test('benign safetensors is safe, tensors and metadata reported', () => {
  const r = scanFixture(safetensorsHandler, 'st/benign.safetensors');
  assert.equal(r.verdict, 'safe', JSON.stringify(r.findings));
  assert.deepEqual(r.tensors.map((t) => t.name).sort(), ['fc.bias', 'fc.weight']);
  assert.deepEqual(r.tensors.find((t) => t.name === 'fc.weight')?.shape, [64, 32]);
  assert.equal(r.meta.format, 'pt');
  assert.equal(safetensorsHandler.sniff(fs.readFileSync('test/fixtures/formats/st/benign.safetensors').subarray(0, 4096), 'x', 8500), 90);
});

for (const [file, code, verdict] of [
  ['st/overlap.safetensors', 'ST005', 'suspicious'],
  ['st/header-beyond.safetensors', 'ST001', 'unscannable'],
  ['st/duplicate-keys.safetensors', 'ST003', 'suspicious'],
  ['st/bad-dtype.safetensors', 'ST004', 'suspicious'],
  ['st/trailing-bytes.safetensors', 'ST006', 'suspicious'],
  ['st/bad-metadata.safetensors', 'ST007', 'suspicious'],
] as const) {
  test(`${file} → ${code}`, () => {
    const r = scanFixture(safetensorsHandler, file);
    assert.ok(r.codes.includes(code), JSON.stringify(r.findings));
    assert.equal(r.verdict, verdict);
  });
}

test('header above the cap is unscannable', () => {
  const hdr = Buffer.from('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  const b = Buffer.alloc(8 + hdr.length + 4); b.writeBigUInt64LE(BigInt(hdr.length)); hdr.copy(b, 8);
  const r = scanWith(safetensorsHandler, new Uint8Array(b), { limits: { ...require('../../../core/scan/format').DEFAULT_LIMITS, maxHeaderBytes: 16 } });
  assert.equal(r.verdict, 'unscannable');
  assert.ok(r.codes.includes('ST001'));
});

test('shape × dtype overflow is caught with checked arithmetic', () => {
  const hdr = Buffer.from(JSON.stringify({ a: { dtype: 'F64', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }));
  const b = Buffer.alloc(8 + hdr.length + 8); b.writeBigUInt64LE(BigInt(hdr.length)); hdr.copy(b, 8);
  const r = scanWith(safetensorsHandler, new Uint8Array(b));
  assert.ok(r.codes.includes('ST005'));
  assert.notEqual(r.verdict, 'safe');
});

test('strict JSON key checker finds nested duplicates and syntax errors', () => {
  assert.deepEqual(checkJsonKeys('{"a":{"x":1,"x":2},"b":[{"y":1,"y":1}]}').duplicates, ['a.x', 'b[0].y']);
  assert.deepEqual(checkJsonKeys('{"a":1,"b":"\\"a\\""}').duplicates, []);
  assert.ok(checkJsonKeys('{"a":1,}').error);
  assert.ok(checkJsonKeys('{"a":1} x').error);
  assert.ok(checkJsonKeys('['.repeat(100) + ']'.repeat(100)).error, 'depth limit');
});

test('a 10 GB sparse safetensors file is judged from its header quickly', () => {
  const file = path.join(os.tmpdir(), `mv-sparse-${process.pid}.safetensors`);
  const n = 10 * 1024 ** 3;
  const hdr = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [n / 4], data_offsets: [0, n] } }));
  const fd = fs.openSync(file, 'w+');
  try {
    const lenBuf = Buffer.alloc(8); lenBuf.writeBigUInt64LE(BigInt(hdr.length));
    fs.writeSync(fd, lenBuf, 0, 8, 0); fs.writeSync(fd, hdr, 0, hdr.length, 8);
    fs.ftruncateSync(fd, 8 + hdr.length + n);
    const t0 = performance.now();
    const r = scanWith(safetensorsHandler, fdSource(fd, 8 + hdr.length + n), { weights: false });
    const ms = performance.now() - t0;
    assert.equal(r.verdict, 'safe');
    assert.ok(ms < 200, `${ms} ms`);
  } finally { fs.closeSync(fd); fs.rmSync(file, { force: true }); }
});
