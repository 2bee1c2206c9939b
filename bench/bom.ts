// AI-BOM and license table. Targets (issue 12): `modelvet bom` hashing ≥ 0.9 × `openssl dgst -sha256`
// throughput on a 2 GB folder; the license table of 500 installed packages ≤ 300 ms.
// MODELVET_BENCH_BOM_MB sets the folder size (default 2048).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { Bench, BenchRow } from './types';
import { buildBom } from '../core/bom/index';
import { listModelFiles, sha256File } from '../core/bom/digest';

const MB = 1024 * 1024;

function bigFolder(dir: string, totalMb: number): void {
  const chunk = randomBytes(16 * MB);
  const files = 8;
  const per = Math.max(1, Math.floor(totalMb / files));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama' }));
  for (let i = 0; i < files; i++) {
    const fd = fs.openSync(path.join(dir, `model-${String(i + 1).padStart(5, '0')}-of-${String(files).padStart(5, '0')}.safetensors`), 'w');
    try {
      for (let w = 0; w < per; w += 16) { chunk[0] = i; chunk[1] = w & 0xff; fs.writeSync(fd, chunk, 0, Math.min(16, per - w) * MB); }
    } finally { fs.closeSync(fd); }
  }
}

/** Runs of each contender (medians are reported: the machine is shared). */
const RUNS = Number(process.env.MODELVET_BENCH_BOM_RUNS ?? 5);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
/** `times` output of sh: the second line is the children's user and system time. */
function childCpuMs(timesOut: string): number {
  const line = timesOut.trim().split('\n').pop() ?? '';
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
}

const hashing: Bench = async () => {
  const totalMb = Number(process.env.MODELVET_BENCH_BOM_MB ?? 2048);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-bench-bom-'));
  try {
    bigFolder(tmp, totalMb);
    const files = listModelFiles(tmp).files.map((f) => f.abs);
    const bytes = files.reduce((a, f) => a + fs.statSync(f).size, 0);
    const openssl = () => {
      const t0 = performance.now();
      const r = spawnSync('sh', ['-c', 'openssl dgst -sha256 "$@" >/dev/null && times', 'sh', ...files], { encoding: 'utf8', maxBuffer: 16 * MB });
      if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
      return { wall: performance.now() - t0, cpu: childCpuMs(r.stdout) };
    };
    openssl(); // warm the page cache for both contenders
    const bom = async () => {
      const t0 = performance.now(), c0 = process.cpuUsage();
      await buildBom(tmp, { scan: false, reproducible: true });
      const c = process.cpuUsage(c0);
      return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
    };
    // Interleaved, so both see the same load.
    const o: Array<{ wall: number; cpu: number }> = [], b: Array<{ wall: number; cpu: number }> = [];
    for (let i = 0; i < RUNS; i++) { o.push(openssl()); b.push(await bom()); }
    const tOpenssl = median(o.map((x) => x.wall)), tBom = median(b.map((x) => x.wall));
    const cpuOpenssl = median(o.map((x) => x.cpu)), cpuBom = median(b.map((x) => x.cpu));
    const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
    const oneThread = () => { const t0 = performance.now(); for (const f of files) sha256File(f); return performance.now() - t0; };
    const tOne = oneThread();
    const rate = (ms: number) => (bytes / MB) / (ms / 1000);
    const rows: BenchRow[] = [
      { name: `openssl dgst -sha256 (${(bytes / 1e9).toFixed(1)} GB, ${files.length} files)`, value: Math.round(rate(tOpenssl)), unit: 'MB/s', note: `median of ${RUNS}: ${(tOpenssl / 1000).toFixed(2)} s wall, ${(cpuOpenssl / 1000).toFixed(2)} s CPU, page cache warm` },
      { name: 'modelvet bom (OMS manifest hashing, no scan)', value: Math.round(rate(tBom)), unit: 'MB/s', note: `median of ${RUNS}: ${(tBom / 1000).toFixed(2)} s wall, ${(cpuBom / 1000).toFixed(2)} s CPU, incl. card/config reading and serialization` },
      { name: 'bom / openssl throughput', value: Number((rate(tBom) / rate(tOpenssl)).toFixed(2)), unit: 'x', target: 0.9, lowerIsBetter: false, note: `hashing on ${os.availableParallelism?.() ?? os.cpus().length} cores (OMS worker threads); openssl is one process; load average ${load}` },
      { name: 'single-thread sha256 (fallback hasher)', value: Math.round(rate(tOne)), unit: 'MB/s', note: `${(rate(tOne) / rate(tOpenssl)).toFixed(2)} × openssl` },
    ];
    return rows;
  } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
};

