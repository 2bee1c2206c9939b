/**
 * Protocol tests for model scans over LSP (issue 6): the `modelvet/scan` request
 * with $/progress and cancellation, diagnostics on model files, the results and
 * status notifications, the persistent result cache and background auto-scan.
 * Pickles are generated here from raw opcodes (harmless payload, never loaded).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { LspTestClient } from '../helpers/lsp-client';

/** Protocol-2 pickle calling os.system('touch /tmp/modelvet_pwned_x'): GLOBAL, BINUNICODE, TUPLE1, REDUCE, STOP. */
function maliciousPickle(): Buffer {
  const cmd = Buffer.from('touch /tmp/modelvet_pwned_x');
  const len = Buffer.alloc(4); len.writeUInt32LE(cmd.length);
  return Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\n'), Buffer.from('X'), len, cmd, Buffer.from([0x85]), Buffer.from('R.')]);
}
/** Protocol-2 pickle of {'a': n}: EMPTY_DICT, BINPUT, MARK, BINUNICODE, BININT1, SETITEMS, STOP. */
function benignPickle(n = 1): Buffer {
  return Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('}q\x00(X\x01\x00\x00\x00aK', 'latin1'), Buffer.from([n & 0xff]), Buffer.from('u.')]);
}

let root: string;
let storage: string;
let client: LspTestClient;
const models = () => path.join(root, 'models');
const fileUri = (p: string) => pathToFileURL(p).toString();

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-scan-'));
  storage = path.join(root, '.storage');
  mkdirSync(models(), { recursive: true });
  writeFileSync(path.join(models(), 'evil.pkl'), maliciousPickle());
  writeFileSync(path.join(models(), 'weights.pkl'), benignPickle(1));
  writeFileSync(path.join(models(), 'other.pkl'), benignPickle(2));
  writeFileSync(path.join(models(), 'README.md'), '# not a model\n');
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: storage } });
});
after(async () => {
  await client?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('modelvet/scan: progress, results, diagnostics on the model files, notifications', async () => {
  const token = 'scan-progress-1';
  const result = await client.request('modelvet/scan', { paths: [models()], workDoneToken: token });
  assert.equal(result.version, 1);
  assert.equal(result.summary.files, 3, JSON.stringify(result.summary));
  assert.equal(result.summary.malicious, 1);
  assert.equal(result.summary.safe, 2);
  const evil = result.files.find((f: { path: string }) => f.path.endsWith('evil.pkl'));
  assert.equal(evil.verdict, 'malicious');
  assert.match(evil.sha256, /^[0-9a-f]{64}$/);

  const progress = client.notificationsOf('$/progress').filter((n) => n.params.token === token).map((n) => n.params.value);
  assert.equal(progress[0].kind, 'begin');
  assert.equal(progress[0].cancellable, true);
  assert.equal(progress.at(-1).kind, 'end');
  const reports = progress.filter((v) => v.kind === 'report');
  assert.ok(reports.some((v) => /^3\/3 · \w+\.pkl$/.test(v.message)), JSON.stringify(reports));

  const diags = await client.waitFor(() => client.published(fileUri(path.join(models(), 'evil.pkl'))), 'diagnostics on evil.pkl');
  assert.equal(diags.length, 1);
  assert.equal(diags[0].severity, 1);
  assert.match(diags[0].message, /^Unsafe to load: unpickling this file \(torch.load, pickle.load, joblib.load\) would run a shell command — it calls (os|posix)\.system/);
  assert.deepEqual(diags[0].range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
  assert.equal(diags[0].source, 'modelvet');
  assert.equal(client.published(fileUri(path.join(models(), 'weights.pkl'))), undefined, 'safe files get no diagnostics');

  const results = client.notificationsOf('modelvet/scanResults').at(-1)!.params;
  assert.equal(results.files.length, 3);
  const status = client.notificationsOf('modelvet/status').at(-1)!.params;
  assert.equal(status.unsafe, 1);
  assert.equal(status.scanning, false);
});

test('modelvet/fileReport: cached by content, force rescans', async () => {
  const p = path.join(models(), 'evil.pkl');
  const cached = await client.request('modelvet/fileReport', { path: p });
  assert.equal(cached.cached, true);
  assert.equal(cached.report.verdict, 'malicious');
  const fresh = await client.request('modelvet/fileReport', { path: p, force: true });
  assert.equal(fresh.cached, false);
  assert.equal(fresh.report.sha256, cached.report.sha256);
});

test('a rescan replaces old results and clears the file diagnostics', async () => {
  const dir = path.join(root, 'replace');
  mkdirSync(dir);
  const p = path.join(dir, 'model.pkl');
  writeFileSync(p, maliciousPickle());
  await client.request('modelvet/scan', { paths: [p] });
  assert.equal(client.published(fileUri(p))?.length, 1);
  writeFileSync(p, benignPickle(7));
  const out = await client.request('modelvet/scan', { paths: [p] });
  assert.equal(out.files[0].verdict, 'safe');
  assert.deepEqual(client.published(fileUri(p)), []);
});

test('modelvet/scan: cancel midway (server-created progress), partial results kept', async () => {
  const dir = path.join(root, 'many');
  mkdirSync(dir);
  const FILES = 1500;
  for (let i = 0; i < FILES; i++) writeFileSync(path.join(dir, `m${String(i).padStart(4, '0')}.pkl`), benignPickle(i));
  const mark = client.notifications.length;
  const requestMark = client.mark();
  const source = new CancellationTokenSource();
  const pending = client.request('modelvet/scan', { paths: [dir], force: true }, source);
  // The server asks the client to create a progress token, then reports on it.
  const created = await client.waitFor(() => client.serverRequests.slice(requestMark).find((r) => r.method === 'window/workDoneProgress/create'), 'progress create');
  const progressToken = (created.params as { token: string }).token;
  await client.waitFor(() => client.notifications.slice(mark).some((n) => n.method === '$/progress' && n.params.token === progressToken && n.params.value.kind === 'report' && /^[1-9]\d*\//.test(n.params.value.message)), 'first progress report');
  source.cancel();
  await assert.rejects(pending, (e: { code?: number }) => e.code === -32800);
  await client.waitFor(() => client.notifications.slice(mark).some((n) => n.method === '$/progress' && n.params.token === progressToken && n.params.value.kind === 'end'), 'progress end');
  const last = client.notifications.slice(mark).filter((n) => n.method === 'modelvet/scanResults').at(-1)!.params;
  const scannedHere = last.files.filter((f: { path: string }) => f.path.startsWith(dir)).length;
  assert.ok(scannedHere > 0 && scannedHere < FILES, `partial results: ${scannedHere}/${FILES}`);
  // The server still answers.
  const again = await client.request('modelvet/scan', { paths: [path.join(models(), 'weights.pkl')] });
  assert.equal(again.files[0].verdict, 'safe');
});

test('tensor tables go to fileReport, not to the scanResults broadcast', async () => {
  const dir = path.join(root, 'st');
  mkdirSync(dir);
  const json = Buffer.from(JSON.stringify({ 'layer.weight': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }));
  const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(json.length));
  const p = path.join(dir, 'model.safetensors');
  writeFileSync(p, Buffer.concat([len, json, Buffer.alloc(16)]));
  const mark = client.notifications.length;
  await client.request('modelvet/scan', { paths: [dir] });
  const broadcast = client.notifications.slice(mark).filter((n) => n.method === 'modelvet/scanResults').at(-1)!.params;
  const entry = broadcast.files.find((f: { path: string }) => f.path === p);
  assert.ok(entry);
  assert.equal(entry.tensors, undefined);
  const r = await client.request('modelvet/fileReport', { path: p });
  assert.deepEqual(r.report.tensors?.map((t: { name: string; shape: number[] }) => [t.name, t.shape]), [['layer.weight', [2, 2]]]);
});

test('a large model file opens from its headers first; the sha256 follows in the background', async () => {
  const dir = path.join(root, 'big');
  mkdirSync(dir);
  const SIZE = 300 * 1024 * 1024; // sparse: costs no disk
  const json = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [SIZE / 4 - 64], data_offsets: [0, SIZE - 256] } }).padEnd(248 - 8, ' '));
  const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(json.length));
  const p = path.join(dir, 'huge.safetensors');
  writeFileSync(p, Buffer.concat([len, json]));
  truncateSync(p, 8 + json.length + (SIZE - 256));
  const mark = client.notifications.length;
  const first = await client.request('modelvet/fileReport', { path: p });
  assert.equal(first.report.sha256, '', 'answered before hashing');
  assert.equal(first.report.tensors?.[0]?.name, 'w');
  const withSha = await client.waitFor(() => client.notifications.slice(mark).filter((n) => n.method === 'modelvet/scanResults')
    .map((n) => n.params.files.find((f: { path: string; sha256: string }) => f.path === p && f.sha256)).find(Boolean), 'background sha256', 60_000);
  assert.match(withSha.sha256, /^[0-9a-f]{64}$/);
  const again = await client.request('modelvet/fileReport', { path: p });
  assert.equal(again.cached, true);
  assert.equal(again.report.sha256, withSha.sha256);
});

