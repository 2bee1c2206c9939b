// Large models on sparse files: hashing streams (a file is never held in memory), results equal a
// plain node:crypto hash, RSS stays bounded, progress is reported and cancellation stops the work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { computeManifest } from '../../../core/signing/index';
import { tempDir } from './helpers';

const GIB = 1024 ** 3;

function sparse(file: string, size: number, marks: Array<[number, string]>) {
  const fd = fs.openSync(file, 'w');
  try { fs.ftruncateSync(fd, size); for (const [pos, s] of marks) fs.writeSync(fd, s, pos); } finally { fs.closeSync(fd); }
}

/** Streaming reference digest of a file (1 MiB reads). */
function refDigest(file: string, start = 0, end = fs.statSync(file).size): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try { for (let p = start; p < end;) { const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - p), p); h.update(buf.subarray(0, n)); p += n; } } finally { fs.closeSync(fd); }
  return h.digest('hex');
}

test('a 1 GiB sparse file (files and shards): digests match, RSS growth bounded, progress reported', async () => {
  const dir = tempDir('mv-sign-large-');
  try {
    const f = path.join(dir, 'big.bin');
    sparse(f, GIB, [[0, 'head'], [GIB / 2, 'middle'], [GIB - 4, 'tail']]);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0, lastProgress = 0;
    const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    let m;
    try {
      m = await computeManifest(dir, { jobs: 2, shardSize: 512 * 1024 * 1024, onProgress: (d) => { lastProgress = d; } });
    } finally { clearInterval(sample); }
    assert.deepEqual(m.resources.map((r) => r.name), ['big.bin:0:536870912', 'big.bin:536870912:1073741824']);
    assert.equal(m.resources[1].digest, refDigest(f, GIB / 2, GIB));
    assert.ok(peak - rss0 < 160 * 1024 * 1024, `RSS grew by ${((peak - rss0) / 1e6).toFixed(0)} MB while hashing 1.07 GB`);
    assert.ok(lastProgress > 0, 'progress reported');
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('cancellation: an aborted manifest rejects promptly with "cancelled"', async () => {
  const dir = tempDir('mv-sign-cancel-');
  try {
    sparse(path.join(dir, 'big.bin'), 8 * GIB, [[0, 'x']]);
    // Synchronous reads too: a worker busy in its read/hash loop is stopped (terminated) as promptly.
    for (const overlapReads of [true, false]) {
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(), 150);
      await assert.rejects(computeManifest(dir, { jobs: 1, overlapReads, signal: ac.signal }), /cancelled/);
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms (overlapReads ${overlapReads})`);
    }
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('a file that shrinks between walk and hash is an error, not a short digest', async () => {
  const dir = tempDir('mv-sign-shrink-');
  try {
    const f = path.join(dir, 'w.bin');
    for (const overlapReads of [true, false]) {
      sparse(f, 64 * 1024 * 1024, []);
      const p = computeManifest(dir, { shardSize: 8 * 1024 * 1024, jobs: 1, overlapReads });
      fs.truncateSync(f, 1024);
      await assert.rejects(p, /shrank|w\.bin/);
    }
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('worker-thread hashing (models over the inline limit) equals node:crypto, for sha256, blake2b and shards, both read strategies', async () => {
  const dir = tempDir('mv-sign-workers-');
  try {
    const data = [crypto.randomBytes(9 * 1024 * 1024), crypto.randomBytes(7 * 1024 * 1024 + 3), crypto.randomBytes(5)];
    data.forEach((d, i) => fs.writeFileSync(path.join(dir, `f${i}`), d));
    for (const [hashType, overlapReads] of [['sha256', true], ['sha256', false], ['blake2b', true], ['blake2b', false]] as const) {
      const algo = hashType === 'sha256' ? 'sha256' : 'blake2b512';
      const what = `${hashType}, ${overlapReads ? 'double-buffered' : 'synchronous'} reads`;
      const m = await computeManifest(dir, { jobs: 2, hashType, overlapReads });
      assert.deepEqual(m.files.map((f) => f.digest), data.map((d) => crypto.createHash(algo).update(d).digest('hex')), what);
      const s = await computeManifest(dir, { jobs: 3, hashType, overlapReads, shardSize: 4 * 1024 * 1024 });
      const want = new Map<string, string>();
      data.forEach((d, i) => { for (let o = 0; o < d.length; o += 4 * 1024 * 1024) { const e = Math.min(d.length, o + 4 * 1024 * 1024); want.set(`f${i}:${o}:${e}`, crypto.createHash(algo).update(d.subarray(o, e)).digest('hex')); } });
      assert.deepEqual(new Map(s.resources.map((r) => [r.name, r.digest])), want, `${what}, shards`);
    }
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('read strategy by default: double-buffered only when the jobs leave a core free (a core for the reads)', async () => {
  const { defaultOverlapReads } = await import('../../../core/signing/hashing');
  assert.deepEqual([[1, 1], [1, 2], [2, 2], [3, 2], [2, 4], [4, 4], [3, 8]].map(([j, c]) => defaultOverlapReads(j, c)), [false, true, false, false, true, false, true]);
});
