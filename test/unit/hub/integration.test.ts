// End to end inside core: Python text → findHubReferences (core/code) → Hub diagnostics and fixes against the mock Hub.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findHubReferences, initPythonParser } from '../../../core/code/index';
import { createHubFeatures } from '../../../core/hub/features';
import { defaultConfig } from '../../../core/config';
import { startMockHub, maliciousPickle, safetensorsFile, type MockHub } from '../../helpers/mockHub';

const SHA = '3'.repeat(40);
let hub: MockHub;
let dir: string;
before(async () => {
  await initPythonParser();
  hub = await startMockHub([
    { id: 'legacy-org/old-bert', sha: SHA, files: [{ path: 'pytorch_model.bin', content: maliciousPickle() }] },
    { id: 'acme/good', sha: SHA, files: [{ path: 'model.safetensors', content: safetensorsFile() }] },
  ]);
  dir = mkdtempSync(path.join(tmpdir(), 'mv-hub-int-'));
});
after(async () => { await hub.close(); rmSync(dir, { recursive: true, force: true }); });

const SOURCE = [
  'from transformers import AutoModel',
  'a = AutoModel.from_pretrained("legacy-org/old-bert")',
  'b = AutoModel.from_pretrained("acme/good", revision="main")',
  'c = AutoModel.from_pretrained("meta-lama/Llama-3.1-8B")',
  '',
].join('\n');

test('references found in Python code get HUB001/HUB002/HUB003/HUB004 with exact edits', async () => {
  const refs = findHubReferences('/w/train.py', SOURCE);
  assert.deepEqual(refs.map((r) => r.repoId), ['legacy-org/old-bert', 'acme/good', 'meta-lama/Llama-3.1-8B']);
  const c = defaultConfig();
  c.online.enabled = true;
  c.online.hubUrl = hub.url;
  let changed = 0;
  const f = createHubFeatures({ getConfig: () => c, cacheDir: dir, onDidChange: () => changed++ });
  assert.deepEqual(f.diagnosticsFor('/w/train.py', refs).map((d) => d.code), ['HUB004'], 'offline-decidable first');
  await f.idle();
  assert.ok(changed >= 1);
  const out = f.diagnosticsFor('/w/train.py', refs);
  assert.deepEqual(out.map((d) => `${d.code}@${d.range.start.line}`).sort(), ['HUB001@1', 'HUB002@2', 'HUB003@3', 'HUB004@3']);
  const lines = SOURCE.split('\n');
  const apply = (line: number, e: { range: { start: { character: number }; end: { character: number } }; newText: string }) =>
    lines[line].slice(0, e.range.start.character) + e.newText + lines[line].slice(e.range.end.character);
  const pin = out.find((d) => d.code === 'HUB002')!.fixes[0].edits[0];
  assert.equal(apply(2, pin), `b = AutoModel.from_pretrained("acme/good", revision="${SHA}")`);
  const owner = out.find((d) => d.code === 'HUB004')!.fixes[0].edits[0];
  assert.equal(apply(3, owner), 'c = AutoModel.from_pretrained("meta-llama/Llama-3.1-8B")');
});
