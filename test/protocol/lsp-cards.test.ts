/**
 * Model cards in the editor: README.md of a model folder gets CARD diagnostics, the skeleton
 * quick-fix and front-matter hovers over LSP; a README elsewhere gets nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient, applyEdits, editsFor } from '../helpers/lsp-client';

let root: string;
let client: LspTestClient;

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-cards-'));
  mkdirSync(path.join(root, 'models', 'bert'), { recursive: true });
  writeFileSync(path.join(root, 'models', 'bert', 'config.json'), JSON.stringify({ architectures: ['BertModel'], model_type: 'bert' }));
  writeFileSync(path.join(root, 'models', 'bert', 'pytorch_model.bin'), Buffer.alloc(16));
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage') } });
});
after(async () => {
  await client?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('README.md of a model folder: CARD diagnostics with rule links, a skeleton quick-fix, hovers', async () => {
  const text = '---\ntags: [safetensors]\nbase_model: meta-llarna/Llama-3.1-8B\n---\n# bert\n';
  const uri = client.open('models/bert/README.md', text, 'markdown');
  const diags = await client.pull(uri);
  const codes = diags.map((d) => d.code).sort();
  assert.deepEqual(codes, ['CARD003', 'CARD005', 'CARD006', 'CARD008', 'CARD009'], JSON.stringify(diags));
  assert.match(diags.find((d) => d.code === 'CARD008')!.message, /only pytorch_model\.bin/);
  assert.ok(diags.every((d) => d.codeDescription?.href.endsWith(`${d.code}.md`)));
  const lic = diags.find((d) => d.code === 'CARD003')!;
  const actions = await client.codeActions(uri, [lic]);
  const fix = actions.find((a) => a.title.startsWith('Add the missing model-card keys'));
  assert.ok(fix, JSON.stringify(actions.map((a) => a.title)));
  const fixed = applyEdits(text, editsFor(fix!, uri));
  assert.match(fixed, /^---\ntags: \[safetensors\]\nbase_model: meta-llarna\/Llama-3\.1-8B\nlicense: .*\ndatasets: \[\].*\nlibrary_name: transformers\n---\n/);
  const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 2 } }) as any;
  assert.match(hover.contents.value, /base_model[\s\S]*looks like `meta-llama`/);
});

test('a README.md outside a model folder gets no diagnostics', async () => {
  const uri = client.open('README.md', '# Project\n\nNo front matter here.\n', 'markdown');
  assert.deepEqual(await client.pull(uri), []);
});
