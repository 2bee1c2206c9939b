/**
 * `modelvet bom --format xml`: CycloneDX XML from the library's XML normalizer + xmlbuilder2, with the
 * model card ModelVet adds. The XML is parsed back (xmlbuilder2's DOM) and compared with the JSON BOM of
 * the same run: same header, components, digests, card. Schema validation against the bundled XSD
 * needs a native validator (libxmljs2 is not a dependency): the extended suite runs `xmllint --schema`
 * (test/real/bom-xml.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create } from 'xmlbuilder2';
import { buildBom } from '../../../core/bom/index';
import { main } from '../../../core/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'bom');
const expected = JSON.parse(readFileSync(path.join(FIX, 'snapshot-expected.json'), 'utf8'));
const SNAPSHOT = path.join(FIX, 'hf-cache', 'models--acme-ai--tiny-classifier', 'snapshots', expected.commit);
const PROJECT = path.join(ROOT, 'examples', 'ml-project');

type El = { nodeName: string; nodeType: number; childNodes: ArrayLike<El>; textContent: string | null; getAttribute(n: string): string | null };
const kids = (e: El, name?: string): El[] => Array.from(e.childNodes).filter((c) => c.nodeType === 1 && (!name || c.nodeName === name));
const kid = (e: El, name: string): El | undefined => kids(e, name)[0];
const txt = (e: El | undefined, name: string): string | undefined => (e ? kid(e, name)?.textContent ?? undefined : undefined);
function parse(xml: string): El { return create(xml).root().node as unknown as El; }

/** Every component element (metadata.component, components, nested), like the JSON walk. */
function xmlComponents(bom: El): El[] {
  const out: El[] = [];
  const walk = (c: El) => { out.push(c); const sub = kid(c, 'components'); for (const k of sub ? kids(sub, 'component') : []) walk(k); };
  const meta = kid(bom, 'metadata');
  const mc = meta && kid(meta, 'component');
  if (mc) walk(mc);
  for (const c of kids(kid(bom, 'components') ?? ({ childNodes: [] } as unknown as El), 'component')) walk(c);
  return out;
}
function jsonComponents(doc: any): any[] {
  const out: any[] = [];
  const walk = (list: any[] | undefined) => { for (const c of list ?? []) { out.push(c); walk(c.components); } };
  walk(doc.metadata?.component ? [doc.metadata.component] : []);
  walk(doc.components);
  return out;
}

test('HF snapshot as XML: the same serial number, components, file digests and model card as the JSON BOM', async () => {
  const r = await buildBom(SNAPSHOT, { reproducible: true, xml: true });
  assert.ok(r.xml);
  const bom = parse(r.xml!);
  assert.equal(bom.nodeName, 'bom');
  assert.equal((bom as any).namespaceURI, 'http://cyclonedx.org/schema/bom/1.6');
  assert.equal(bom.getAttribute('serialNumber'), r.document.serialNumber);
  assert.equal(bom.getAttribute('version'), '1');
  const xc = xmlComponents(bom);
  const jc = jsonComponents(r.document);
  assert.deepEqual(xc.map((c) => c.getAttribute('bom-ref')).sort(), jc.map((c) => c['bom-ref']).sort());
  const jsonByRef = new Map(jc.map((c) => [c['bom-ref'], c]));
  let files = 0;
  for (const c of xc) {
    const j = jsonByRef.get(c.getAttribute('bom-ref')!);
    assert.equal(c.getAttribute('type'), j.type);
    assert.equal(txt(c, 'name'), j.name);
    const h = kid(c, 'hashes');
    if (j.hashes) {
      files++;
      assert.equal(kid(h!, 'hash')!.getAttribute('alg'), 'SHA-256');
      assert.equal(kid(h!, 'hash')!.textContent, j.hashes[0].content);
    } else assert.equal(h, undefined);
  }
  assert.equal(files, r.digests.get(SNAPSHOT)!.length, 'every file of the OMS manifest has its digest in the XML');

  const model = kid(kid(bom, 'metadata')!, 'component')!;
  assert.equal(txt(model, 'purl'), `pkg:huggingface/acme-ai/tiny-classifier@${expected.commit}`);
  // modelCard after components, its parts in XSD order.
  const order = kids(model).map((e) => e.nodeName);
  assert.ok(order.indexOf('modelCard') > order.indexOf('components'), order.join(','));
  const card = kid(model, 'modelCard')!;
  assert.deepEqual(kids(card).map((e) => e.nodeName), ['modelParameters', 'quantitativeAnalysis', 'considerations', 'properties']);
  const mp = kid(card, 'modelParameters')!;
  assert.deepEqual(kids(mp).map((e) => e.nodeName), ['task', 'architectureFamily', 'modelArchitecture', 'datasets']);
  assert.equal(txt(mp, 'task'), 'text-classification');
  assert.equal(txt(kid(mp, 'datasets'), 'ref'), 'dataset:stanfordnlp/imdb');
  const metric = kid(kid(kid(card, 'quantitativeAnalysis')!, 'performanceMetrics')!, 'performanceMetric')!;
  assert.deepEqual([txt(metric, 'type'), txt(metric, 'value'), txt(metric, 'slice')], ['accuracy', '0.91', 'IMDB']);
  assert.match(txt(kid(kid(card, 'considerations')!, 'useCases'), 'useCase')!, /sentiment of short English movie reviews/);
  const props = Object.fromEntries(kids(kid(card, 'properties')!, 'property').map((p) => [p.getAttribute('name'), p.textContent]));
  assert.equal(props.parameters, String(expected.parameters));
  assert.equal(props.base_model, 'distilbert/distilbert-base-uncased');
  // The JSON card and the XML card say the same.
  assert.deepEqual(props, Object.fromEntries(r.document.metadata.component.modelCard.properties.map((p: any) => [p.name, p.value])));

  // The training dataset: a data component with its CycloneDX `data` object, in JSON and XML.
  const dsJson = r.document.components.find((c: any) => c.type === 'data');
  assert.deepEqual(dsJson.data, [{ type: 'dataset', name: 'stanfordnlp/imdb' }]);
  const dsXml = xc.find((c) => c.getAttribute('type') === 'data')!;
  const data = kid(dsXml, 'data')!;
  assert.deepEqual([txt(data, 'type'), txt(data, 'name')], ['dataset', 'stanfordnlp/imdb']);
  assert.equal(kids(dsXml).at(-1)!.nodeName, 'data', 'data comes after properties (XSD order)');

  const again = await buildBom(SNAPSHOT, { reproducible: true, xml: true });
  assert.equal(again.xml, r.xml, 'reproducible XML is byte-identical');
  const plain = await buildBom(SNAPSHOT, { reproducible: true });
  assert.equal(plain.xml, undefined, 'no XML unless asked');
});