test('modelvet/convert refuses a malicious pickle with a reason and writes nothing', async () => {
  const input = path.join(models(), 'evil.pkl');
  const r = await client.request('modelvet/convert', { input });
  assert.equal(r.ok, false);
  assert.ok(typeof r.reason === 'string' && r.reason.length > 0);
  assert.equal(existsSync(path.join(models(), 'evil.safetensors')), false);
  await assert.rejects(client.request('modelvet/convert', {}), (e: { code?: number }) => e.code === -32602);
});

test('auto-scan: a watched model file that appears is scanned in the background', async () => {
  const p = path.join(models(), 'dropped.pt');
  writeFileSync(p, maliciousPickle());
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(p), type: 1 }] });
  const diags = await client.waitFor(() => client.published(fileUri(p)), 'auto-scan diagnostics', 15_000);
  assert.match(diags[0].message, /^Unsafe to load: unpickling this file \(torch.load, pickle.load, joblib.load\) would run a shell command — it calls (os|posix)\.system/);
  // Deleting it removes the result.
  rmSync(p);
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(p), type: 3 }] });
  await client.waitFor(() => client.published(fileUri(p))?.length === 0, 'cleared on delete');
});

test('results survive a restart (persistent cache keyed by sha256 + engine version)', async () => {
  await client.stop();
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: storage } });
  const evil = fileUri(path.join(models(), 'evil.pkl'));
  const restored = await client.waitFor(() => client.published(evil), 'restored diagnostics');
  assert.match(restored[0].message, /^Unsafe to load: /);
  const r = await client.request('modelvet/fileReport', { path: path.join(models(), 'evil.pkl') });
  assert.equal(r.cached, true);
  // Same content under another name: a cache hit by sha256.
  const copy = path.join(models(), 'copy-of-evil.pkl');
  writeFileSync(copy, maliciousPickle());
  const c = await client.request('modelvet/fileReport', { path: copy });
  assert.equal(c.cached, true, 'same sha256: no rescan');
  assert.equal(c.report.verdict, 'malicious');
});
