/** `license: other` + `license_name`: the custom license goes by its name in the table, the policy and the BOM. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLicenseTable } from '../../../core/licenses/table';
import { licenseFindings } from '../../../core/licenses/rules';
import { buildBom } from '../../../core/bom/index';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mv-custom-lic-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
mkdirSync(path.join(tmp, 'm'));
writeFileSync(path.join(tmp, 'm', 'model.safetensors'), Buffer.alloc(8));
writeFileSync(path.join(tmp, 'm', 'README.md'), '---\nlicense: other\nlicense_name: Acme-Model-License\nlicense_link: LICENSE\n---\n# m\n');

const row = () => buildLicenseTable(tmp, { sitePackages: [] }).rows.find((r) => r.kind === 'model')!;
const codes = (allow: string[], deny: string[]) => licenseFindings([row()], { policy: { allow, deny }, projectKind: 'auto', isLibrary: false }).map((f) => f.code);

test('the table shows the license name; LIC002 asks for a review; allow by name clears it, deny by name is LIC001', async () => {
  const r = row();
  assert.deepEqual([r.license.display, r.license.hub, r.license.category, r.source], ['Acme-Model-License', 'acme-model-license', 'unknown', 'card']);
  const f = licenseFindings([r], { policy: { allow: [], deny: [] }, projectKind: 'auto', isLibrary: false });
  assert.deepEqual(f.map((x) => x.code), ['LIC002']);
  assert.match(f[0].message, /custom license "Acme-Model-License"/);
  assert.deepEqual(codes(['acme-model-license'], []), []);
  assert.deepEqual(codes(['MIT'], []), ['LIC001', 'LIC002']);
  assert.deepEqual(codes([], ['Acme-Model-License']), ['LIC001', 'LIC002']);
  const bom = await buildBom(path.join(tmp, 'm'), { reproducible: true, scan: false });
  assert.deepEqual(bom.document.metadata.component.licenses, [{ license: { name: 'Acme-Model-License', url: 'LICENSE' } }]);
});

test('license: other without license_name stays "other" (CARD003 asks for the name)', () => {
  writeFileSync(path.join(tmp, 'm', 'README.md'), '---\nlicense: other\n---\n# m\n');
  const r = row();
  assert.deepEqual([r.license.display, r.license.hub], ['other', undefined]);
  assert.match(licenseFindings([r], { policy: { allow: [], deny: [] }, projectKind: 'auto', isLibrary: false })[0].message, /the license "other" is not recognized in the model card/);
});

test('modelvet licenses -o: writes the report, keeps an existing file without --force, replaces it with --force', async () => {
  const { main } = await import('../../../core/cli/main');
  const { readFileSync } = await import('node:fs');
  const out = path.join(tmp, 'licenses.json');
  const err: string[] = [];
  const io = { stdout: () => {}, stderr: (s: string) => { err.push(s); }, isTTY: false };
  await main(['licenses', tmp, '--format', 'json', '-o', out], io);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).version, 1);
  writeFileSync(out, 'keep');
  assert.equal(await main(['licenses', tmp, '-o', out], io), 2);
  assert.equal(readFileSync(out, 'utf8'), 'keep');
  await main(['licenses', tmp, '--format', 'csv', '-o', out, '--force'], io);
  assert.match(readFileSync(out, 'utf8'), /^kind,name,version,license/);
  assert.equal(await main(['licenses', tmp, '-o', path.join(tmp, 'no-such-dir', 'x.json')], io), 2);
});

test('hover on a custom license names it and says what to do', async () => {
  const { cardHover } = await import('../../../core/cards/hover');
  const h = cardHover('---\nlicense: other\nlicense_name: acme-license\nlicense_link: LICENSE\n---\n', { line: 1, character: 2 })!;
  assert.match(h.markdown, /custom license `acme-license`/);
  assert.match(h.markdown, /allow it by this name/);
  assert.match(cardHover('---\nlicense: other\n---\n', { line: 1, character: 2 })!.markdown, /Unknown/);
});
