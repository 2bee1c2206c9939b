// Start-up: a fresh server loads the Python grammar (tree-sitter wasm) only when a Python document or
// notebook opens; manifests are answered without it, and Python results after it are complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient } from '../helpers/lsp-client';

const stats = (c: LspTestClient) => c.request<{ pythonParserLoaded: boolean; parserInitMs?: number }>('workspace/executeCommand', { command: 'modelvet.server.stats', arguments: [] });

test('requirements only: diagnostics without the Python grammar; the first Python document loads it', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mv-startup-'));
  const client = await LspTestClient.start({ root });
  try {
    const req = client.open('requirements.txt', 'numpy\nreqeusts==2.31.0\n', 'pip-requirements');
    const d = await client.pull(req);
    assert.ok(d.some((x) => x.code === 'DEP001'), JSON.stringify(d));
    assert.equal((await stats(client)).pythonParserLoaded, false, 'no Python document open: grammar not loaded');
    const py = client.open('train.py', 'import torch\nm = torch.load("m.pt")\n', 'python');
    const pd = await client.pull(py);
    assert.ok(pd.some((x) => x.code === 'LOAD001'), JSON.stringify(pd));
    assert.ok(!pd.some((x) => x.code === 'LOAD000'), 'complete analysis, not "parser not initialised"');
    assert.equal((await stats(client)).pythonParserLoaded, true);
  } finally {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a notebook opens the grammar too; push-mode clients get complete Python results', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mv-startup-nb-'));
  const client = await LspTestClient.start({ root, pull: false });
  try {
    assert.equal((await stats(client)).pythonParserLoaded, false);
    const { cellUris } = client.openNotebook('nb.ipynb', [{ kind: 2, text: 'import pickle\nx = pickle.load(open("a.pkl", "rb"))\n' }]);
    const pushed = await client.waitFor(() => client.published(cellUris[0])?.length ? client.published(cellUris[0]) : undefined, 'notebook diagnostics');
    assert.ok(pushed.some((x) => x.code === 'LOAD002'), JSON.stringify(pushed));
    assert.equal((await stats(client)).pythonParserLoaded, true);
  } finally {
    await client.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
