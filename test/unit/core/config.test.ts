import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, effectiveSeverity, mergeConfig } from '../../../core/config';

test('defaults are offline and conservative', () => {
  const c = defaultConfig();
  assert.equal(c.online.enabled, false);
  assert.equal(c.requireHashes, false);
});

test('mergeConfig accepts settings and [tool.modelvet] spellings, ignores junk', () => {
  const c = mergeConfig(defaultConfig(), {
    rules: { dep002: 'warning', LOAD001: 'off', DEP004: 'bogus', DEP005: false },
    ignore: ['hub004'], 'require-hashes': true, 'project-kind': 'library', online: { enabled: 'yes' },
  });
  assert.equal(c.rules.DEP002, 'warning');
  assert.equal(c.rules.LOAD001, 'off');
  assert.equal(c.rules.DEP004, undefined);
  assert.equal(c.rules.DEP005, 'off');
  assert.equal(c.rules.HUB004, 'off');
  assert.equal(c.requireHashes, true);
  assert.equal(c.projectKind, 'library');
  assert.equal(c.online.enabled, false, 'a non-boolean never turns the network on');
  assert.equal(effectiveSeverity(c, 'DEP002', 'error'), 'warning');
  assert.equal(effectiveSeverity(c, 'LOAD001', 'error'), undefined);
  assert.equal(effectiveSeverity(c, 'DEP001', 'error'), 'error');
  assert.equal(effectiveSeverity(c, 'DEP009', 'error', true), undefined, 'opt-in rules stay off by default');
});

test('mergeConfig does not mutate its base', () => {
  const base = defaultConfig();
  mergeConfig(base, { rules: { DEP001: 'off' } });
  assert.deepEqual(base.rules, {});
});
