import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeText } from '../../../core/analyze';
import { defaultConfig } from '../../../core/config';
import { diskFileAccess } from '../../../core/workspace';
import { parseCard, MAX_CARD_BYTES } from '../../../core/cards/frontmatter';
import { cardHover } from '../../../core/cards/hover';
import { fileKind } from '../../../core/fileKinds';
import type { Finding, TextEdit } from '../../../core/types';
import { LineIndex } from '../../../core/text';

const ctx = { config: defaultConfig(), fs: diskFileAccess() };
let tmp: string;

function folder(files: Record<string, string | Buffer>): string {
  tmp ??= mkdtempSync(path.join(os.tmpdir(), 'mv-cards-'));
  const dir = mkdtempSync(path.join(tmp, 'm-'));
  for (const [n, t] of Object.entries(files)) { mkdirSync(path.dirname(path.join(dir, n)), { recursive: true }); writeFileSync(path.join(dir, n), t); }
  return dir;
}
const CONFIG = JSON.stringify({ architectures: ['BertForSequenceClassification'], model_type: 'bert' });
const SECTIONS = '\n## Intended uses\n\nx\n\n## Out-of-scope use\n\nx\n\n## Bias, risks, and limitations\n\nx\n';
const GOOD = `---\nlicense: apache-2.0\ndatasets:\n- stanfordnlp/imdb\nlibrary_name: transformers\ntags: [safetensors]\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n    dataset: {type: imdb, name: IMDB}\n    metrics:\n    - {type: accuracy, value: 0.9}\n---\n# Model\n${SECTIONS}`;

