import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { fcParams } from '../../helpers/seed';
import { analyzeManifest } from '../../../core/deps/index';
import { clearRequirementsCaches } from '../../../core/deps/requirements';
import { isValidVersion, isValidVersionStrict } from '../../../core/deps/pep440';
import { diskFileAccess } from '../../../core/workspace';
import { defaultConfig } from '../../../core/config';
import { ctxOf } from './helpers';

const BASE = 'numpy==1.26.4\nreqeusts>=2\n--extra-index-url https://example.invalid/s\ntorch==2.5.1\nfoo==1.0.\npandas\n';

test('edit re-analysis with warm caches equals a cold analysis', () => {
  const ctx = ctxOf();
  const line = fc.constantFrom('numpy', 'torch==2.5.1', 'sklearn>=1', '', '# c', '--trusted-host x', 'a @ git+https://example.invalid/a@main', 'bad==', 'ultralytics==8.3.41', `six==1.16.0 --hash=sha256:${'b'.repeat(64)}`);
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: 8 }), line), { maxLength: 6 }), (edits) => {
    const lines = BASE.split('\n');
    analyzeManifest('requirements', '/ws/requirements.txt', lines.join('\n'), ctx); // warm
    for (const [at, text] of edits) lines[at % lines.length] = text;
    const edited = lines.join('\n');
    const warm = analyzeManifest('requirements', '/ws/requirements.txt', edited, ctx).findings;
    clearRequirementsCaches();
    const cold = analyzeManifest('requirements', '/ws/requirements.txt', edited, ctx).findings;
    assert.deepEqual(warm, cold);
  }), fcParams({ numRuns: 150 }));
});

test('cached findings are not shared objects: mutating a result does not leak into the next', () => {
  const ctx = ctxOf();
  const a = analyzeManifest('requirements', '/ws/requirements.txt', 'pandas\n', ctx).findings;
  a[0].range.start.line = 99;
  a[0].fixes.push({ title: 'x', edits: [] });
  const b = analyzeManifest('requirements', '/ws/requirements.txt', 'pandas\n', ctx).findings;
  assert.equal(b[0].range.start.line, 0);
  assert.equal(b[0].fixes.length, 0);
});

test('the fast PEP 440 grammar agrees with the full parser', () => {
  const samples = ['1', '1.0', 'v1.0', '1!2.0', '1.0a1', '1.0.post1', '1.0.dev0', '1.0rc1.post2.dev3', '2.1.0+cu121', '1.0+abc.5', '5.1b1', '1.0-1', '1.0.', '1..0', 'abc', '1.0+', '1.0+-x', '', ' 1.0 ', '1.0_alpha_1', '1.0-preview-2'];
  for (const v of samples) assert.equal(isValidVersion(v), isValidVersionStrict(v), v);
  const chars = fc.constantFrom('0', '1', '9', '.', '!', '+', '-', '_', 'a', 'b', 'rc', 'post', 'dev', 'v', 'x');
  fc.assert(fc.property(fc.array(chars, { maxLength: 10 }).map((a) => a.join('')), (v) => {
    assert.equal(isValidVersion(v), isValidVersionStrict(v), v);
  }), fcParams({ numRuns: 1000 }));
});

test('on-disk include tree: cycle, hash mode from the include, dependsOn', () => {
  const root = path.resolve(__dirname, '../../fixtures/deps/includes');
  const file = path.join(root, 'requirements.txt');
  const fs = diskFileAccess();
  const r = analyzeManifest('requirements', file, fs.readText(file)!, { config: defaultConfig(), workspaceRoot: root, fs });
  assert.deepEqual(r.dependsOn.map((p) => path.relative(root, p)).sort(), ['constraints.txt', 'sub/base.txt']);
  const msgs = r.findings.map((f) => `${f.code} ${f.range.start.line}`);
  assert.ok(msgs.includes('DEP008 0'), 'cycle reported on the -r line');
  const d3 = r.findings.filter((f) => f.code === 'DEP003');
  assert.deepEqual(d3.map((f) => f.range.start.line), [0], 'hash mode inherited from sub/base.txt: reported once, on the -r line');
  assert.deepEqual(d3[0].related?.map((x) => x.range.start.line), [2, 3]);
  assert.ok(msgs.includes('DEP007 2') && msgs.includes('DEP001 3'));
});
