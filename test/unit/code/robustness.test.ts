import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcParams } from '../../helpers/seed';
import { analyzeNotebook, analyzePython, forgetPython, initPythonParser } from '../../../core/code/index';
import { MAX_PYTHON_CHARS } from '../../../core/code/parser';
import { makeCtx, readFixture, parseMarkers } from './helpers';

before(async () => { await initPythonParser(); });

const ctx = makeCtx();
const strip = (fs: Array<{ code: string; range: unknown; severity: string; message: string }>) => fs.map((f) => JSON.stringify([f.code, f.range, f.severity, f.message]));

test('syntax errors and half-typed code: what parses is still analysed', () => {
  const src = 'import torch\ndef broken(:\n    return 1 +\nstate = torch.load(p)\nclass\nif x\n    y = pickle.\n';
  const fs = analyzePython('/ws/b.py', src, ctx).findings;
  assert.ok(fs.some((f) => f.code === 'LOAD001'), JSON.stringify(fs));
  for (const partial of ['import torch\ntorch.load(', 'import torch\ntorch.load(p, weights_only=', 'import torch\ntorch.', 'from torch import (load', 'import yaml\nyaml.load(']) {
    assert.doesNotThrow(() => analyzePython('/ws/p.py', partial, ctx));
  }
  // No quick-fix may insert into a call whose closing parenthesis is missing.
  const half = analyzePython('/ws/h.py', 'import torch\nx = torch.load(p\n', ctx).findings.find((f) => f.code === 'LOAD001');
  if (half) assert.ok(!half.fixes.some((f) => /Add weights_only/.test(f.title)));
});

test('50,000-line file, deep nesting, huge lines, odd characters', () => {
  const big = Array.from({ length: 50_000 }, (_, i) => (i % 1000 === 0 ? 'x = torch.load(p)' : `y${i} = f(${i}) + g("s")`)).join('\n');
  const fs = analyzePython('/ws/big.py', 'import torch\n' + big, ctx).findings;
  // On a badly overloaded machine the parse time limit may trip: that must be an explicit LOAD000, never silence.
  if (!fs.some((f) => f.code === 'LOAD000' && /time limit/.test(f.message))) assert.equal(fs.filter((f) => f.code === 'LOAD001').length, 50);
  const deep = 'import torch\nx = ' + '('.repeat(20_000) + 'torch.load(p)' + ')'.repeat(20_000) + '\ny = ' + '['.repeat(20_000);
  assert.doesNotThrow(() => analyzePython('/ws/deep.py', deep, ctx));
  const deepLambda = 'import torch\nf = ' + 'lambda: '.repeat(5_000) + 'torch.load(p)';
  assert.equal(analyzePython('/ws/lam.py', deepLambda, ctx).findings.filter((f) => f.code === 'LOAD001').length, 1);
  const deepDefs = 'import torch\n' + Array.from({ length: 300 }, (_, i) => ' '.repeat(i) + 'def f():').join('\n') + '\n' + ' '.repeat(300) + 'torch.load(p)';
  assert.equal(analyzePython('/ws/defs.py', deepDefs, ctx).findings.filter((f) => f.code === 'LOAD001').length, 1);
  const deepAttr = 'import torch\nx = torch' + '.a'.repeat(50_000) + '.load(p)';
  assert.doesNotThrow(() => analyzePython('/ws/attr.py', deepAttr, ctx));
  const huge = 'import torch\nx = "' + 'a'.repeat(2_000_000) + '"; torch.load(p)';
  assert.equal(analyzePython('/ws/huge.py', huge, ctx).findings.filter((f) => f.code === 'LOAD001').length, 1);
  const odd = 'import torch\n\uFFFD\uD800 = 1\ns = "\u00e9\u{1F600}"; torch.load(p)\n\0\x1b';
  const f = analyzePython('/ws/odd.py', odd, ctx).findings.find((x) => x.code === 'LOAD001')!;
  assert.equal(odd.split('\n')[2].slice(f.range.start.character, f.range.end.character), 'torch.load');
});

test('over-limit input is reported as incomplete, never as clean', () => {
  const fs = analyzePython('/ws/limit.py', 'x' .repeat(MAX_PYTHON_CHARS + 1), ctx).findings;
  assert.deepEqual(fs.map((f) => f.code), ['LOAD000']);
});

test('incremental re-parse gives the same findings as a fresh parse', () => {
  const { text } = parseMarkers(readFixture('LOAD001.py'));
  const key = '/ws/inc.py';
  forgetPython(key);
  analyzePython(key, text, ctx);
  const edits: Array<(s: string) => string> = [
    (s) => s.replace('state = torch.load("model.pt")', 'state = torch.load("model.pt", weights_only=True)'),
    (s) => s.replace('import torch as t\n', ''),
    (s) => s + '\nimport pickle\npickle.loads(b)\n',
    (s) => 'x = 1\n' + s,
    (s) => s.replace('def shadowed(torch):', 'def shadowed(other):'),
  ];
  let current = text;
  for (const edit of edits) {
    current = edit(current);
    const incremental = analyzePython(key, current, ctx).findings;
    const fresh = analyzePython(`/ws/fresh-${Math.random()}.py`, current, ctx).findings;
    assert.deepEqual(strip(incremental), strip(fresh));
  }
  forgetPython(key);
});

const PY_TOKENS = ['import torch', 'import pickle as pk', 'from yaml import load', 'torch.load(', 'pk.loads(', 'load(', ')', '(', '[', ']', ',', ' weights_only=', 'True', 'False', 'x', '"a/b"', "'m.pt'", '\n', '\n    ', 'def f(torch):', 'class A:', ':', '=', '**kw', '#', '"""', 'lambda torch: ', 'eval(', '.read()', 'trust_remote_code=True', 'X.from_pretrained(', 'revision=', '%pip install x', '!ls', '\\', 'é', '\uD800'];

test('fuzz: random token soup and mutated fixtures never throw', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...PY_TOKENS), { maxLength: 80 }), (tokens) => {
    const src = tokens.join('');
    analyzePython('/ws/fuzz.py', src, ctx);
    analyzeNotebook('/ws/fuzz.ipynb', [{ kind: 'code', text: src }, { kind: 'code', text: tokens.reverse().join('') }], ctx);
  }), fcParams({ numRuns: 300 }));
  const fixtures = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => parseMarkers(readFixture(`LOAD00${n}.py`)).text);
  fc.assert(fc.property(fc.constantFrom(...fixtures), fc.nat(), fc.nat(), fc.string({ maxLength: 5 }), (src, a, b, insert) => {
    const i = a % (src.length + 1), j = Math.min(src.length, i + (b % 40));
    analyzePython('/ws/mut.py', src.slice(0, i) + insert + src.slice(j), ctx);
  }), fcParams({ numRuns: 300 }));
});
