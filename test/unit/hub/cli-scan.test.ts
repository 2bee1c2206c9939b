import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMockHub, maliciousPickle, safetensorsFile } from '../../helpers/mockHub';
import { main } from '../../../core/cli/main';

const SHA = 'abcdefabcdefabcdefabcdefabcdefabcdefabcd';

test('modelvet scan hf://org/name scans the repo through HF_ENDPOINT and fails on the malicious file', async () => {
  const hub = await startMockHub([{ id: 'acme/model', sha: SHA, files: [
    { path: 'model.safetensors', content: safetensorsFile() },
    { path: 'pytorch_model.bin', content: maliciousPickle() },
  ] }]);
  const saved = process.env.HF_ENDPOINT;
  process.env.HF_ENDPOINT = hub.url;
  try {
    let out = '';
    let err = '';
    const code = await main(['scan', 'hf://acme/model', '--format', 'json', '--cache-dir', mkdtempSync(path.join(tmpdir(), 'mv-cli-hub-'))],
      { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, isTTY: false });
    assert.equal(code, 1, err);
    const report = JSON.parse(out);
    const bin = report.files.find((f: any) => f.path.endsWith('pytorch_model.bin'));
    const st = report.files.find((f: any) => f.path.endsWith('model.safetensors'));
    assert.equal(bin.verdict, 'malicious');
    assert.ok(bin.path.startsWith(`hf://acme/model@${SHA}/`), bin.path);
    assert.equal(st.verdict, 'safe');
    assert.ok(hub.requests.length > 0);
  } finally {
    if (saved === undefined) delete process.env.HF_ENDPOINT; else process.env.HF_ENDPOINT = saved;
    await hub.close();
  }
});

test('mixing hf:// and local paths is a usage error (exit 2)', async () => {
  let err = '';
  const code = await main(['scan', 'hf://a/b', '.'], { stdout: () => {}, stderr: (s) => { err += s; }, isTTY: false });
  assert.equal(code, 2);
  assert.match(err, /not both/);
});
