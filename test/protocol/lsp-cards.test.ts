/**
 * Model cards in the editor: README.md of a model folder gets CARD diagnostics, the skeleton
 * quick-fix and front-matter hovers over LSP; a README elsewhere gets nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

test('an adapter\'s card without front matter: CARD001 quick-fix inserts the skeleton with the adapter\'s base model; hovers on license and datasets', async () => {
  mkdirSync(path.join(root, 'models', 'lora'), { recursive: true });
  writeFileSync(path.join(root, 'models', 'lora', 'adapter_config.json'), JSON.stringify({ base_model_name_or_path: 'meta-llama/Llama-3.1-8B', peft_type: 'LORA' }));
  writeFileSync(path.join(root, 'models', 'lora', 'adapter_model.safetensors'), Buffer.alloc(16));
  const text = '# lora\n\n## Intended use\n\nx\n\n## Out-of-scope use\n\nx\n\n## Limitations and bias\n\nx\n';
  const uri = client.open('models/lora/README.md', text, 'markdown');
  const diags = await client.pull(uri);
  assert.deepEqual(diags.map((d) => d.code), ['CARD001'], JSON.stringify(diags));
  const actions = await client.codeActions(uri, diags);
  const fix = actions.find((a) => a.title === 'Insert model-card front matter');
  assert.ok(fix, JSON.stringify(actions.map((a) => a.title)));
  const fixed = applyEdits(text, editsFor(fix!, uri)).replace('license:  #', 'license: cc-by-nc-4.0 #').replace('datasets: []', 'datasets: [org/data]');
  assert.match(fixed, /^---\nlicense: .*\nbase_model: meta-llama\/Llama-3\.1-8B\ndatasets: .*\nlibrary_name: peft\n---\n\n# lora/);
  client.change(uri, 2, [{ text: fixed }]);
  assert.deepEqual((await client.pull(uri)).map((d) => d.code), [], 'the filled-in skeleton satisfies the card rules');
  const hl = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 2 } }) as any;
  assert.match(hl.contents.value, /CC-BY-NC-4\.0[\s\S]*Non-commercial/);
  const hd = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 2 } }) as any;
  assert.match(hd.contents.value, /\*\*datasets\*\*: `org\/data`[\s\S]*training data/);
});

test('a README.md outside a model folder gets no diagnostics', async () => {
  const uri = client.open('README.md', '# Project\n\nNo front matter here.\n', 'markdown');
  assert.deepEqual(await client.pull(uri), []);
});

test('modelvet.licenses.deny from the settings reaches the card diagnostics (LIC001)', async () => {
  mkdirSync(path.join(root, 'models', 'nc'), { recursive: true });
  writeFileSync(path.join(root, 'models', 'nc', 'model.safetensors'), Buffer.alloc(16));
  const uri = client.open('models/nc/README.md', '---\nlicense: cc-by-nc-4.0\ndatasets: [a/b]\n---\n# nc\n', 'markdown');
  assert.ok(!(await client.pull(uri)).some((d) => d.code === 'LIC001'));
  let mark = client.mark();
  await client.setSettings({ licenses: { allow: [], deny: ['cc-by-nc-4.0'] } });
  mark = await client.waitForRequest('workspace/configuration', mark);
  await client.waitForRequest('workspace/diagnostic/refresh', mark, 'refresh after config change');
  const diags = await client.pull(uri);
  const lic = diags.find((d) => d.code === 'LIC001');
  assert.ok(lic, JSON.stringify(diags));
  assert.deepEqual(lic.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 21 } });
  mark = client.mark();
  await client.setSettings({});
  await client.waitForRequest('workspace/configuration', mark);
});

test('"Generate AI-BOM…": the server writes a CycloneDX 1.6 ML-BOM, refuses to overwrite without force', async () => {
  const output = path.join(root, 'bert.cdx.json');
  const params = { target: path.join(root, 'models', 'bert'), output, reproducible: true };
  const r = await client.request('workspace/executeCommand', { command: 'modelvet.server.generateBom', arguments: [params] }) as any;
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.models, 1);
  assert.equal(r.files, 2);
  const doc = JSON.parse(readFileSync(output, 'utf8'));
  assert.equal(doc.specVersion, '1.6');
  assert.equal(doc.metadata.component.type, 'machine-learning-model');
  writeFileSync(output, 'keep');
  const again = await client.request('workspace/executeCommand', { command: 'modelvet.server.generateBom', arguments: [params] }) as any;
  assert.deepEqual([again.ok, again.exists], [false, true]);
  assert.equal(readFileSync(output, 'utf8'), 'keep');
  const forced = await client.request('workspace/executeCommand', { command: 'modelvet.server.generateBom', arguments: [{ ...params, force: true }] }) as any;
  assert.equal(forced.ok, true);
  const bad = await client.request('workspace/executeCommand', { command: 'modelvet.server.generateBom', arguments: [{ target: 'relative', output }] }) as any;
  assert.equal(bad.ok, false);
  // A .xml file (what the client's save dialog offers next to .json) gets CycloneDX XML.
  const xmlOut = path.join(root, 'bert.cdx.xml');
  const x = await client.request('workspace/executeCommand', { command: 'modelvet.server.generateBom', arguments: [{ ...params, output: xmlOut }] }) as any;
  assert.equal(x.ok, true, JSON.stringify(x));
  const xml = readFileSync(xmlOut, 'utf8');
  assert.match(xml, /^<\?xml[^>]*\?>\n<bom xmlns="http:\/\/cyclonedx\.org\/schema\/bom\/1\.6"/);
  assert.match(xml, new RegExp(`serialNumber="${doc.serialNumber}"`), 'same reproducible BOM as the JSON one');
  assert.match(xml, /<component type="machine-learning-model"/);
});