const CLASSIFIERS = ['MIT License', 'BSD License', 'Apache Software License', 'GNU General Public License v3 (GPLv3)', 'Mozilla Public License 2.0 (MPL 2.0)', 'ISC License (ISCL)', 'Python Software Foundation License'];

function sitePackages(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const name = `pkg_${i}`;
    const d = path.join(dir, `${name}-1.${i}.0.dist-info`);
    fs.mkdirSync(d);
    const style = i % 4;
    const headers = [
      'Metadata-Version: 2.1', `Name: ${name}`, `Version: 1.${i}.0`, 'Summary: a synthesized package',
      ...(style === 0 ? ['License-Expression: MIT OR Apache-2.0'] : []),
      ...(style === 1 ? [`License: ${['MIT', 'BSD-3-Clause', 'Apache 2.0', 'new BSD'][i % 4]}`] : []),
      ...(style === 2 ? ['License: Copyright (c) 2024 Someone', '        ', '        Permission is hereby granted, free of charge, to any person...'] : []),
      `Classifier: License :: OSI Approved :: ${CLASSIFIERS[i % CLASSIFIERS.length]}`,
      'Classifier: Programming Language :: Python :: 3', 'Requires-Python: >=3.9', 'Description-Content-Type: text/markdown',
    ];
    fs.writeFileSync(path.join(d, 'METADATA'), headers.join('\n') + '\n\n' + `# ${name}\n\n` + 'A long README body. '.repeat(2000));
    fs.writeFileSync(path.join(d, 'RECORD'), '');
  }
}

const licenseTable: Bench = async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-bench-lic-'));
  try {
    const sp = path.join(tmp, '.venv', 'lib', 'python3.11', 'site-packages');
    fs.mkdirSync(sp, { recursive: true });
    sitePackages(sp, 500);
    // A fresh process: module loading, the SPDX libraries' first use and cold normalization caches count.
    const script = `const t0 = performance.now(), c0 = process.cpuUsage(); const { buildLicenseTable } = require(${JSON.stringify(path.join(__dirname, '..', 'core', 'licenses', 'table.ts'))});
const t = buildLicenseTable(${JSON.stringify(tmp)}); if (t.rows.length !== 500) throw new Error('rows ' + t.rows.length);
const t1 = performance.now(); const c = process.cpuUsage(c0); buildLicenseTable(${JSON.stringify(tmp)}); console.log(JSON.stringify({ cold: t1 - t0, cpu: (c.user + c.system) / 1000, warm: performance.now() - t1 }));`;
    const runs: Array<{ cold: number; cpu: number; warm: number }> = [];
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '..') });
      if (r.status !== 0) throw new Error(r.stderr);
      runs.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
    }
    const cold = median(runs.map((r) => r.cold)), warm = median(runs.map((r) => r.warm)), cpu = median(runs.map((r) => r.cpu));
    return [
      { name: 'license table, 500 installed packages (fresh process)', value: Math.round(cold), unit: 'ms', target: 300, note: `median of ${RUNS}; ${Math.round(cpu)} ms CPU (module loading and the table); load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}` },
      { name: 'license table, 500 packages, second run', value: Math.round(warm), unit: 'ms', note: 'normalization cached' },
    ];
  } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
};

export const benches: Bench[] = [hashing, licenseTable];
