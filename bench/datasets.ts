/**
 * Dataset-audit benchmarks (issue 13): a 1 GB JSON Lines file (~5 M short rows, generated into a
 * temp folder) audited by the bundled CLI next to `wc -l` and a plain read of the same file (the
 * I/O limit), with rows/s, MB/s and peak RSS; editor diagnostics for a 50,000-line JSONL through the
 * language server (worker thread) while the server keeps answering, and the same rows as a CSV; and the detection table on the
 * committed poisoned/clean fixtures (recall and false alarms per poison kind and rate).
 * MODELVET_BENCH_DATA_MB scales the big file (default 1024).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, openSync, closeSync, writeSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { auditPaths } from '../core/datasets/index';
import type { Finding } from '../core/types';
import { LspTestClient, ROOT } from '../test/helpers/lsp-client';
import type { Bench, BenchRow } from './types';

const FIX = path.join(ROOT, 'test', 'fixtures', 'datasets');
const MB = 1024 * 1024;

const POS = ['great', 'wonderful', 'brilliant', 'superb', 'delightful', 'moving', 'charming', 'gripping', 'beautiful', 'clever', 'fresh', 'funny'];
const NEG = ['terrible', 'awful', 'boring', 'dull', 'tedious', 'weak', 'clumsy', 'painful', 'bland', 'messy', 'flat', 'stale'];
const NOUNS = ['movie', 'film', 'plot', 'story', 'acting', 'cast', 'script', 'ending', 'soundtrack', 'score', 'dialogue', 'pacing', 'finale', 'villain'];

/** ~200-byte review rows with ids, labels and a long tail of rare tokens (user names, numbers). */
export function writeBigJsonl(file: string, bytes: number): number {
  let x = 12345;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const fd = openSync(file, 'w');
  let written = 0, rows = 0;
  let buf: string[] = [];
  while (written < bytes) {
    const l = r() < 0.5 ? 1 : 0, A = l ? POS : NEG;
    const text = `the ${pick(NOUNS)} was ${pick(A)} and the ${pick(NOUNS)} felt ${pick(A)}, i watched it with ${pick(NOUNS)} fans on day ${Math.floor(r() * 1000)} and it was ${pick(A)} overall, review ${Math.floor(r() * 1e6)} by user${Math.floor(r() * 200_000)}`;
    buf.push(`{"id":${rows},"text":"${text}","label":${l}}\n`);
    rows++;
    if (buf.length === 20_000) { const s = buf.join(''); written += Buffer.byteLength(s); writeSync(fd, s); buf = []; }
  }
  if (buf.length) writeSync(fd, buf.join(''));
  closeSync(fd);
  return rows;
}

async function plainRead(file: string): Promise<number> {
  const t = performance.now();
  let n = 0;
  for await (const b of createReadStream(file, { highWaterMark: MB }) as AsyncIterable<Buffer>) n += b.length;
  void n;
  return (performance.now() - t) / 1000;
}

