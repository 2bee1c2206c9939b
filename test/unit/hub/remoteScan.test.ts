import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMockHub, maliciousPickle, safetensorsFile, type MockHub } from '../../helpers/mockHub';
import { scanHubRepo, parseHubSpec, safeLocalPath, HubScanError, ScanCancelledError } from '../../../core/hub/remoteScan';
import { createHubFeatures } from '../../../core/hub/features';
import { runHubScanCli } from '../../../core/hub/index';
import { defaultConfig, type ModelVetConfig } from '../../../core/config';

const SHA = '1111111111111111111111111111111111111111';
const SHA_OLD = '2222222222222222222222222222222222222222';
let hub: MockHub;
const BIG = bigSafetensors(4 * 1024 * 1024);
const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(path.join(tmpdir(), 'mv-hubscan-')); dirs.push(d); return d; };

// A big SafeTensors file: the header is tiny, the data section large, so header-only reads are visible.
function bigSafetensors(dataBytes: number): Uint8Array {
  const n = dataBytes / 4;
  let header = JSON.stringify({ w: { dtype: 'F32', shape: [n], data_offsets: [0, dataBytes] } });
  while ((header.length + 8) % 8) header += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, Buffer.from(header), Buffer.alloc(dataBytes)]);
}

before(async () => {
  hub = await startMockHub([
    {
      id: 'evil/model', sha: SHA, refs: { v0: SHA_OLD },
      files: [
        { path: 'README.md', content: Buffer.from('# hi'), lfs: false },
        { path: 'model.safetensors', content: safetensorsFile() },
        { path: 'big.safetensors', content: BIG },
        { path: 'sub/pytorch_model.bin', content: maliciousPickle() },
        { path: 'tampered.pkl', content: maliciousPickle(), servedContent: Buffer.concat([Buffer.from(maliciousPickle()).subarray(0, 10), Buffer.from('X'), Buffer.from(maliciousPickle()).subarray(11)]) },
      ],
    },
    { id: 'acme/gated', sha: SHA, status: 401, files: [] },
    {
      id: 'acme/small', sha: SHA, files: [
        { path: 'ok.pkl', content: Buffer.from('\x80\x02K\x01.', 'latin1'), lfs: false },
        { path: 'bad.pkl', content: Buffer.from('\x80\x02K\x01.', 'latin1'), lfs: false, servedContent: Buffer.from('\x80\x02K\x02.', 'latin1') },
      ],
    },
    { id: 'acme/data', kind: 'dataset', sha: SHA, files: [{ path: 'x.pkl', content: maliciousPickle() }] },
  ], { pageSize: 2 });
});
after(async () => { await hub.close(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function config(enabled = true): ModelVetConfig {
  const c = defaultConfig();
  c.online.enabled = enabled;
  c.online.hubUrl = hub.url;
  return c;
}

test('parseHubSpec', () => {
  assert.deepEqual(parseHubSpec('hf://org/name@main'), { repoId: 'org/name', kind: 'model', revision: 'main' });
  assert.deepEqual(parseHubSpec('hf://datasets/org/name'), { repoId: 'org/name', kind: 'dataset' });
  assert.deepEqual(parseHubSpec('gpt2'), { repoId: 'gpt2', kind: 'model' });
  assert.equal(parseHubSpec('hf://../etc/passwd'), undefined);
  assert.equal(parseHubSpec('hf://org/name@'), undefined);
  assert.equal(parseHubSpec('hf://a/b/c'), undefined);
});

test('safeLocalPath rejects traversal and odd names', () => {
  assert.equal(safeLocalPath('/c', '../x'), undefined);
  assert.equal(safeLocalPath('/c', 'a//b'), undefined);
  assert.equal(safeLocalPath('/c', 'a\\b'), undefined);
  assert.equal(safeLocalPath('/c', 'a/b.bin'), path.join('/c', 'a', 'b.bin'));
});

test('remote scan finds the malicious pickle, reads SafeTensors headers only, reports sha mismatch, hf:// paths', async () => {
  hub.requests.length = 0;
  const cacheDir = tmp();
  const progress: string[] = [];
  const out = await scanHubRepo('hf://evil/model@main', { config: config(), cacheDir, maxCacheBytes: 1 << 30, onProgress: (d, t, c) => progress.push(`${d}/${t} ${c}`) });
  const byPath = new Map(out.files.map((f) => [f.path, f]));
  const base = `hf://evil/model@${SHA}`;
  assert.deepEqual([...byPath.keys()].sort(), [`${base}/big.safetensors`, `${base}/model.safetensors`, `${base}/sub/pytorch_model.bin`, `${base}/tampered.pkl`]);
  const bin = byPath.get(`${base}/sub/pytorch_model.bin`)!;
  assert.equal(bin.verdict, 'malicious', JSON.stringify(bin.findings));
  assert.ok(bin.globals.some((g) => g.name === 'system'), JSON.stringify(bin.globals));
  assert.ok(!bin.findings.some((f) => f.code === 'HUB010'));
  const tampered = byPath.get(`${base}/tampered.pkl`)!;
  const mismatch = tampered.findings.find((f) => f.code === 'HUB010');
  assert.ok(mismatch, JSON.stringify(tampered.findings));
  assert.match(mismatch!.message, /does not match the Hub's LFS oid/);
  const big = byPath.get(`${base}/big.safetensors`)!;
  assert.equal(big.verdict, 'safe', JSON.stringify(big.findings));
  assert.equal(big.metadata?.['hub.download'], 'header-only');
  assert.equal(big.size, BIG.length, 'the real size, although only the header was fetched');
  // Header-only: two range requests, no full GET of the big file.
  const bigGets = hub.requests.filter((r) => r.includes('/resolve/') && r.includes('big.safetensors'));
  assert.equal(bigGets.length, 2, bigGets.join('\n'));
  const local = path.join(cacheDir, 'hub-files', 'models--evil--model', SHA, 'big.safetensors');
  const st = statSync(local);
  assert.ok(st.blocks * 512 < 1024 * 1024, `sparse on disk: ${st.blocks * 512} bytes`);
  // Pagination: with pageSize 2 the listing took 3 pages.
  assert.equal(hub.requests.filter((r) => r.includes('/tree/')).length, 3);
  assert.ok(progress.length >= 4 && progress.at(-1)!.startsWith('4/4'), progress.join('\n'));
  assert.ok(!existsSync('/tmp/modelvet_pwned_x'), 'never executed');

  // The hover now shows ModelVet's own verdict for that commit.
  const f = createHubFeatures({ getConfig: config, cacheDir });
  const md = (await f.hover({ repoId: 'evil/model', kind: 'model' }))!;
  assert.match(md, /\*\*ModelVet scan\*\* of this commit: \*\*malicious\*\*/);
  assert.match(md, /`sub\/pytorch_model\.bin`: malicious/);

  // A second scan of the same commit reuses the verified files (no full downloads).
  hub.requests.length = 0;
  await scanHubRepo(`hf://evil/model@${SHA}`, { config: config(), cacheDir });
  assert.ok(!hub.requests.some((r) => r.includes('pytorch_model.bin')), hub.requests.join('\n'));
});

test('remote scan of a revision uses its commit; datasets work', async () => {
  const out = await scanHubRepo('hf://datasets/acme/data', { config: config(), cacheDir: tmp() });
  assert.equal(out.files[0].path, `hf://datasets/acme/data@${SHA}/x.pkl`);
  assert.equal(out.files[0].verdict, 'malicious');
});

test('the size cap skips files explicitly (unscannable, never safe)', async () => {
  const out = await scanHubRepo('hf://evil/model', { config: config(), cacheDir: tmp(), maxCacheBytes: 100 });
  const bin = out.files.find((f) => f.path.endsWith('pytorch_model.bin'))!;
  assert.equal(bin.verdict, 'unscannable');
  assert.equal(bin.findings[0].code, 'HUB011');
});

test('missing, gated and offline repos are errors; offline makes zero requests', async () => {
  await assert.rejects(scanHubRepo('hf://nobody/nothing', { config: config(), cacheDir: tmp() }), (e: HubScanError) => e.httpStatus === 404);
  await assert.rejects(scanHubRepo('hf://acme/gated', { config: config(), cacheDir: tmp() }), (e: HubScanError) => e.httpStatus === 401 && /gated or private/.test(e.message));
  hub.requests.length = 0;
  await assert.rejects(scanHubRepo('hf://evil/model', { config: config(false), cacheDir: tmp() }), HubScanError);
  assert.deepEqual(hub.requests, []);
});

test('cancel stops the scan', async () => {
  let calls = 0;
  await assert.rejects(scanHubRepo('hf://evil/model', { config: config(), cacheDir: tmp(), isCancelled: () => ++calls > 3 }), ScanCancelledError);
});

test('runHubScanCli: the explicit CLI command scans even with online features off in the config', async () => {
  const logs: string[] = [];
  const out = await runHubScanCli('hf://datasets/acme/data', { config: config(false), cacheDir: tmp(), log: (m) => logs.push(m) });
  assert.equal(out.summary.malicious, 1);
  await assert.rejects(runHubScanCli('hf://datasets/acme/data', { config: config(false), cacheDir: tmp(), allowNetwork: false }), HubScanError);
});

test('small (non-LFS) files are checked against their git blob id', async () => {
  const out = await scanHubRepo('hf://acme/small', { config: config(), cacheDir: tmp() });
  const ok = out.files.find((f) => f.path.endsWith('/ok.pkl'))!;
  const bad = out.files.find((f) => f.path.endsWith('/bad.pkl'))!;
  assert.ok(!ok.findings.some((f) => f.code === 'HUB010'), JSON.stringify(ok.findings));
  assert.equal(ok.verdict, 'safe');
  const mismatch = bad.findings.find((f) => f.code === 'HUB010');
  assert.match(mismatch?.message ?? '', /git blob id/);
  assert.notEqual(bad.verdict, 'safe');
});
