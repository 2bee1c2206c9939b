// The allocation-free token scanner and the hash-table vocabulary must agree with words()/hash32/hashWords.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash32, hashWords, TokenScan, words } from '../../../core/datasets/text';
import { Vocab } from '../../../core/datasets/vocab';

const SAMPLES = [
  '', '   ', 'Great movie, GREAT fun!', "don't stop—won't'x can'T 'quoted' it's9 a'b'c o'", 'snake_case_42 and CamelCase99 _x_ __',
  "trailing apostrophe' end'", "x'1 y' z'Z", 'numbers 1,000.50 v2.0 3d', 'line\nbreaks\r\nand\ttabs', 'A', "'", "''a''",
  'hel\u200blo wörld', 'smile \u{1F9FF} now', 'Ｆｕｌｌｗｉｄｔｈ', '\u212Aelvin sign', 'ſ long s', 'Ünïcödé ÀND ascii',
];

function randomAscii(seed: number): string {
  let x = seed;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const alphabet = "abcXYZ09_' -,.\n'AEa";
  let s = '';
  for (let i = 0, n = Math.floor(r() * 80); i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

test('TokenScan gives the tokens, hashes and duplicate key of words()', () => {
  const scan = new TokenScan();
  const texts = [...SAMPLES, ...Array.from({ length: 500 }, (_, i) => randomAscii(i + 1)), 'w '.repeat(3000)];
  for (const t of texts) {
    scan.scan(t);
    const ws = words(t);
    assert.equal(scan.n, ws.length, JSON.stringify(t));
    assert.deepEqual(Array.from({ length: scan.n }, (_, i) => scan.token(i)), ws, JSON.stringify(t));
    assert.deepEqual(Array.from(scan.hash.subarray(0, scan.n)), ws.map(hash32), JSON.stringify(t));
    assert.equal(scan.key, hashWords(ws), JSON.stringify(t));
    const out = new Uint32Array(256);
    const k = scan.distinct(out, 256);
    assert.deepEqual(Array.from(out.subarray(0, k)), [...new Set(ws)].slice(0, 256).map(hash32));
  }
});

test('Vocab: ids by string and by text range agree, survive growth and prune', () => {
  const v = new Vocab();
  const scan = new TokenScan();
  const ids = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    scan.scan(`Tok${i % 3000} shared WORD${i % 7}`);
    for (let j = 0; j < scan.n; j++) {
      const id = v.idOfRange(scan.text, scan.start[j], scan.end[j], scan.hash[j]);
      const t = scan.token(j);
      if (ids.has(t)) assert.equal(id, ids.get(t)); else ids.set(t, id);
      assert.equal(v.tokens[id], t);
      assert.equal(v.id(t), id);
      v.src[id]++;
    }
  }
  assert.equal(v.size, ids.size);
  assert.equal(v.lookup('tok12'), ids.get('tok12'));
  assert.equal(v.lookup('Tok12'), undefined, 'tokens are stored lower-cased');
  v.prune(2); // keeps tokens in more than 2 rows: shared, word0..6
  assert.deepEqual([...v.tokens].sort(), ['shared', ...Array.from({ length: 7 }, (_, i) => `word${i}`)].sort());
  for (const t of v.tokens) { assert.equal(v.tokens[v.lookup(t)!], t); assert.equal(v.hash[v.lookup(t)!], hash32(t)); }
  assert.equal(v.lookup('tok5'), undefined);
  const id = v.id('fresh');
  assert.equal(v.lookup('fresh'), id);
});
