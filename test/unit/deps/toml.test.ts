import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readToolConfig } from '../../../core/deps/index';
import { parseLockfile, poetryToPep440 } from '../../../core/deps/toml';
import { applyEdits, codes, ctxOf, run, spanText } from './helpers';

const LIB = `[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "mylib"
dependencies = [
  "torch>=2.0",
  "sklearn",
  'numpy==1.26.4',
  "bad spec ==",
]
[project.optional-dependencies]
dev = ["reqeusts==2.0"]

[dependency-groups]
test = ["pytest>=8", {include-group = "dev"}]

[tool.uv.sources]
mylib2 = { git = "https://example.invalid/a/b", branch = "main" }
pinned = { git = "https://example.invalid/a/c", rev = "0123456789abcdef0123456789abcdef01234567" }
local = { path = "../local" }

[[tool.uv.index]]
name = "pytorch"
url = "https://example.invalid/whl/cu121"

[[tool.uv.index]]
name = "explicit"
url = "https://example.invalid/explicit"
explicit = true

[[tool.uv.index]]
name = "insecure"
url = "http://127.0.0.1/simple"
explicit = true

[tool.modelvet]
require-hashes = true
ignore = ["DEP002"]
`;

test('pyproject (library): PEP 621, optional deps, PEP 735 groups, uv sources and indexes', () => {
  const f = run('pyproject', 'pyproject.toml', LIB);
  const dep2 = codes(f, 'DEP002');
  assert.deepEqual(dep2.map((x) => x.data?.package), ['torch', 'pytest'], 'no pin advice for the placeholder sklearn');
  assert.ok(dep2.every((x) => x.severity === 'hint'), 'library ranges are hints');
  assert.match(dep2[0].message, /library/);
  assert.deepEqual(codes(f, 'DEP001').map((x) => spanText(LIB, x)), ['sklearn', 'reqeusts']);
  const d7 = codes(f, 'DEP007');
  assert.equal(spanText(LIB, d7[0]), '>=2.0');
  assert.equal(applyEdits(LIB, d7[0].fixes[0].edits).includes('"torch>=2.6.0"'), true);
  assert.deepEqual(codes(f, 'DEP005').map((x) => spanText(LIB, x)), ['"https://example.invalid/a/b"']);
  const d4 = codes(f, 'DEP004');
  assert.equal(d4.length, 2);
  assert.match(d4[0].message, /'pytorch' is not explicit/);
  assert.match(d4[1].message, /plain http/);
  const d8 = codes(f, 'DEP008');
  assert.equal(d8.length, 1);
  assert.equal(d8[0].range.start.line, 10);
});

test('pyproject: projectKind application turns ranges into warnings with a pin fix', () => {
  const ctx = ctxOf({ config: { projectKind: 'application' }, locked: { torch: '2.7.1' } });
  const f = codes(run('pyproject', 'pyproject.toml', LIB, ctx), 'DEP002');
  assert.ok(f.every((x) => x.severity === 'warning'));
  const torch = f.find((x) => x.data?.package === 'torch')!;
  assert.ok(applyEdits(LIB, torch.fixes[0].edits).includes('"torch==2.7.1"'));
});

test('Poetry: caret/tilde/exact/table/git forms; package-mode=false is an application', () => {
  const text = `[tool.poetry]
name = "app"
package-mode = false
[tool.poetry.dependencies]
python = "^3.10"
torch = "^2.0.0"
numpy = "1.26.4"
transformers = { version = "~4.30", extras = ["torch"] }
lib = { git = "https://example.invalid/lib.git", tag = "v1" }
local = { path = "../local", develop = true }
weird = "^^1"
[tool.poetry.group.dev.dependencies]
pytest = "*"
`;
  const f = run('pyproject', 'pyproject.toml', text);
  const d2 = codes(f, 'DEP002');
  assert.deepEqual(d2.map((x) => x.data?.package), ['torch', 'transformers', 'pytest']);
  assert.ok(d2.every((x) => x.severity === 'warning'));
  const d7 = codes(f, 'DEP007');
  assert.deepEqual(d7.map((x) => x.data?.package), ['torch', 'transformers']);
  assert.equal(applyEdits(text, d7[0].fixes[0].edits).split('\n')[5], 'torch = ">=2.6.0,<3"');
  assert.match(codes(f, 'DEP005')[0].message, /ref 'v1'/);
  assert.match(codes(f, 'DEP008')[0].message, /\^\^1/);
});