test('a project as XML: libraries with purls, the model with its scan verdict; 1.5 uses the 1.5 namespace', async () => {
  const r = await buildBom(PROJECT, { reproducible: true, xml: true });
  const bom = parse(r.xml!);
  const comps = xmlComponents(bom);
  const libs = comps.filter((c) => c.getAttribute('type') === 'library');
  assert.equal(libs.length, r.document.components.filter((c: any) => c.type === 'library').length);
  assert.ok(libs.length > 0);
  for (const l of libs) assert.match(txt(l, 'purl')!, /^pkg:pypi\//);
  const model = comps.find((c) => c.getAttribute('type') === 'machine-learning-model')!;
  const props = Object.fromEntries(kids(kid(model, 'properties')!, 'property').map((p) => [p.getAttribute('name'), p.textContent]));
  assert.equal(props['modelvet:scan:verdict'], 'malicious');
  assert.match(props['modelvet:scan:codes']!, /PKL001/);
  const r15 = await buildBom(SNAPSHOT, { reproducible: true, xml: true, spec: '1.5' });
  assert.equal((parse(r15.xml!) as any).namespaceURI, 'http://cyclonedx.org/schema/bom/1.5');
});

test('modelvet bom --format xml writes XML; an unknown format is exit 2', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-bomxml-'));
  const out: string[] = [], err: string[] = [];
  const io = { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { err.push(s); }, isTTY: false };
  try {
    const file = path.join(dir, 'bom.xml');
    assert.equal(await main(['bom', SNAPSHOT, '--format', 'xml', '-o', file, '--reproducible'], io), 0, err.join(''));
    assert.equal(readFileSync(file, 'utf8'), (await buildBom(SNAPSHOT, { reproducible: true, xml: true })).xml);
    assert.match(err.join(''), /CycloneDX 1\.6 XML/);
    writeFileSync(file, 'keep');
    assert.equal(await main(['bom', SNAPSHOT, '--format', 'xml', '-o', file], io), 2);
    assert.equal(readFileSync(file, 'utf8'), 'keep');
    out.length = 0;
    assert.equal(await main(['bom', SNAPSHOT, '--format', 'xml', '--no-scan'], io), 0);
    assert.match(out.join(''), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<bom xmlns="http:\/\/cyclonedx\.org\/schema\/bom\/1\.6"/);
    err.length = 0;
    assert.equal(await main(['bom', SNAPSHOT, '--format', 'yaml'], io), 2);
    assert.match(err.join(''), /--format/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
