/**
 * Live regeneration of the scanner blind-spot fixtures (test/fixtures/scanner/generate.py) with the installed
 * libraries (extended suite: `npm run test:real`; MODELVET_PYTHON, default /usr/bin/python3): today's pickle,
 * joblib, pandas and torch write the stdlib values, compressions, zip layouts and bypass classes, and every fresh
 * file gets the verdict expected.json demands. The default suite checks the committed copies
 * (test/unit/scan/blindspots.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scanFile } from '../../core/scan/engine';
import { runPythonOk } from '../helpers/python';

const GEN = path.resolve(__dirname, '../fixtures/scanner/generate.py');
let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelvet-blindspots-real-'));
  runPythonOk([GEN, dir], { modules: ['torch', 'numpy', 'joblib', 'pandas', 'sklearn'] });
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

test('freshly generated blind-spot fixtures get their expected verdicts', () => {
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, { verdicts: string[] }>;
  const committed = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../fixtures/scanner/expected.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(committed).sort(), 'the generator writes the committed set of fixtures');
  const bad: string[] = [];
  for (const [rel, exp] of Object.entries(expected)) {
    const r = scanFile(path.join(dir, rel), { hash: false });
    if (!exp.verdicts.includes(r.verdict)) bad.push(`${rel}: ${r.verdict} (want ${exp.verdicts.join('|')}) ${JSON.stringify(r.findings.slice(0, 2))}`);
  }
  assert.deepEqual(bad, []);
});
