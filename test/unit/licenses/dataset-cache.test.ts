/**
 * Dataset licenses from the Hugging Face cache: a cached model's training dataset, cached next to it
 * (`datasets--org--name`), gets its card's license in the license table and the AI-BOM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLicenseTable, hubCacheDatasetCard, readTextFile } from '../../../core/licenses/table';
import { buildBom } from '../../../core/bom/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'bom');
const commit = JSON.parse(readFileSync(path.join(FIX, 'snapshot-expected.json'), 'utf8')).commit;
const DS_SHA = 'e'.repeat(40);

function cache(card: string | undefined): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-dscache-'));
  cpSync(path.join(FIX, 'hf-cache'), path.join(dir, 'hub'), { recursive: true });
  const repo = path.join(dir, 'hub', 'datasets--stanfordnlp--imdb');
  mkdirSync(path.join(repo, 'refs'), { recursive: true });
  mkdirSync(path.join(repo, 'snapshots', DS_SHA), { recursive: true });
  writeFileSync(path.join(repo, 'refs', 'main'), DS_SHA);
  if (card !== undefined) writeFileSync(path.join(repo, 'snapshots', DS_SHA, 'README.md'), card);
  return dir;
}

test('the cached dataset card gives the data component and the table row its license', async () => {
  const dir = cache('---\nlicense: [cc-by-nc-4.0]\n---\n# IMDB\n');
  try {
    const snap = path.join(dir, 'hub', 'models--acme-ai--tiny-classifier', 'snapshots', commit);
    const bom = await buildBom(snap, { reproducible: true, scan: false });
    const data = bom.document.components.find((c: any) => c.type === 'data');
    assert.deepEqual(data.licenses, [{ license: { id: 'CC-BY-NC-4.0' } }]);
    const table = buildLicenseTable(path.join(dir, 'hub'), { sitePackages: [] });
    const row = table.rows.find((r) => r.kind === 'dataset')!;
    assert.deepEqual([row.name, row.license.spdx, row.source, row.license.category], ['stanfordnlp/imdb', 'CC-BY-NC-4.0', 'card', 'noncommercial']);
    assert.equal(row.file, path.join(dir, 'hub', 'datasets--stanfordnlp--imdb', 'snapshots', DS_SHA, 'README.md'));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('no cached card, a card without license, or a name that would leave the cache: no license', async () => {
  for (const card of [undefined, '# IMDB\n']) {
    const dir = cache(card);
    try {
      const snap = path.join(dir, 'hub', 'models--acme-ai--tiny-classifier', 'snapshots', commit);
      const bom = await buildBom(snap, { reproducible: true, scan: false });
      assert.equal(bom.document.components.find((c: any) => c.type === 'data').licenses, undefined);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }
  const snap = path.join(FIX, 'hf-cache', 'models--acme-ai--tiny-classifier', 'snapshots', commit);
  for (const bad of ['../x', 'a/../../b', 'a--b/c', 'a/b/c']) assert.equal(hubCacheDatasetCard(snap, bad, readTextFile), undefined, bad);
  assert.equal(hubCacheDatasetCard(path.join(FIX, 'hf-cache'), 'stanfordnlp/imdb', readTextFile), undefined, 'not a snapshot folder');
});
