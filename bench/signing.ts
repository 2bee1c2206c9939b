// OMS hashing throughput vs `openssl dgst -sha256` (same file, same warm page cache, one run side by side),
// the --jobs 2 speed-up on a folder of 8 files, verify's cost over the digest, and RSS.
// Targets (issue 11): one 2 GB file ≥ 0.9 × openssl; 8 × 256 MB with 2 jobs ≥ 1.6 × one job; verify = digest + < 10 ms.
// MODELVET_BENCH_SIGN_MB scales the sizes (default 2048: the 2 GB file; the folder is 8 × MB/8).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { Bench, BenchRow } from './types';
import { computeManifest, signModel, verifyModel, loadPrivateKey, loadPublicKey } from '../core/signing/index';

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.MODELVET_BENCH_SIGN_MB) || 2048;
const KEYS = path.resolve(__dirname, '../test/fixtures/oms/model_signing/keys/certificate');

/** Writes `bytes` of non-repeating-looking data (a 64 MiB random block, rotated), really on disk (not sparse). */
function writeData(file: string, bytes: number): void {
  const block = crypto.randomBytes(64 * MB);
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0, i = 0; off < bytes; i++) {
      const n = Math.min(block.length, bytes - off);
      block.writeUInt32LE(i, 0);
      for (let w = 0; w < n;) w += fs.writeSync(fd, block, w, n - w, off + w);
      off += n;
    }
  } finally { fs.closeSync(fd); }
}

/** Reads a file once so every contender starts from a warm page cache. */
function warm(file: string): void {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 * MB);
  try { for (let p = 0; ; p += buf.length) if (fs.readSync(fd, buf, 0, buf.length, p) <= 0) break; } finally { fs.closeSync(fd); }
}

function best(times: number[]): number { return Math.min(...times); }

