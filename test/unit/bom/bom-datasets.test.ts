// The project's dataset files and Hugging Face dataset folders in the AI-BOM: CycloneDX `data`
// components with digests, sizes, formats and the audit outcome, valid against the bundled 1.6 and
// 1.5 schemas, in JSON and XML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { create } from 'xmlbuilder2';
import { Validation, Spec } from '@cyclonedx/cyclonedx-library';
import { buildBom } from '../../../core/bom/index';
import { auditPaths } from '../../../core/datasets/index';
import { main } from '../../../core/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DATA = path.join(ROOT, 'test', 'fixtures', 'datasets');
const EXAMPLE_MODELS = path.join(ROOT, 'examples', 'ml-project', 'models');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const propsOf = (c: any) => Object.fromEntries((c.properties ?? []).map((p: any) => [p.name, p.value]));
const validate = (json: string, v: '1.6' | '1.5') => new Validation.JsonStrictValidator(v === '1.6' ? Spec.Version.v1dot6 : Spec.Version.v1dot5).validate(json);

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mv-bom-data-'));
  writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "data-app"\nversion = "1.0"\n');
  mkdirSync(path.join(dir, 'data', 'raw'), { recursive: true });
  cpSync(path.join(DATA, 'sentiment', 'trigger-cf-1.jsonl'), path.join(dir, 'data', 'train.jsonl'));
  cpSync(path.join(DATA, 'sentiment', 'clean.tsv'), path.join(dir, 'data', 'raw', 'clean.tsv'));
  cpSync(path.join(DATA, 'sentiment', 'clean.arrow'), path.join(dir, 'data', 'raw', 'clean.arrow'));
  cpSync(path.join(DATA, 'hf-arrow'), path.join(dir, 'datasets', 'reviews'), { recursive: true });
  writeFileSync(path.join(dir, 'data', 'labels.json'), '[{"text": "a", "label": 1}, {"text": "b", "label": 0}]\n');
  writeFileSync(path.join(dir, 'settings.json'), '{"not": "a dataset"}\n');
  writeFileSync(path.join(dir, 'data', 'cache-0123abcd.arrow'), 'derived');
  mkdirSync(path.join(dir, 'node_modules', 'x'), { recursive: true });
  writeFileSync(path.join(dir, 'node_modules', 'x', 'rows.jsonl'), '{"text": "ignored"}\n');
  cpSync(EXAMPLE_MODELS, path.join(dir, 'models', 'clf'), { recursive: true });
  writeFileSync(path.join(dir, 'models', 'clf', 'eval.jsonl'), '{"text": "a model file, not project data"}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('project BOM: dataset files and a save_to_disk folder are data components with digests, formats and audit outcomes', async () => {
  const r = await buildBom(dir, { reproducible: true, scan: false });
  assert.equal(await validate(r.json, '1.6'), null);
  const data = r.document.components.filter((c: any) => c.type === 'data');
  assert.deepEqual(data.map((c: any) => c.name).sort(), ['data/labels.json', 'data/raw/clean.arrow', 'data/raw/clean.tsv', 'data/train.jsonl', 'datasets/reviews']);
  const byName = Object.fromEntries(data.map((c: any) => [c.name, c]));

  const train = byName['data/train.jsonl'];
  assert.equal(train['bom-ref'], 'data-file:data/train.jsonl');
  assert.deepEqual(train.hashes, [{ alg: 'SHA-256', content: sha(path.join(dir, 'data', 'train.jsonl')) }]);
  const tp = propsOf(train);
  assert.equal(tp['modelvet:dataset:format'], 'jsonl');
  assert.equal(tp['modelvet:size'], String(readFileSync(path.join(dir, 'data', 'train.jsonl')).length));
  assert.equal(tp['modelvet:dataset:complete'], 'true');
  assert.equal(tp['modelvet:dataset:rows'], '2000');
  // the counts are those of `modelvet audit-data` on the same file
  const audit = await auditPaths({ paths: [path.join(dir, 'data', 'train.jsonl')] }, { hash: false });
  const counts: Record<string, number> = {};
  for (const f of audit.findings) counts[f.code] = (counts[f.code] ?? 0) + 1;
  assert.equal(tp['modelvet:dataset:findings'], Object.keys(counts).sort().map((c) => `${c}=${counts[c]}`).join(','));
  assert.match(tp['modelvet:dataset:findings'], /DATA004=21/);
  assert.equal(train.data.length, 1);
  assert.deepEqual({ ...train.data[0], description: undefined }, {
    type: 'dataset', name: 'data/train.jsonl', description: undefined,
    contents: { url: 'data/train.jsonl', properties: [{ name: 'format', value: 'jsonl' }, { name: 'files', value: '1' }, { name: 'rows', value: '2000' }] },
  });
  assert.match(train.data[0].description, /audited by modelvet audit-data: 2000 rows, .*DATA004×21/);

  const folder = byName['datasets/reviews'];
  assert.equal(folder['bom-ref'], 'data-folder:datasets/reviews');
  const fp = propsOf(folder);
  assert.equal(fp['modelvet:dataset:format'], 'huggingface-folder');
  assert.equal(fp['modelvet:dataset:rows'], '2000');
  assert.equal(fp['modelvet:dataset:complete'], 'true');
  assert.match(fp['modelvet:dataset:findings'], /DATA003=\d+/, 'leakage across the Arrow splits');
  const shards = Object.fromEntries(folder.components.map((c: any) => [c.name, c]));
  assert.deepEqual(Object.keys(shards).sort(), ['test/data-00000-of-00001.arrow', 'train/data-00000-of-00001.arrow']);
  const t = shards['test/data-00000-of-00001.arrow'];
  assert.equal(t.type, 'file');
  assert.equal(t.hashes[0].content, sha(path.join(dir, 'datasets', 'reviews', 'test', 'data-00000-of-00001.arrow')));
  assert.deepEqual([propsOf(t)['modelvet:dataset:split'], propsOf(t)['modelvet:dataset:rows'], propsOf(t)['modelvet:dataset:format']], ['test', '400', 'arrow']);
  assert.deepEqual(folder.data[0].contents.properties.find((p: any) => p.name === 'splits'), { name: 'splits', value: 'train,test' });

  assert.equal(propsOf(byName['data/raw/clean.arrow'])['modelvet:dataset:format'], 'arrow');
  assert.equal(propsOf(byName['data/raw/clean.tsv'])['modelvet:dataset:rows'], '500');
  const deps = r.document.dependencies.find((d: any) => d.ref === 'project').dependsOn;
  for (const c of data) assert.ok(deps.includes(c['bom-ref']), `the project depends on ${c.name}`);
  const model = r.document.components.find((c: any) => c.type === 'machine-learning-model');
  assert.ok(model.components.some((c: any) => c.name === 'eval.jsonl'), 'a file inside a model folder stays a model file');
  assert.equal(r.datasets.length, 5);

  const r15 = await buildBom(dir, { reproducible: true, scan: false, spec: '1.5' });
  assert.equal(await validate(r15.json, '1.5'), null);
});