test('Poetry sources: supplemental is dependency confusion, explicit is fine', () => {
  const text = `[tool.poetry]\nname = "a"\n[[tool.poetry.source]]\nname = "internal"\nurl = "https://example.invalid/simple"\npriority = "supplemental"\n[[tool.poetry.source]]\nname = "torch"\nurl = "https://example.invalid/torch"\npriority = "explicit"\n`;
  const f = codes(run('pyproject', 'pyproject.toml', text), 'DEP004');
  assert.equal(f.length, 1);
  assert.equal(spanText(text, f[0]), '"supplemental"');
  assert.match(f[0].message, /'internal'.*dependency confusion/);
});

test('poetryToPep440', () => {
  assert.equal(poetryToPep440('^1.2.3'), '>=1.2.3,<2');
  assert.equal(poetryToPep440('^0.2.3'), '>=0.2.3,<0.3');
  assert.equal(poetryToPep440('^0.0.3'), '>=0.0.3,<0.0.4');
  assert.equal(poetryToPep440('~1.2.3'), '>=1.2.3,<1.3');
  assert.equal(poetryToPep440('~=1.2'), '~=1.2');
  assert.equal(poetryToPep440('1.2.*'), '==1.2.*');
  assert.equal(poetryToPep440('>= 1.2, < 2.0'), '>=1.2,<2.0');
  assert.equal(poetryToPep440('>=1.2 <2.0'), '>=1.2,<2.0');
  assert.equal(poetryToPep440('*'), '');
  assert.equal(poetryToPep440('5.1b1'), '==5.1b1');
  assert.equal(poetryToPep440('^1.0 || ^2.0'), undefined);
});

test('Pipfile: packages, dev-packages, sources', () => {
  const text = `[[source]]
url = "http://127.0.0.1/simple"
verify_ssl = false
name = "local"

[packages]
requests = "*"
ultralytics = "==8.3.42"
keras = {version = ">=3.0,<3.5"}
mylib = {git = "https://example.invalid/m.git", ref = "main"}

[dev-packages]
pytest = "==8.0"
`;
  const f = run('pipfile', 'Pipfile', text);
  assert.deepEqual(codes(f, 'DEP002').map((x) => x.data?.package), ['requests', 'keras']);
  assert.equal(codes(f, 'DEP006')[0].severity, 'error');
  assert.equal(applyEdits(text, codes(f, 'DEP006')[0].fixes[0].edits).includes('ultralytics = "==8.3.47"'), true);
  assert.equal(codes(f, 'DEP004').length, 2);
  assert.equal(codes(f, 'DEP005').length, 1);
});

test('invalid TOML: one DEP008 at the error position', () => {
  const f = run('pyproject', 'pyproject.toml', '[project]\nname = "x"\ndependencies = [\n  "numpy"\n  "pandas"\n]\n');
  assert.equal(f.length, 1);
  assert.equal(f[0].code, 'DEP008');
  assert.equal(f[0].range.start.line, 4);
});

test('lockfiles: versions from uv.lock, poetry.lock, pylock.toml, Pipfile.lock; DEP008 only when unparsable', () => {
  const uv = parseLockfile('uv.lock', 'version = 1\n[[package]]\nname = "Torch"\nversion = "2.6.0+cu124"\n[[package]]\nname = "numpy"\nversion = "2.1.0"\n');
  assert.ok('versions' in uv && uv.versions.get('torch') === '2.6.0+cu124');
  const pylock = parseLockfile('pylock.toml', 'lock-version = "1.0"\n[[packages]]\nname = "scikit_learn"\nversion = "1.5.0"\n');
  assert.ok('versions' in pylock && pylock.versions.get('scikit-learn') === '1.5.0');
  const pl = parseLockfile('Pipfile.lock', JSON.stringify({ default: { requests: { version: '==2.31.0' } }, develop: { pytest: { version: '==8.0.0' } } }));
  assert.ok('versions' in pl && pl.versions.get('requests') === '2.31.0' && pl.versions.get('pytest') === '8.0.0');
  assert.deepEqual(run('lockfile', 'poetry.lock', '[[package]]\nname = "x"\nversion = "1"\n'), []);
  const bad = run('lockfile', 'uv.lock', '[[package]\n');
  assert.equal(bad.length, 1);
  assert.equal(bad[0].code, 'DEP008');
  assert.equal(run('lockfile', 'Pipfile.lock', '{not json').length, 1);
});

test('readToolConfig returns [tool.modelvet] or undefined', () => {
  assert.deepEqual(readToolConfig(LIB), { 'require-hashes': true, ignore: ['DEP002'] });
  assert.equal(readToolConfig('[project]\nname = "x"\n'), undefined);
  assert.equal(readToolConfig('[[[broken'), undefined);
});
