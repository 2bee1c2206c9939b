/** Online licenses (`modelvet licenses --online`) against a local PEP 691 index: no real network. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOnlineLookup, parseFiles } from '../../../core/licenses/online';
import { applyIndexLicenses } from '../../../core/licenses/rules';
import { buildLicenseTable } from '../../../core/licenses/table';
import { main } from '../../../core/cli/main';

const META: Record<string, string> = {
  'somelib-1.4.0': 'Metadata-Version: 2.4\nName: somelib\nVersion: 1.4.0\nLicense-Expression: Apache-2.0\n\nbody',
  'somelib-2.0.0': 'Metadata-Version: 2.4\nName: somelib\nVersion: 2.0.0\nLicense-Expression: BUSL-1.1\n\nbody',
  'somelib-2.1.0rc1': 'Metadata-Version: 2.4\nName: somelib\nVersion: 2.1.0rc1\nLicense-Expression: MIT\n\nbody',
  'lockonly-0.3.0': 'Metadata-Version: 2.1\nName: lockonly\nVersion: 0.3.0\nClassifier: License :: OSI Approved :: MIT License\n\nbody',
  'stable-1.0.0': 'Metadata-Version: 2.1\nName: stable\nVersion: 1.0.0\nLicense: MIT\n\nbody',
  'stable-1.1.0': 'Metadata-Version: 2.1\nName: stable\nVersion: 1.1.0\nLicense: MIT License\n\nbody',
};
const requests: string[] = [];
let server: http.Server;
let base = '';

function page(name: string): string {
  const files = Object.keys(META).filter((k) => k.startsWith(`${name}-`)).map((k) => ({
    filename: `${k}-py3-none-any.whl`, url: `../../files/${k}-py3-none-any.whl#sha256=${'0'.repeat(64)}`, hashes: { sha256: '0'.repeat(64) },
    'core-metadata': { sha256: '1'.repeat(64) },
  }));
  return JSON.stringify({ meta: { 'api-version': '1.1' }, name, files: [...files, { filename: `${name}-9.9.9.tar.gz`, url: `/files/${name}-9.9.9.tar.gz`, hashes: {}, yanked: 'broken' }] });
}

before(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const u = req.url ?? '';
    let m = /^\/simple\/([a-z0-9-]+)\/$/.exec(u);
    if (m && m[1] === 'htmlonly') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<a href="x">htmlonly-1.0.tar.gz</a>'); return; }
    if (m && m[1] === 'hangs') return; // never answers
    if (m && Object.keys(META).some((k) => k.startsWith(`${m![1]}-`))) { res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }); res.end(page(m[1])); return; }
    m = /^\/files\/(.+)-py3-none-any\.whl\.metadata$/.exec(u);
    if (m && META[m[1]]) { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(META[m[1]]); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`;
});
after(() => { server.closeAllConnections(); server.close(); });

test('PEP 691 file lists: metadata flags (PEP 714 and PEP 658 keys), relative URLs, yanked files dropped', () => {
  const files = parseFiles(JSON.stringify({ files: [
    { filename: 'a-1-py3-none-any.whl', url: 'a-1-py3-none-any.whl', 'core-metadata': true },
    { filename: 'a-2-py3-none-any.whl', url: '/x/a-2-py3-none-any.whl', 'data-dist-info-metadata': { sha256: 'ab' } },
    { filename: 'a-3-py3-none-any.whl', url: 'a-3.whl' },
    { filename: 'a-4-py3-none-any.whl', url: 'a-4.whl', yanked: true, 'core-metadata': true },
  ] }), 'http://h.invalid/simple/a/');
  assert.deepEqual(files?.map((f) => [f.url, f.metadata]), [['http://h.invalid/simple/a/a-1-py3-none-any.whl', true], ['http://h.invalid/x/a-2-py3-none-any.whl', true], ['http://h.invalid/simple/a/a-3.whl', false]]);
  assert.equal(parseFiles('<html>', 'http://h.invalid/'), undefined);
});

test('lookup: the pinned and the newest final release\'s licenses; cached on disk; failures are undefined', async () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'mv-online-'));
  try {
    const lookup = createOnlineLookup({ indexUrl: base, cacheDir });
    const r = await lookup.licensesOf('SomeLib', '1.4.0');
    assert.equal(r?.pinned?.license.spdx, 'Apache-2.0');
    assert.equal(r?.newest?.version, '2.0.0', 'the pre-release is not the newest final');
    assert.equal(r?.newest?.license.spdx, 'BUSL-1.1');
    assert.equal(await lookup.licensesOf('missing', '1.0'), undefined, '404');
    assert.equal(await lookup.licensesOf('htmlonly', '1.0'), undefined, 'no JSON page, no metadata links');
    assert.equal(await lookup.licensesOf('../etc', '1.0'), undefined, 'names are validated before a URL is made');
    const slow = createOnlineLookup({ indexUrl: base, timeoutMs: 200 });
    assert.equal(await slow.licensesOf('hangs', '1.0'), undefined, 'a silent index times out');
    const again = createOnlineLookup({ indexUrl: base, cacheDir });
    const before = requests.length;
    assert.equal((await again.licensesOf('somelib', '1.4.0'))?.newest?.license.spdx, 'BUSL-1.1');
    assert.equal(again.requestCount, 0, 'answered from the disk cache');
    assert.equal(requests.length, before);
  } finally { rmSync(cacheDir, { recursive: true, force: true }); }
});

function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-online-proj-'));
  writeFileSync(path.join(dir, 'uv.lock'), 'version = 1\n[[package]]\nname = "somelib"\nversion = "1.4.0"\n[[package]]\nname = "lockonly"\nversion = "0.3.0"\n[[package]]\nname = "stable"\nversion = "1.0.0"\n');
  const sp = path.join(dir, '.venv', 'lib', 'python3.12', 'site-packages', 'somelib-1.4.0.dist-info');
  mkdirSync(sp, { recursive: true });
  writeFileSync(path.join(sp, 'METADATA'), META['somelib-1.4.0']);
  return dir;
}

test('LIC005 when the newest release changed license; unknown licenses filled from the index (source "index")', async () => {
  const dir = project();
  try {
    const t = buildLicenseTable(dir);
    const lookup = createOnlineLookup({ indexUrl: base });
    const r = await applyIndexLicenses(t.rows, lookup);
    assert.deepEqual(r.findings.map((f) => [f.code, (f.data as any).name]), [['LIC005', 'somelib']]);
    assert.match(r.findings[0].message, /1\.4\.0 is Apache-2\.0, the newest release 2\.0\.0 is BUSL-1\.1/);
    const lockonly = t.rows.find((x) => x.name === 'lockonly')!;
    assert.equal(lockonly.license.spdx, 'MIT');
    assert.equal(lockonly.source, 'index');
    assert.ok(!r.findings.some((f) => (f.data as any).name === 'stable'), '"MIT" and "MIT License" are the same license');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

function io() {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { err.push(s); }, isTTY: false } };
}

test('modelvet licenses --online: LIC005 in the report; flags without --online are usage errors; offline makes no request', async () => {
  const dir = project();
  const cache = mkdtempSync(path.join(os.tmpdir(), 'mv-online-cache-'));
  try {
    let n = requests.length;
    let t = io();
    assert.equal(await main(['licenses', dir, '--format', 'json'], t.io), 0);
    assert.equal(requests.length, n, 'no network without --online');
    t = io();
    assert.equal(await main(['licenses', dir, '--online', '--index-url', base, '--cache-dir', cache, '--format', 'json', '--fail-on', 'warning'], t.io), 1);
    const j = JSON.parse(t.out.join(''));
    assert.ok(j.findings.some((f: any) => f.code === 'LIC005'));
    assert.equal(j.packages.find((p: any) => p.name === 'lockonly').source, 'index');
    n = requests.length;
    t = io();
    assert.equal(await main(['licenses', dir, '--index-url', base], t.io), 2);
    assert.equal(requests.length, n);
  } finally { rmSync(dir, { recursive: true, force: true }); rmSync(cache, { recursive: true, force: true }); }
});
