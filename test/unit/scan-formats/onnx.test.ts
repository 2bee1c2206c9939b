import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnxHandler } from '../../../core/scan/formats/onnx';
import { fdSource } from '../../../core/scan/bytes';
import { FIXTURES, scanFixture, scanWith } from './harness';

test('benign ONNX (real onnx export) is safe and lists initializers', () => {
  const r = scanFixture(onnxHandler, 'onnx/benign.onnx');
  assert.equal(r.verdict, 'safe', JSON.stringify(r.findings));
  assert.deepEqual(r.tensors, [{ name: 'w', dtype: 'F32', shape: [4], bytes: 16 }]);
  assert.ok(onnxHandler.sniff(fs.readFileSync(path.join(FIXTURES, 'onnx/benign.onnx')), 'm.onnx', 100) > 50);
});

test('external data next to the model is safe', () => {
  assert.equal(scanFixture(onnxHandler, 'onnx/external-ok.onnx').verdict, 'safe');
});

for (const [file, code, re] of [
  ['onnx/external-dotdot.onnx', 'ONNX002', /'\.\.'/],
  ['onnx/external-absolute.onnx', 'ONNX002', /absolute/],
  ['onnx/custom-domain.onnx', 'ONNX003', /com\.evil\.ops/],
  ['onnx/raw-size.onnx', 'ONNX004', /64 bytes/],
] as const) {
  test(`${file} → ${code}`, () => {
    const r = scanFixture(onnxHandler, file);
    const f = r.findings.find((x) => x.code === code);
    assert.ok(f, JSON.stringify(r.findings));
    assert.match(f!.message, re);
    assert.equal(r.verdict, 'suspicious');
  });
}

test('external data through a symlink that leaves the folder → ONNX002', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-onnx-'));
  try {
    const model = fs.readFileSync(path.join(FIXTURES, 'onnx/external-ok.onnx'));
    fs.writeFileSync(path.join(dir, 'm.onnx'), model);
    fs.symlinkSync('/etc/hostname', path.join(dir, 'weights.bin'));
    const r = scanWith(onnxHandler, new Uint8Array(model), {}, path.join(dir, 'm.onnx'));
    assert.ok(r.findings.some((f) => f.code === 'ONNX002' && /symlink/.test(f.message)), JSON.stringify(r.findings));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('truncated ONNX is unscannable, never safe', () => {
  const model = fs.readFileSync(path.join(FIXTURES, 'onnx/benign.onnx'));
  for (const cut of [3, 10, 30, model.length - 2]) {
    const r = scanWith(onnxHandler, new Uint8Array(model.subarray(0, cut)));
    assert.notEqual(r.verdict, 'safe', `cut at ${cut}`);
  }
});

test('deep nesting hits the depth limit', () => {
  // graph → node → attribute(g) → graph … 100 levels
  let g = Buffer.alloc(0);
  const ld = (num: number, payload: Buffer) => { const len: number[] = []; let n = payload.length; do { len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0)); n >>>= 7; } while (n); return Buffer.concat([Buffer.from([(num << 3) | 2, ...len]), payload]); };
  for (let i = 0; i < 100; i++) g = ld(1, ld(5, ld(6, g))); // node{attribute{g{…}}}
  const model = Buffer.concat([Buffer.from([0x08, 0x08]), ld(7, g)]);
  const r = scanWith(onnxHandler, new Uint8Array(model));
  assert.equal(r.verdict, 'unscannable');
  assert.ok(r.findings.some((f) => f.code === 'ONNX001' && /nesting/.test(f.message)));
});

test('2 GB ONNX with a small graph scans without reading tensor bytes', () => {
  const file = path.join(os.tmpdir(), `mv-big-${process.pid}.onnx`);
  const n = 2 * 1024 ** 3 - 1024;
  // graph { initializer { dims: n/4, data_type: 1, name: "big", raw_data: <n bytes> } }
  const varint = (v: number) => { const o: number[] = []; while (v > 0x7f) { o.push((v % 128) | 0x80); v = Math.floor(v / 128); } o.push(v); return Buffer.from(o); };
  const tensorHead = Buffer.concat([Buffer.from([0x08]), varint(n / 4), Buffer.from([0x10, 0x01, 0x42, 0x03]), Buffer.from('big'), Buffer.from([0x4a]), varint(n)]);
  const tensorLen = tensorHead.length + n;
  const graphHead = Buffer.concat([Buffer.from([0x2a]), varint(tensorLen)]);
  const head = Buffer.concat([Buffer.from([0x08, 0x08, 0x42, 0x02, 0x10, 0x0d, 0x3a]), varint(graphHead.length + tensorLen), graphHead, tensorHead]);
  const fd = fs.openSync(file, 'w+');
  try {
    fs.writeSync(fd, head, 0, head.length, 0);
    fs.ftruncateSync(fd, head.length + n);
    const t0 = performance.now();
    const r = scanWith(onnxHandler, fdSource(fd, head.length + n));
    const ms = performance.now() - t0;
    assert.equal(r.verdict, 'safe', JSON.stringify(r.findings));
    assert.equal(r.tensors[0].bytes, n);
    assert.ok(ms < 500, `${ms} ms`);
  } finally { fs.closeSync(fd); fs.rmSync(file, { force: true }); }
});
