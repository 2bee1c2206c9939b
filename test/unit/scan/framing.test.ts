// The VM reads a framed pickle exactly as CPython's C unpickler does, for every way of reading it: bytes
// (pickle.loads), a file object without peek (io.BytesIO: torch.load's data.pkl), io.BufferedReader with peek
// (pickle.load(open(...)), buffer sizes 16, 64, 4096, 8192), and the pure-Python unpickler (joblib). The streams and
// CPython's results were recorded by test/fixtures/framing/generate.py (random benign data, random FRAMEs that end
// on and inside opcodes, zero-length, nested and oversized, protocols 0–5); test/real/framing.test.ts re-checks live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanBytes } from '../../../core/scan/engine';
import { agrees, loadRecords, loadStreams, vmOutcome } from './framing-oracle';

const dir = path.join(__dirname, '../../fixtures/framing');

test('recorded framed streams: the VM reads each like CPython for every reading', () => {
  const rec = loadRecords(dir);
  const streams = loadStreams(dir);
  assert.equal(streams.length, rec.records.length);
  let compared = 0, divergent = 0;
  const bad: string[] = [];
  rec.records.forEach((r, i) => {
    const outcomes = new Set<string>();
    for (const name of rec.readings) {
      const py = r.readings[name];
      if (name !== 'python') outcomes.add(JSON.stringify(py));
      const vm = vmOutcome(streams[i], name, Buffer.from(rec.npy_header, 'hex'));
      if ('ok' in py) compared++;
      if (!agrees(py, vm, name)) bad.push(`stream ${i} (protocol ${r.protocol}) ${name}: CPython ${JSON.stringify(py).slice(0, 120)} vs VM ${JSON.stringify(vm).slice(0, 120)}`);
    }
    if (outcomes.size > 1) divergent++;
  });
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} disagreements`);
  // Not vacuous: many successful values compared, and many streams that CPython reads differently per file object.
  assert.ok(compared > 1000, `only ${compared} successful CPython readings compared`);
  assert.ok(divergent > 50, `only ${divergent} streams with reading-dependent results`);
});

test('a stream CPython reads differently per file object is never scanned as if there were one reading', () => {
  const rec = loadRecords(dir);
  const streams = loadStreams(dir);
  let checked = 0;
  rec.records.forEach((r, i) => {
    const c = ['loads', 'bytesio', 'buffered4096', 'buffered8192'].map((k) => r.readings[k]);
    if (new Set(c.map((x) => JSON.stringify(x))).size === 1 || !c.some((x) => 'ok' in x)) return; // one reading, or none loads
    const rep = scanBytes('s.pkl', streams[i], { hash: false });
    assert.notEqual(rep.verdict, 'safe', `stream ${i}: ${JSON.stringify(rep.findings.slice(0, 3))}`);
    assert.ok(rep.findings.some((f) => f.code === 'PKL010' || f.code === 'PKL007'), `stream ${i}: no divergence/malformed finding`);
    checked++;
  });
  assert.ok(checked > 20);
});