function check(dir: string, card: string): Finding[] {
  const p = path.join(dir, 'README.md');
  writeFileSync(p, card);
  return analyzeText(p, card, ctx).findings;
}
const codes = (fs: Finding[]) => fs.map((f) => f.code).sort();
function apply(text: string, edits: TextEdit[]): string {
  const li = new LineIndex(text);
  const sorted = [...edits].sort((a, b) => li.offsetAt(b.range.start) - li.offsetAt(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, li.offsetAt(e.range.start)) + e.newText + out.slice(li.offsetAt(e.range.end));
  return out;
}

test('README.md is a model card by name; only a model folder\'s card gets findings', () => {
  assert.equal(fileKind('/p/models/x/README.md'), 'modelcard');
  const plain = folder({ 'notes.txt': 'hi' });
  assert.deepEqual(check(plain, '# Project\n'), [], 'a README in a folder without a model');
  const clean = folder({ 'config.json': CONFIG, 'model.safetensors': Buffer.alloc(8) });
  assert.deepEqual(check(clean, GOOD), [], 'a complete card is clean');
});

test('CARD001: no front matter → fix inserts a skeleton with the keys the folder can tell', () => {
  const dir = folder({ 'config.json': CONFIG, 'model.safetensors': Buffer.alloc(8) });
  const text = `# My model\n${SECTIONS}`;
  const f = check(dir, text);
  assert.deepEqual(codes(f), ['CARD001']);
  const fixed = apply(text, f[0].fixes[0].edits);
  const card = parseCard(fixed);
  assert.ok(card.hasFrontMatter && !card.error);
  assert.deepEqual(Object.keys(card.data!).sort(), ['datasets', 'library_name', 'license']);
  assert.equal(card.data!.library_name, 'transformers');
  assert.deepEqual(codes(check(dir, fixed)), ['CARD003', 'CARD005'], 'after the fix the keys are there to fill in');
});

test('CARD002: broken YAML, a non-mapping, an unterminated block — clear diagnostics with positions, never a crash', () => {
  const dir = folder({ 'model.gguf': Buffer.alloc(8) });
  let f = check(dir, '---\nlicense: [apache-2.0\ntags: x\n---\n# m\n');
  assert.deepEqual(codes(f), ['CARD002']);
  assert.match(f[0].message, /not valid YAML/);
  assert.ok(f[0].range.start.line >= 1, 'points into the block');
  f = check(dir, '---\n- a\n- b\n---\n');
  assert.match(f.find((x) => x.code === 'CARD002')!.message, /not a YAML mapping/);
  f = check(dir, '---\nlicense: mit\n# no closing fence\n');
  assert.match(f.find((x) => x.code === 'CARD002')!.message, /no closing/);
  // Billion laughs: aliases are capped.
  const bomb = '---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\n';
  f = check(dir, bomb);
  assert.ok(f.some((x) => x.code === 'CARD002'));
  f = check(dir, 'x'.repeat(MAX_CARD_BYTES + 1));
  assert.match(f[0].message, /not analyzed/);
});

test('CARD003: missing license, `other` without name/link; fix adds the key', () => {
  const dir = folder({ 'model.safetensors': Buffer.alloc(8) });
  const text = `---\ndatasets: [x/y]\n---\n${SECTIONS}`;
  const f = check(dir, text);
  assert.deepEqual(codes(f), ['CARD003']);
  const fixed = apply(text, f[0].fixes[0].edits);
  assert.ok('license' in parseCard(fixed).data!);
  assert.deepEqual(codes(check(dir, `---\nlicense: other\ndatasets: [x/y]\n---\n${SECTIONS}`)), ['CARD003']);
  assert.deepEqual(codes(check(dir, `---\nlicense: other\nlicense_name: acme\nlicense_link: LICENSE\ndatasets: [x/y]\n---\n${SECTIONS}`)), []);
});

test('CARD004: an adapter without base_model; fix inserts the adapter\'s base', () => {
  const dir = folder({ 'adapter_config.json': JSON.stringify({ base_model_name_or_path: 'meta-llama/Llama-3.1-8B', peft_type: 'LORA' }), 'adapter_model.safetensors': Buffer.alloc(8) });
  const text = `---\nlicense: llama3.1\ndatasets: [x/y]\nlibrary_name: peft\n---\n${SECTIONS}`;
  const f = check(dir, text);
  assert.deepEqual(codes(f), ['CARD004']);
  const fixed = apply(text, f[0].fixes[0].edits);
  assert.equal(parseCard(fixed).data!.base_model, 'meta-llama/Llama-3.1-8B');
  assert.deepEqual(codes(check(dir, fixed)), []);
});

test('CARD005 / CARD006: no datasets; missing sections (fix appends them)', () => {
  const dir = folder({ 'model.onnx': Buffer.alloc(8) });
  let f = check(dir, `---\nlicense: mit\n---\n${SECTIONS}`);
  assert.deepEqual(codes(f), ['CARD005']);
  assert.equal(f[0].severity, 'information');
  const text = '---\nlicense: mit\ndatasets: [x/y]\n---\n# Model\n\n## Training\n\nx\n';
  f = check(dir, text);
  assert.deepEqual(codes(f), ['CARD006']);
  assert.match(f[0].message, /intended use, out-of-scope use, limitations, bias and risks$/);
  assert.deepEqual(codes(check(dir, apply(text, f[0].fixes[0].edits))), []);
});

test('CARD007: metrics without their evaluation dataset', () => {
  const dir = folder({ 'model.onnx': Buffer.alloc(8) });
  const f = check(dir, `---\nlicense: mit\ndatasets: [x/y]\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n    metrics:\n    - {type: accuracy, value: 0.99}\n---\n${SECTIONS}`);
  assert.deepEqual(codes(f), ['CARD007']);
  assert.equal(f[0].range.start.line, 3, 'on the model-index key');
  assert.deepEqual(codes(check(dir, `---\nlicense: mit\nmetrics: [accuracy]\n---\n${SECTIONS}`)).filter((c) => c === 'CARD007'), ['CARD007']);
});

test('CARD008: the card claims safetensors, the folder has only .bin (and peft without an adapter)', () => {
  const dir = folder({ 'pytorch_model.bin': Buffer.alloc(8), 'config.json': CONFIG });
  const f = check(dir, `---\nlicense: mit\ndatasets: [x/y]\ntags:\n- safetensors\n---\n${SECTIONS}`);
  assert.deepEqual(codes(f), ['CARD008']);
  assert.match(f[0].message, /only pytorch_model\.bin/);
  assert.deepEqual(codes(check(dir, `---\nlicense: mit\ndatasets: [x/y]\nlibrary_name: peft\n---\n${SECTIONS}`)), ['CARD008']);
  assert.deepEqual(codes(check(dir, `---\nlicense: mit\ndatasets: [x/y]\nlibrary_name: transformers\n---\n${SECTIONS}`)), []);
});

test('CARD009: a base_model whose owner imitates a popular org', () => {
  const dir = folder({ 'model.safetensors': Buffer.alloc(8) });
  const f = check(dir, `---\nlicense: mit\ndatasets: [x/y]\nbase_model: meta-llarna/Llama-3.1-8B\n---\n${SECTIONS}`);
  assert.deepEqual(codes(f), ['CARD009']);
  assert.match(f[0].message, /meta-llama/);
  assert.deepEqual(codes(check(dir, `---\nlicense: mit\ndatasets: [x/y]\nbase_model: meta-llama/Llama-3.1-8B\n---\n${SECTIONS}`)), []);
});

test('the card license against the license policy and the project kind (LIC001, LIC003) in the editor', () => {
  const dir = folder({ 'model.safetensors': Buffer.alloc(8) });
  const card = `---\nlicense: cc-by-nc-4.0\ndatasets: [x/y]\n---\n${SECTIONS}`;
  const p = path.join(dir, 'README.md');
  writeFileSync(p, card);
  const run = (patch: object) => analyzeText(p, card, { config: { ...defaultConfig(), ...patch }, fs: diskFileAccess() }).findings.map((f) => f.code).sort();
  assert.deepEqual(run({}), []);
  assert.deepEqual(run({ licenses: { allow: [], deny: ['CC-BY-NC-4.0'] } }), ['LIC001']);
  assert.deepEqual(run({ projectKind: 'application' }), ['LIC003']);
});

test('front matter of a real card layout: lists, maps, nested model-index, CRLF, BOM, setext headings', () => {
  const text = '\uFEFF---\r\nlanguage:\r\n- en\r\nlicense: llama3.1\r\nextra_gated_fields:\r\n  Name: text\r\n  Country: country\r\nwidget:\r\n- text: "Hello: world"\r\n---\r\nModel\r\n=====\r\n\r\n## Uses\r\n\r\n### Direct Use\r\n';
  const c = parseCard(text);
  assert.equal(c.error, undefined);
  assert.deepEqual(c.data!.language, ['en']);
  assert.deepEqual(c.data!.extra_gated_fields, { Name: 'text', Country: 'country' });
  assert.equal((c.data!.widget as any)[0].text, 'Hello: world');
  assert.deepEqual(c.headings.map((h) => [h.level, h.text]), [[1, 'Model'], [2, 'Uses'], [3, 'Direct Use']]);
  assert.deepEqual(c.keys.get('license')!.key, { start: { line: 3, character: 0 }, end: { line: 3, character: 7 } });
  assert.equal(parseCard('# just markdown\n').hasFrontMatter, false);
  assert.deepEqual(parseCard('---\n---\n').data, {});
});

test('hover on license, base_model, datasets', () => {
  const text = '---\nlicense: cc-by-nc-4.0\nbase_model: meta-llarna/x\ndatasets: [a/b]\n---\n';
  assert.match(cardHover(text, { line: 1, character: 3 })!.markdown, /CC-BY-NC-4\.0[\s\S]*Non-commercial/);
  assert.match(cardHover(text, { line: 2, character: 3 })!.markdown, /fine-tuned[\s\S]*looks like `meta-llama`/);
  assert.match(cardHover(text, { line: 3, character: 12 })!.markdown, /`a\/b`/);
  assert.equal(cardHover(text, { line: 5, character: 0 }), undefined);
  assert.match(cardHover('---\nlicense: llama3\n---\n', { line: 1, character: 1 })!.markdown, /Hub license `llama3`[\s\S]*Use-restricted/);
});

test('cleanup', () => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });
