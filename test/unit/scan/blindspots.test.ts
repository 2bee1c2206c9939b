// The scanner's blind spots (issue 14 item 3), on fixtures made by real libraries (test/fixtures/scanner/generate.py):
// stdlib value types are safe and every gadget abusing them is not; every compression joblib/pandas read is
// decompressed and scanned; zip member names are looked up as PyTorch's miniz reader does; each 2024–2025
// picklescan/modelscan/fickling bypass class is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanFile } from '../../../core/scan/engine';

const dir = path.join(__dirname, '../../fixtures/scanner');
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, { verdicts: string[]; global: string | null; note: string }>;

for (const [rel, exp] of Object.entries(expected)) {
  test(`${rel} → ${exp.verdicts.join('|')}${exp.note ? ` (${exp.note})` : ''}`, () => {
    const r = scanFile(path.join(dir, rel));
    const detail = JSON.stringify(r.findings.slice(0, 6), null, 1);
    assert.ok(exp.verdicts.includes(r.verdict), `${rel}: got ${r.verdict}, want ${exp.verdicts.join('|')}\n${detail}`);
    if (exp.global) {
      const named = r.findings.some((f) => f.message.includes(exp.global!) || (f.evidence ?? '').includes(exp.global!)) ||
        r.globals.some((g) => `${g.module}.${g.name}`.includes(exp.global!) && g.status !== 'allowed');
      assert.ok(named, `${rel}: no finding names ${exp.global}\n${detail}`);
    }
    if (exp.verdicts.length === 1 && exp.verdicts[0] === 'safe') {
      assert.ok(r.globals.every((g) => g.status === 'allowed'), `${rel}: non-allowed globals ${JSON.stringify(r.globals.filter((g) => g.status !== 'allowed'))}`);
    }
  });
}
