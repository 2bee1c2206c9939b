import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePipInstall } from '../../../core/deps/index';
import { shellTokens } from '../../../core/deps/pipinstall';
import { ctxOf } from './helpers';

const at = (line: string, f: { range: { start: { character: number }; end: { character: number } } }) => line.slice(f.range.start.character, f.range.end.character);

test('pip install line: each requirement on its exact span, options, quotes', () => {
  const line = '%pip install -q -U "torch==2.5.1" reqeusts --extra-index-url https://example.invalid/x \'sklearn[all]>=1.0\' {pkg} $VAR';
  const argsStart = line.indexOf('install') + 'install'.length;
  const f = analyzePipInstall('/ws/nb.ipynb', line, 4, argsStart, ctxOf());
  assert.ok(f.every((x) => x.range.start.line === 4));
  const byCode = (c: string) => f.filter((x) => x.code === c).map((x) => at(line, x));
  assert.deepEqual(byCode('DEP001'), ['reqeusts', 'sklearn']);
  assert.deepEqual(byCode('DEP007'), ['==2.5.1']);
  assert.deepEqual(byCode('DEP004'), ['--extra-index-url https://example.invalid/x']);
  const fix = f.find((x) => x.code === 'DEP007')!.fixes[0].edits[0];
  assert.equal(line.slice(0, fix.range.start.character) + fix.newText + line.slice(fix.range.end.character), line.replace('torch==2.5.1', 'torch==2.6.0'));
});

test('pip install: --index-url=http, -r files and variables are not requirements; shell operators end the command', () => {
  const line = '!pip install --index-url=http://127.0.0.1/simple -r requirements.txt numpy==1.26.4 && pip install reqeusts';
  const f = analyzePipInstall('/ws/nb.ipynb', line, 0, 12, ctxOf());
  assert.deepEqual(f.map((x) => x.code), ['DEP004']);
  assert.equal(f[0].severity, 'error');
});

test('shellTokens handles quotes and escapes', () => {
  const t = shellTokens(`install "a b" 'c' d\\ e x#y # comment`, 7);
  assert.deepEqual(t.map((x) => x.value), ['a b', 'c', 'd e', 'x#y']);
});
