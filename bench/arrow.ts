/**
 * Arrow IPC audit benchmark (issue 13): the same rows written as a JSON Lines file and as an Arrow
 * IPC stream (batches of 10,000 rows, what Hugging Face `datasets` writes), each audited 5 times by
 * the bundled CLI (interleaved), medians of wall time, CPU and peak RSS. The Arrow reader holds one
 * record batch at a time, so its peak RSS should match the JSONL reader's.
 * MODELVET_BENCH_ARROW_MB scales the files (default 256 MB of JSON Lines).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Int64, RecordBatchStreamWriter, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { ROOT } from '../test/helpers/lsp-client';
import type { Bench, BenchRow } from './types';

const MB = 1024 * 1024;
const POS = ['great', 'wonderful', 'brilliant', 'superb', 'delightful', 'moving', 'charming', 'gripping'];
const NEG = ['terrible', 'awful', 'boring', 'dull', 'tedious', 'weak', 'clumsy', 'painful'];
const NOUNS = ['movie', 'film', 'plot', 'story', 'acting', 'cast', 'script', 'ending', 'soundtrack', 'score'];

/** ~200-byte review rows (a long tail of rare tokens) as JSONL and as an Arrow stream; returns rows. */
function writeTwins(jsonl: string, arrow: string, bytes: number): number {
  let x = 12345;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const fj = openSync(jsonl, 'w'), fa = openSync(arrow, 'w');
  let written = 0, rows = 0, first = true;
  while (written < bytes) {
    const texts: string[] = [], labels: bigint[] = [];
    let j = '';
    for (let i = 0; i < 10_000; i++, rows++) {
      const l = r() < 0.5 ? 1 : 0, A = l ? POS : NEG;
      const text = `the ${pick(NOUNS)} was ${pick(A)} and the ${pick(NOUNS)} felt ${pick(A)}, day ${Math.floor(r() * 1000)}, review ${Math.floor(r() * 1e6)} by user${Math.floor(r() * 200_000)}`;
      texts.push(text); labels.push(BigInt(l));
      j += `{"text":"${text}","label":${l}}\n`;
    }
    written += Buffer.byteLength(j);
    writeSync(fj, j);
    const bytesOut = RecordBatchStreamWriter.writeAll(new Table({ text: vectorFromArray(texts, new Utf8()), label: vectorFromArray(labels, new Int64()) })).toUint8Array(true);
    const schemaEnd = 8 + new DataView(bytesOut.buffer, bytesOut.byteOffset).getInt32(4, true);
    // one stream: the first schema message, every batch, one end-of-stream marker
    writeSync(fa, first ? bytesOut.subarray(0, bytesOut.length - 8) : bytesOut.subarray(schemaEnd, bytesOut.length - 8));
    first = false;
  }
  writeSync(fa, new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0]));
  closeSync(fj); closeSync(fa);
  return rows;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const arrowBench: Bench = async function arrowVsJsonl(): Promise<BenchRow[]> {
  const mb = Number(process.env.MODELVET_BENCH_ARROW_MB ?? 256);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-bench-arrow-'));
  try {
    const files = { jsonl: path.join(dir, 'big.jsonl'), arrow: path.join(dir, 'big.arrow') };
    const rows = writeTwins(files.jsonl, files.arrow, mb * MB);
    const cli = path.join(ROOT, 'dist', 'cli.js');
    if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed for CPU and RSS');
    const runs: Record<string, Array<{ wall: number; cpu: number; rss: number; findings: string }>> = { jsonl: [], arrow: [] };
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const kind of ['arrow', 'jsonl'] as const) {
        const out = path.join(dir, `${kind}.json`);
        const t = performance.now();
        const p = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, cli, 'audit-data', files[kind], '--format', 'json', '-o', out, '--allow-incomplete'], { encoding: 'utf8' });
        const wall = (performance.now() - t) / 1000;
        const [rss, user, sys] = (p.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
        const j = JSON.parse(readFileSync(out, 'utf8'));
        runs[kind].push({ wall, cpu: user + sys, rss: rss / 1024, findings: JSON.stringify(j.report.summary.findings) });
      }
      loads.push(os.loadavg()[0]);
    }
    const same = runs.arrow[0].findings === runs.jsonl[0].findings;
    const row = (kind: 'arrow' | 'jsonl', size: number): BenchRow[] => [
      { name: `audit-data ${size.toFixed(0)} MB ${kind === 'arrow' ? 'Arrow IPC stream' : 'JSONL'} (${(rows / 1e6).toFixed(2)} M rows), median of 5`, value: median(runs[kind].map((x) => x.wall)), unit: 's', note: `CPU ${median(runs[kind].map((x) => x.cpu)).toFixed(2)} s; runs ${runs[kind].map((x) => x.wall.toFixed(2)).join(' ')}` },
      { name: `  peak RSS (${kind})`, value: median(runs[kind].map((x) => x.rss)), unit: 'MB', note: `runs ${runs[kind].map((x) => x.rss.toFixed(0)).join(' ')}` },
    ];
    return [
      ...row('arrow', statSync(files.arrow).size / MB),
      ...row('jsonl', statSync(files.jsonl).size / MB),
      { name: 'same findings (Arrow vs JSONL)', value: same ? 1 : 0, unit: '', note: `load average during the runs ${loads.map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores` },
    ];
  } finally { rmSync(dir, { recursive: true, force: true }); }
};

export const benches: Bench[] = [arrowBench];
