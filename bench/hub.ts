/** Hub features against the local mock Hub: hover latency from cache, first-answer overhead, requests per repo. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bench } from './types';
import { startMockHub, maliciousPickle, safetensorsFile } from '../test/helpers/mockHub';
import { createHubFeatures, type HubReference } from '../core/hub/features';
import { defaultConfig } from '../core/config';
import { range } from '../core/types';

const SHA = 'c'.repeat(40);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function ref(repoId: string, line: number): HubReference {
  return { repoId, kind: 'model', range: range(line, 0, line, repoId.length + 2), callRange: range(line, 0, line, 60) };
}

async function withHub<T>(fn: (url: string, dir: string, requests: string[]) => Promise<T>): Promise<T> {
  const hub = await startMockHub([
    { id: 'acme/model', sha: SHA, files: [{ path: 'model.safetensors', content: safetensorsFile() }, { path: 'pytorch_model.bin', content: maliciousPickle() }] },
    { id: 'acme/legacy', sha: SHA, files: [{ path: 'pytorch_model.bin', content: maliciousPickle() }] },
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'mv-bench-hub-'));
  try {
    return await fn(hub.url, dir, hub.requests);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const config = (url: string) => {
  const c = defaultConfig();
  c.online.enabled = true;
  c.online.hubUrl = url;
  return c;
};

export const benches: Bench[] = [
  async function hoverFromCache() {
    return withHub(async (url, dir) => {
      const f = createHubFeatures({ getConfig: () => config(url), cacheDir: dir });
      await f.hover(ref('acme/model', 0));
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await f.hover(ref('acme/model', 0));
        times.push(performance.now() - t0);
      }
      return [{ name: 'hover from cache (median of 200)', value: median(times), unit: 'ms', target: 20, lowerIsBetter: true, note: `p max ${Math.max(...times).toFixed(2)} ms; requests after warm-up: ${f.requestCount()}` }];
    });
  },
  async function firstAnswer() {
    return withHub(async (url, dir) => {
      // One round trip: a bare GET of the same endpoint, median of 20.
      const rtts: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        const r = await fetch(`${url}/api/models/acme/model/revision/HEAD?expand=sha`);
        await r.arrayBuffer();
        rtts.push(performance.now() - t0);
      }
      const rtt = median(rtts);
      const overheads: number[] = [];
      for (let i = 0; i < 10; i++) {
        const runDir = path.join(dir, String(i));
        let resolveChange!: () => void;
        const changed = new Promise<void>((r) => { resolveChange = r; });
        const f = createHubFeatures({ getConfig: () => config(url), cacheDir: runDir, onDidChange: () => resolveChange() });
        const t0 = performance.now();
        f.diagnosticsFor('/w/a.py', [ref('acme/legacy', 0)]);
        await changed;
        const out = f.diagnosticsFor('/w/a.py', [ref('acme/legacy', 0)]);
        if (!out.some((d) => d.code === 'HUB001')) throw new Error('first answer had no HUB001');
        overheads.push(performance.now() - t0 - rtt);
      }
      return [{ name: 'first Hub answer: time beyond one round trip (median of 10)', value: Math.max(0, median(overheads)), unit: 'ms', target: 50, lowerIsBetter: true, note: `first answer ${(median(overheads) + rtt).toFixed(2)} ms total; one round trip ${rtt.toFixed(2)} ms (mock Hub on 127.0.0.1)` }];
    });
  },
  async function requestsPerRepo() {
    return withHub(async (url, dir, requests) => {
      const f = createHubFeatures({ getConfig: () => config(url), cacheDir: dir });
      const refs = Array.from({ length: 100 }, (_, i) => ref('acme/model', i));
      for (let pass = 0; pass < 5; pass++) f.diagnosticsFor(`/w/f${pass}.py`, refs);
      await f.idle();
      for (let pass = 0; pass < 5; pass++) f.diagnosticsFor(`/w/f${pass}.py`, refs);
      await f.idle();
      const infoRequests = requests.filter((r) => r.includes('/revision/')).length;
      return [{ name: 'info requests per repo with 100 references (5 files, 2 rounds)', value: infoRequests, unit: 'requests', target: 1, lowerIsBetter: true }];
    });
  },
];