const hashing: Bench = async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-bench-sign-'));
  try {
    const rows: BenchRow[] = [];
    // --- one big file
    const one = path.join(tmp, 'one');
    fs.mkdirSync(one);
    const big = path.join(one, 'model.safetensors');
    writeData(big, SIZE_MB * MB);
    warm(big);
    const gb = (SIZE_MB * MB) / 1e9;
    const ours: number[] = [], ossl: number[] = [];
    let expected = '';
    for (let i = 0; i < 3; i++) {
      let t0 = performance.now();
      const r = spawnSync('openssl', ['dgst', '-sha256', '-r', big], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl: ${r.stderr || r.error}`);
      ossl.push(performance.now() - t0);
      expected = r.stdout.split(' ')[0];
      t0 = performance.now();
      const m = await computeManifest(one, { jobs: 1 });
      ours.push(performance.now() - t0);
      if (m.files[0].digest !== expected) throw new Error('digest differs from openssl');
    }
    const ratio = best(ossl) / best(ours);
    rows.push({ name: `digest of one ${gb.toFixed(1)} GB file (modelvet digest)`, value: gb / (best(ours) / 1000), unit: 'GB/s', note: `${(best(ours) / 1000).toFixed(2)} s, best of 3` });
    rows.push({ name: 'openssl dgst -sha256, same file', value: gb / (best(ossl) / 1000), unit: 'GB/s', note: `${(best(ossl) / 1000).toFixed(2)} s, best of 3` });
    rows.push({ name: 'one file: modelvet / openssl throughput', value: Number(ratio.toFixed(2)), unit: 'x', target: 0.9, lowerIsBetter: false, note: 'both OpenSSL SHA-256 on one core' });
    fs.rmSync(one, { recursive: true, force: true });

    // --- a folder of 8 files, 1 vs 2 jobs
    const dir = path.join(tmp, 'folder');
    fs.mkdirSync(dir);
    for (let i = 0; i < 8; i++) writeData(path.join(dir, `shard-${i}.bin`), (SIZE_MB / 8) * MB);
    for (const f of fs.readdirSync(dir)) warm(path.join(dir, f));
    const j1: number[] = [], j2: number[] = [];
    let rss = 0;
    for (let i = 0; i < 2; i++) {
      let t0 = performance.now();
      await computeManifest(dir, { jobs: 1 });
      j1.push(performance.now() - t0);
      t0 = performance.now();
      const sample = setInterval(() => { rss = Math.max(rss, process.memoryUsage().rss); }, 20);
      await computeManifest(dir, { jobs: 2 });
      clearInterval(sample);
      j2.push(performance.now() - t0);
    }
    const fgb = (SIZE_MB * MB) / 1e9;
    rows.push({ name: `8 × ${SIZE_MB / 8} MB folder, --jobs 1`, value: fgb / (best(j1) / 1000), unit: 'GB/s', note: `${(best(j1) / 1000).toFixed(2)} s` });
    rows.push({ name: `8 × ${SIZE_MB / 8} MB folder, --jobs 2`, value: fgb / (best(j2) / 1000), unit: 'GB/s', note: `${(best(j2) / 1000).toFixed(2)} s` });
    rows.push({ name: 'folder: --jobs 2 speed-up over --jobs 1', value: Number((best(j1) / best(j2)).toFixed(2)), unit: 'x', target: 1.6, lowerIsBetter: false, note: `${os.availableParallelism?.() ?? os.cpus().length} cores (shared machines score lower)` });
    rows.push({ name: 'RSS while hashing with 2 jobs', value: Math.round(rss / 1e6), unit: 'MB', note: 'whole bench process (workers included)' });

    // --- verify = digest + a few ms
    const key = await loadPrivateKey(path.join(KEYS, 'signing-key.pem'));
    await signModel(dir, { key, jobs: 2 });
    const pub = loadPublicKey(path.join(KEYS, 'signing-key-pub.pem'));
    const dig: number[] = [], ver: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now();
      await computeManifest(dir, { jobs: 2, signaturePath: path.join(dir, 'model.sig') });
      dig.push(performance.now() - t0);
      t0 = performance.now();
      const r = await verifyModel(dir, { key: pub, jobs: 2 });
      ver.push(performance.now() - t0);
      if (!r.verified) throw new Error('bench model does not verify');
    }
    // Paired runs (digest then verify, 5 times): the median difference is verify's own cost (bundle, signature,
    // statement, comparison); the spread of the digest runs says how much of it is machine noise.
    const diffs = ver.map((v, i) => v - dig[i]).sort((a, b) => a - b);
    const spread = Math.max(...dig) - Math.min(...dig);
    rows.push({ name: 'verify − digest (same folder, 2 jobs, median of 5 pairs)', value: Number(diffs[2].toFixed(1)), unit: 'ms', note: 'informational: within the digest noise; ' + `verify ${(best(ver) / 1000).toFixed(2)} s, digest ${(best(dig) / 1000).toFixed(2)} s; digest runs spread ${spread.toFixed(0)} ms` });
    // The same on a small model, where machine noise is small: verify's fixed cost alone.
    const small = path.join(tmp, 'small');
    fs.mkdirSync(small);
    fs.writeFileSync(path.join(small, 'config.json'), '{}');
    fs.writeFileSync(path.join(small, 'model.safetensors'), crypto.randomBytes(MB));
    await signModel(small, { key });
    const sd: number[] = [];
    for (let i = 0; i < 21; i++) {
      let t0 = performance.now();
      await computeManifest(small, { signaturePath: path.join(small, 'model.sig') });
      const d = performance.now() - t0;
      t0 = performance.now();
      await verifyModel(small, { key: pub });
      sd.push(performance.now() - t0 - d);
    }
    sd.sort((a, b) => a - b);
    rows.push({ name: 'verify − digest (1 MB model, median of 21 pairs)', value: Number(sd[10].toFixed(2)), unit: 'ms', target: 10, note: 'bundle read + parse, ECDSA verify, statement checks, comparison' });
    return rows;
  } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
};

export const benches: Bench[] = [hashing];
