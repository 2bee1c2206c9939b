import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeText } from '../../../core/analyze';
import { dependencyRules } from '../../../core/deps/index';
import { ctxOf } from './helpers';

test('rule metadata: DEP001-DEP009 each fully documented', () => {
  assert.deepEqual(dependencyRules.map((r) => r.code), ['DEP001', 'DEP002', 'DEP003', 'DEP004', 'DEP005', 'DEP006', 'DEP007', 'DEP008', 'DEP009']);
  for (const r of dependencyRules) {
    assert.equal(r.category, 'dependency');
    for (const k of ['name', 'summary', 'why', 'example', 'fix'] as const) assert.ok(r[k] && r[k].length > 10 || k === 'name', `${r.code}.${k}`);
    assert.ok(r.references.length > 0, r.code);
    assert.ok(!/pypi\.org|pythonhosted|github\.com/i.test(JSON.stringify(r)), `${r.code} names no registry host`);
  }
});

test('through analyzeText: suppression comments and rule severity overrides apply to dependency findings', () => {
  const text = 'numpy\npandas  # modelvet: ignore[DEP002]\nreqeusts==2.0  # modelvet: ignore\n';
  const f = analyzeText('/ws/requirements.txt', text, ctxOf()).findings;
  assert.deepEqual(f.map((x) => `${x.code}@${x.range.start.line}`), ['DEP002@0']);
  const off = analyzeText('/ws/requirements.txt', text, ctxOf({ config: { rules: { DEP002: 'error' } } as never })).findings;
  assert.equal(off[0].severity, 'error');
});
