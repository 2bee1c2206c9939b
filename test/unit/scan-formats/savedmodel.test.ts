import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { savedModelHandler } from '../../../core/scan/formats/savedmodel';
import { scanFile, scanPaths } from '../../../core/scan/engine';
import { FIXTURES, scanFixture, scanWith } from './harness';

test('benign SavedModel (saver graph not reachable from the signature) is safe', () => {
  const r = scanFixture(savedModelHandler, 'savedmodel/benign/saved_model.pb');
  assert.equal(r.verdict, 'safe', JSON.stringify(r.findings));
  assert.equal(r.meta['metaGraph1.nodes'], '6');
  assert.equal(scanFile(path.join(FIXTURES, 'savedmodel/benign/saved_model.pb')).format, 'tf-savedmodel');
});

for (const [dir, code, verdict, re] of [
  ['readfile', 'TF001', 'suspicious', /ReadFile/],
  ['pyfunc', 'TF002', 'malicious', /EagerPyFunc/],
  ['saver-signature', 'TF003', 'suspicious', /serving_default/],
  ['printv2-file', 'TF001', 'suspicious', /PrintV2 writes to 'file:/],
] as const) {
  test(`savedmodel/${dir} → ${code}`, () => {
    const r = scanFixture(savedModelHandler, `savedmodel/${dir}/saved_model.pb`);
    const f = r.findings.find((x) => x.code === code);
    assert.ok(f, JSON.stringify(r.findings));
    assert.match(`${f!.message} ${f!.evidence}`, re);
    assert.equal(r.verdict, verdict);
  });
}

test('ReadFile inside a function is attributed to the function', () => {
  const r = scanFixture(savedModelHandler, 'savedmodel/readfile/saved_model.pb');
  assert.match(r.findings.find((f) => f.code === 'TF001')!.evidence ?? '', /function __inference_leak_1/);
  assert.ok(!r.codes.includes('TF003'), 'saver ops are not reachable here');
});

test('truncated SavedModel is never safe', () => {
  const data = fs.readFileSync(path.join(FIXTURES, 'savedmodel/benign/saved_model.pb'));
  for (let cut = 1; cut < data.length; cut += 7) assert.notEqual(scanWith(savedModelHandler, new Uint8Array(data.subarray(0, cut))).verdict, 'safe', `cut ${cut}`);
});

test('a native library in a SavedModel folder → TF005 via the folder check', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-sm-'));
  try {
    fs.copyFileSync(path.join(FIXTURES, 'savedmodel/benign/saved_model.pb'), path.join(dir, 'saved_model.pb'));
    fs.mkdirSync(path.join(dir, 'variables')); fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'assets/_ops.so'), '\x7fELF');
    const out = scanPaths([dir], { hash: false });
    const so = out.files.find((f) => f.path.endsWith('_ops.so'));
    assert.ok(so?.findings.some((f) => f.code === 'TF005'), JSON.stringify(out.files.map((f) => [f.path, f.findings])));
    assert.equal(out.files.find((f) => f.path.endsWith('saved_model.pb'))?.verdict, 'safe');
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
