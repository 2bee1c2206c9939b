// Zip records as PyTorch's reader (caffe2 inline_container.cc on miniz) looks them up: the archive name comes from
// the first central-directory entry, records are found ASCII-case-insensitively below it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanBytes, scanFile } from '../../../core/scan/engine';
import { makeZip } from './containers';

const dir = path.join(__dirname, '../../fixtures/scanner/zipnames');
const PAYLOAD = Buffer.from('\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.', 'latin1');
const BENIGN = Buffer.from('\x80\x02}q\x00.', 'latin1');

test("a real torch.save checkpoint renamed to 'archive/DATA.PKL' + 'archive/DATA/0' is read as the checkpoint", () => {
  const r = scanFile(path.join(dir, 'upper_case_data_pkl.pt'));
  assert.equal(r.verdict, 'safe', JSON.stringify(r.findings));
  assert.equal(r.format, 'pytorch-zip');
  assert.deepEqual(r.tensors?.map((t) => [t.name, t.shape.join('x')]), [['weight', '2x3'], ['bias', '2']]);
  assert.ok(!r.findings.some((f) => f.code === 'SCAN006'), 'storages are raw data, not unclassified streams');
});

test('the archive name is the first entry\'s folder; the data.pkl torch reads is the one under it, whatever its case', () => {
  const r = scanBytes('m.pt', makeZip([{ name: 'model/version', data: Buffer.from('3\n') }, { name: 'other/data.pkl', data: BENIGN }, { name: 'model/Data.PKL', data: PAYLOAD }]), { hash: false });
  assert.equal(r.verdict, 'malicious');
  assert.equal(r.format, 'pytorch-zip');
  assert.ok(r.findings.some((f) => f.code === 'PKL001' && f.location.member === 'model/Data.PKL'), JSON.stringify(r.findings));
});

test('case variants of data.pkl are all scanned as the pickle and reported as duplicates', () => {
  const r = scanBytes('m.pt', makeZip([{ name: 'archive/data.pkl', data: BENIGN }, { name: 'archive/DATA.pkl', data: PAYLOAD }]), { hash: false });
  assert.equal(r.verdict, 'malicious');
  assert.ok(r.findings.some((f) => f.code === 'ZIP003' && /case-insensitive/.test(f.message)));
  assert.ok(r.findings.some((f) => f.code === 'PKL001' && f.location.member === 'archive/DATA.pkl'));
});

test('only ASCII letters fold (miniz MZ_TOLOWER): a non-ASCII look-alike is not data.pkl, but is still scanned', () => {
  const r = scanBytes('m.pt', makeZip([{ name: 'archive/version', data: Buffer.from('3\n') }, { name: 'archive/dat\u0430.pkl', data: PAYLOAD }]), { hash: false });
  assert.notEqual(r.format, 'pytorch-zip');
  assert.equal(r.verdict, 'malicious');
  assert.ok(fs.existsSync(dir));
});
