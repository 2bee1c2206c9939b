/**
 * The package-index client behind DEP002's online pin, against a local HTTP server:
 * PEP 691 JSON and PEP 503 HTML pages, pre-releases, yanked files, local versions,
 * 404, timeouts, the TTL cache (memory and disk), deduplication, and zero requests
 * while offline or without a configured index. Plus the rule side: the lazily
 * resolved DEP002 fix appears only online and only without an offline pin.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, type ModelVetConfig } from '../../../core/config';
import {
  createIndexClient, newestFinal, parsePipConfigIndexUrl, parseSimpleHtml, parseSimpleJson,
  resolveIndexUrl, simpleFileHashes, versionFromFilename,
} from '../../../core/deps/indexClient';
import { resolveIndexPin } from '../../../server/src/indexPin';
import { applyEdits, codes, ctxOf, run } from './helpers';

interface Page { status?: number; type?: string; body?: string; delayMs?: number; bytes?: number }
const pages = new Map<string, Page>();
const requests: Array<{ path: string; accept: string; auth?: string }> = [];
let server: http.Server;
let base: string;
let tmp: string;

const json = (files: Array<{ filename: string; yanked?: boolean | string }>) =>
  ({ type: 'application/vnd.pypi.simple.v1+json', body: JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'x', files: files.map((f) => ({ url: `../../files/${f.filename}`, hashes: {}, ...f })) }) });
const html = (anchors: string[]) => ({ type: 'text/html', body: `<!DOCTYPE html><html><body>\n${anchors.join('<br/>\n')}\n</body></html>` });

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelvet-index-'));
  server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', accept: String(req.headers.accept ?? ''), auth: req.headers.authorization });
    const page = pages.get(req.url ?? '');
    const send = () => {
      if (!page) { res.writeHead(404); res.end('not found'); return; }
      if (page.bytes) {
        res.writeHead(200, { 'content-type': 'text/html' });
        const chunk = Buffer.alloc(1024 * 1024, 'a');
        let sent = 0;
        const pump = () => { while (sent < page.bytes!) { sent += chunk.length; if (!res.write(chunk)) { res.once('drain', pump); return; } } res.end(); };
        res.on('error', () => undefined);
        pump();
        return;
      }
      res.writeHead(page.status ?? 200, { 'content-type': page.type ?? 'text/html' });
      res.end(page.body ?? '');
    };
    if (page?.delayMs) setTimeout(send, page.delayMs); else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`;

  pages.set('/simple/numpy/', json([
    { filename: 'numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl' },
    { filename: 'numpy-1.26.4.tar.gz' },
    { filename: 'numpy-2.0.0rc1-cp311-cp311-manylinux_2_17_x86_64.whl' },
    { filename: 'numpy-2.1.0.dev0.tar.gz' },
    { filename: 'numpy-2.0.2-cp311-cp311-manylinux_2_17_x86_64.whl', yanked: 'broken wheel' },
    { filename: 'numpy-2.0.2.tar.gz', yanked: true },
    { filename: 'numpy-1.9.0.tar.gz' },
    { filename: 'numpy-1.26.10-cp311-cp311-win_amd64.whl', yanked: false },
  ]));
  pages.set('/simple/torch/', html([
    '<a href="/files/torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl#sha256=00">torch-2.1.0+cu121-cp311-cp311-linux_x86_64.whl</a>',
    '<a href="/files/torch-2.2.1%2Bcu121-cp311-cp311-linux_x86_64.whl#sha256=00">torch-2.2.1+cu121-cp311-cp311-linux_x86_64.whl</a>',
    '<a href="/files/torch-2.3.0%2Bcu121-cp311-cp311-linux_x86_64.whl" data-yanked="">torch-2.3.0+cu121-cp311-cp311-linux_x86_64.whl</a>',
    '<a href="/files/torch-2.4.0.dev20240601%2Bcu121-cp311-cp311-linux_x86_64.whl">torch-2.4.0.dev20240601+cu121-cp311-cp311-linux_x86_64.whl</a>',
    '<a href="/files/torchvision-9.9.9-py3-none-any.whl">torchvision-9.9.9-py3-none-any.whl</a>',
  ]));
  pages.set('/simple/zope-interface/', html(['<a href="zope.interface-6.4.post2.tar.gz">zope.interface-6.4.post2.tar.gz</a>', '<a href="zope.interface-6.0.tar.gz">zope.interface-6.0.tar.gz</a>']));
  pages.set('/simple/slow/', { ...json([{ filename: 'slow-1.0.tar.gz' }]), delayMs: 1500 });
  pages.set('/simple/broken/', { status: 500, body: 'oops' });
  pages.set('/simple/huge/', { bytes: 3 * 1024 * 1024 });
  pages.set('/simple/onlypre/', json([{ filename: 'onlypre-1.0a1.tar.gz' }, { filename: 'onlypre-1.0b2-py3-none-any.whl' }]));
  pages.set('/simple/ranged/', json(['3.0.0', '2.9.1', '2.10.0', '1.0'].map((v) => ({ filename: `ranged-${v}.tar.gz` }))));
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

function config(online: Partial<ModelVetConfig['online']>): ModelVetConfig {
  const c = defaultConfig();
  c.online = { ...c.online, ...online };
  return c;
}
/** A client that sees no PIP_* environment and an empty home (so the machine's pip.conf cannot leak in). */
function client(online: Partial<ModelVetConfig['online']>, extra: Parameters<typeof createIndexClient>[0] extends infer O ? Partial<O> : never = {}) {
  return createIndexClient({ getConfig: () => config(online), env: {}, homeDir: path.join(tmp, 'no-home'), timeoutMs: 3000, ...extra });
}
const countFor = (p: string) => requests.filter((r) => r.path === p).length;

