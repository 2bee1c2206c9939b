/**
 * Protocol tests for OMS signing in the language server: the sign / verify commands over
 * workspace/executeCommand (progress, cancellation, results naming files) and the SIG001 diagnostic on
 * a workspace model.sig that does not verify with the configured key (only from user scope when untrusted).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { LspTestClient } from '../helpers/lsp-client';
import { fulcioIdentity } from '../unit/signing/helpers';

const KEYS = path.resolve(__dirname, '../fixtures/oms/model_signing/keys/certificate');
const PRIV = path.join(KEYS, 'signing-key.pem');
const PUB = path.join(KEYS, 'signing-key-pub.pem');
let root: string;
let client: LspTestClient;
const model = () => path.join(root, 'models', 'bert');
const sigUri = () => pathToFileURL(path.join(model(), 'model.sig')).toString();

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'modelvet-signing-'));
  fs.mkdirSync(model(), { recursive: true });
  fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 8}');
  fs.writeFileSync(path.join(model(), 'model.safetensors'), Buffer.alloc(4096, 1));
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage'), workspaceTrust: { trusted: true } } });
});
after(async () => {
  await client?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

test('the server advertises the signing commands', () => {
  const cmds: string[] = client.initializeResult.capabilities.executeCommandProvider.commands;
  assert.ok(cmds.includes('modelvet.server.signModel') && cmds.includes('modelvet.server.verifyModel'), cmds.join(', '));
});

test('sign → verify → tamper → verify names the file; an existing signature is not replaced without force', async () => {
  const mark = client.notifications.length;
  const signed = await client.request('workspace/executeCommand', { command: 'modelvet.server.signModel', arguments: [{ model: model(), key: PRIV }] });
  assert.equal(signed.ok, true, signed.reason);
  assert.equal(signed.signature, path.join(model(), 'model.sig'));
  assert.match(signed.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(signed.files, 2);
  const progress = client.notifications.slice(mark).filter((n) => n.method === '$/progress').map((n) => n.params.value.kind);
  assert.deepEqual([progress[0], progress[progress.length - 1]], ['begin', 'end']);

  const ok = await client.request('workspace/executeCommand', { command: 'modelvet.server.verifyModel', arguments: [{ model: model(), key: PUB }] });
  assert.equal(ok.ok, true);
  assert.equal(ok.verified, true, JSON.stringify(ok.failures));

  const again = await client.request('workspace/executeCommand', { command: 'modelvet.server.signModel', arguments: [{ model: model(), key: PRIV }] });
  assert.deepEqual([again.ok, again.exists], [false, true]);
  assert.match(again.reason, /already exists/);

  fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 9}');
  const bad = await client.request('workspace/executeCommand', { command: 'modelvet.server.verifyModel', arguments: [{ model: model(), key: PUB }] });
  assert.equal(bad.verified, false);
  assert.deepEqual(bad.changed, ['config.json']);
  fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 8}');

  const noKey = await client.request('workspace/executeCommand', { command: 'modelvet.server.verifyModel', arguments: [{ model: model() }] });
  assert.equal(noKey.ok, false);
  const relative = await client.request('workspace/executeCommand', { command: 'modelvet.server.verifyModel', arguments: [{ model: 'models/bert', key: PUB }] });
  assert.match(relative.reason, /absolute `model` path/);
});

test('SIG001 on model.sig with a configured key: published when a signed file changes, cleared when it verifies again', async () => {
  await client.setSettings({ signing: { publicKey: PUB } });
  // Verified: an empty diagnostics list is published for model.sig.
  await client.waitFor(() => client.published(sigUri())?.length === 0, 'empty diagnostics for a verified model.sig');
  fs.writeFileSync(path.join(model(), 'extra.bin'), 'x');
  fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 10}');
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(model(), 'extra.bin')).toString(), type: 1 }] });
  const diags = await client.waitFor(() => { const d = client.published(sigUri()); return d?.length ? d : undefined; }, 'SIG001 on model.sig');
  assert.equal(diags[0].code, 'SIG001');
  assert.equal(diags[0].severity, 1);
  assert.match(diags[0].message, /Model signature does not verify: changed: config\.json; unsigned: extra\.bin/);
  // The client's tree and report get the same state.
  const states = await client.waitFor(() => {
    const last = client.notificationsOf('modelvet/signatureStates').map((n) => n.params.states).pop();
    return last?.[0]?.verified === false ? last : undefined;
  }, 'a NOT verified signature state');
  assert.deepEqual(states.map((x: any) => [x.model, x.verified]), [[model(), false]]);
  assert.match(states[0].summary, /changed: config\.json/);
  fs.rmSync(path.join(model(), 'extra.bin'));
  fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 8}');
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(model(), 'config.json')).toString(), type: 2 }] });
  await client.waitFor(() => client.published(sigUri())?.length === 0, 'SIG001 cleared');
  await client.setSettings({});
});

test('SIG002 with requireSignature: model files without a verifying model.sig get a warning; signed ones do not', async () => {
  const unsigned = path.join(root, 'models', 'unsigned');
  fs.mkdirSync(unsigned, { recursive: true });
  fs.writeFileSync(path.join(unsigned, 'w.safetensors'), 'x');
  const unsignedUri = pathToFileURL(path.join(unsigned, 'w.safetensors')).toString();
  const signedUri = pathToFileURL(path.join(model(), 'model.safetensors')).toString();
  await client.setSettings({ signing: { publicKey: PUB, requireSignature: true } });
  const d = await client.waitFor(() => { const x = client.published(unsignedUri); return x?.length ? x : undefined; }, 'SIG002 on the unsigned model file');
  assert.equal(d[0].code, 'SIG002');
  assert.equal(d[0].severity, 2);
  assert.match(d[0].message, /no model\.sig in models\/unsigned or a folder above it/);
  assert.ok(!client.published(signedUri)?.some((x) => x.code === 'SIG002'), 'the signed folder verifies');
  await client.setSettings({ signing: { publicKey: PUB } });
  await client.waitFor(() => client.published(unsignedUri)?.length === 0, 'SIG002 cleared when requireSignature is off');
  fs.rmSync(unsigned, { recursive: true });
  await client.setSettings({});
});

test('cancellation: a sign request cancelled while hashing a large file returns cancelled and writes nothing', async () => {
  const big = path.join(root, 'big');
  fs.mkdirSync(big);
  const fd = fs.openSync(path.join(big, 'w.bin'), 'w');
  fs.ftruncateSync(fd, 8 * 1024 ** 3);
  fs.closeSync(fd);
  const source = new CancellationTokenSource();
  setTimeout(() => source.cancel(), 300);
  const r = await client.request('workspace/executeCommand', { command: 'modelvet.server.signModel', arguments: [{ model: big, key: PRIV }] }, source).catch((e) => ({ rpcError: e.message }));
  // Either our own "cancelled" result or the JSON-RPC cancellation reply.
  assert.ok((r as any).cancelled === true || /cancel/i.test((r as any).rpcError ?? ''), JSON.stringify(r));
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(fs.existsSync(path.join(big, 'model.sig')), false);
});

test('untrusted workspace: a workspace-level signing.publicKey is ignored; the user-scope value counts', async () => {
  const c = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage2'), userScopeInConfiguration: true } });
  try {
    fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 11}');
    await c.setSettings({ signing: { publicKey: PUB } });
    await new Promise((res) => setTimeout(res, 800));
    assert.equal(c.published(sigUri()), undefined, 'nothing published from a workspace-level key');
    await c.setSettings({ signing: { publicKey: PUB }, $userScope: { signing: { publicKey: PUB } } });
    const d = await c.waitFor(() => { const x = c.published(sigUri()); return x?.length ? x : undefined; }, 'SIG001 from the user-scope key');
    assert.match(d[0].message, /changed: config\.json/);
  } finally {
    fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 8}');
    await c.stop();
  }
});

test('without a key or CA a workspace model.sig still shows in the report state: signed, not checked; no SIG001', async () => {
  await client.setSettings({ signing: { publicKey: PUB } });
  await client.waitFor(() => client.published(sigUri())?.length === 0, 'verified with the key');
  fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 12}');
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(model(), 'config.json')).toString(), type: 2 }] });
  await client.waitFor(() => client.published(sigUri())?.length ? true : undefined, 'SIG001 while the key is configured');
  await client.setSettings({});
  const states = await client.waitFor(() => {
    const last = client.notificationsOf('modelvet/signatureStates').map((n) => n.params.states).pop();
    return last?.find((x: any) => x.model === model() && x.unchecked) ? last : undefined;
  }, 'an unchecked signature state');
  const st = states.find((x: any) => x.model === model());
  assert.equal(st.verified, false);
  assert.match(st.summary, /^not checked: no key or CA configured \(modelvet\.signing\.publicKey/);
  await client.waitFor(() => client.published(sigUri())?.length === 0, 'the SIG001 of the earlier key is cleared');
  fs.writeFileSync(path.join(model(), 'config.json'), '{"hidden_size": 8}');
});

test('verify command, keyless: without trustedRoot the bundled public-good root is used (as in the CLI); a trustedRoot file overrides it', async () => {
  const ms = path.resolve(__dirname, '../fixtures/oms/model_signing/v1.1.0-sigstore');
  const signer = fulcioIdentity(path.join(ms, 'model.sig'));
  const r: any = await client.request('workspace/executeCommand', { command: 'modelvet.server.verifyModel', arguments: [{ model: ms, sigstore: signer }] });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.verified, true, JSON.stringify(r.failures));
  assert.match(r.trustedRoot, /^bundled from @sigstore\/tuf \d+\.\d+\.\d+, valid /);
  const other = path.resolve(__dirname, '../fixtures/oms/sigstore-synthetic/trusted_root.json');
  const o: any = await client.request('workspace/executeCommand', { command: 'modelvet.server.verifyModel', arguments: [{ model: ms, sigstore: { ...signer, trustedRoot: other } }] });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.equal(o.verified, false);
  assert.equal(o.trustedRoot.startsWith(`${other}, valid `), true, o.trustedRoot);
  assert.equal(o.failures[0].check, 'chain');
});
