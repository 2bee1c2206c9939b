import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Validation, Spec } from '@cyclonedx/cyclonedx-library';
import { buildBom } from '../../../core/bom/index';
import { listModelFiles, sha256File } from '../../../core/bom/digest';
import { computeManifest } from '../../../core/signing/index';
import { main } from '../../../core/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'bom');
const expected = JSON.parse(readFileSync(path.join(FIX, 'snapshot-expected.json'), 'utf8'));
const SNAPSHOT = path.join(FIX, 'hf-cache', 'models--acme-ai--tiny-classifier', 'snapshots', expected.commit);
const EXAMPLE_MODELS = path.join(ROOT, 'examples', 'ml-project', 'models');
const GOLDEN = path.join(FIX, 'golden', 'tiny-classifier.cdx.json');

const validators = new Map<string, Validation.JsonStrictValidator>();
async function schemaErrors(json: string, version: '1.6' | '1.5' = '1.6'): Promise<unknown> {
  let v = validators.get(version);
  if (!v) { v = new Validation.JsonStrictValidator(version === '1.6' ? Spec.Version.v1dot6 : Spec.Version.v1dot5); validators.set(version, v); }
  return v.validate(json);
}

function allComponents(doc: any): any[] {
  const out: any[] = [];
  const walk = (list: any[] | undefined) => { for (const c of list ?? []) { out.push(c); walk(c.components); } };
  walk(doc.metadata?.component ? [doc.metadata.component] : []);
  walk(doc.components);
  return out;
}
const propsOf = (c: any) => Object.fromEntries((c.properties ?? []).map((p: any) => [p.name, p.value]));

test('the validator rejects a broken BOM (the schema check can fail)', async () => {
  const r = await buildBom(SNAPSHOT, { reproducible: true });
  const doc = structuredClone(r.document);
  doc.metadata.component.modelCard.modelParameters.approach = { type: 'guessing' };
  assert.notEqual(await schemaErrors(JSON.stringify(doc)), null);
  const doc2 = structuredClone(r.document);
  doc2.components[0].type = 'model';
  assert.notEqual(await schemaErrors(JSON.stringify(doc2)), null);
});

test('HF cache snapshot: CycloneDX 1.6 ML-BOM validates with 0 errors and carries the card, purl, datasets, base model', async () => {
  const r = await buildBom(SNAPSHOT, { reproducible: true });
  assert.equal(await schemaErrors(r.json), null);
  const m = r.document.metadata.component;
  assert.equal(m.type, 'machine-learning-model');
  assert.equal(m.group, 'acme-ai');
  assert.equal(m.name, 'tiny-classifier');
  assert.equal(m.version, expected.commit);
  assert.equal(m.purl, `pkg:huggingface/acme-ai/tiny-classifier@${expected.commit}`);
  assert.deepEqual(m.licenses, [{ license: { id: 'Apache-2.0' } }]);
  assert.equal(m.modelCard.modelParameters.task, 'text-classification');
  assert.equal(m.modelCard.modelParameters.modelArchitecture, 'DistilBertForSequenceClassification');
  assert.equal(m.modelCard.modelParameters.architectureFamily, 'distilbert');
  assert.deepEqual(m.modelCard.modelParameters.datasets, [{ ref: 'dataset:stanfordnlp/imdb' }]);
  assert.deepEqual(m.modelCard.quantitativeAnalysis.performanceMetrics, [{ type: 'accuracy', value: '0.91', slice: 'IMDB' }]);
  assert.match(m.modelCard.considerations.useCases[0], /sentiment of short English movie reviews/);
  assert.match(m.modelCard.considerations.ethicalConsiderations[0].name, /biases/);
  const cardProps = Object.fromEntries(m.modelCard.properties.map((p: any) => [p.name, p.value]));
  assert.equal(cardProps.parameters, String(expected.parameters), 'parameter count from the checkpoint headers');
  assert.equal(cardProps.base_model, 'distilbert/distilbert-base-uncased');
  const data = r.document.components.find((c: any) => c.type === 'data');
  assert.equal(data.name, 'stanfordnlp/imdb');
  const base = r.document.components.find((c: any) => c.type === 'machine-learning-model');
  assert.equal(base.purl, 'pkg:huggingface/distilbert/distilbert-base-uncased');
  const dep = r.document.dependencies.find((d: any) => d.ref === m['bom-ref']);
  assert.deepEqual([...dep.dependsOn].sort(), [base['bom-ref'], data['bom-ref']].sort(), 'base model and dataset are dependencies of the model');
  assert.deepEqual(m.externalReferences, [{ url: 'README.md', type: 'model-card' }]);
});

test('a Hugging Face cache repo folder resolves to the snapshot refs/main names', async () => {
  const repo = path.join(FIX, 'hf-cache', 'models--acme-ai--tiny-classifier');
  const a = await buildBom(repo, { reproducible: true });
  assert.equal(a.json, (await buildBom(SNAPSHOT, { reproducible: true })).json);
});

