import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { advisoriesFor, osvErrors } from '../../../core/deps/advisories';
import { codes, ctxOf, run } from './helpers';

function osvRecord(id: string, pkg: string, events: object[], extra: object = {}) {
  return JSON.stringify({ id, summary: `${id} summary`, aliases: [], affected: [{ package: { ecosystem: 'PyPI', name: pkg }, ranges: [{ type: 'ECOSYSTEM', events }] }], ...extra });
}

/** A minimal zip writer (deflate) for test fixtures. */
function makeZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const raw = Buffer.from(content);
    const comp = deflateRawSync(raw);
    const nameBuf = Buffer.from(name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(raw.length, 22); lh.writeUInt16LE(nameBuf.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(raw.length, 24); ch.writeUInt16LE(nameBuf.length, 28); ch.writeUInt32LE(offset, 42);
    locals.push(lh, nameBuf, comp);
    centrals.push(ch, nameBuf);
    offset += 30 + nameBuf.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Object.keys(files).length, 8); eocd.writeUInt16LE(Object.keys(files).length, 10);
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

test('OSV folder: records become advisories; ranges with introduced/fixed/last_affected', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mv-osv-'));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'PYSEC-1.json'), osvRecord('PYSEC-2099-1', 'Some_Pkg', [{ introduced: '1.0' }, { fixed: '1.5.2' }, { introduced: '2.0' }, { last_affected: '2.1' }]));
  writeFileSync(path.join(dir, 'sub', 'npm.json'), JSON.stringify({ id: 'X', affected: [{ package: { ecosystem: 'npm', name: 'some-pkg' } }] }));
  writeFileSync(path.join(dir, 'broken.json'), '{nope');
  const adv = advisoriesFor('some-pkg', [dir]);
  assert.equal(adv.length, 1);
  assert.deepEqual(adv[0].affected, ['>=1.0,<1.5.2', '>=2.0,<=2.1']);
  assert.equal(osvErrors([dir]).length, 1);
  const ctx = ctxOf({ config: { osvDbPaths: [dir] } });
  const text = 'some-pkg==1.4\nsome_pkg==1.5.2\nsome.pkg==2.1\nsome-pkg>=1.6,<2\n';
  const f = codes(run('requirements', 'requirements.txt', text, ctx), 'DEP007');
  assert.deepEqual(f.map((x) => x.range.start.line), [0, 2]);
  assert.match(f[0].message, /PYSEC-2099-1/);
});

test('OSV all.zip: read with the built-in zip reader, cached per mtime', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mv-osvz-'));
  const zip = path.join(dir, 'all.zip');
  writeFileSync(zip, makeZip({ 'A.json': osvRecord('GHSA-test-0001', 'zipped-pkg', [{ introduced: '0' }, { fixed: '3.0' }]), 'readme.txt': 'x' }));
  assert.equal(advisoriesFor('zipped-pkg', [zip])[0].id, 'GHSA-test-0001');
  const f = codes(run('requirements', 'requirements.txt', 'zipped-pkg==2.9\n', ctxOf({ config: { osvDbPaths: [zip] } })), 'DEP007');
  assert.equal(f.length, 1);
  assert.match(f[0].message, /fixed in 3\.0/);
  // A changed file (new mtime) is re-read.
  writeFileSync(zip, makeZip({ 'B.json': osvRecord('GHSA-test-0002', 'zipped-pkg', [{ introduced: '0' }, { fixed: '4.0' }]) }));
  const later = new Date(Date.now() + 5000);
  utimesSync(zip, later, later);
  assert.equal(advisoriesFor('zipped-pkg', [zip])[0].id, 'GHSA-test-0002');
});

test('OSV: garbage zip and missing path are reported, not thrown', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mv-osvg-'));
  const bad = path.join(dir, 'all.zip');
  writeFileSync(bad, Buffer.from('PK\u0003\u0004 not really a zip'));
  assert.deepEqual(advisoriesFor('x', [bad, path.join(dir, 'missing.zip')]), []);
  assert.equal(osvErrors([bad, path.join(dir, 'missing.zip')]).length, 2);
});

test('curated advisories dedupe OSV records by id/alias', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mv-osvd-'));
  writeFileSync(path.join(dir, 'a.json'), osvRecord('GHSA-53q9-r3pm-6pq6', 'torch', [{ introduced: '0' }, { fixed: '2.6.0' }], { aliases: ['CVE-2025-32434'] }));
  const adv = advisoriesFor('torch', [dir]);
  assert.equal(adv.filter((a) => a.id === 'CVE-2025-32434' || a.aliases.includes('CVE-2025-32434')).length, 1);
});