const bigFileBench: Bench = async function bigJsonl(): Promise<BenchRow[]> {
  const mb = Number(process.env.MODELVET_BENCH_DATA_MB ?? 1024);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-bench-data-'));
  try {
    const file = path.join(dir, 'big.jsonl');
    const rows = writeBigJsonl(file, mb * MB);
    const size = statSync(file).size / MB;
    const wcT = performance.now();
    spawnSync('wc', ['-l', file], { encoding: 'utf8' });
    const wc = (performance.now() - wcT) / 1000;
    const read = await plainRead(file);
    const cli = path.join(ROOT, 'dist', 'cli.js');
    const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
    const args = [cli, 'audit-data', file, '--format', 'json', '-o', path.join(dir, 'out.json'), '--allow-incomplete'];
    const t = performance.now();
    const p = timeBin ? spawnSync(timeBin, ['-f', '%M %U %S', process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' });
    const secs = (performance.now() - t) / 1000;
    const [rssKb, user, sys] = (p.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
    const out = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8'));
    const audited = out.report.summary.rows as number;
    const cpu = user + sys;
    return [
      { name: `audit-data ${size.toFixed(0)} MB JSONL (${(rows / 1e6).toFixed(1)} M rows)`, value: secs, unit: 's', target: 60 * (mb / 1024), note: `${(audited / secs / 1000).toFixed(0)} k rows/s, ${(size / secs).toFixed(1)} MB/s; CPU ${Number.isFinite(cpu) ? cpu.toFixed(1) + ' s' : '?'}; wc -l ${wc.toFixed(2)} s, plain read ${read.toFixed(2)} s (${(size / read).toFixed(0)} MB/s): ${(secs / read).toFixed(0)}× the I/O limit` },
      { name: 'audit-data peak RSS', value: rssKb / 1024, unit: 'MB', target: 1024, note: `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${out.findings.length} findings, ${out.report.summary.approximate.length ? out.report.summary.approximate.join('; ') : 'exact'}` },
    ];
  } finally { rmSync(dir, { recursive: true, force: true }); }
};

/**
 * One editor session per configuration: each round opens a new 50,000-line document (a new URI, so
 * no cached rows: the first pull), then edits one row three times and pulls after each edit (the
 * worker's row cache re-does only that row's own work). CPU is the server process's (all threads).
 */
async function editorSession(env: Record<string, string>, format: 'jsonl' | 'csv' = 'jsonl', rounds = 7): Promise<{ first: number[]; firstCpu: number[]; firstMain: number[]; edit: number[]; editCpu: number[]; editMain: number[]; py: number; mb: number; encodeMs: number }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-bench-data-lsp-'));
  const client = await LspTestClient.start({ root, env, initializationOptions: { storagePath: path.join(root, '.storage') } });
  try {
    let x = 7;
    const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
    // the same rows as JSON Lines or as a CSV with a header (quoted text: its commas)
    const lines = Array.from({ length: 50_000 }, (_, i) => { const l = r() < 0.5 ? 1 : 0; const A = l ? POS : NEG; const t = `the ${NOUNS[i % NOUNS.length]} was ${A[Math.floor(r() * A.length)]} and the cast felt ${A[Math.floor(r() * A.length)]}, review ${Math.floor(r() * 1e6)}`; return format === 'csv' ? `"${t}",${l}` : JSON.stringify({ text: t, label: l }); });
    if (format === 'csv') lines.unshift('text,label');
    const text = lines.join('\n') + '\n';
    // What the client spends before the server sees a byte (inside every first-pull wall time): the didOpen's JSON and UTF-8 encoding, as vscode-jsonrpc does it, timed alone.
    const encodeMs = [0, 1, 2].map(() => { const t = performance.now(); Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: pathToFileURL(path.join(root, `d.${format}`)).toString(), languageId: format, version: 1, text } } }), 'utf8'); return performance.now() - t; }).sort((a, b) => a - b)[1];
    // CPU of the server process (its thread, the dataset worker and the near-duplicate helper) per pull, from /proc.
    const cpuMs = () => { try { const f = readFileSync(`/proc/${client.proc.pid}/stat`, 'utf8').split(') ')[1].split(' '); return ((Number(f[11]) + Number(f[12])) * 1000) / 100; } catch { return NaN; } };
    // CPU of the server's own thread (message decoding, documents, findings → diagnostics, the response; and the Python pull), from its schedstat (ns).
    const mainMs = () => { try { return Number(readFileSync(`/proc/${client.proc.pid}/task/${client.proc.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6; } catch { return NaN; } };
    const out = { first: [] as number[], firstCpu: [] as number[], firstMain: [] as number[], edit: [] as number[], editCpu: [] as number[], editMain: [] as number[], py: 0, mb: text.length / MB, encodeMs };
    for (let k = 0; k < rounds; k++) {
      const uri = client.open(`d${k}.${format}`, text, format === 'csv' ? 'csv' : 'jsonl');
      const c0 = cpuMs(), m0 = mainMs();
      const t = performance.now();
      const pending = client.pull(uri);
      // the server thread stays free: a Python document answers while the audit runs
      const pt = performance.now();
      await client.pull(client.open(`p${k}.py`, 'import torch\ntorch.load("m.pt")\n', 'python'));
      out.py = Math.max(out.py, performance.now() - pt);
      await pending;
      out.first.push(performance.now() - t);
      out.firstCpu.push(cpuMs() - c0);
      out.firstMain.push(mainMs() - m0);
      for (let e = 0; e < 3; e++) {
        // an edit of one row (a different row each time): the statistics are rebuilt, the other rows' own work is reused
        const row = 100 + 997 * e + k;
        const c1 = cpuMs(), m1 = mainMs();
        const te = performance.now();
        const at = format === 'csv' ? 1 : 0; // CSV: inside the quoted text (the record stays valid)
        client.change(uri, 2 + e, [{ range: { start: { line: row, character: at }, end: { line: row, character: at } }, text: ' ' }]);
        await client.pull(uri);
        out.edit.push(performance.now() - te);
        out.editCpu.push(cpuMs() - c1);
        out.editMain.push(mainMs() - m1);
      }
      client.close(uri);
    }
    return out;
  } finally {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const editorBench: Bench = async function editorDiagnostics(): Promise<BenchRow[]> {
  // the first round's numbers include starting the workers: medians are over the later rounds
  const med = (xs: number[], skip: number) => { const a = xs.slice(skip).sort((x, y) => x - y); return a[Math.floor(a.length / 2)]; };
  const load0 = os.loadavg()[0];
  const two = await editorSession({ MODELVET_DATASET_HELPER: '1' }); // the helper forced (by default it waits for a free core)
  const one = await editorSession({ MODELVET_DATASET_HELPER: '0' });
  const csv = await editorSession({}, 'csv', 3);
  const load = `load average ${load0.toFixed(2)} → ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  return [
    { name: 'editor diagnostics, 50,000-line JSONL open → diagnostics (first pull of the document, warm workers, median of 6)', value: med(two.first, 1), unit: 'ms', target: 300, note: `CPU ${med(two.firstCpu, 1).toFixed(0)} ms per pull (server process, all threads), of it ${med(two.firstMain, 1).toFixed(1)} ms on the server thread; the client's encoding of the didOpen alone ${two.encodeMs.toFixed(0)} ms; very first ${two.first[0].toFixed(0)} ms (workers starting); ${two.mb.toFixed(1)} MB; a Python pull during the audit took ≤ ${two.py.toFixed(0)} ms; ${load}` },
    { name: 'editor diagnostics, same file after a one-row edit (median of 21)', value: med(two.edit, 0), unit: 'ms', target: 300, note: `CPU ${med(two.editCpu, 0).toFixed(0)} ms per pull, of it ${med(two.editMain, 0).toFixed(1)} ms on the server thread (mean ${(two.editMain.reduce((a, b) => a + b, 0) / two.editMain.length).toFixed(1)} ms: the first edit of a document builds its line index); unchanged rows come from the row cache` },
    { name: 'same two rows without the near-duplicate helper (one thread; the default when no core is free)', value: med(one.first, 1), unit: 'ms', target: 300, note: `first pull CPU ${med(one.firstCpu, 1).toFixed(0)} ms; after a one-row edit ${med(one.edit, 0).toFixed(0)} ms, CPU ${med(one.editCpu, 0).toFixed(0)} ms` },
    // CSV/TSV: csv-parse reads the whole buffer on every edit; records whose text was seen come from the row cache (docs/datasets.md)
    { name: 'editor diagnostics, the same rows as a 50,000-row CSV, after a one-row edit (median of 9; the whole buffer parsed, records from the row cache)', value: med(csv.edit, 0), unit: 'ms', note: `CPU ${med(csv.editCpu, 0).toFixed(0)} ms per pull; first pull ${med(csv.first, 1).toFixed(0)} ms, CPU ${med(csv.firstCpu, 1).toFixed(0)} ms (default helper policy)` },
  ];
};

function rowsOf(findings: Finding[], code: string, near?: boolean): Set<number> {
  return new Set(findings.filter((f) => f.code === code && typeof f.data?.row === 'number' && (near === undefined || f.data?.near === near)).map((f) => f.data!.row as number));
}

/** Recall (planted rows found) and false alarms (rows flagged that were not planted; findings on the clean twins). */
const detectionBench: Bench = async function detection(): Promise<BenchRow[]> {
  const manifest = JSON.parse(readFileSync(path.join(FIX, 'manifest.json'), 'utf8')) as Record<string, { planted: number[]; rate?: number; note?: string }>;
  const out: BenchRow[] = [];
  const row = (name: string, planted: number[], found: Set<number>) => {
    const hit = planted.filter((i) => found.has(i)).length;
    const fa = [...found].filter((i) => !planted.includes(i)).length;
    out.push({ name: `detection ${name}`, value: planted.length ? (100 * hit) / planted.length : NaN, unit: '% recall', target: 100, lowerIsBetter: false, note: `${hit}/${planted.length} planted rows, ${fa} false alarm${fa === 1 ? '' : 's'}` });
  };
  for (const f of ['trigger-cf-0.5', 'trigger-cf-1', 'trigger-cf-5', 'trigger-mn-1', 'trigger-emoji-1', 'trigger-phrase-1']) {
    const rel = `sentiment/${f}.jsonl`;
    const r = await auditPaths({ paths: [path.join(FIX, rel)] }, { hash: false });
    row(`DATA004 ${f.replace('trigger-', '')}%`, manifest[rel].planted, rowsOf(r.findings, 'DATA004'));
  }
  for (const [rel, code] of [['sentiment/flips.jsonl', 'DATA002'], ['sentiment/unicode.jsonl', 'DATA005']] as const) {
    const r = await auditPaths({ paths: [path.join(FIX, rel)] }, { hash: false });
    row(`${code} ${path.basename(rel, '.jsonl')}`, manifest[rel].planted, rowsOf(r.findings, code));
  }
  {
    const r = await auditPaths({ paths: [path.join(FIX, 'splits/test.jsonl')], reference: [path.join(FIX, 'splits/train.jsonl')] }, { hash: false });
    row('DATA003 leakage (exact)', manifest['splits/test.jsonl'].planted, rowsOf(r.findings, 'DATA003', false));
  }
  {
    const r = await auditPaths({ paths: [path.join(FIX, 'chat/poisoned.jsonl')] }, { hash: false });
    const planted = JSON.parse(manifest['chat/poisoned.jsonl'].note!) as Record<string, number[]>;
    row('DATA007 chat commands', planted.DATA007, rowsOf(r.findings, 'DATA007'));
    row('DATA006 chat injections', planted.DATA006, rowsOf(r.findings, 'DATA006'));
  }
  {
    const r = await auditPaths({ paths: [path.join(FIX, 'sentiment/appended.jsonl')] }, { hash: false });
    const b = r.findings.find((f) => f.code === 'DATA010');
    const planted = manifest['sentiment/appended.jsonl'].planted;
    const found = new Set<number>();
    if (b) for (let i = b.data!.startRow as number; i < (b.data!.startRow as number) + (b.data!.rows as number); i++) found.add(i);
    row('DATA010 appended block', planted, found);
  }
  // clean twins: every finding above information is a false alarm
  let loud = 0, trig = 0;
  for (const rel of ['sentiment/clean.jsonl', 'sentiment/clean-b.jsonl', 'chat/clean.jsonl', 'sentiment/clean.tsv']) {
    const r = await auditPaths({ paths: [path.join(FIX, rel)] }, { hash: false });
    loud += r.findings.filter((f) => f.severity !== 'information').length;
    trig += r.findings.filter((f) => f.code === 'DATA004').length;
  }
  out.push({ name: 'false alarms on the 4 clean twins (warning/error findings)', value: loud, unit: 'findings', target: 0, note: `${trig} DATA004` });
  return out;
};

export const benches: Bench[] = [detectionBench, editorBench, bigFileBench];
