/**
 * The server's background license lookups (server/src/indexLicenses.ts) with a fake fetch: nothing is
 * asked offline, untrusted or with LIC005 off; a miss answers undefined at once and queues one lookup;
 * an answer asks for one refresh and is then served from memory; a failure asks for no refresh and is
 * not retried on every analysis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, type ModelVetConfig } from '../../../core/config';
import { FAILED_RETRY_MS, IndexLicenseGlue } from '../../../server/src/indexLicenses';

const INDEX = 'http://127.0.0.1:9/simple';
const META: Record<string, string> = {
  'good-1.0': 'Metadata-Version: 2.4\nName: good\nVersion: 1.0\nLicense-Expression: Apache-2.0\n\n',
  'good-2.0': 'Metadata-Version: 2.4\nName: good\nVersion: 2.0\nLicense-Expression: BUSL-1.1\n\n',
};

function fakeIndex() {
  const urls: string[] = [];
  const fetch = async (url: string) => {
    urls.push(url);
    const m = /\/simple\/([a-z0-9-]+)\/$/.exec(url);
    if (m && m[1] === 'good') {
      const files = Object.keys(META).map((k) => ({ filename: `${k}-py3-none-any.whl`, url: `../../files/${k}-py3-none-any.whl`, 'core-metadata': true }));
      return new Response(JSON.stringify({ files }), { headers: { 'content-type': 'application/vnd.pypi.simple.v1+json' } });
    }
    const f = /\/files\/(.+)-py3-none-any\.whl\.metadata$/.exec(url);
    if (f && META[f[1]]) return new Response(META[f[1]]);
    return new Response('', { status: 503 });
  };
  return { urls, fetch };
}

const online = (extra: Partial<ModelVetConfig> = {}): ModelVetConfig => ({ ...defaultConfig(), online: { enabled: true, indexUrl: INDEX, hubUrl: '' }, ...extra });

test('gates: offline, untrusted, LIC005 off or no index: no source, no request', async () => {
  const idx = fakeIndex();
  let trusted = false;
  const glue = new IndexLicenseGlue({ isTrusted: () => trusted, log: () => undefined, onDidChange: () => undefined, fetch: idx.fetch, env: {}, homeDir: '' });
  assert.equal(glue.sourceFor(online()), undefined, 'untrusted');
  trusted = true;
  assert.equal(glue.sourceFor(defaultConfig()), undefined, 'online off');
  assert.equal(glue.sourceFor(online({ rules: { LIC005: 'off' } })), undefined, 'LIC005 off');
  assert.equal(glue.sourceFor({ ...online(), online: { enabled: true, indexUrl: '', hubUrl: '' } }), undefined, 'no index configured');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(idx.urls, []);
});

test('a miss queues one background lookup; the answer refreshes once and is then known; failures are retried later, without a refresh', async () => {
  const cacheParent = mkdtempSync(path.join(os.tmpdir(), 'mv-index-glue-'));
  try {
    const idx = fakeIndex();
    let clock = 1_000_000;
    let changes = 0;
    let changed: () => void = () => undefined;
    const glue = new IndexLicenseGlue({ isTrusted: () => true, storagePath: cacheParent, log: () => undefined, onDidChange: () => { changes++; changed(); }, fetch: idx.fetch, now: () => clock, env: {}, homeDir: '' });
    const src = glue.sourceFor(online())!;
    assert.equal(src.known('good', '1.0'), undefined, 'never waits');
    assert.equal(src.known('good', '1.0'), undefined);
    assert.equal(src.known('broken', '1.0'), undefined);
    assert.equal(idx.urls.length, 0, 'nothing is fetched while the analysis runs');
    await new Promise<void>((r) => { changed = r; });
    const known = src.known('good', '1.0');
    assert.equal(known?.pinned?.license.spdx, 'Apache-2.0');
    assert.equal(known?.newest?.version, '2.0');
    assert.equal(known?.newest?.license.spdx, 'BUSL-1.1');
    assert.equal(changes, 1);
    assert.equal(idx.urls.filter((u) => u.endsWith('/good/')).length, 1, 'two misses of the same pin: one lookup');
    const asked = idx.urls.length;
    assert.equal(src.known('broken', '1.0'), undefined);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(idx.urls.length, asked, 'a failure is not asked again at once');
    clock += FAILED_RETRY_MS + 1;
    src.known('broken', '1.0');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(idx.urls.length > asked, 'retried after the back-off');
    assert.equal(changes, 1, 'failures ask for no refresh');
    glue.dispose();
  } finally { rmSync(cacheParent, { recursive: true, force: true }); }
});
