/**
 * LIC005 in the editor, against a local PEP 691 index (127.0.0.1, no real network): with online
 * features on in a trusted workspace the server looks the pinned dependencies up in the background
 * (the first diagnostics do not wait for the index), then refreshes, and LIC005 shows on the
 * requirement's line. With online off, or in an untrusted workspace, the index gets no request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient } from '../helpers/lsp-client';

const META: Record<string, string> = {
  'somelib-1.4.0': 'Metadata-Version: 2.4\nName: somelib\nVersion: 1.4.0\nLicense-Expression: Apache-2.0\n\nbody',
  'somelib-2.0.0': 'Metadata-Version: 2.4\nName: somelib\nVersion: 2.0.0\nLicense-Expression: BUSL-1.1\n\nbody',
  'stable-1.0.0': 'Metadata-Version: 2.1\nName: stable\nVersion: 1.0.0\nLicense-Expression: MIT\n\nbody',
  'stable-1.1.0': 'Metadata-Version: 2.1\nName: stable\nVersion: 1.1.0\nLicense-Expression: MIT\n\nbody',
};
const REQS = 'somelib==1.4.0\nstable==1.0.0\n';
/** Answers are held back this long: diagnostics pulled meanwhile must not wait for them. */
const INDEX_DELAY_MS = 400;
/**
 * "No request" needs a window: a lookup starts right after the analysis that asked for it, so a
 * leaked one reaches the local index within milliseconds; this is ample (the online test's first
 * request arrives well within it).
 */
const QUIET_MS = 1_000;
const settle = () => new Promise((r) => setTimeout(r, QUIET_MS));

const requests: string[] = [];
let server: http.Server;
let indexUrl = '';
let root: string;
let client: LspTestClient | undefined;

function page(name: string): string {
  const files = Object.keys(META).filter((k) => k.startsWith(`${name}-`)).map((k) => ({
    filename: `${k}-py3-none-any.whl`, url: `../../files/${k}-py3-none-any.whl`, hashes: { sha256: '0'.repeat(64) }, 'core-metadata': { sha256: '1'.repeat(64) },
  }));
  return JSON.stringify({ meta: { 'api-version': '1.1' }, name, files });
}

before(async () => {
  server = http.createServer((req, res) => {
    const u = req.url ?? '';
    requests.push(u);
    setTimeout(() => {
      let m = /^\/simple\/([a-z0-9-]+)\/$/.exec(u);
      if (m && Object.keys(META).some((k) => k.startsWith(`${m![1]}-`))) { res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }); res.end(page(m[1])); return; }
      m = /^\/files\/(.+)-py3-none-any\.whl\.metadata$/.exec(u);
      if (m && META[m[1]]) { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(META[m[1]]); return; }
      res.writeHead(404); res.end();
    }, INDEX_DELAY_MS);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  indexUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`;
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-lic-online-'));
  writeFileSync(path.join(root, 'requirements.txt'), REQS);
});
after(async () => {
  await client?.stop();
  server.closeAllConnections();
  server.close();
  rmSync(root, { recursive: true, force: true });
});

/** The settings are loaded (and applied: the refresh that follows) before the first pull. */
async function settingsLoaded(c: LspTestClient): Promise<void> {
  const m = await c.waitForRequest('workspace/configuration', 0);
  await c.waitForRequest('workspace/diagnostic/refresh', m, 'refresh after the settings loaded');
}

const env = { PIP_INDEX_URL: '', PIP_CONFIG_FILE: os.devNull, XDG_CONFIG_HOME: path.join(os.tmpdir(), 'modelvet-no-pip-config') };

test('untrusted workspace: online settings from the workspace reach no index', async () => {
  const c = await LspTestClient.start({ root, env, settings: { online: { enabled: true, indexUrl } }, initializationOptions: { storagePath: path.join(root, '.storage-untrusted'), workspaceTrust: { trusted: false } } });
  try {
    await settingsLoaded(c);
    const uri = c.open('requirements.txt', REQS, 'pip-requirements');
    assert.ok(!(await c.pull(uri)).some((d) => d.code === 'LIC005'));
    c.change(uri, 2, [{ text: REQS + '\n' }]);
    assert.ok(!(await c.pull(uri)).some((d) => d.code === 'LIC005'));
    await settle();
    assert.equal(requests.length, 0, requests.join(', '));
  } finally { await c.stop(); }
});

test('online off (trusted, index configured): no LIC005 and zero requests to the index', async () => {
  client = await LspTestClient.start({ root, env, settings: { online: { enabled: false, indexUrl } }, initializationOptions: { storagePath: path.join(root, '.storage'), workspaceTrust: { trusted: true } } });
  await settingsLoaded(client);
  const uri = client.open('requirements.txt', REQS, 'pip-requirements');
  assert.ok(!(await client.pull(uri)).some((d) => d.code === 'LIC005'));
  client.change(uri, 2, [{ text: REQS + '\n' }]);
  assert.ok(!(await client.pull(uri)).some((d) => d.code === 'LIC005'));
  await settle();
  assert.equal(requests.length, 0, requests.join(', '));
  client.close(uri);
});

test('online on: diagnostics come at once, the background lookup refreshes them and LIC005 shows on the requirement line', async () => {
  assert.ok(client);
  assert.equal(requests.length, 0, `nothing was asked before online features were turned on: ${requests.join(', ')}`);
  let mark = client.mark();
  await client.setSettings({ online: { enabled: true, indexUrl } });
  mark = await client.waitForRequest('workspace/configuration', mark);
  mark = await client.waitForRequest('workspace/diagnostic/refresh', mark, 'refresh after config change');
  const uri = client.open('requirements.txt', REQS, 'pip-requirements');
  const started = Date.now();
  const first = await client.pull(uri);
  const firstAt = Date.now();
  assert.ok(!first.some((d) => d.code === 'LIC005'), 'not known yet: the pull does not wait for the index');
  assert.ok(Date.now() - started < INDEX_DELAY_MS * 2, `the first pull took ${Date.now() - started} ms`);

  let lic005: ReturnType<typeof first.find>;
  const deadline = Date.now() + 15_000;
  while (!lic005) {
    assert.ok(Date.now() < deadline, `no LIC005 after the lookup; index requests: ${requests.join(', ')}`);
    mark = await client.waitForRequest('workspace/diagnostic/refresh', mark, 'refresh after the index answered', 15_000);
    lic005 = (await client.pull(uri)).find((d) => d.code === 'LIC005');
  }
  assert.deepEqual(lic005.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 7 } });
  assert.equal(lic005.severity, 2);
  assert.match(lic005.message, /dependency somelib: 1\.4\.0 is Apache-2\.0, the newest release 2\.0\.0 is BUSL-1\.1/);
  assert.ok(lic005.codeDescription?.href.endsWith('LIC005.md'));
  const all = await client.pull(uri);
  assert.equal(all.filter((d) => d.code === 'LIC005').length, 1, 'stable keeps MIT: no LIC005 on its line');
  assert.ok(firstAt - started < QUIET_MS);
  assert.ok(requests.includes('/simple/somelib/') && requests.includes('/files/somelib-2.0.0-py3-none-any.whl.metadata'), requests.join(', '));

  // Answers are remembered: editing the file shows LIC005 again without asking the index.
  const before = requests.length;
  client.change(uri, 2, [{ text: `# pinned\n${REQS}` }]);
  const again = (await client.pull(uri)).find((d) => d.code === 'LIC005');
  assert.equal(again?.range.start.line, 1);
  assert.equal(requests.length, before);
});
