// bzip2 (12) and LZMA (14) zip members: Python's zipfile reads them (numpy.load of an .npz, pandas read_pickle),
// so the scanner decompresses them within the same limits as deflate; corrupt or oversized data is incomplete,
// never safe. Fixtures: test/fixtures/scanner/bypass/zip_*_member*.pt, npz_*.npz (generate.py, Python's zipfile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanBytes } from '../../../core/scan/engine';
import { DEFAULT_LIMITS } from '../../../core/scan/format';

const dir = path.join(__dirname, '../../fixtures/scanner/bypass');
const read = (f: string) => new Uint8Array(fs.readFileSync(path.join(dir, f)));

/** The first member's compressed bytes, from its local header. */
function memberData(z: Uint8Array): { start: number; end: number } {
  const dv = new DataView(z.buffer, z.byteOffset);
  const csize = dv.getUint32(18, true), nlen = dv.getUint16(26, true), xlen = dv.getUint16(28, true);
  return { start: 30 + nlen + xlen, end: 30 + nlen + xlen + csize };
}

for (const f of ['zip_lzma_member.pt', 'zip_lzma_member_sized.pt', 'zip_bzip2_member.pt']) {
  test(`${f}: decompressed and scanned (malicious), no unsupported-method finding`, () => {
    const r = scanBytes(f, read(f));
    assert.equal(r.verdict, 'malicious');
    assert.ok(!r.findings.some((x) => x.code === 'ZIP007'), JSON.stringify(r.findings));
    assert.ok(r.globals.some((g) => g.name === 'system' && g.status === 'dangerous'));
  });

  test(`${f}: corrupt compressed data is unscannable (ZIP008 or a corrupt pickle), never safe`, () => {
    const z = read(f).slice();
    const { start, end } = memberData(z);
    for (let i = start + 12; i < end; i += 3) z[i] ^= 0x5a;
    const r = scanBytes(f, z);
    assert.notEqual(r.verdict, 'safe', JSON.stringify(r.findings));
  });

  test(`${f}: the decompression limit stops it (ZIP009), never safe`, () => {
    const r = scanBytes(f, read(f), { limits: { ...DEFAULT_LIMITS, maxDecompressedBytes: 16 } });
    assert.equal(r.verdict, 'unscannable', JSON.stringify(r.findings));
    assert.ok(r.findings.some((x) => x.code === 'ZIP009'), JSON.stringify(r.findings));
  });
}

test('an .npz with an LZMA float member is safe; with a bzip2 object-array payload it is malicious', () => {
  assert.equal(scanBytes('w.npz', read('npz_lzma_float.npz')).verdict, 'safe');
  assert.equal(scanBytes('p.npz', read('npz_bzip2_object_payload.npz')).verdict, 'malicious');
});
