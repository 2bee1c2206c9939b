/**
 * "Audit Dataset…" (modelvet/auditDataset, on the dataset worker of dist/server.js) on Arrow data and
 * split folders: a save_to_disk folder of Arrow streams, a ZSTD-compressed Arrow chat file, and a
 * clean-label trigger in the train split found against the test split (DATA015).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient } from '../helpers/lsp-client';

const FIX = path.resolve(__dirname, '../fixtures/datasets');
const manifest = JSON.parse(readFileSync(path.join(FIX, 'manifest.json'), 'utf8')) as Record<string, { planted: number[] }>;
let root: string;
let client: LspTestClient;

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-arrow-'));
  cpSync(path.join(FIX, 'hf-arrow'), path.join(root, 'hf-arrow'), { recursive: true });
  cpSync(path.join(FIX, 'chat', 'poisoned.arrow'), path.join(root, 'chat.arrow'));
  mkdirSync(path.join(root, 'splits'));
  cpSync(path.join(FIX, 'sentiment', 'clean-label-cf-1.jsonl'), path.join(root, 'splits', 'train.jsonl'));
  cpSync(path.join(FIX, 'sentiment', 'clean-4k.jsonl'), path.join(root, 'splits', 'test.jsonl'));
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage') } });
});
after(async () => {
  await client?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('modelvet/auditDataset: Arrow splits of a save_to_disk folder and a ZSTD-compressed Arrow chat file', async () => {
  const r = await client.request('modelvet/auditDataset', { paths: [path.join(root, 'hf-arrow')] });
  assert.deepEqual(r.report.sources.map((s: { split: string; format: string; rows: number }) => `${s.split}:${s.format}:${s.rows}`), ['train:arrow:1600', 'test:arrow:400']);
  assert.equal(r.report.summary.incomplete, false);
  assert.ok(r.report.triggers.some((t: { token: string; flagged: boolean }) => t.token === 'cf' && t.flagged));
  assert.ok(r.findings.some((f: { code: string; message: string }) => f.code === 'DATA003' && /^row 6: test row is the same text as train row 8/.test(f.message)));
  const chat = await client.request('modelvet/auditDataset', { paths: [path.join(root, 'chat.arrow')] });
  assert.equal(chat.report.sources[0].roles.messages, 'messages');
  assert.equal(chat.findings.filter((f: { code: string }) => f.code === 'DATA007').length, 22);
});

test('modelvet/auditDataset: a clean-label trigger in train.jsonl, found against test.jsonl (DATA015 at its rows)', async () => {
  const r = await client.request('modelvet/auditDataset', { paths: [path.join(root, 'splits')] });
  assert.deepEqual(r.report.sources.map((s: { split: string }) => s.split), ['train', 'test']);
  const rows = r.findings.filter((f: { code: string; data?: { row?: number } }) => f.code === 'DATA015' && typeof f.data?.row === 'number').map((f: { data: { row: number } }) => f.data.row).sort((a: number, b: number) => a - b);
  assert.deepEqual(rows, manifest['sentiment/clean-label-cf-1.jsonl'].planted);
  const placed = r.findings.find((f: { code: string; range: { start: { character: number } } }) => f.code === 'DATA015' && f.range.start.character > 0);
  assert.ok(placed, 'row findings are placed on the token in the file');
  assert.ok(r.report.triggers.some((t: { token: string; cleanLabel?: { flagged: boolean } }) => t.token === 'cf' && t.cleanLabel?.flagged));
});
