/**
 * Live cross-check of the committed record pickles (test/fixtures/pickle-records) with CPython
 * (extended suite: `npm run test:real`, MODELVET_PYTHON, default /usr/bin/python3). The default suite
 * (test/unit/scan/vm-perf.test.ts) runs the VM over the committed pickles; this suite regenerates them
 * with the live interpreter, checks the VM on the fresh ones, and that the committed canonical JSON is
 * what CPython gives now.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { runPickle } from '../../core/scan/pickle/vm';
import { toPlain } from '../../core/scan/pickle/plain';
import { DEFAULT_LIMITS } from '../../core/scan/format';
import { normalizeSets } from '../unit/scan/normalize';
import { runPythonOk } from '../helpers/python';

const RECORDS = path.resolve(__dirname, '../fixtures/pickle-records');
let dir = '';
const read = (folder: string, name: string) => zlib.gunzipSync(fs.readFileSync(path.join(folder, name)));

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelvet-records-real-'));
  runPythonOk([path.join(RECORDS, 'generate.py'), dir]);
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

test('the committed canonical JSON is what the live CPython generator produces', () => {
  assert.deepEqual(JSON.parse(read(dir, 'want.json.gz').toString('utf8')), JSON.parse(read(RECORDS, 'want.json.gz').toString('utf8')));
});

test('freshly pickled records at every protocol equal CPython\'s canonical JSON', () => {
  const want = normalizeSets(JSON.parse(read(dir, 'want.json.gz').toString('utf8')));
  for (let proto = 0; proto <= 5; proto++) {
    const r = runPickle(read(dir, `p${proto}.pkl.gz`), { limits: DEFAULT_LIMITS });
    assert.equal(r.error, undefined, `protocol ${proto}: ${r.error?.reason}`);
    assert.equal(r.values.length, 1);
    assert.deepEqual(normalizeSets(toPlain(r.values[0])), want, `protocol ${proto}`);
  }
});

test('CPython loads each committed pickle to the committed canonical JSON', () => {
  // pickle.loads of our own benign fixture, through the generator's canon().
  const script = `import gzip, json, pickle, sys
sys.path.insert(0, sys.argv[1])
from generate import canon
want = json.loads(gzip.open(sys.argv[2] + '/want.json.gz').read())
for p in range(6):
    got = canon(pickle.loads(gzip.open('%s/p%d.pkl.gz' % (sys.argv[2], p)).read()))
    print(p, json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True))`;
  const out = runPythonOk(['-c', script, path.resolve(RECORDS, '../models'), RECORDS]);
  assert.equal(out.trim(), [0, 1, 2, 3, 4, 5].map((p) => `${p} True`).join('\n'));
});
