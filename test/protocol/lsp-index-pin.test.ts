/**
 * DEP002's online pin over LSP, against a local Simple API server (127.0.0.1):
 * offline the unpinned requirement has no index fix and nothing is requested;
 * with `online.enabled` and `online.indexUrl` pointing at the local server,
 * diagnostics still come without a request, and the lazily resolved code action
 * writes `==<newest final release>` when resolved.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient, applyEdits, editsFor } from '../helpers/lsp-client';

const requested: string[] = [];
const digest = (s: string) => createHash('sha256').update(s).digest('hex');
let server: http.Server;
let indexUrl: string;
let root: string;
let client: LspTestClient;

before(async () => {
  server = http.createServer((req, res) => {
    requested.push(req.url ?? '');
    if (req.url === '/simple/numpy/') {
      const files = ['numpy-1.26.4.tar.gz', 'numpy-2.1.3-cp311-cp311-manylinux_2_17_x86_64.whl', 'numpy-2.2.0rc1.tar.gz', 'numpy-2.1.4.tar.gz'];
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' });
      res.end(JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'numpy', files: files.map((filename) => ({ filename, url: `../../f/${filename}`, hashes: {}, yanked: filename === 'numpy-2.1.4.tar.gz' })) }));
      return;
    }
    if (req.url === '/simple/pandas/' || req.url === '/simple/rich/') {
      const name = req.url.split('/')[2];
      const v = name === 'pandas' ? '2.2.2' : '13.7.1';
      const files = [`${name}-${v}.tar.gz`, `${name}-${v}-py3-none-any.whl`, `${name}-0.1.tar.gz`];
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' });
      res.end(JSON.stringify({ meta: { 'api-version': '1.1' }, name, files: files.map((filename) => ({ filename, url: `../../f/${filename}`, hashes: { sha256: digest(filename) } })) }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  indexUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`;
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-index-'));
  // No pip configuration from the machine: the index comes only from the setting.
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage'), workspaceTrust: { trusted: true } }, env: { PIP_INDEX_URL: '', PIP_CONFIG_FILE: os.devNull, XDG_CONFIG_HOME: path.join(root, 'xdg'), HOME: root } });
});
after(async () => {
  await client?.stop();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

const SRC = 'numpy>=1.20\n';

test('offline: no index fix and no request', async () => {
  const uri = client.open('requirements.txt', SRC, 'pip-requirements');
  const dep002 = (await client.pull(uri)).filter((d) => d.code === 'DEP002');
  assert.equal(dep002.length, 1);
  const actions = await client.codeActions(uri, dep002);
  assert.ok(!actions.some((a) => /newest version on the index/.test(a.title)), actions.map((a) => a.title).join(', '));
  assert.deepEqual(requested, []);
  client.close(uri);
});

test('online: DEP002 code action resolves to ==<newest> from the index', async () => {
  const m = client.mark();
  await client.setSettings({ online: { enabled: true, indexUrl } });
  await client.waitForRequest('workspace/configuration', m);
  const uri = client.open('requirements.txt', SRC, 'pip-requirements');
  const dep002 = (await client.pull(uri)).filter((d) => d.code === 'DEP002');
  assert.equal(dep002.length, 1);
  const actions = await client.codeActions(uri, dep002);
  const pin = actions.find((a) => a.title === "Pin 'numpy' to the newest version on the index");
  assert.ok(pin, actions.map((a) => a.title).join(', '));
  assert.ok(!pin.edit && pin.data, 'resolved lazily');
  assert.deepEqual(requested, [], 'diagnostics and code actions never touch the network');
  const resolved = await client.request('codeAction/resolve', pin);
  assert.equal(applyEdits(SRC, editsFor(resolved, uri)), 'numpy==2.1.3\n');
  assert.deepEqual(requested, ['/simple/numpy/']);
  // Resolved again: answered from the cache.
  await client.request('codeAction/resolve', pin);
  assert.equal(requested.length, 1);
  client.close(uri);
});

test('online: DEP003 "add --hash" asks the index only when resolved, for the pinned unhashed lines', async () => {
  const m = client.mark();
  // LIC005 off: with it, diagnostics of pinned lines look the licenses up in the background (lsp-licenses-online.test.ts).
  await client.setSettings({ online: { enabled: true, indexUrl }, rules: { LIC005: 'off' } });
  await client.waitForRequest('workspace/configuration', m);
  const src = `torch==2.6.0 --hash=sha256:${digest('torch')}\npandas==2.2.2\nrich==13.7.1  # ui\n`;
  const before = requested.length;
  const uri = client.open('requirements-hashes.txt', src, 'pip-requirements');
  const d3 = (await client.pull(uri)).filter((d) => d.code === 'DEP003');
  assert.equal(d3.length, 1);
  const add = (await client.codeActions(uri, d3)).find((a) => a.title === 'Add --hash to all 2 unhashed requirements (digests from the package index)');
  assert.ok(add && !add.edit, 'offered, resolved lazily');
  assert.equal(requested.length, before, 'diagnostics and code actions never touch the network');
  const resolved = await client.request('codeAction/resolve', add);
  assert.equal(applyEdits(src, editsFor(resolved, uri)), `torch==2.6.0 --hash=sha256:${digest('torch')}\npandas==2.2.2 --hash=sha256:${digest('pandas-2.2.2.tar.gz')} --hash=sha256:${digest('pandas-2.2.2-py3-none-any.whl')}\nrich==13.7.1 --hash=sha256:${digest('rich-13.7.1.tar.gz')} --hash=sha256:${digest('rich-13.7.1-py3-none-any.whl')}  # ui\n`);
  assert.deepEqual(requested.slice(before).sort(), ['/simple/pandas/', '/simple/rich/']);
  client.close(uri);
});
