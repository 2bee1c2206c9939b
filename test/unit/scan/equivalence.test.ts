// Parse-equivalence: the symbolic VM's reconstruction of benign pickles equals what Python's pickle produced
// (structures.json is written by the generator from pickle.loads of its own freshly dumped bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runPickle } from '../../../core/scan/pickle/vm';
import { toPlain } from '../../../core/scan/pickle/plain';
import { DEFAULT_LIMITS } from '../../../core/scan/format';
import { normalizeSets } from './normalize';

const dir = path.join(__dirname, '../../fixtures/models');
const structures = JSON.parse(fs.readFileSync(path.join(dir, 'structures.json'), 'utf8')) as Record<string, unknown>;

for (const [name, want] of Object.entries(structures)) {
  test(`VM reconstruction equals Python for ${name}`, () => {
    const data = fs.readFileSync(path.join(dir, 'benign', name));
    const run = runPickle(data, { limits: DEFAULT_LIMITS });
    assert.equal(run.error, undefined);
    assert.equal(run.values.length, 1);
    assert.deepEqual(normalizeSets(toPlain(run.values[0])), normalizeSets(want));
  });
}

test('structures cover every protocol 0-5', () => {
  assert.deepEqual(Object.keys(structures).sort(), [0, 1, 2, 3, 4, 5].map((p) => `structure_p${p}.pkl`));
});
