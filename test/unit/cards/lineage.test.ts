/**
 * CARD004 for a fine-tune whose config.json names its base (`_name_or_path`, `base_model`), and the
 * same lineage in the AI-BOM; the `license: other` quick-fix (CARD003).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeText } from '../../../core/analyze';
import { defaultConfig } from '../../../core/config';
import { diskFileAccess } from '../../../core/workspace';
import { parseCard } from '../../../core/cards/frontmatter';
import { buildBom } from '../../../core/bom/index';
import type { Finding, TextEdit } from '../../../core/types';
import { LineIndex } from '../../../core/text';

const ctx = { config: defaultConfig(), fs: diskFileAccess() };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mv-lineage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const SECTIONS = '\n## Intended uses\n\nx\n\n## Out-of-scope use\n\nx\n\n## Bias, risks, and limitations\n\nx\n';
const CARD = `---\nlicense: apache-2.0\ndatasets: [x/y]\n---\n# m\n${SECTIONS}`;

function folder(name: string, config: Record<string, unknown>, card = CARD): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', ...config }));
  writeFileSync(path.join(dir, 'model.safetensors'), Buffer.alloc(8));
  writeFileSync(path.join(dir, 'README.md'), card);
  return dir;
}
function check(dir: string): Finding[] {
  const p = path.join(dir, 'README.md');
  return analyzeText(p, require('node:fs').readFileSync(p, 'utf8'), ctx).findings;
}
function apply(text: string, edits: TextEdit[]): string {
  const li = new LineIndex(text);
  let out = text;
  for (const e of [...edits].sort((a, b) => li.offsetAt(b.range.start) - li.offsetAt(a.range.start))) out = out.slice(0, li.offsetAt(e.range.start)) + e.newText + out.slice(li.offsetAt(e.range.end));
  return out;
}

test('CARD004: config.json _name_or_path / base_model names the base of a fine-tune; the fix inserts it', () => {
  for (const [name, cfg, base] of [
    ['my-chat-ft', { _name_or_path: 'meta-llama/Llama-3.1-8B' }, 'meta-llama/Llama-3.1-8B'],
    ['merged', { base_model: 'mistralai/Mistral-7B-v0.1' }, 'mistralai/Mistral-7B-v0.1'],
  ] as const) {
    const dir = folder(name, cfg);
    const f = check(dir).filter((x) => x.code === 'CARD004');
    assert.equal(f.length, 1, name);
    assert.match(f[0].message, new RegExp(`fine-tuned from ${base.replace(/[.]/g, '\\.')}`));
    const fixed = apply(CARD, f[0].fixes[0].edits);
    assert.equal(parseCard(fixed).data!.base_model, base);
  }
});

test('CARD004 stays quiet when config.json names the model itself, a local path or a checkpoint, or the card has base_model', () => {
  for (const [name, cfg] of [
    ['Llama-3.1-8B', { _name_or_path: 'meta-llama/Llama-3.1-8B' }],
    ['local', { _name_or_path: '/home/me/train/out' }],
    ['rel', { _name_or_path: 'outputs/run-7' }],
    ['ckpt', { _name_or_path: 'acme/checkpoint-500' }],
    ['plain', {}],
  ] as const) assert.deepEqual(check(folder(name, cfg)).map((x) => x.code), [], name);
  const named = folder('named', { _name_or_path: 'meta-llama/Llama-3.1-8B' }, CARD.replace('license:', 'base_model: meta-llama/Llama-3.1-8B\nlicense:'));
  assert.deepEqual(check(named).map((x) => x.code), []);
});

test('the AI-BOM records the config-named base model as a dependency, with where the fact came from', async () => {
  const dir = folder('bom-ft', { _name_or_path: 'meta-llama/Llama-3.1-8B' });
  const r = await buildBom(dir, { reproducible: true, scan: false });
  const base = r.document.components.find((c: any) => c.type === 'machine-learning-model');
  assert.equal(base.purl, 'pkg:huggingface/meta-llama/Llama-3.1-8B');
  assert.deepEqual(base.properties.find((p: any) => p.name === 'modelvet:base-model:source').value, 'config.json _name_or_path');
  const dep = r.document.dependencies.find((d: any) => d.ref === r.document.metadata.component['bom-ref']);
  assert.ok(dep.dependsOn.includes(base['bom-ref']));
});

test('CARD003 `license: other`: the quick-fix adds license_name and license_link', () => {
  const dir = folder('other', {}, `---\nlicense: other\ndatasets: [x/y]\n---\n# m\n${SECTIONS}`);
  const f = check(dir).find((x) => x.code === 'CARD003')!;
  assert.equal(f.fixes[0].title, 'Add the missing model-card keys (license_name, license_link)');
  const fixed = apply(require('node:fs').readFileSync(path.join(dir, 'README.md'), 'utf8'), f.fixes[0].edits);
  const keys = Object.keys(parseCard(fixed).data!);
  assert.deepEqual(keys, ['license', 'datasets', 'license_name', 'license_link']);
});

test('a model folder that is a git clone: the checked-out commit is the model version (loose ref, packed-refs, detached)', async () => {
  const sha = 'c0ffee'.padEnd(40, '1');
  const dir = folder('cloned', {});
  mkdirSync(path.join(dir, '.git', 'refs', 'heads'), { recursive: true });
  writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(path.join(dir, '.git', 'refs', 'heads', 'main'), `${sha}\n`);
  let r = await buildBom(dir, { reproducible: true, scan: false });
  assert.equal(r.document.metadata.component.version, sha);
  assert.equal(r.document.metadata.component['bom-ref'], `model:cloned@${sha}`);
  assert.ok(!r.document.metadata.component.components.some((c: any) => c.name.startsWith('.git')), 'git metadata is not a model file');
  rmSync(path.join(dir, '.git', 'refs', 'heads', 'main'));
  const packed = 'd00d'.padEnd(40, '2');
  writeFileSync(path.join(dir, '.git', 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${packed} refs/heads/main\n`);
  r = await buildBom(dir, { reproducible: true, scan: false });
  assert.equal(r.document.metadata.component.version, packed);
  writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/../../../etc\n');
  r = await buildBom(dir, { reproducible: true, scan: false });
  assert.equal(r.document.metadata.component.version, undefined, 'a ref outside refs/ is not followed');
  writeFileSync(path.join(dir, '.git', 'HEAD'), `${sha}\n`);
  r = await buildBom(dir, { reproducible: true, scan: false });
  assert.equal(r.document.metadata.component.version, sha);
});

test('scan: false still reads the parameter count from SafeTensors headers, without verdicts', async () => {
  const models = path.join(__dirname, '..', '..', '..', 'examples', 'ml-project', 'models');
  const scanned = await buildBom(models, { reproducible: true });
  const quick = await buildBom(models, { reproducible: true, scan: false });
  const params = (d: any) => d.metadata.component.modelCard?.properties?.find((p: any) => p.name === 'parameters')?.value;
  assert.equal(params(quick.document), params(scanned.document));
  assert.equal(params(quick.document), '4', 'classifier.safetensors (make_models.py): 4 values');
  const names = (d: any) => [d.metadata.component, ...d.metadata.component.components].flatMap((c: any) => (c.properties ?? []).map((p: any) => p.name));
  assert.ok(names(scanned.document).includes('modelvet:scan:verdict'));
  assert.ok(!names(quick.document).some((n: string) => n.startsWith('modelvet:scan:')), 'no verdicts or codes without the scan');
});
