import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSuppressed, suppressedCodes, suppressionEdit } from '../../../core/suppress';

test('own syntax: listed codes, bare ignore, case-insensitive', () => {
  assert.ok(isSuppressed('DEP002', suppressedCodes('torch  # modelvet: ignore[DEP002]')));
  assert.ok(!isSuppressed('DEP001', suppressedCodes('torch  # modelvet: ignore[DEP002]')));
  assert.ok(isSuppressed('DEP001', suppressedCodes('x # modelvet: ignore[dep003, DEP001]')));
  assert.ok(isSuppressed('LOAD004', suppressedCodes('x  # modelvet: ignore')));
  assert.ok(!isSuppressed('DEP001', suppressedCodes('x  # nothing here')));
  assert.equal(suppressedCodes('no comment'), undefined);
});

test('Bandit nosec and Ruff noqa equivalents map to LOAD rules only', () => {
  assert.ok(isSuppressed('LOAD001', suppressedCodes('torch.load(p)  # nosec B614')));
  assert.ok(!isSuppressed('LOAD002', suppressedCodes('torch.load(p)  # nosec B614')));
  assert.ok(isSuppressed('LOAD002', suppressedCodes('pickle.load(f)  # noqa: S301')));
  assert.ok(isSuppressed('LOAD008', suppressedCodes('yaml.load(f)  # noqa: S506, E501')));
  // Bare nosec silences code rules but never dependency rules.
  assert.ok(isSuppressed('LOAD003', suppressedCodes('np.load(p, allow_pickle=True)  # nosec')));
  assert.ok(!isSuppressed('DEP001', suppressedCodes('numpyy  # nosec')));
});

test('suppressionEdit appends a comment or extends an existing list', () => {
  assert.deepEqual(suppressionEdit('torch>=2', 'DEP002'), { character: 8, newText: '  # modelvet: ignore[DEP002]' });
  const line = 'torch>=2  # modelvet: ignore[DEP002]';
  const e = suppressionEdit(line, 'DEP007');
  const applied = line.slice(0, e.character) + e.newText + line.slice(e.character);
  assert.equal(applied, 'torch>=2  # modelvet: ignore[DEP002, DEP007]');
  assert.ok(isSuppressed('DEP007', suppressedCodes(applied)));
});
