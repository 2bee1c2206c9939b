/**
 * License policy on manifests in the editor: a requirements.txt line that declares a dependency
 * installed in the workspace's .venv under a denied license gets LIC001 once the user's settings deny
 * it; nothing before.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient } from '../helpers/lsp-client';

let root: string;
let client: LspTestClient;

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-lic-'));
  const dist = path.join(root, '.venv', 'lib', 'python3.11', 'site-packages', 'agpl_pkg-2.0.dist-info');
  mkdirSync(dist, { recursive: true });
  writeFileSync(path.join(dist, 'METADATA'), 'Metadata-Version: 2.4\nName: agpl-pkg\nVersion: 2.0\nLicense-Expression: AGPL-3.0-only\n\n');
  writeFileSync(path.join(root, 'requirements.txt'), 'agpl-pkg==2.0\n');
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage') } });
});
after(async () => {
  await client?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('modelvet.licenses.deny reaches requirements.txt: LIC001 on the line of the installed, denied dependency', async () => {
  const uri = client.open('requirements.txt', 'agpl-pkg==2.0\n', 'pip-requirements');
  assert.ok(!(await client.pull(uri)).some((d) => String(d.code).startsWith('LIC')));
  let mark = client.mark();
  await client.setSettings({ licenses: { allow: [], deny: ['AGPL-3.0-only'] } });
  mark = await client.waitForRequest('workspace/configuration', mark);
  await client.waitForRequest('workspace/diagnostic/refresh', mark, 'refresh after config change');
  const diags = await client.pull(uri);
  const lic = diags.find((d) => d.code === 'LIC001');
  assert.ok(lic, JSON.stringify(diags));
  assert.deepEqual(lic.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 8 } });
  assert.match(lic.message, /agpl-pkg 2\.0: license AGPL-3\.0-only is denied/);
  assert.ok(lic.codeDescription?.href.endsWith('LIC001.md'));
});
