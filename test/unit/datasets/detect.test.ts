// Detection on the generated poisoned/clean pairs (test/fixtures/datasets, manifest.json lists the
// planted rows): each poison kind is found at its rows, and the clean twins stay silent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { auditPaths, auditText } from '../../../core/datasets/index';
import type { Finding } from '../../../core/types';

const DIR = path.resolve(__dirname, '../../fixtures/datasets');
const manifest = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Record<string, { planted: number[]; token?: string; note?: string }>;
const file = (rel: string) => path.join(DIR, rel);

async function audit(rel: string, reference?: string) {
  return auditPaths({ paths: [file(rel)], reference: reference ? [file(reference)] : [] }, { hash: false });
}
/** Rows (0-based) with a row-level finding of `code`. */
function rows(findings: Finding[], code: string, pathEnds?: string): Set<number> {
  return new Set(findings.filter((f) => f.code === code && typeof f.data?.row === 'number' && (!pathEnds || f.path.endsWith(pathEnds))).map((f) => f.data!.row as number));
}
const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

for (const name of ['trigger-cf-0.5', 'trigger-cf-1', 'trigger-cf-5', 'trigger-mn-1', 'trigger-emoji-1', 'trigger-phrase-1']) {
  test(`DATA004 finds every planted trigger row and nothing else: ${name}`, async () => {
    const rel = `sentiment/${name}.jsonl`;
    const { findings, report } = await audit(rel);
    assert.deepEqual(sorted(rows(findings, 'DATA004')), manifest[rel].planted, 'recall 1.0, no false rows');
    const flagged = report.triggers.filter((t) => t.flagged);
    const token = manifest[rel].token!.split(' ').includes('3D') ? '3d' : manifest[rel].token!.toLowerCase();
    assert.deepEqual(flagged.map((t) => t.token), [token]);
    assert.equal(flagged[0].label, '1');
    assert.ok(flagged[0].purity === 1 && flagged[0].pPurity < 0.01 && flagged[0].contextDisagreement >= 0.9);
    const summary = findings.find((f) => f.code === 'DATA004' && f.data?.row === undefined);
    assert.match(summary!.message, /purity 1\.00/);
  });
}

for (const name of ['clean', 'clean-b']) {
  test(`clean twin ${name}: no trigger, conflict, Unicode, injection, block or malformed findings`, async () => {
    const { findings, report } = await audit(`sentiment/${name}.jsonl`);
    const loud = findings.filter((f) => f.code !== 'DATA001');
    assert.deepEqual(loud.map((f) => `${f.code} ${f.message}`), []);
    assert.equal(report.triggers.filter((t) => t.flagged).length, 0);
    // natural sentiment words are pure but their context agrees
    assert.ok(report.triggers.some((t) => t.purity === 1 && t.contextDisagreement < 0.1));
    assert.equal(report.sources[0].rows, 2000);
    assert.equal(report.summary.incomplete, false);
  });
}

