// In-process scans (one job, one file or a small total) and the V8 watchdog that keeps their time limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IN_PROCESS_MAX_BYTES, IN_PROCESS_MAX_FILES, runWithTimeLimit, scanPathsParallel, scanPlan } from '../../../core/scan/parallel';
import { scanPaths } from '../../../core/scan/engine';
import { writeSlowSafetensors } from './containers';

const fixtures = path.join(__dirname, '../../fixtures/models');

test('runWithTimeLimit returns the value of a call that finishes in time', () => {
  assert.deepEqual(runWithTimeLimit(() => 6 * 7, 5_000), { value: 42 });
});

test('runWithTimeLimit stops an endless loop and this thread carries on', () => {
  const t0 = Date.now();
  const r = runWithTimeLimit(() => { for (;;) { /* stuck parser */ } }, 150);
  const ms = Date.now() - t0;
  assert.equal(r, undefined);
  assert.ok(ms >= 140 && ms < 5_000, `stopped after ${ms} ms`);
  assert.deepEqual(runWithTimeLimit(() => 'again', 1_000), { value: 'again' }, 'usable after a timeout');
});

test('runWithTimeLimit stops a call deep inside other functions and lets other errors through', () => {
  const inner = (n: number): number => { let x = 0; for (;;) x = (x + n) | 0; };
  const outer = () => [1, 2, 3].map((n) => inner(n));
  assert.equal(runWithTimeLimit(outer, 100), undefined);
  assert.throws(() => runWithTimeLimit(() => { throw new RangeError('not a timeout'); }, 1_000), RangeError);
});

test('scanPlan: one job and one file or a small total in this thread; many, big or parallel on workers', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-plan-'));
  try {
    const small = Array.from({ length: IN_PROCESS_MAX_FILES + 1 }, (_, i) => { const p = path.join(tmp, `f${i}.bin`); fs.writeFileSync(p, 'abc'); return p; });
    const big = path.join(tmp, 'big.bin');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, IN_PROCESS_MAX_BYTES + 1);
    assert.equal(scanPlan([big], 1), 'in-process', 'one file, whatever its size');
    assert.equal(scanPlan(small.slice(0, IN_PROCESS_MAX_FILES), 1), 'in-process');
    assert.equal(scanPlan(small, 1), 'workers', 'more files than IN_PROCESS_MAX_FILES');
    assert.equal(scanPlan([small[0], big], 1), 'workers', 'more bytes than IN_PROCESS_MAX_BYTES');
    assert.equal(scanPlan([small[0]], 2), 'workers', '--jobs 2');
    assert.equal(scanPlan([], 1), 'in-process');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('in-process scan with a time limit gives the same reports as a plain scan', async () => {
  const dir = path.join(fixtures, 'malicious');
  const files = fs.readdirSync(dir).slice(0, IN_PROCESS_MAX_FILES).map((f) => path.join(dir, f));
  assert.equal(scanPlan(files, 1), 'in-process');
  const a = scanPaths(files);
  const b = await scanPathsParallel(files, { jobs: 1, fileTimeoutMs: 60_000 });
  const strip = (o: typeof a) => o.files.map((f) => ({ ...f })).sort((x, y) => (x.path < y.path ? -1 : 1));
  assert.deepEqual(strip(b), strip(a));
  assert.ok(b.files.some((f) => f.verdict === 'malicious'));
});

test('one file in-process past its time limit: stopped by the watchdog and reported unscannable (SCAN005)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-watchdog-'));
  try {
    // Hashing it takes seconds, far past a 0.3 s limit.
    const big = writeSlowSafetensors(tmp);
    assert.equal(scanPlan([big], 1), 'in-process');
    const t0 = Date.now();
    const out = await scanPathsParallel([big], { jobs: 1, fileTimeoutMs: 300 });
    const ms = Date.now() - t0;
    assert.equal(out.files.length, 1);
    assert.equal(out.files[0].verdict, 'unscannable');
    assert.deepEqual(out.files[0].findings.map((f) => f.code), ['SCAN005']);
    assert.ok(ms < 10_000, `took ${ms} ms`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('after an in-process timeout the files left are scanned on a worker', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-watchdog-rest-'));
  try {
    // ~12 M opcodes (a list of small ints, APPENDS batches of 1,000; 24 MB): over a second of VM work.
    const batch = Buffer.concat([Buffer.from('('), Buffer.from('K\x01'.repeat(1000), 'latin1'), Buffer.from('e')]);
    const slow = path.join(tmp, 'a_slow.pkl');
    fs.writeFileSync(slow, Buffer.concat([Buffer.from([0x80, 0x02, 0x5d]), ...new Array(12_000).fill(batch), Buffer.from('.')]));
    const benign = fs.readdirSync(path.join(fixtures, 'benign')).filter((f) => f.endsWith('.npy')).slice(0, 2).map((f) => {
      const p = path.join(tmp, `b_${f}`); fs.copyFileSync(path.join(fixtures, 'benign', f), p); return p;
    });
    const files = [slow, ...benign];
    assert.equal(scanPlan(files, 1), 'in-process');
    const out = await scanPathsParallel(files, { jobs: 1, fileTimeoutMs: 250 });
    const byPath = new Map(out.files.map((f) => [f.path, f]));
    assert.deepEqual(byPath.get(slow)?.findings.map((f) => f.code), ['SCAN005']);
    const plain = scanPaths(benign);
    for (const f of plain.files) {
      const r = byPath.get(f.path);
      assert.ok(r, `${f.path} scanned`);
      assert.equal(r.verdict, f.verdict);
      assert.equal(r.sha256, f.sha256);
    }
    assert.equal(out.files.length, files.length);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
