/**
 * Live cross-check of the VM's framing against CPython (extended suite: `npm run test:real`; MODELVET_PYTHON,
 * default /usr/bin/python3). Fresh random framed streams from test/fixtures/framing/generate.py with this run's
 * seed (MODELVET_SEED reproduces one), read by the live C unpickler through bytes, io.BytesIO and
 * io.BufferedReader(16/64/4096/8192) and by the pure-Python unpickler; the VM must agree on every one. The default
 * suite (test/unit/scan/framing.test.ts) checks the same against the committed recording.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPythonOk } from '../helpers/python';
import { SEED, seeded } from '../helpers/seed';
import { agrees, loadRecords, loadStreams, vmOutcome } from '../unit/scan/framing-oracle';

const GEN = path.resolve(__dirname, '../fixtures/framing/generate.py');
let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelvet-framing-real-'));
  runPythonOk([GEN, dir, '--seed', String(SEED >>> 0), '--count', '600']);
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

test('fresh random framed streams: the VM agrees with the live CPython unpickler on every reading', () => {
  const rec = loadRecords(dir);
  const streams = loadStreams(dir);
  const bad: string[] = [];
  rec.records.forEach((r, i) => {
    for (const name of rec.readings) {
      const vm = vmOutcome(streams[i], name, Buffer.from(rec.npy_header, 'hex'));
      if (!agrees(r.readings[name], vm, name)) bad.push(`stream ${i} ${name}: CPython ${JSON.stringify(r.readings[name]).slice(0, 100)} vs VM ${JSON.stringify(vm).slice(0, 100)}`);
    }
  });
  assert.deepEqual(bad.slice(0, 10), [], seeded(`${bad.length} disagreements`));
});