test('file digests equal the OMS manifest digests, the files\' real SHA-256, and the root digest is a property', async () => {
  const r = await buildBom(SNAPSHOT, { reproducible: true });
  const m = r.document.metadata.component;
  const files = Object.fromEntries(m.components.map((c: any) => [c.name, c.hashes[0].content]));
  const manifest = await computeManifest(SNAPSHOT, { allowSymlinks: true });
  assert.deepEqual(files, Object.fromEntries(manifest.files.map((f) => [f.name, f.digest])));
  assert.deepEqual(files, Object.fromEntries(Object.entries(expected.files).map(([k, v]: [string, any]) => [k, v.sha256])), 'digests written by Python hashlib');
  assert.equal(propsOf(m)['modelvet:oms:root-digest'], `sha256:${manifest.rootDigest}`);
  // The fallback hasher (used when no manifest can be made) agrees too.
  for (const f of listModelFiles(SNAPSHOT).files) assert.equal(sha256File(f.abs).sha256, files[f.rel], f.rel);
});

test('scan verdicts and finding codes per file: the example project\'s malicious pickle is named in the BOM', async () => {
  const r = await buildBom(EXAMPLE_MODELS, { reproducible: true });
  assert.equal(await schemaErrors(r.json), null);
  const m = r.document.metadata.component;
  const bin = m.components.find((c: any) => c.name === 'pytorch_model.bin');
  assert.equal(propsOf(bin)['modelvet:scan:verdict'], 'malicious');
  assert.match(propsOf(bin)['modelvet:scan:codes'], /PKL001/);
  const st = m.components.find((c: any) => c.name === 'classifier.safetensors');
  assert.equal(propsOf(st)['modelvet:scan:verdict'], 'safe');
  assert.equal(propsOf(m)['modelvet:scan:verdict'], 'malicious');
  const manifest = await computeManifest(EXAMPLE_MODELS);
  assert.deepEqual(Object.fromEntries(m.components.map((c: any) => [c.name, c.hashes[0].content])), Object.fromEntries(manifest.files.map((f) => [f.name, f.digest])));
});