test('JSON page: newest final, non-yanked version; negotiates PEP 691', async () => {
  const c = client({ enabled: true, indexUrl: base });
  assert.equal(await c.newestVersion('NumPy'), '1.26.10');
  const r = requests.find((x) => x.path === '/simple/numpy/');
  assert.ok(r, 'requested the normalized name');
  assert.match(r.accept, /application\/vnd\.pypi\.simple\.v1\+json/);
});

test('HTML page: local versions (+cu121) become the public version, yanked and dev releases are skipped', async () => {
  const c = client({ enabled: true, indexUrl: `${base}/` });
  assert.equal(await c.newestVersion('torch'), '2.2.1');
  assert.equal(await c.newestVersion('zope.interface'), '6.4.post2');
});

test('a spec restricts the pick; only pre-releases or an unknown project give no pin', async () => {
  const c = client({ enabled: true, indexUrl: base });
  assert.equal(await c.newestVersion('ranged'), '3.0.0');
  assert.equal(await c.newestVersion('ranged', '<3'), '2.10.0');
  assert.equal(await c.newestVersion('ranged', '>=4'), undefined);
  assert.equal(await c.newestVersion('onlypre'), undefined);
  assert.equal(await c.newestVersion('does-not-exist'), undefined);
  assert.equal(countFor('/simple/does-not-exist/'), 1);
});

test('errors: HTTP 500, a slow server (timeout) and an oversized page give no pin and are not cached', async () => {
  const logs: string[] = [];
  const c = client({ enabled: true, indexUrl: base }, { timeoutMs: 300, log: (m) => logs.push(m) });
  assert.equal(await c.newestVersion('broken'), undefined);
  const t0 = Date.now();
  assert.equal(await c.newestVersion('slow'), undefined);
  assert.ok(Date.now() - t0 < 1400, 'gave up before the server answered');
  const capped = client({ enabled: true, indexUrl: base }, { maxResponseBytes: 1024 * 1024, log: (m) => logs.push(m) });
  assert.equal(await capped.newestVersion('huge'), undefined);
  assert.ok(logs.some((l) => /HTTP 500/.test(l)) && logs.some((l) => /no answer within 300 ms/.test(l)) && logs.some((l) => /larger than/.test(l)), logs.join('\n'));
  const before = countFor('/simple/broken/');
  await c.newestVersion('broken');
  assert.equal(countFor('/simple/broken/'), before + 1, 'failures are retried');
});

test('zero requests while offline or without any configured index', async () => {
  const n = requests.length;
  const offline = client({ enabled: false, indexUrl: base });
  assert.equal(await offline.newestVersion('numpy'), undefined);
  const noIndex = client({ enabled: true, indexUrl: '' });
  assert.equal(await noIndex.newestVersion('numpy'), undefined);
  assert.equal(offline.requestCount + noIndex.requestCount, 0);
  assert.equal(requests.length, n);
});

test('one request per package per TTL; concurrent lookups share it; disk cache survives a new client', async () => {
  let clock = 1_000_000;
  const cacheDir = path.join(tmp, 'cache');
  const opts = { ttlMs: 60_000, now: () => clock, cacheDir };
  const c = client({ enabled: true, indexUrl: base }, opts);
  const start = countFor('/simple/ranged/');
  const got = await Promise.all([c.newestVersion('ranged'), c.newestVersion('Ranged'), c.newestVersion('ranged', '<3')]);
  assert.deepEqual(got, ['3.0.0', '3.0.0', '2.10.0']);
  assert.equal(countFor('/simple/ranged/'), start + 1);
  clock += 30_000;
  await c.newestVersion('ranged');
  assert.equal(countFor('/simple/ranged/'), start + 1, 'within the TTL: from memory');
  const second = client({ enabled: true, indexUrl: base }, opts);
  assert.equal(await second.newestVersion('ranged'), '3.0.0');
  assert.equal(second.requestCount, 0, 'from the disk cache');
  clock += 31_000;
  await c.newestVersion('ranged');
  assert.equal(countFor('/simple/ranged/'), start + 2, 'after the TTL: asked again');
});

test('credentials in the index URL are sent as Basic auth, not in the URL', async () => {
  const c = client({ enabled: true, indexUrl: base.replace('http://', 'http://alice:s%40cret@') });
  assert.equal(await c.newestVersion('numpy'), '1.26.10');
  assert.equal(requests.at(-1)?.auth, `Basic ${Buffer.from('alice:s@cret').toString('base64')}`);
});

test('index URL: setting, then PIP_INDEX_URL, then pip.conf files; none → undefined', () => {
  const home = path.join(tmp, 'home');
  const pipDir = path.join(home, '.config', 'pip');
  mkdirSync(pipDir, { recursive: true });
  writeFileSync(path.join(pipDir, 'pip.conf'), '[install]\nindex-url = http://127.0.0.1:9/wrong\n[global]\n# comment\nindex-url = http://127.0.0.1:9/from-conf\n');
  const explicit = path.join(tmp, 'explicit.conf');
  writeFileSync(explicit, '[global]\nindex_url: http://127.0.0.1:9/explicit\n');
  assert.equal(resolveIndexUrl(config({ indexUrl: 'http://127.0.0.1:9/setting' }), { PIP_INDEX_URL: 'http://127.0.0.1:9/env' }, home), 'http://127.0.0.1:9/setting');
  assert.equal(resolveIndexUrl(config({}), { PIP_INDEX_URL: 'http://127.0.0.1:9/env' }, home), 'http://127.0.0.1:9/env');
  assert.equal(resolveIndexUrl(config({}), {}, home), 'http://127.0.0.1:9/from-conf');
  assert.equal(resolveIndexUrl(config({}), { PIP_CONFIG_FILE: explicit }, home), 'http://127.0.0.1:9/explicit');
  assert.equal(resolveIndexUrl(config({}), { XDG_CONFIG_HOME: path.join(tmp, 'nothing') }, path.join(tmp, 'empty-home')), undefined);
  assert.equal(resolveIndexUrl(config({ indexUrl: 'file:///etc/passwd' }), {}, path.join(tmp, 'empty-home')), undefined);
  assert.equal(parsePipConfigIndexUrl('[global]\ntimeout = 60\n'), undefined);
});

