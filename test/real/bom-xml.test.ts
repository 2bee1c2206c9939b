/**
 * XML AI-BOMs against the official CycloneDX XSD bundled with @cyclonedx/cyclonedx-library (extended
 * suite, `npm run test:real`). The library's own XML validator needs libxmljs2, a native addon that is
 * not a ModelVet dependency, so this uses libxml2's `xmllint --schema` (Debian: libxml2-utils) and is
 * skipped where it is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBom } from '../../core/bom/index';

const ROOT = path.resolve(__dirname, '..', '..');
const SCHEMAS = path.join(ROOT, 'node_modules', '@cyclonedx', 'cyclonedx-library', 'res', 'schema');
const FIX = path.join(ROOT, 'test', 'fixtures', 'bom');
const expected = JSON.parse(readFileSync(path.join(FIX, 'snapshot-expected.json'), 'utf8'));
const SNAPSHOT = path.join(FIX, 'hf-cache', 'models--acme-ai--tiny-classifier', 'snapshots', expected.commit);
const PROJECT = path.join(ROOT, 'examples', 'ml-project');

const hasXmllint = spawnSync('xmllint', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = hasXmllint ? false : 'xmllint not installed (apt-get install libxml2-utils)';

function xsdErrors(xml: string, spec: '1.6' | '1.5'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-xsd-'));
  try {
    const f = path.join(dir, 'bom.xml');
    writeFileSync(f, xml);
    const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', path.join(SCHEMAS, `bom-${spec}.SNAPSHOT.xsd`), f], { encoding: 'utf8' });
    return r.status === 0 ? '' : r.stderr || `xmllint exit ${r.status}`;
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('XML BOMs of the HF snapshot (1.6 and 1.5) and the example project validate against the bundled XSD', { skip }, async () => {
  for (const [target, spec] of [[SNAPSHOT, '1.6'], [SNAPSHOT, '1.5'], [PROJECT, '1.6']] as const) {
    const r = await buildBom(target, { reproducible: true, xml: true, spec });
    assert.equal(xsdErrors(r.xml!, spec), '', `${path.basename(target)} ${spec}`);
  }
});

test('the XSD check can fail: a model card element out of order is rejected', { skip }, async () => {
  const r = await buildBom(SNAPSHOT, { reproducible: true, xml: true });
  const broken = r.xml!.replace(/(<modelCard>\s*)(<modelParameters>[\s\S]*?<\/modelParameters>)(\s*)(<quantitativeAnalysis>[\s\S]*?<\/quantitativeAnalysis>)/, '$1$4$3$2');
  assert.notEqual(broken, r.xml);
  assert.match(xsdErrors(broken, '1.6'), /modelParameters|quantitativeAnalysis/);
});
