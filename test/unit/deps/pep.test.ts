import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidClauseVersion, lowerBound, pinnedVersion, raiseFloor, specifierAllows, versionSatisfies, normalizeName } from '../../../core/deps/pep440';
import { parseRequirement } from '../../../core/deps/pep508';

test('PEP 503 normalization', () => {
  assert.equal(normalizeName('Scikit_Learn'), 'scikit-learn');
  assert.equal(normalizeName('zope..interface'), 'zope-interface');
  assert.equal(normalizeName('A-_.b'), 'a-b');
});

test('PEP 440 edge cases: pre/post/dev, epochs, local versions, wildcards', () => {
  assert.ok(isValidClauseVersion('==', '5.1b1'));
  assert.ok(isValidClauseVersion('==', '1!2.0'));
  assert.ok(isValidClauseVersion('==', '2.1.0+cu121'));
  assert.ok(isValidClauseVersion('==', '1.0.post1.dev2'));
  assert.ok(isValidClauseVersion('==', '2.5.*'));
  assert.ok(!isValidClauseVersion('>=', '2.5.*'));
  assert.ok(!isValidClauseVersion('~=', '2'));
  assert.ok(!isValidClauseVersion('==', '1.0.'));
  assert.ok(isValidClauseVersion('===', 'anything-goes'));
  assert.equal(pinnedVersion('==5.1b1'), '5.1b1');
  assert.equal(pinnedVersion('==2.1.0+cu121'), '2.1.0+cu121');
  assert.equal(pinnedVersion('==2.5.*'), undefined);
  assert.equal(pinnedVersion('>=1'), undefined);
  assert.ok(versionSatisfies('2.5.1+cu121', '<2.6.0'));
  assert.ok(!versionSatisfies('1!1.0', '<2.0'), 'epoch 1 sorts after every epoch-0 version');
});

test('range intersection: allows vs not', () => {
  assert.ok(specifierAllows('>=1.10', ['<2.6.0']));
  assert.ok(!specifierAllows('>=2.6', ['<2.6.0']));
  assert.ok(specifierAllows('>2.0,<2.6', ['<2.6.0']), 'exclusive lower bound still leaves affected versions');
  assert.ok(!specifierAllows('<3', ['>=3.0.0,<3.9.0']));
  assert.ok(specifierAllows('~=3.8', ['>=3.0.0,<3.9.0']));
  assert.ok(specifierAllows('==2.5.*', ['<2.6.0']));
  assert.ok(!specifierAllows('==2.6.*', ['<2.6.0']));
  assert.ok(specifierAllows('', ['<2.6.0']));
});

test('raiseFloor keeps compatible upper bounds and never rewrites version text', () => {
  assert.equal(raiseFloor('>=1.10,<3', '2.6.0'), '>=2.6.0,<3');
  assert.equal(raiseFloor('>=1.10,<2', '2.6.0'), '>=2.6.0', 'an upper bound below the fix is dropped');
  assert.equal(raiseFloor('==2.5.1', '2.6.0'), '==2.6.0');
  assert.equal(raiseFloor('', '5.1b1'), '>=5.1b1');
  assert.equal(raiseFloor('>=1,!=1.5', '1.2.0rc1'), '>=1.2.0rc1,!=1.5');
  assert.equal(lowerBound('>=1.2,<2'), '1.2');
  assert.equal(lowerBound('~=1.4.2'), '1.4.2');
  assert.equal(lowerBound('<2'), undefined);
});

test('PEP 508 parser keeps exact spans', () => {
  const s = 'requests [security, socks] >= 2.8.1 , == 2.8.* ; python_version < "2.7"';
  const r = parseRequirement(s);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(s.slice(r.req.nameSpan.start, r.req.nameSpan.end), 'requests');
  assert.deepEqual(r.req.extras, ['security', 'socks']);
  assert.equal(s.slice(r.req.specSpan!.start, r.req.specSpan!.end), '>= 2.8.1 , == 2.8.*');
  assert.equal(r.req.specifier, '>=2.8.1,==2.8.*');
  assert.equal(r.req.marker, 'python_version < "2.7"');
  const u = parseRequirement('pip @ https://example.invalid/pip-1.3.1.zip#sha256=abc ; os_name == "nt"');
  assert.ok(u.ok && u.req.url === 'https://example.invalid/pip-1.3.1.zip#sha256=abc');
  const sub = parseRequirement('xx"numpy>=1"yy', 3, 11);
  assert.ok(sub.ok && sub.req.nameSpan.start === 3 && sub.req.specSpan!.end === 11);
  const paren = parseRequirement('name (>=1.0)');
  assert.ok(paren.ok && paren.req.specifier === '>=1.0');
});

test('PEP 508 parser errors point at the problem', () => {
  const cases: Array<[string, string, string]> = [
    ['numpy==1.0.', '1.0.', 'invalid version'],
    ['numpy>>1', '>1', 'invalid version'],
    ['numpy=1', '=1', 'expected a version specifier'],
    ['numpy[a', '[a', 'unclosed extras'],
    ['numpy==1 ; bogus_var == "x"', 'bogus_var == "x"', 'unknown environment marker'],
    ['numpy==1 extra', 'extra', 'unexpected text'],
    ['==1.0', '==1.0', 'expected a package name'],
  ];
  for (const [text, at, msg] of cases) {
    const r = parseRequirement(text);
    assert.ok(!r.ok, text);
    if (r.ok) continue;
    assert.match(r.error, new RegExp(msg), text);
    assert.equal(text.slice(r.span.start, r.span.end), at, text);
  }
});