test('file names: wheels, sdists with dashes and dots in the name, other projects and garbage', () => {
  assert.equal(versionFromFilename('torch-2.1.0+cu121-cp311-cp311-linux_x86_64.whl', 'torch'), '2.1.0');
  assert.equal(versionFromFilename('scikit_learn-1.5.0-1-cp311-cp311-win_amd64.whl', 'scikit-learn'), '1.5.0');
  assert.equal(versionFromFilename('scikit-learn-1.5.0.tar.gz', 'scikit-learn'), '1.5.0');
  assert.equal(versionFromFilename('Zope.Interface-1!6.4.post2.zip', 'zope-interface'), '1!6.4.post2');
  assert.equal(versionFromFilename('torchvision-0.16.0-py3-none-any.whl', 'torch'), undefined);
  assert.equal(versionFromFilename('torch-notaversion-py3-none-any.whl', 'torch'), undefined);
  assert.equal(versionFromFilename('torch-2.1.0.exe', 'torch'), undefined);
  assert.equal(versionFromFilename('torch-2.1.0-py3.egg', 'torch'), undefined);
  assert.equal(newestFinal(['1.0', '1.0.post1', '1!0.1', '2.0rc1']), '1!0.1', 'epochs order first');
  assert.equal(parseSimpleJson('{"files": 3}', 'x'), undefined);
  assert.deepEqual(parseSimpleJson('not json', 'x'), undefined);
  assert.deepEqual(parseSimpleHtml('<a href="x-1.0.tar.gz">x-1.0.tar.gz</a><a href="x-2.0.tar.gz" data-yanked="bad">x-2.0.tar.gz</a>', 'x'), ['1.0']);
  assert.deepEqual(parseSimpleHtml('<a href="../files/x-3.0.tar.gz#sha256=ab"></a>', 'x'), ['3.0'], 'href when the anchor has no text');
});

test('DEP002: the index-pin fix appears only online, only without an offline pin, and resolves to ==newest', async () => {
  const text = 'numpy>=1.20\nrequests\n';
  const offline = codes(run('requirements', 'requirements.txt', text), 'DEP002');
  assert.ok(offline.every((f) => f.fixes.every((x) => !x.resolve)), 'offline: no index fix');
  const onlineCtx = ctxOf({ config: { online: { enabled: true, indexUrl: base, hubUrl: '' } }, locked: { requests: '2.31.0' } });
  const online = codes(run('requirements', 'requirements.txt', text, onlineCtx), 'DEP002');
  assert.equal(online.length, 2);
  const [numpy, requestsF] = online;
  assert.ok(requestsF.fixes.every((x) => !x.resolve), 'a lockfile pin wins; no index fix');
  const fix = numpy.fixes.find((x) => x.resolve?.kind === 'index-pin');
  assert.ok(fix, JSON.stringify(numpy.fixes));
  assert.equal(fix.title, "Pin 'numpy' to the newest version on the index");
  assert.deepEqual(fix.edits, []);
  const c = client({ enabled: true, indexUrl: base });
  const edits = await resolveIndexPin(c, fix.resolve!.data);
  assert.ok(edits);
  assert.equal(applyEdits(text, edits), 'numpy==1.26.10\nrequests\n');
  const none = await resolveIndexPin(client({ enabled: false, indexUrl: base }), fix.resolve!.data);
  assert.equal(none, undefined);
});

test('simpleFileHashes: sha256 per public version from JSON and HTML pages; yanked files and bad digests skipped', () => {
  const d = (c: string) => c.repeat(64);
  const j = JSON.stringify({ files: [
    { filename: 'x-1.0.tar.gz', hashes: { sha256: d('a') } },
    { filename: 'x-1.0-py3-none-any.whl', hashes: { sha256: d('B') } },
    { filename: 'x-2.0.tar.gz', hashes: { sha256: d('c') }, yanked: true },
    { filename: 'x-3.0.tar.gz', hashes: { sha256: 'short' } },
    { filename: 'y-1.0.tar.gz', hashes: { sha256: d('e') } },
  ] });
  assert.deepEqual(simpleFileHashes(j, true, 'x'), { '1.0': [`sha256:${d('a')}`, `sha256:${d('b')}`] });
  const h = `<a href="../f/x-1.0.tar.gz#sha256=${d('a')}">x-1.0.tar.gz</a><a href="../f/x-2.0.tar.gz#sha256=${d('c')}" data-yanked="">x-2.0.tar.gz</a><a href="../f/x-4.0.tar.gz#md5=00">x-4.0.tar.gz</a>`;
  assert.deepEqual(simpleFileHashes(h, false, 'x'), { '1.0': [`sha256:${d('a')}`] });
});
