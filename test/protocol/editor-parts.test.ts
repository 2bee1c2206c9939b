/**
 * The server's editor rules without a connection (server/src/editorFeatures.ts): which findings a
 * code-action request is about, and what a hover line says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../core/rules/all';
import { advisoryHref, codesOf, findingsForActions, hoverLine, hoverMarkdown, whatToDo } from '../../server/src/editorFeatures';
import { range, type Finding } from '../../core/types';

const f = (code: string, r = range(1, 0, 1, 6), extra: Partial<Finding> = {}): Finding => ({ path: '/w/requirements.txt', range: r, code, severity: 'warning', message: `${code} message`, fixes: [], ...extra });
const href = (c: string) => `file:///docs/${c}.md`;

test('findingsForActions: by the requested range, whatever the client diagnostics say; their own diagnostic when it still matches', () => {
  const findings = [f('DEP002', range(1, 0, 1, 6)), f('DEP001', range(2, 0, 2, 8)), f('DEP002', range(3, 0, 3, 5))];
  // Stale: the client still has DEP002 on line 0 (before a line was inserted above).
  const stale = [{ code: 'DEP002', range: range(0, 0, 0, 6), source: 'modelvet' }];
  const picked = findingsForActions(findings, range(1, 2, 1, 2), stale);
  assert.deepEqual(picked.map((p) => [p.index, p.diagnostic]), [[0, undefined]], 'the finding under the cursor, with no stale diagnostic attached');
  const fresh = [{ code: 'DEP001', range: range(2, 0, 2, 8), source: 'modelvet' }];
  const both = findingsForActions(findings, range(1, 0, 2, 1), fresh);
  assert.deepEqual(both.map((p) => [p.index, p.diagnostic === fresh[0]]), [[0, false], [1, true]]);
  assert.deepEqual(findingsForActions(findings, range(5, 0, 5, 0), []), [], 'nothing there, nothing offered');
  // A matching diagnostic outside the requested range still gets its actions (the client asked about it).
  assert.deepEqual(findingsForActions(findings, range(9, 0, 9, 0), [{ code: 'DEP002', range: range(3, 0, 3, 5) }]).map((p) => p.index), [2]);
});

test('hover lines: what to do, rule link, facts the message lacks; merged findings name every rule', () => {
  const squat = f('DEP001', range(0, 0, 0, 6), { fixes: [{ title: "Replace 'numpyy' with 'numpy'", edits: [], isPreferred: true }], data: { package: 'numpyy', intended: 'numpy', kind: 'typo' } });
  assert.match(hoverLine(squat, href), /^\*\*\[DEP001 name-confusion\]\(file:\/\/\/docs\/DEP001\.md\)\*\* — Replace 'numpyy' with 'numpy' \(quick-fix\) · 'numpy' is #\d+ by downloads \(\d/);
  const vuln = f('DEP007', range(0, 5, 0, 10), { message: "'torch' pins 2.1.0 affected by CVE-2025-32434; fixed in 2.6.0", data: { advisories: ['CVE-2025-32434', 'PYSEC-2025-41'], fixed: '2.6.0', also: [{ code: 'DEP002', severity: 'warning', message: 'x' }] } });
  const line = hoverLine(vuln, href);
  assert.match(line, /\+ \[DEP002 unpinned-dependency\]/);
  assert.match(line, /\[CVE-2025-32434\]\(https:\/\/www\.cve\.org\/CVERecord\?id=CVE-2025-32434\), \[PYSEC-2025-41\]\(https:\/\/osv\.dev\/vulnerability\/PYSEC-2025-41\)/);
  assert.doesNotMatch(line, /fixed in/, 'the message already says it');
  assert.deepEqual(codesOf(vuln), ['DEP007', 'DEP002']);
  assert.equal(whatToDo(f('DEP002', undefined, { data: { todo: 'Pin with ==: nothing known offline' } })), 'Pin with ==: nothing known offline');
  assert.match(whatToDo(f('DEP003'))!, /^Generate hashes for every requirement, e\.g\./, 'a rule-page sentence is not cut at "e.g."');
  assert.equal(hoverMarkdown([squat, vuln], href).split('\n').length, 2, 'one line per finding');
  assert.equal(advisoryHref('GHSA-xxxx-yyyy'), 'https://osv.dev/vulnerability/GHSA-xxxx-yyyy');
});
