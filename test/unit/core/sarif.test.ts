import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../../core/rules/all';
import { findingsToSarif } from '../../../core/report/sarif';
import { scanToSarif } from '../../../core/report/sarif-scan';
import { range, type Finding } from '../../../core/types';

test('check SARIF: rules only for used codes, indexed, 1-based regions, fixes as replacements', () => {
  const f: Finding = { path: '/p/requirements.txt', range: range(2, 0, 2, 6), code: 'DEP001', severity: 'warning', message: 'typo', fixes: [{ title: 'Replace', edits: [{ range: range(2, 0, 2, 6), newText: 'numpy' }] }] };
  const log = findingsToSarif([f], '/p') as any;
  assert.equal(log.version, '2.1.0');
  const run = log.runs[0];
  assert.deepEqual(run.tool.driver.rules.map((r: any) => r.id), ['DEP001']);
  assert.deepEqual(run.tool.driver.rules[0].properties.tags, ['security', 'supply-chain', 'dependency']);
  assert.equal(run.columnKind, 'utf16CodeUnits');
  const r = run.results[0];
  assert.equal(r.ruleIndex, 0);
  assert.equal(r.level, 'warning');
  assert.equal(r.locations[0].physicalLocation.artifactLocation.uri, 'requirements.txt');
  assert.deepEqual(r.locations[0].physicalLocation.region, { startLine: 3, startColumn: 1, endLine: 3, endColumn: 7 });
  assert.equal(r.fixes[0].artifactChanges[0].replacements[0].insertedContent.text, 'numpy');
});

test('check SARIF: related locations of one cause (DEP003 hash-checking mode)', () => {
  const f: Finding = { path: '/p/requirements.txt', range: range(0, 0, 0, 20), code: 'DEP003', severity: 'error', message: 'hash mode', fixes: [], related: [{ range: range(3, 0, 3, 13), message: "'pandas' has no --hash" }] };
  const r = (findingsToSarif([f], '/p') as any).runs[0].results[0];
  assert.deepEqual(r.relatedLocations, [{ id: 0, message: { text: "'pandas' has no --hash" }, physicalLocation: { artifactLocation: { uri: 'requirements.txt', uriBaseId: '%SRCROOT%' }, region: { startLine: 4, startColumn: 1, endLine: 4, endColumn: 14 } } }]);
});

test('scan SARIF shares the driver: model-scan tag, critical -> error, file location', () => {
  const log = scanToSarif({ version: 1, files: [{ path: '/m/x.bin', format: 'pickle', verdict: 'malicious', sha256: 'ab', size: 3, globals: [],
    findings: [{ code: 'PKL001', severity: 'critical', message: 'os.system', location: { offset: 2 } }] }],
  summary: { files: 1, malicious: 1, suspicious: 0, unscannable: 0, safe: 0, seconds: 0 } }, '/m') as any;
  const run = log.runs[0];
  assert.equal(run.tool.driver.name, 'ModelVet');
  assert.deepEqual(run.tool.driver.rules[0].properties.tags, ['security', 'supply-chain', 'model-scan']);
  assert.equal(run.results[0].level, 'error');
  assert.equal(run.results[0].ruleIndex, 0);
  assert.equal(run.results[0].locations[0].physicalLocation.artifactLocation.uri, 'x.bin');
  assert.ok(run.originalUriBaseIds);
});
