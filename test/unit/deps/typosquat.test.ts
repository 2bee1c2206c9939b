import { test } from 'node:test';
import assert from 'node:assert/strict';
import popular from '../../../core/data/popular-packages.json';
import confusions from '../../../core/data/name-confusions.json';
import compromised from '../../../core/data/compromised.json';
import ml from '../../../core/data/ml-packages.json';
import { checkPackageName, ultraNormalize } from '../../../core/deps/typosquat';

test('precision: DEP001 over all 15,000 popular names flags only justified names', () => {
  assert.equal(popular.names.length, 15000);
  const flagged = popular.names.filter((n) => checkPackageName(n)).sort();
  // Each is a placeholder that is popular only because people type it by mistake.
  const justified: Record<string, string> = {
    beautifulsoup: 'Python 2-only BS3; users mean beautifulsoup4',
    pytorch: 'placeholder that raises an error telling users to install torch',
    sklearn: 'deprecated brownout package that fails to install; the real name is scikit-learn',
    'tensorflow-gpu': 'removed since TensorFlow 2.12; install tensorflow',
  };
  assert.deepEqual(flagged, Object.keys(justified).sort());
  assert.ok(flagged.length <= 10);
});

test('real ML siblings are never flagged', () => {
  for (const n of ['torchvision', 'torchaudio', 'tensorflow-cpu', 'onnxruntime-gpu', 'opencv-contrib-python-headless', 'pytorch-lightning', 'lightning', 'tf-keras', 'jaxlib', 'flash-attn', 'pytorch-triton', 'sentence-transformers', 'llama-cpp-python', ...ml.names]) {
    assert.equal(checkPackageName(n), undefined, n);
  }
});

test('generators: edit distance, swaps, repeats, omissions, keyboard, separators, homoglyphs, affixes, words', () => {
  const cases: Array<[string, string, string]> = [
    ['reqeusts', 'requests', 'swapped-chars'],
    ['requets', 'requests', 'omitted-char'],
    ['requestss', 'requests', 'repeated-char'],
    ['nunpy', 'numpy', 'keyboard-typo'],
    ['transformerp', 'transformers', 'substituted-char'],
    ['tourch', 'torch', 'extra-char'],
    ['scikitlearn', 'scikit-learn', 'separator'],
    ['Scikit_Learn', 'scikit-learn', undefined as unknown as string],
    ['tensorfl0w', 'tensorflow', 'homoglyph'],
    ['nump\u0443', 'numpy', 'homoglyph'],
    ['torch-nightly', 'torch', 'affix'],
    ['torchaudio-nightly', 'torchaudio', 'affix'],
    ['numpy-cu121', 'numpy', 'affix'],
    ['openai-sdk', 'openai', 'affix'],
    ['python-numpy', 'numpy', 'python-affix'],
    ['dateutil-python', 'python-dateutil', 'swapped-words'],
    ['sklearn', 'scikit-learn', 'placeholder'],
    ['torchtriton', 'pytorch-triton', 'malicious'],
  ];
  for (const [name, intended, kind] of cases) {
    const c = checkPackageName(name);
    if (kind === undefined) { assert.equal(c, undefined, `${name} is just another spelling of the real name`); continue; }
    assert.ok(c, name);
    assert.equal(c!.intended, intended, name);
    assert.equal(c!.kind, kind, name);
  }
});

test('unrelated or too-short names are not flagged', () => {
  for (const n of ['my-company-internal-utils', 'zzqxw', 'abc', 'foo', 'modelvet-test-pkg']) assert.equal(checkPackageName(n), undefined, n);
});

test('ultra-normalization folds separators and look-alikes', () => {
  assert.equal(ultraNormalize('Py-Torch_Lightning'), ultraNormalize('pytorchlightning'));
  assert.equal(ultraNormalize('c0l0r'), ultraNormalize('color'));
  assert.equal(ultraNormalize('Il1'), '111');
});

test('every data row has a source; DEP001 and DEP006 lists are disjoint', () => {
  for (const e of confusions.entries) assert.ok(e.source && e.intended && e.name, JSON.stringify(e));
  for (const r of compromised.releases) assert.ok(r.source && r.versions.length, r.package);
  for (const r of compromised.malicious) assert.ok(r.source, r.package);
  const dep1 = new Set(confusions.entries.map((e) => e.name));
  for (const r of compromised.malicious) assert.ok(!dep1.has(r.package), r.package);
});

test('per-name check is fast (index, not a scan)', () => {
  const names = Array.from({ length: 5000 }, (_, i) => `zq-pkg-${i}-name`);
  const t0 = performance.now();
  for (const n of names) checkPackageName(n);
  const per = ((performance.now() - t0) * 1000) / names.length;
  assert.ok(per < 500, `${per} µs per name`);
});