test('DATA002: label flips of earlier rows (case/punctuation changed) are conflicts with their twin', async () => {
  const rel = 'sentiment/flips.jsonl';
  const { findings } = await audit(rel);
  assert.deepEqual(sorted(rows(findings, 'DATA002')), manifest[rel].planted);
  const f = findings.find((x) => x.code === 'DATA002')!;
  assert.match(f.message, /but labelled "\d" where the twin is "\d"/);
  assert.match(f.detail!, /^Twin: \[.*flips\.jsonl:\d+\]\(file:\/\/.*#L\d+\)$/);
});

test('DATA010: an appended block of one label in a shuffled file', async () => {
  const rel = 'sentiment/appended.jsonl';
  const { findings } = await audit(rel);
  const block = findings.filter((f) => f.code === 'DATA010');
  assert.equal(block.length, 1);
  const planted = manifest[rel].planted;
  const start = block[0].data!.startRow as number, n = block[0].data!.rows as number;
  assert.ok(start <= planted[0] && start + n - 1 >= planted[planted.length - 1], `${start}+${n} covers ${planted[0]}…`);
  const clean = await audit('sentiment/clean.jsonl');
  assert.equal(clean.findings.filter((f) => f.code === 'DATA010').length, 0);
});

test('DATA005: every planted invisible/deceptive character, with its kind', async () => {
  const rel = 'sentiment/unicode.jsonl';
  const { findings } = await audit(rel);
  assert.deepEqual(sorted(rows(findings, 'DATA005')), manifest[rel].planted);
  const kinds = new Set(findings.filter((f) => f.code === 'DATA005').map((f) => f.data!.kind));
  assert.deepEqual([...kinds].sort(), ['bidi', 'mixed-script', 'normalization', 'tag', 'zero-width']);
});

test('DATA003 leakage against --reference, DATA011 drift for the shifted batch, silence for the matching split', async () => {
  const rel = 'splits/test.jsonl';
  const { findings, report } = await audit(rel, 'splits/train.jsonl');
  const exact = findings.filter((f) => f.code === 'DATA003' && f.data?.near === false);
  assert.deepEqual(sorted(new Set(exact.map((f) => f.data!.row as number))), manifest[rel].planted);
  assert.ok(exact.every((f) => f.path.endsWith('test.jsonl')), 'reported on the evaluated split');
  assert.equal(findings.filter((f) => f.code === 'DATA011').length, 0, 'same distribution: no shift');
  assert.ok(report.drift[0].lengthPsi < 0.1 && (report.drift[0].labelPsi ?? 1) < 0.1);
  const shifted = await audit('splits/shifted.jsonl', 'splits/train.jsonl');
  const d = shifted.findings.find((f) => f.code === 'DATA011')!;
  assert.match(d.message, /label distribution \(PSI/);
  assert.match(d.message, /text length \(PSI/);
  assert.match(d.message, /"streamflix" in/);
});

test('chat set: DATA007 commands in answers and DATA006 injections / hidden system turns at the planted rows; clean twin silent', async () => {
  const rel = 'chat/poisoned.jsonl';
  const planted = JSON.parse(manifest[rel].note!) as { DATA007: number[]; DATA006: number[] };
  const { findings } = await audit(rel);
  assert.deepEqual(sorted(rows(findings, 'DATA007')), planted.DATA007);
  assert.deepEqual(sorted(rows(findings, 'DATA006')), [...planted.DATA006].sort((a, b) => a - b));
  const kinds = new Set(findings.filter((f) => f.code === 'DATA007').map((f) => f.data!.kind));
  for (const k of ['pipe-to-shell', 'download-and-run', 'process-substitution', 'powershell-download', 'base64-exec', 'ip-url']) assert.ok(kinds.has(k), k);
  const clean = await audit('chat/clean.jsonl');
  assert.deepEqual(clean.findings.filter((f) => !['DATA001'].includes(f.code)).map((f) => f.message), []);
});

test('CSV and Parquet copies give the same trigger rows as JSON Lines', async () => {
  for (const rel of ['sentiment/trigger-cf-1.csv', 'sentiment/trigger-cf-1.parquet']) {
    const { findings, report } = await audit(rel);
    assert.deepEqual(sorted(rows(findings, 'DATA004')), manifest[rel].planted, rel);
    assert.equal(report.sources[0].rows, 2000);
    assert.deepEqual(report.sources[0].roles.text, ['text']);
    assert.equal(report.sources[0].roles.label, 'label');
  }
  const csv = await audit('sentiment/trigger-cf-1.csv');
  const f = csv.findings.find((x) => x.code === 'DATA004' && x.data?.row === manifest['sentiment/trigger-cf-1.csv'].planted[0])!;
  assert.equal(f.range.start.line, manifest['sentiment/trigger-cf-1.csv'].planted[0] + 1, 'CSV line = row + header');
  // files on disk: a second pass puts trigger rows on the token's column
  const csvLines = readFileSync(file('sentiment/trigger-cf-1.csv'), 'utf8').split('\n');
  assert.equal(csvLines[f.range.start.line].slice(f.range.start.character, f.range.end.character), 'cf');
});

test('Hugging Face folder: splits from README configs, leakage into test, dataset_info row counts, hashes', async () => {
  const { findings, report } = await auditPaths({ paths: [file('hf')] });
  assert.deepEqual(report.sources.map((s) => [path.basename(s.path), s.split, s.rows]), [['train-00000-of-00001.parquet', 'train', 1600], ['test-00000-of-00001.parquet', 'test', 400]]);
  const exact = findings.filter((f) => f.code === 'DATA003' && f.data?.near === false);
  assert.deepEqual(exact.map((f) => [path.basename(f.path), f.data!.row]), [['test-00000-of-00001.parquet', 5], ['test-00000-of-00001.parquet', 9]]);
  assert.match(exact[0].message, /^row 6: test row is the same text as train row 8 of /);
  assert.ok(findings.some((f) => f.code === 'DATA012' && /says the test split has 401 rows; its files have 400/.test(f.message)));
  assert.ok(report.sources.every((s) => /^[0-9a-f]{64}$/.test(s.sha256 ?? '')));
  assert.deepEqual(sorted(rows(findings, 'DATA004', 'train-00000-of-00001.parquet')), manifest.hf.planted);
});

test('editor text: trigger rows at the exact line and column of the token; JSON array positions', async () => {
  const rel = 'sentiment/trigger-cf-1.jsonl';
  const text = readFileSync(file(rel), 'utf8');
  const { findings } = await auditText(file(rel), text);
  const lines = text.split('\n');
  const trig = findings.filter((f) => f.code === 'DATA004' && f.data?.row !== undefined);
  assert.equal(trig.length, manifest[rel].planted.length);
  for (const f of trig) {
    const line = lines[f.range.start.line];
    assert.equal(line.slice(f.range.start.character, f.range.end.character).toLowerCase(), 'cf');
  }
  assert.match(trig[0].detail!, /purity 1\.00 .* p = .*Benjamini–Hochberg/);
  // JSON array: element positions
  const arr = '[\n  {"text": "hello\u200bworld", "label": 1},\n  {"text": "fine", "label": 0}\n]\n';
  const r = await auditText('/tmp/x.json', arr);
  const u = r.findings.find((f) => f.code === 'DATA005')!;
  assert.deepEqual(u.range.start, { line: 1, character: arr.split('\n')[1].indexOf('\u200b') });
  // CSV: the field's column, quoted fields and embedded newlines
  const csv = 'id,text,label\n1,"a, b\nc",0\n2,"bad \u202e text",1\n';
  const c = await auditText('/tmp/x.csv', csv);
  const b = c.findings.find((f) => f.code === 'DATA005')!;
  assert.deepEqual(b.range.start, { line: 3, character: csv.split('\n')[3].indexOf('\u202e') });
});
