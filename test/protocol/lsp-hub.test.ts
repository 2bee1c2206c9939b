/**
 * Hub features over LSP, against the local mock Hub (127.0.0.1): offline HUB004,
 * zero requests while online is off, the LOAD005 pin resolved lazily in
 * codeAction/resolve, background lookups that refresh diagnostics (HUB001), and
 * `modelvet/scanHubRepo` finding a malicious pickle.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient, applyEdits, editsFor } from '../helpers/lsp-client';
import { maliciousPickle, startMockHub, type MockHub } from '../helpers/mockHub';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const EVIL_SHA = 'fedcba9876543210fedcba9876543210fedcba98';

let hub: MockHub;
let root: string;
let client: LspTestClient;
const online = () => ({ online: { enabled: true, hubUrl: hub.url } });

before(async () => {
  hub = await startMockHub([
    { id: 'acme/tiny-bert', sha: SHA, files: [{ path: 'config.json', content: Buffer.from('{}'), lfs: false }, { path: 'model.safetensors', content: Buffer.from('x'.repeat(64)) }] },
    { id: 'acme/pickled', sha: EVIL_SHA, files: [{ path: 'pytorch_model.bin', content: maliciousPickle() }] },
  ]);
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-hub-'));
  // An empty HF cache: the pin cannot come from local refs, only from the (mock) Hub.
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage'), workspaceTrust: { trusted: true } }, env: { HF_HUB_CACHE: path.join(root, 'hf-cache'), HF_TOKEN: '' } });
});
after(async () => {
  await client?.stop();
  await hub?.close();
  rmSync(root, { recursive: true, force: true });
});

test('offline: HUB004 look-alike owner, and no request reaches the Hub', async () => {
  const src = `from transformers import AutoModel\nm = AutoModel.from_pretrained("meta-llana/Llama-3-8B", revision="${SHA}")\n`;
  const uri = client.open('typo.py', src, 'python');
  const diags = await client.pull(uri);
  const typo = diags.filter((d) => d.code === 'HUB004');
  assert.equal(typo.length, 1, JSON.stringify(diags));
  assert.ok(typo[0].codeDescription?.href.endsWith('HUB004.md'), 'HUB rules have doc links');
  const actions = await client.codeActions(uri, typo);
  const fix = actions.find((a) => a.title.includes('meta-llama'));
  assert.ok(fix, actions.map((a) => a.title).join(', '));
  assert.match(applyEdits(src, editsFor(fix, uri)), /from_pretrained\("meta-llama\/Llama-3-8B"/);
  const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 35 } });
  assert.ok(hover === null || !/Looking it up/.test(hover.contents.value), 'no Hub lookup offline');
  assert.deepEqual(hub.requests, []);
  client.close(uri);
});

test('online: LOAD005 pin is resolved lazily through codeAction/resolve', async () => {
  const m = client.mark();
  await client.setSettings(online());
  await client.waitForRequest('workspace/configuration', m);
  const src = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/tiny-bert")\n';
  const uri = client.open('pin.py', src, 'python');
  const load005 = (await client.pull(uri)).filter((d) => d.code === 'LOAD005');
  assert.equal(load005.length, 1);
  const actions = await client.codeActions(uri, load005);
  const pin = actions.find((a) => a.data && !a.edit);
  assert.ok(pin, `a lazily resolved action among ${actions.map((a) => a.title)}`);
  const resolved = await client.request('codeAction/resolve', pin);
  assert.equal(applyEdits(src, editsFor(resolved, uri)), `from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/tiny-bert", revision="${SHA}")\n`);
  client.close(uri);
});

test('online: a background lookup refreshes diagnostics (HUB001 pickle-only repo)', async () => {
  const src = `from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/pickled", revision="${EVIL_SHA}")\n`;
  const uri = client.open('pickled.py', src, 'python');
  const mark = client.mark();
  let diags = await client.pull(uri);
  // Re-pull on each refresh, like an editor, until the Hub's answer shows up.
  let next = mark;
  for (let i = 0; i < 5 && !diags.some((d) => d.code === 'HUB001'); i++) {
    next = await client.waitForRequest('workspace/diagnostic/refresh', next, 'refresh after the Hub answered');
    diags = await client.pull(uri);
  }
  assert.ok(diags.some((d) => d.code === 'HUB001'), JSON.stringify(diags));
  client.close(uri);
});

test('modelvet/scanHubRepo scans the repo files with progress', async () => {
  const out = await client.request('modelvet/scanHubRepo', { repo: 'acme/pickled', workDoneToken: 'hub-scan' });
  assert.equal(out.summary.malicious, 1, JSON.stringify(out.summary));
  assert.ok(client.notificationsOf('$/progress').some((n) => n.params.token === 'hub-scan' && n.params.value.kind === 'end'));
  const m = client.mark();
  await client.setSettings({});
  await client.waitForRequest('workspace/configuration', m);
  await client.pull(client.uri('nothing.py')); // a round-trip: the settings response has been processed
  await assert.rejects(client.request('modelvet/scanHubRepo', { repo: 'acme/pickled' }), (e: { code?: number }) => e.code === -32001);
});
