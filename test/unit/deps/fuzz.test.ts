import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcParams } from '../../helpers/seed';
import { analyzeManifest, analyzePipInstall } from '../../../core/deps/index';
import type { FileKind } from '../../../core/analysis';
import { LineIndex } from '../../../core/text';
import { ctxOf } from './helpers';

/** Generous per-input bound: a hang or a super-linear blow-up fails the property. */
const TIME_BOUND_MS = 2000;

const SEEDS: Array<[FileKind, string, string]> = [
  ['requirements', '/ws/requirements.txt', 'numpy==1.26.4 --hash=sha256:' + 'a'.repeat(64) + '\ntorch>=1.10,<3 ; python_version >= "3.9"\n-r base.txt\n--extra-index-url https://example.invalid/s\nmylib @ git+https://example.invalid/a@main\nreqeusts[x]\\\n  ==2.0\n'],
  ['pyproject', '/ws/pyproject.toml', '[project]\nname = "x"\ndependencies = ["torch>=2.0", "sklearn"]\n[tool.poetry.dependencies]\nnumpy = "^1.2"\nlib = { git = "https://example.invalid/l", tag = "v1" }\n[[tool.uv.index]]\nurl = "https://example.invalid/i"\n'],
  ['conda', '/ws/environment.yml', 'channels:\n  - conda-forge\ndependencies:\n  - numpy=1.26\n  - pip:\n    - torch==2.5.1\n    - "reqeusts"\n'],
  ['pipfile', '/ws/Pipfile', '[[source]]\nurl = "https://example.invalid/simple"\n[packages]\nrequests = "*"\nkeras = {version = ">=3.0"}\n'],
  ['lockfile', '/ws/uv.lock', '[[package]]\nname = "torch"\nversion = "2.6.0"\n'],
];

function checkResult(text: string, kind: FileKind, path: string) {
  const t0 = performance.now();
  const r = analyzeManifest(kind, path, text, ctxOf());
  const ms = performance.now() - t0;
  assert.ok(ms < TIME_BOUND_MS, `${kind} took ${ms} ms`);
  const li = new LineIndex(text);
  for (const f of r.findings) {
    assert.ok(f.range.start.line >= 0 && f.range.start.line < li.lineCount, JSON.stringify(f.range));
    assert.ok(f.range.end.line >= f.range.start.line && f.range.end.line < li.lineCount);
    assert.ok(f.range.start.character >= 0 && f.range.start.character <= li.lineText(f.range.start.line).length, `${f.code} ${JSON.stringify(f.range)}`);
    assert.ok(f.range.end.character <= li.lineText(f.range.end.line).length);
    for (const fx of f.fixes) for (const e of fx.edits) assert.ok(e.range.end.line < li.lineCount);
  }
}

// Warm the one-time data (typosquat index, advisories) so the time bound measures analysis only.
for (const [kind, path, text] of SEEDS) analyzeManifest(kind, path, text, ctxOf());

test('fuzz: random text never throws, stays in bounds and in time', () => {
  const kinds = fc.constantFrom(...SEEDS.map((s) => [s[0], s[1]] as [FileKind, string]));
  fc.assert(fc.property(kinds, fc.string({ unit: 'binary', maxLength: 400 }), ([kind, path], text) => checkResult(text, kind, path)), fcParams({ numRuns: 300 }));
});

test('fuzz: mutated manifests never throw, stay in bounds and in time', () => {
  const mutation = fc.record({ seed: fc.integer({ min: 0, max: SEEDS.length - 1 }), ops: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 5 }), fc.string({ maxLength: 8, unit: fc.constantFrom('"', "'", '[', ']', '{', '}', '=', '\\', '\n', '\r', ' ', '#', '@', ';', '<', '>', '~', '!', ',', '-', 'a', '1', '.', '*', ':', '\u0000', '\u{1F600}') })), { maxLength: 8 }) });
  fc.assert(fc.property(mutation, ({ seed, ops }) => {
    const [kind, path, base] = SEEDS[seed];
    let text = base;
    for (const [pos, del, ins] of ops) {
      const p = pos % (text.length + 1);
      text = text.slice(0, p) + ins + text.slice(p + del);
    }
    checkResult(text, kind, path);
  }), fcParams({ numRuns: 400 }));
});

test('fuzz: pip install lines never throw and stay on the line', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (args) => {
    const line = `%pip install ${args}`;
    for (const f of analyzePipInstall('/ws/n.ipynb', line, 2, 12, ctxOf())) {
      assert.equal(f.range.start.line, 2);
      assert.ok(f.range.start.character >= 12 && f.range.end.character <= line.length, JSON.stringify(f.range));
    }
  }), fcParams({ numRuns: 300 }));
});