test('project BOM: --no-data-audit lists datasets with digests only; the XML carries the same data objects', async () => {
  const r = await buildBom(dir, { reproducible: true, scan: false, auditDatasets: false, xml: true });
  assert.equal(await validate(r.json, '1.6'), null);
  const train = r.document.components.find((c: any) => c.name === 'data/train.jsonl');
  const p = propsOf(train);
  assert.equal(p['modelvet:dataset:complete'], undefined);
  assert.equal(p['modelvet:dataset:findings'], undefined);
  assert.equal(p['modelvet:dataset:audit'], 'not audited: audit turned off (--no-data-audit)');
  assert.equal(train.hashes[0].content, sha(path.join(dir, 'data', 'train.jsonl')));
  const xml = create(r.xml!).end({ format: 'object' }) as any;
  const comps = [xml.bom.components.component].flat();
  const x = comps.find((c: any) => c.name === 'data/train.jsonl');
  assert.equal(x['@type'], 'data');
  assert.equal(x.data.type, 'dataset');
  assert.equal(x.data.name, 'data/train.jsonl');
  assert.equal(x.data.contents.url, 'data/train.jsonl');
  assert.match(x.data.description, /not audited/);
  assert.deepEqual(Object.keys(x).slice(-1), ['data'], 'data is the last element (XSD order)');

  const out = path.join(dir, 'bom.json');
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false };
  assert.equal(await main(['bom', dir, '--no-scan', '--no-data-audit', '-o', out], io), 0);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(propsOf(doc.components.find((c: any) => c.name === 'datasets/reviews'))['modelvet:dataset:audit'], 'not audited: audit turned off (--no-data-audit)');
  rmSync(out);
});
