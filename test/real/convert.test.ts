/**
 * Live cross-check of the SafeTensors converter with the real libraries (extended suite: `npm run test:real`,
 * needs MODELVET_PYTHON — default /usr/bin/python3 — with Debian's python3-torch, python3-numpy, python3-joblib).
 * The default suite (test/unit/convert) compares against the committed expected.json; this suite proves
 * that those committed values are what torch/numpy really load, and converts a freshly generated set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertToSafetensors, convertTuning } from '../../core/convert/index';
import { runPythonOk } from '../helpers/python';

const FIXTURES = path.resolve(__dirname, '../fixtures/convert');
const MODULES = ['numpy', 'torch', 'joblib'];
let dir = '';

interface ExpectedFile { tensors?: Record<string, { dtype: string; shape: number[] }>; [k: string]: unknown }
type Expected = { files: Record<string, ExpectedFile> };
const committed = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelvet-convert-real-'));
  runPythonOk([path.join(FIXTURES, 'generate.py'), path.join(dir, 'src')], { modules: MODULES });
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

function checkWithPython(source: string, output: string): string {
  return runPythonOk([path.join(FIXTURES, 'check.py'), source, output], { modules: MODULES });
}

test('the committed expected.json is what the real libraries load from the committed fixtures', () => {
  const live = JSON.parse(runPythonOk([path.join(FIXTURES, 'generate.py'), '--expect', path.join(FIXTURES, 'src')], { modules: MODULES })) as Expected;
  assert.deepEqual(live.files, committed.files);
});

test('a freshly generated set has the committed set\'s names, dtypes and shapes', () => {
  const fresh = JSON.parse(fs.readFileSync(path.join(dir, 'src', 'expected.json'), 'utf8')) as Expected;
  const shape = (e: Expected) => Object.fromEntries(Object.entries(e.files).map(([name, f]) => [name,
    f.tensors ? Object.fromEntries(Object.entries(f.tensors).map(([k, t]) => [k, [t.dtype, t.shape]])) : 'refused']));
  assert.deepEqual(shape(fresh), shape(committed));
});

const CONVERTIBLE = Object.entries(committed.files).filter(([, f]) => f.tensors).map(([name]) => name);

for (const name of CONVERTIBLE) {
  test(`a freshly generated ${name} converts to what torch/numpy load (checked by check.py)`, () => {
    const source = path.join(dir, 'src', name);
    const r = convertToSafetensors(source, { output: path.join(dir, `${name}.safetensors`) });
    assert.ok(r.ok, `refused: ${!r.ok && r.reason}`);
    if (!r.ok) return;
    assert.match(checkWithPython(source, r.output), /^OK /);
  });
}

test('worker-thread hashing path gives files the real libraries accept', () => {
  const saved = convertTuning.parallelHashMinBytes;
  try {
    convertTuning.parallelHashMinBytes = 0;
    for (const name of ['views.pt', 'array.npy', 'legacy.pt']) {
      const source = path.join(dir, 'src', name);
      const r = convertToSafetensors(source, { output: path.join(dir, `${name}-worker.safetensors`) });
      assert.ok(r.ok, !r.ok ? r.reason : '');
      if (r.ok) assert.match(checkWithPython(source, r.output), /^OK /);
    }
  } finally { convertTuning.parallelHashMinBytes = saved; }
});
