// Every generated fixture gets the verdict expected.json demands; malicious ones name the right global.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanFile } from '../../../core/scan/engine';

const dir = path.join(__dirname, '../../fixtures/models');
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, { verdicts: string[]; global: string | null; note: string }>;

for (const [rel, exp] of Object.entries(expected)) {
  test(`fixture ${rel} → ${exp.verdicts.join('|')}`, () => {
    const r = scanFile(path.join(dir, rel));
    const detail = JSON.stringify(r.findings.slice(0, 5), null, 1);
    assert.ok(exp.verdicts.includes(r.verdict), `${rel}: got ${r.verdict}, want ${exp.verdicts.join('|')}\n${detail}`);
    if (exp.global) {
      const named = r.findings.some((f) => f.message.includes(exp.global!) || (f.evidence ?? '').includes(exp.global!)) ||
        r.globals.some((g) => `${g.module}.${g.name}`.includes(exp.global!) && g.status !== 'allowed');
      assert.ok(named, `${rel}: no finding names ${exp.global}\n${detail}`);
    }
    if (rel.startsWith('benign/')) {
      assert.ok(r.globals.every((g) => g.status === 'allowed'), `${rel}: non-allowed globals ${JSON.stringify(r.globals.filter((g) => g.status !== 'allowed'))}`);
      assert.match(r.sha256, /^[0-9a-f]{64}$/);
    }
    if (rel.startsWith('unscannable/')) assert.ok(r.findings.length > 0, 'unscannable files carry the reason');
  });
}

test('benign torch state dict reports its tensors', () => {
  const r = scanFile(path.join(dir, 'benign/torch_linear_state_dict.pt'));
  assert.equal(r.format, 'pytorch-zip');
  assert.deepEqual(r.tensors?.map((t) => [t.name, t.dtype, t.shape.join('x'), t.bytes]), [['weight', 'float32', '3x4', 48], ['bias', 'float32', '3', 12]]);
});

test('legacy checkpoint: tensors from the object pickle, storages skipped by size', () => {
  const r = scanFile(path.join(dir, 'benign/torch_legacy_checkpoint.pt'));
  assert.equal(r.format, 'pytorch-legacy');
  assert.ok((r.tensors ?? []).some((t) => t.name === 'model.0.weight' && t.shape.join('x') === '2x1x3x3'));
});

test('formats are detected by content', () => {
  const fmt = (f: string) => scanFile(path.join(dir, f)).format;
  assert.equal(fmt('benign/sklearn_pipeline.joblib'), 'joblib');
  assert.equal(fmt('benign/numpy_arrays.npz'), 'npz');
  assert.equal(fmt('benign/numpy_float.npy'), 'numpy');
  assert.equal(fmt('benign/torchscript_linear.pt'), 'torchscript');
  assert.equal(fmt('benign/state_dict_no_extension'), 'pytorch-zip');
  assert.equal(fmt('malicious/pytorch_model.bin'), 'pickle');
});
