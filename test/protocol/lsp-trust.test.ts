/**
 * Workspace Trust, enforced by the server itself (not only by VS Code's Restricted Mode): a workspace's
 * configuration may not turn network access on or point it elsewhere until the client says the
 * workspace is trusted, and a repository's `[tool.modelvet]` never may. A local listener counts every
 * request; while untrusted it must receive zero.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient, applyEdits, editsFor } from '../helpers/lsp-client';
import { startMockHub, type MockHub } from '../helpers/mockHub';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const PY = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/tiny-bert")\n';

let hub: MockHub;
let index: Server;
let indexRequests: string[] = [];
let indexUrl: string;
const roots: string[] = [];

before(async () => {
  hub = await startMockHub([{ id: 'acme/tiny-bert', sha: SHA, files: [{ path: 'config.json', content: Buffer.from('{}'), lfs: false }, { path: 'model.safetensors', content: Buffer.from('x'.repeat(64)) }] }]);
  index = createServer((req, res) => { indexRequests.push(`${req.method} ${req.url}`); res.writeHead(404).end(); });
  await new Promise<void>((r) => index.listen(0, '127.0.0.1', r));
  indexUrl = `http://127.0.0.1:${(index.address() as AddressInfo).port}/simple`;
});
after(async () => {
  await hub?.close();
  await new Promise((r) => index?.close(r));
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function workspace(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-trust-'));
  roots.push(root);
  return root;
}

async function startClient(root: string, settings: Record<string, unknown>, initializationOptions: Record<string, unknown> = {}): Promise<LspTestClient> {
  return LspTestClient.start({
    root, settings,
    initializationOptions: { storagePath: path.join(root, '.storage'), ...initializationOptions },
    env: { HF_HUB_CACHE: path.join(root, 'hf-cache'), HF_TOKEN: '', HF_ENDPOINT: '', PIP_INDEX_URL: '', PIP_CONFIG_FILE: os.devNull, XDG_CONFIG_HOME: path.join(root, 'xdg'), HOME: root },
  });
}

/** Everything that could go online: diagnostics (background Hub lookups), hovers, code actions and their resolution. */
async function exercise(client: LspTestClient): Promise<{ resolved?: string }> {
  const uri = client.open('load.py', PY, 'python');
  const req = client.open('requirements.txt', 'pandas\n', 'pip-requirements');
  const diags = await client.pull(uri);
  await client.pull(req);
  await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 35 } });
  let resolved: string | undefined;
  for (const [u, src, codes] of [[uri, PY, ['LOAD005']], [req, 'pandas\n', ['DEP002']]] as const) {
    const ds = (await client.pull(u)).filter((d) => (codes as readonly string[]).includes(String(d.code)));
    if (!ds.length) continue;
    const actions = await client.codeActions(u, ds);
    for (const a of actions.filter((x) => x.data && !x.edit)) {
      const r = await client.request('codeAction/resolve', a).catch(() => undefined);
      if (r && u === uri && editsFor(r, u).length) resolved = applyEdits(src, editsFor(r, u));
    }
  }
  // Background lookups are debounced: give them time to fire if they were going to.
  await new Promise((r) => setTimeout(r, 800));
  await client.pull(uri);
  client.close(uri);
  client.close(req);
  void diags;
  return { resolved };
}

const onlineSettings = () => ({ online: { enabled: true, hubUrl: hub.url, indexUrl } });

test('untrusted workspace: its settings cannot enable network access (zero requests), trust turns it on', async () => {
  hub.requests.length = 0; indexRequests = [];
  const root = workspace();
  const client = await startClient(root, onlineSettings());
  try {
    await exercise(client);
    assert.deepEqual(hub.requests, [], 'no request reached the workspace-chosen Hub');
    assert.deepEqual(indexRequests, [], 'no request reached the workspace-chosen index');
    assert.ok(client.logs.some((l) => /workspace trust: untrusted/.test(l)), 'the server says why');
    await assert.rejects(client.request('modelvet/scanHubRepo', { repo: 'acme/tiny-bert' }), (e: { code?: number }) => e.code === -32001);

    // The user trusts the folder: the client says so; the server re-reads the configuration.
    const m = client.mark();
    client.notify('modelvet/workspaceTrust', { trusted: true });
    await client.waitForRequest('workspace/configuration', m);
    await client.pull(client.uri('nothing.py'));
    const { resolved } = await exercise(client);
    assert.ok(hub.requests.length > 0, 'trusted: the Hub is asked');
    assert.equal(resolved, `from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/tiny-bert", revision="${SHA}")\n`);
  } finally { await client.stop(); }
});

test('untrusted workspace: the user\'s own settings (initializationOptions) still apply', async () => {
  hub.requests.length = 0; indexRequests = [];
  const root = workspace();
  // The workspace reply tries to point elsewhere; the launching editor's own settings enable the mock Hub.
  const client = await startClient(root, { online: { enabled: true, hubUrl: indexUrl.replace('/simple', '/not-the-hub') } }, { settings: { online: { enabled: true, hubUrl: hub.url } } });
  try {
    const { resolved } = await exercise(client);
    assert.ok(hub.requests.length > 0);
    assert.ok(resolved?.includes(`revision="${SHA}"`));
    assert.ok(!indexRequests.some((r) => r.includes('not-the-hub')), 'the workspace-chosen host got nothing');
  } finally { await client.stop(); }
});

test('a forged $userScope from a client that did not opt in is ignored', async () => {
  hub.requests.length = 0; indexRequests = [];
  const root = workspace();
  const client = await startClient(root, { ...onlineSettings(), $userScope: onlineSettings() });
  try {
    await exercise(client);
    assert.deepEqual(hub.requests, []);
    assert.deepEqual(indexRequests, []);
  } finally { await client.stop(); }
});

test('[tool.modelvet] cannot enable network access even in a trusted workspace; its rules apply', async () => {
  hub.requests.length = 0; indexRequests = [];
  const root = workspace();
  writeFileSync(path.join(root, 'pyproject.toml'), `[project]\nname = "demo"\nversion = "1"\n\n[tool.modelvet]\nrules = { DEP002 = "off" }\n\n[tool.modelvet.online]\nenabled = true\nhub-url = "${hub.url}"\nindex-url = "${indexUrl}"\n`);
  const client = await startClient(root, {}, { workspaceTrust: { trusted: true } });
  try {
    await exercise(client);
    assert.deepEqual(hub.requests, []);
    assert.deepEqual(indexRequests, []);
    const req = client.open('requirements.txt', 'pandas\n', 'pip-requirements');
    const diags = await client.pull(req);
    assert.ok(!diags.some((d) => d.code === 'DEP002'), `[tool.modelvet] turned DEP002 off in the editor too: ${JSON.stringify(diags)}`);
    assert.ok(client.logs.some((l) => /may not set online\.enabled/.test(l)), 'the refusal is logged');
    // Editor settings override the project file (here: turn DEP002 back on).
    const m = client.mark();
    await client.setSettings({ rules: { DEP002: 'warning' } });
    await client.waitForRequest('workspace/configuration', m);
    const again = await client.pull(req);
    assert.ok(again.some((d) => d.code === 'DEP002'), JSON.stringify(again));
  } finally { await client.stop(); }
});
