import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockHub, type MockHub } from '../../helpers/mockHub';
import { createHubFetch, resolveHubUrl, parseRetryAfter, OfflineError, HubTimeoutError, redactUrl } from '../../../core/hub/client';
import { HubRepoService } from '../../../core/hub/repos';
import { defaultConfig, type ModelVetConfig } from '../../../core/config';
import { boundedEditDistance, lookalikeOrg, normalizeOwner } from '../../../core/hub/typosquat';
import { offersOnlyPickleWeights, weightFamily } from '../../../core/hub/weights';

const SHA = 'b'.repeat(40);
let hub: MockHub;
before(async () => { hub = await startMockHub([{ id: 'acme/m', sha: SHA, files: [] }]); });
after(async () => { await hub.close(); });

function config(enabled = true, hubUrl = ''): ModelVetConfig {
  const c = defaultConfig();
  c.online.enabled = enabled;
  c.online.hubUrl = hubUrl || hub.url;
  return c;
}

test('endpoint precedence: setting, then HF_ENDPOINT, then the library default (undefined)', () => {
  const c = defaultConfig();
  assert.equal(resolveHubUrl(c, {}), undefined);
  assert.equal(resolveHubUrl(c, { HF_ENDPOINT: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9');
  c.online.hubUrl = 'http://127.0.0.1:8';
  assert.equal(resolveHubUrl(c, { HF_ENDPOINT: 'http://127.0.0.1:9' }), 'http://127.0.0.1:8');
});

test('offline: the wrapper throws OfflineError without calling fetch', async () => {
  let called = 0;
  const h = createHubFetch({ getConfig: () => config(false), fetch: (async () => { called++; return new Response('{}'); }) as typeof fetch });
  await assert.rejects(h.fetch(`${hub.url}/api/models/acme/m`), OfflineError);
  assert.equal(called, 0);
  assert.equal(h.requestCount(), 0);
});

test('429 is retried with bounded backoff honouring Retry-After, then succeeds', async () => {
  hub.requests.length = 0;
  hub.behaviour.rateLimitNext = 2;
  hub.behaviour.retryAfterSeconds = 0.05;
  const h = createHubFetch({ getConfig: () => config(), baseBackoffMs: 1, maxBackoffMs: 100 });
  const t0 = performance.now();
  const res = await h.fetch(`${hub.url}/api/models/acme/m?securityStatus=true`);
  assert.equal(res.status, 200);
  assert.equal(h.requestCount(), 3);
  assert.ok(performance.now() - t0 >= 90, 'waited Retry-After twice');
});

test('retries are bounded: persistent 429 returns the 429 after maxRetries, and a huge Retry-After is capped', async () => {
  hub.behaviour.rateLimitNext = 100;
  hub.behaviour.retryAfterSeconds = 3600;
  const h = createHubFetch({ getConfig: () => config(), maxRetries: 2, baseBackoffMs: 1, maxBackoffMs: 20 });
  const t0 = performance.now();
  const res = await h.fetch(`${hub.url}/api/models/acme/m`);
  assert.equal(res.status, 429);
  assert.equal(h.requestCount(), 3);
  assert.ok(performance.now() - t0 < 2000);
  hub.behaviour.rateLimitNext = 0;
});

test('a lookup through the library survives a 429 burst', async () => {
  hub.behaviour.rateLimitNext = 1;
  hub.behaviour.retryAfterSeconds = 0;
  const s = new HubRepoService({ getConfig: () => config(), baseBackoffMs: 1 });
  const r = await s.lookup({ repoId: 'acme/m', kind: 'model' });
  assert.equal(r.status, 'ok');
  assert.equal(r.status === 'ok' && r.info.sha, SHA);
});

test('timeouts: a slow Hub gives HubTimeoutError after bounded retries', async () => {
  hub.behaviour.delayMs = 300;
  try {
    const h = createHubFetch({ getConfig: () => config(), timeoutMs: 50, maxRetries: 1, baseBackoffMs: 1 });
    const t0 = performance.now();
    await assert.rejects(h.fetch(`${hub.url}/api/models/acme/m`), HubTimeoutError);
    assert.equal(h.requestCount(), 2);
    assert.ok(performance.now() - t0 < 1000);
    const s = new HubRepoService({ getConfig: () => config(), timeoutMs: 50, maxRetries: 0 });
    const r = await s.lookup({ repoId: 'acme/m', kind: 'model' });
    assert.equal(r.status, 'error', 'a timeout is not a missing repo');
  } finally {
    hub.behaviour.delayMs = 0;
  }
});

test('the token goes only to the Hub endpoint and never into messages', async () => {
  const seen: Array<[string, string | null]> = [];
  const fake = (async (url: string, init?: RequestInit) => { seen.push([url, new Headers(init?.headers).get('authorization')]); return new Response('{}'); }) as typeof fetch;
  const h = createHubFetch({ getConfig: () => config(true, 'http://127.0.0.1:1'), fetch: fake, token: 'hf_secret' });
  await h.fetch('http://127.0.0.1:1/api/models/a/b');
  await h.fetch('http://127.0.0.1:2/elsewhere');
  assert.deepEqual(seen, [['http://127.0.0.1:1/api/models/a/b', 'Bearer hf_secret'], ['http://127.0.0.1:2/elsewhere', null]]);
  assert.equal(redactUrl('http://u:hf_secret@127.0.0.1/x?token=hf_secret'), 'http://127.0.0.1/x');
});

test('Retry-After parsing', () => {
  assert.equal(parseRetryAfter('2'), 2000);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:58 GMT')), 2000);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('typosquat helper', () => {
  assert.equal(boundedEditDistance('kitten', 'sitting', 5), 3);
  assert.equal(boundedEditDistance('kitten', 'sitting', 1), 2, 'stops early at max + 1');
  assert.equal(boundedEditDistance('goolge', 'google', 2), 1, 'transposition counts once');
  assert.equal(normalizeOwner('Mlcr0soft'), normalizeOwner('microsoft'));
  assert.equal(normalizeOwner('rnistral'), normalizeOwner('mistral'));
  assert.equal(lookalikeOrg('goolge'), 'google');
  assert.equal(lookalikeOrg('g\u043e\u043egle'), 'google', 'two Cyrillic o: beyond edit distance 1, caught by folding');
  assert.equal(lookalikeOrg('Google'), undefined);
  assert.equal(lookalikeOrg('stabilityal'), 'stabilityai');
  assert.equal(lookalikeOrg('my-lab'), undefined);
  assert.equal(lookalikeOrg('x'.repeat(500)), undefined);
});

test('weight families', () => {
  assert.equal(weightFamily('a/pytorch_model.bin'), 'pickle');
  assert.equal(weightFamily('model-00001-of-00002.safetensors'), 'safetensors');
  assert.equal(weightFamily('q4.gguf'), 'other');
  assert.equal(weightFamily('README.md'), undefined);
  assert.equal(offersOnlyPickleWeights(['pytorch_model.bin', 'config.json']), true);
  assert.equal(offersOnlyPickleWeights(['pytorch_model.bin', 'model.safetensors']), false);
  assert.equal(offersOnlyPickleWeights(['config.json']), false);
});
