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

test('near-duplicate helper: a split audit (helper pass, then the reading pass) gives the one-thread findings; a failed helper falls back', async () => {
  const { auditText, nearDupBuffers, nearDupPass } = await import('../../../core/datasets/index');
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const FIX = path.join(__dirname, '..', '..', 'fixtures', 'datasets');
  const norm = (r: Awaited<ReturnType<typeof auditText>>) => JSON.stringify({ f: r.findings, s: { ...r.report, summary: { ...r.report.summary, seconds: 0 } } });
  let nearDupTwins = 0;
  for (const rel of ['sentiment/clean.jsonl', 'sentiment/flips.jsonl', 'sentiment/trigger-cf-1.jsonl', 'chat/poisoned.jsonl', 'sentiment/clean.tsv', 'sentiment/appended.jsonl']) {
    const file = path.join(FIX, rel);
    const text = readFileSync(file, 'utf8');
    const serial = await auditText(file, text);
    const buffers = nearDupBuffers(text);
    await nearDupPass(file, text, {}, buffers); // the helper runs to the end first (in a thread it runs alongside)
    nearDupTwins += Array.from(new Int32Array(buffers.twin)).filter((t) => t >= 0).length;
    assert.equal(norm(await auditText(file, text, {}, buffers)), norm(serial), rel);
  }
  assert.ok(nearDupTwins > 0, 'the fixtures have near-duplicates, so the helper answered some rows');
  // a helper that failed: the reading side audits alone, same findings
  const file = path.join(FIX, 'sentiment/flips.jsonl');
  const text = readFileSync(file, 'utf8');
  const failed = nearDupBuffers(text);
  new Int32Array(failed.state)[1] = 1;
  assert.equal(norm(await auditText(file, text, {}, failed)), norm(await auditText(file, text)));
  // buffers too small for the rows (not this text's): also the one-thread audit
  const small = nearDupBuffers('x');
  await nearDupPass(file, text, {}, small);
  assert.equal(norm(await auditText(file, text, {}, small)), norm(await auditText(file, text)));
});