test('a project BOM: the application with its models, lockfile libraries (purl, hashes, licenses from the environment), signatures as attestations', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-bom-'));
  try {
    writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "demo-app"\nversion = "1.0"\n');
    writeFileSync(path.join(dir, 'uv.lock'), [
      'version = 1', '', '[[package]]', 'name = "numpy"', 'version = "1.24.2"',
      `sdist = { url = "https://files.example.invalid/numpy-1.24.2.tar.gz", hash = "sha256:${'a'.repeat(64)}" }`, '',
      '[[package]]', 'name = "Left_Pad"', 'version = "0.1"',
      `wheels = [{ url = "https://files.example.invalid/a.whl", hash = "sha256:${'b'.repeat(64)}" }, { url = "https://files.example.invalid/b.whl", hash = "sha256:${'c'.repeat(64)}" }]`, '',
    ].join('\n'));
    const sp = path.join(dir, '.venv', 'lib', 'python3.11', 'site-packages', 'numpy-1.24.2.dist-info');
    cpSync(path.join(ROOT, 'test', 'fixtures', 'licenses', 'debian', 'numpy-1.24.2.egg-info'), sp, { recursive: true });
    writeFileSync(path.join(sp, 'METADATA'), readFileSync(path.join(sp, 'PKG-INFO')));
    cpSync(EXAMPLE_MODELS, path.join(dir, 'models', 'clf'), { recursive: true });
    writeFileSync(path.join(dir, 'models', 'clf', 'model.sig'), '{}');
    writeFileSync(path.join(dir, 'models', 'clf', 'README.md'), '---\nlicense: mit\ndatasets: [acme/reviews]\n---\n');
    mkdirSync(path.join(dir, 'datasets', 'reviews'), { recursive: true });
    writeFileSync(path.join(dir, 'datasets', 'reviews', 'README.md'), '---\nlicense: cc-by-sa-4.0\n---\n');
    const r = await buildBom(dir, { reproducible: true, scan: false });
    assert.equal(await schemaErrors(r.json), null);
    const doc = r.document;
    assert.equal(doc.metadata.component.type, 'application');
    assert.equal(doc.metadata.component.name, 'demo-app');
    const libs = doc.components.filter((c: any) => c.type === 'library');
    const numpy = libs.find((c: any) => c.name === 'numpy');
    assert.equal(numpy.purl, 'pkg:pypi/numpy@1.24.2');
    assert.deepEqual(numpy.licenses, [{ license: { id: 'BSD-3-Clause' } }]);
    assert.deepEqual(numpy.hashes, [{ alg: 'SHA-256', content: 'a'.repeat(64) }]);
    const lp = libs.find((c: any) => c.name === 'Left_Pad');
    assert.equal(lp.purl, 'pkg:pypi/left-pad@0.1');
    assert.deepEqual(lp.properties.filter((p: any) => p.name === 'modelvet:lock:artifact-sha256').map((p: any) => p.value), ['b'.repeat(64), 'c'.repeat(64)]);
    const model = doc.components.find((c: any) => c.type === 'machine-learning-model');
    assert.equal(model.name, 'clf');
    assert.deepEqual(model.externalReferences.filter((e: any) => e.type === 'attestation').map((e: any) => e.url), ['models/clf/model.sig']);
    assert.ok(!model.components.some((c: any) => c.name === 'model.sig'), 'the signature is not one of the signed files');
    const manifest = await computeManifest(path.join(dir, 'models', 'clf'), { signaturePath: path.join(dir, 'models', 'clf', 'model.sig') });
    assert.equal(propsOf(model)['modelvet:oms:root-digest'], `sha256:${manifest.rootDigest}`);
    const data = doc.components.find((c: any) => c.type === 'data');
    assert.equal(data.name, 'acme/reviews');
    assert.deepEqual(data.licenses, [{ license: { id: 'CC-BY-SA-4.0' } }], 'the dataset license from its card in the project');
    const depsOfApp = doc.dependencies.find((d: any) => d.ref === 'project').dependsOn;
    assert.ok(depsOfApp.includes(model['bom-ref']) && depsOfApp.includes(numpy['bom-ref']));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('CycloneDX 1.5 output validates against the 1.5 schema', async () => {
  const r = await buildBom(SNAPSHOT, { reproducible: true, spec: '1.5' });
  assert.equal(r.document.specVersion, '1.5');
  assert.equal(await schemaErrors(r.json, '1.5'), null);
});

test('determinism: --reproducible gives the same bytes (golden file), a changed file changes digest and serial number', async () => {
  const saved = process.env.SOURCE_DATE_EPOCH;
  delete process.env.SOURCE_DATE_EPOCH;
  try {
    const a = await buildBom(SNAPSHOT, { reproducible: true });
    const b = await buildBom(SNAPSHOT, { reproducible: true });
    assert.equal(a.json, b.json);
    assert.ok(!('timestamp' in a.document.metadata), 'no wall-clock time in a reproducible BOM');
    if (process.env.MODELVET_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, a.json);
    assert.equal(a.json, readFileSync(GOLDEN, 'utf8'), 'matches the committed golden BOM (MODELVET_UPDATE_GOLDEN=1 rewrites it)');
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    const c = await buildBom(SNAPSHOT, { reproducible: true });
    assert.equal(c.document.metadata.timestamp, '2023-11-14T22:13:20Z');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-bom-'));
    try {
      cpSync(EXAMPLE_MODELS, dir, { recursive: true });
      const x = await buildBom(dir, { reproducible: true, scan: false });
      writeFileSync(path.join(dir, 'classifier.safetensors'), Buffer.concat([readFileSync(path.join(dir, 'classifier.safetensors')), Buffer.from('x')]));
      const y = await buildBom(dir, { reproducible: true, scan: false });
      assert.notEqual(x.document.serialNumber, y.document.serialNumber);
      const digestOf = (d: any) => d.metadata.component.components.find((c: any) => c.name === 'classifier.safetensors').hashes[0].content;
      assert.equal(digestOf(y.document), createHash('sha256').update(readFileSync(path.join(dir, 'classifier.safetensors'))).digest('hex'));
      assert.notEqual(digestOf(x.document), digestOf(y.document));
    } finally { rmSync(dir, { recursive: true, force: true }); }
    const n1 = await buildBom(SNAPSHOT, { now: new Date('2026-01-02T03:04:05Z') });
    const n2 = await buildBom(SNAPSHOT, { now: new Date('2026-01-02T03:04:05Z') });
    assert.notEqual(n1.document.serialNumber, n2.document.serialNumber, 'a normal BOM gets a fresh serial number');
    assert.equal(n1.document.metadata.timestamp, '2026-01-02T03:04:05Z');
  } finally { if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH; else process.env.SOURCE_DATE_EPOCH = saved; }
});

function io() {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { err.push(s); }, isTTY: false } };
}

test('modelvet bom CLI: writes the file, refuses to overwrite without --force, bad input is exit 2', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-bomcli-'));
  try {
    const out = path.join(dir, 'bom.json');
    let t = io();
    assert.equal(await main(['bom', SNAPSHOT, '-o', out, '--reproducible'], t.io), 0, t.err.join(''));
    assert.equal(readFileSync(out, 'utf8'), readFileSync(GOLDEN, 'utf8'));
    writeFileSync(out, 'keep me');
    t = io();
    assert.equal(await main(['bom', SNAPSHOT, '-o', out], t.io), 2);
    assert.match(t.err.join(''), /already exists/);
    assert.equal(readFileSync(out, 'utf8'), 'keep me', 'an existing file is never overwritten without --force');
    t = io();
    assert.equal(await main(['bom', SNAPSHOT, '-o', out, '--force', '--reproducible', '--no-scan'], t.io), 0);
    assert.notEqual(readFileSync(out, 'utf8'), 'keep me');
    for (const bad of [['bom', path.join(dir, 'missing')], ['bom', out], ['bom', SNAPSHOT, '--spec', '2.0'], ['bom', SNAPSHOT, '--bogus'], ['bom', SNAPSHOT, '--env', path.join(dir, 'nope')]]) {
      t = io();
      assert.equal(await main(bad, t.io), 2, bad.join(' '));
      assert.ok(t.err.join('').length > 0);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
