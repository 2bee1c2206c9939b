import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanFile, scanBytes } from '../../../core/scan/engine';
import { hdf5Handler, reviewKerasConfig } from '../../../core/scan/formats/keras';
import { FIXTURES, makeContext, scanFixture, scanWith } from './harness';

const codes = (r: { findings: { code: string }[] }) => new Set(r.findings.map((f) => f.code));

test('benign .keras is safe end-to-end (zip reader + classifier)', () => {
  const r = scanFile(path.join(FIXTURES, 'keras/benign.keras'));
  assert.equal(r.format, 'keras');
  assert.equal(r.verdict, 'safe', JSON.stringify(r.findings));
});

for (const [file, code, verdict] of [
  ['keras/lambda-bytecode.keras', 'KERAS001', 'malicious'],
  ['keras/module-outside.keras', 'KERAS003', 'suspicious'],
  ['keras/tfsmlayer.keras', 'KERAS004', 'suspicious'],
] as const) {
  test(`${file} → ${code}`, () => {
    const r = scanFile(path.join(FIXTURES, file));
    assert.equal(r.format, 'keras');
    assert.ok(codes(r).has(code), JSON.stringify(r.findings));
    assert.equal(r.verdict, verdict);
  });
}

test('legacy h5: benign safe, Lambda bytecode malicious (real h5py files)', () => {
  const b = scanFixture(hdf5Handler, 'h5/benign.h5');
  assert.equal(b.verdict, 'safe', JSON.stringify(b.findings));
  assert.equal(b.meta.keras_version, '2.15.0');
  const m = scanFixture(hdf5Handler, 'h5/lambda-bytecode.h5');
  assert.equal(m.verdict, 'malicious');
  assert.ok(m.codes.includes('KERAS001'));
  assert.equal(scanFile(path.join(FIXTURES, 'h5/lambda-bytecode.h5')).format, 'hdf5');
});

test('hostile HDF5 (truncated / garbage after the signature) is unscannable, never a crash', () => {
  const data = fs.readFileSync(path.join(FIXTURES, 'h5/lambda-bytecode.h5'));
  for (const cut of [8, 100, 600, 2000]) {
    const r = scanWith(hdf5Handler, new Uint8Array(data.subarray(0, cut)));
    assert.notEqual(r.verdict, 'safe', `cut ${cut}`);
  }
  const junk = new Uint8Array(4096); junk.set(data.subarray(0, 8)); junk.fill(0xff, 8);
  assert.equal(scanWith(hdf5Handler, junk).verdict, 'unscannable');
});

test('config walker: nested Lambda without bytecode, get_file gadget, unsafe deserialization, keras modules allowed', () => {
  const { ctx, out } = makeContext();
  reviewKerasConfig({
    module: 'keras', class_name: 'Functional', config: { layers: [
      { module: 'keras.src.models', class_name: 'Sequential', config: { layers: [{ module: 'keras.layers', class_name: 'Lambda', config: { name: 'l', function: 'mymod.fn' } }] } },
      { module: 'keras.src.utils.file_utils', class_name: 'function', config: 'get_file' },
      { module: 'keras.config', class_name: 'function', config: 'enable_unsafe_deserialization' },
      { module: 'builtins', class_name: 'tuple', config: [1, 2] },
    ] },
  }, ctx, 'config.json');
  const c = new Set(out.findings.map((f) => f.code));
  assert.deepEqual([...c].sort(), ['KERAS002', 'KERAS004', 'KERAS005']);
});

test('a .keras with a pickle smuggled as an asset is scanned as nested content', () => {
  const r = scanBytes('m.keras', fs.readFileSync(path.join(FIXTURES, 'keras/pickle-asset.keras')));
  assert.equal(r.verdict, 'malicious', JSON.stringify(r.findings));
  assert.ok(r.findings.some((f) => f.location.member === 'assets/tokenizer.bin' && f.severity === 'critical'));
  assert.equal(scanBytes('m.keras', fs.readFileSync(path.join(FIXTURES, 'keras/benign.keras'))).verdict, 'safe');
});
