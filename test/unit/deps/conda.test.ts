import { test } from 'node:test';
import assert from 'node:assert/strict';
import { condaToPep440 } from '../../../core/deps/conda';
import { applyEdits, codes, ctxOf, run, spanText } from './helpers';

const ENV = `name: ml
channels:
  - http://127.0.0.1/conda
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - numpy=1.26
  - conda-forge::scipy==1.13.1
  - pytorch==2.5.1
  - pandas
  - pip:
    - reqeusts==2.0
    - --extra-index-url https://example.invalid/simple
    - "transformers>=4.0"
    - torch==2.6.0
`;

test('conda: channels, conda specs (no DEP001 in the conda namespace), pip sub-list', () => {
  const f = run('conda', 'environment.yml', ENV);
  assert.equal(codes(f, 'DEP004').length, 2);
  assert.deepEqual(codes(f, 'DEP002').map((x) => spanText(ENV, x)), ['=1.26', 'pandas', '>=4.0']);
  assert.deepEqual(codes(f, 'DEP001').map((x) => spanText(ENV, x)), ['reqeusts'], 'pytorch is the real conda name');
  const d7 = codes(f, 'DEP007');
  assert.deepEqual(d7.map((x) => spanText(ENV, x)), ['==2.5.1', '>=4.0']);
  assert.equal(d7[0].severity, 'error');
  assert.ok(applyEdits(ENV, d7[1].fixes[0].edits).includes('"transformers>=4.48.0"'));
});

test('conda: pin fix from the lockfile / environment', () => {
  const ctx = ctxOf({ installed: { pandas: '2.2.2' } });
  const f = codes(run('conda', 'environment.yml', ENV, ctx), 'DEP002').find((x) => x.data?.package === 'pandas')!;
  assert.ok(applyEdits(ENV, f.fixes[0].edits).includes('  - pandas==2.2.2\n'));
});

test('conda spec conversion', () => {
  assert.equal(condaToPep440('=1.26'), '==1.26.*');
  assert.equal(condaToPep440('==1.26.4'), '==1.26.4');
  assert.equal(condaToPep440('>=1.2,<2'), '>=1.2,<2');
  assert.equal(condaToPep440(' 1.26.*'), '==1.26.*');
  assert.equal(condaToPep440('=1.26=py310_0'), '==1.26.*');
  assert.equal(condaToPep440(''), '');
  assert.equal(condaToPep440('=bogus'), undefined);
});

test('invalid YAML: DEP008, the parsable part is still analyzed, no crash on aliases bomb', () => {
  const f = run('conda', 'environment.yml', 'dependencies:\n  - pandas\n  - [unclosed\n');
  assert.ok(codes(f, 'DEP008').length >= 1);
  const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ndependencies: [*d]\n';
  const t0 = Date.now();
  run('conda', 'environment.yml', bomb);
  assert.ok(Date.now() - t0 < 2000);
});
