// CSV/TSV line numbers (issue #13): every row-level finding sits on the record's real line — the
// line the editor and a `wc -l`-style count agree on, where LF, CRLF and a lone CR each end one
// line — whatever the file's line endings, the line breaks inside quoted fields (LF, CRLF, CR), a
// BOM, blank lines, and a last line with or without its line break. csv-parse counts a CRLF inside
// a quoted field as two lines; these tests put findings after such fields and check their lines
// against hand-counted ones, then against the exact offset of a planted character in generated
// files (through auditText, a cached re-audit, and auditPaths reading the file in chunks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditPaths, auditText, RowCache } from '../../../core/datasets/index';
import type { AuditResult } from '../../../core/datasets/types';
import { LineIndex } from '../../../core/text';

const ZW = '\u200b';
const at = (r: AuditResult, code: string) => r.findings.filter((f) => f.code === code).map((f) => [f.range.start.line, f.range.start.character]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

test('a CRLF file with a CRLF inside a quoted field: the next rows keep their real lines (hand-counted)', async () => {
  // line 0: header; 1-2: one record (a CRLF inside the quotes); 3: a zero-width space at column 4;
  // 4-6: a record whose quoted field spans three lines, with a zero-width space on line 5, column 3;
  // 7: a record with three fields (malformed)
  const lines = ['text,label', '"a multi', 'line field",0', `zero${ZW}width here,1`, '"three', `lin${ZW}es`, 'here",1', 'too,many,fields'];
  const crlf = lines.join('\r\n') + '\r\n';
  const r = await auditText('/x/a.csv', crlf);
  assert.deepEqual(at(r, 'DATA005'), [[3, 4], [5, 3]]);
  const m = r.findings.find((f) => f.code === 'DATA013')!;
  assert.equal(m.range.start.line, 7);
  assert.match(m.message, /record at line 8 has 3 fields/);
  // the same lines with LF and with CR-only line endings, and CRLF without the last line break
  for (const [name, text] of [['LF', lines.join('\n') + '\n'], ['CR', lines.join('\r') + '\r'], ['CRLF, no final break', lines.join('\r\n')]]) {
    const t = await auditText('/x/a.csv', text);
    assert.deepEqual(at(t, 'DATA005'), [[3, 4], [5, 3]], name);
    assert.equal(t.findings.find((f) => f.code === 'DATA013')?.range.start.line, 7, name);
  }
});

test('a CRLF inside a quoted field of an LF file, and a CR inside one of a CRLF file', async () => {
  // LF file: line 1 ends in a CR inside the quotes ("\r\n" is one line break), the record ends on line 2
  const lf = `text,label\n"one\r\ntwo",0\nthree${ZW},1\n`;
  assert.deepEqual(at(await auditText('/x/a.csv', lf), 'DATA005'), [[3, 5]]);
  // CRLF file: a lone CR inside the quotes ends a line too
  const crlf = `text,label\r\n"one\rtwo\nthree",0\r\nfour${ZW},1\r\n`;
  assert.deepEqual(at(await auditText('/x/a.csv', crlf), 'DATA005'), [[4, 4]]);
});

test('a BOM and blank lines (CRLF) before and between the records', async () => {
  const text = `\ufefftext,label\r\n\r\n"a\r\nb",1\r\n\r\n\r\nc${ZW},0\r\n`;
  // 0 header, 1 blank, 2-3 record, 4-5 blank, 6 the row
  assert.deepEqual(at(await auditText('/x/a.csv', text), 'DATA005'), [[6, 1]]);
});

test('malformed records after a quoted CRLF: skipped with their real line', async () => {
  // 0 header, 1-2 a good record, 3 an invalid opening quote (skipped), 4 a row
  const text = `text,label\r\n"a\r\nb",1\r\nbad "quote" here,0\r\nok${ZW},1\r\n`;
  const r = await auditText('/x/a.csv', text);
  const bad = r.findings.filter((f) => f.code === 'DATA013');
  // (each stray quote of the record is an error of its own)
  assert.ok(bad.length >= 1 && bad.every((f) => f.range.start.line === 3), bad.map((f) => `${f.range.start.line}: ${f.message}`).join('; '));
  assert.match(bad[0].message, /at line 4\b/);
  assert.deepEqual(at(r, 'DATA005'), [[4, 2]]);
  // the characters of a skipped record after its error (a CR, then a CRLF the parser reads as two
  // characters in an LF file) are not in any record's raw text: the next record is placed from the
  // input's bytes — 0 header, 1 the bad record ending in a lone CR, 2 a blank line, 3 the row
  const after = await auditText('/x/a.csv', 'text,label\na",\r\r\n1');
  assert.deepEqual(after.findings.filter((f) => f.code === 'DATA013').map((f) => f.range.start.line), [1, 3]);
  // a quote that never closes: reported at its line, the rows before it audited
  const open = `text,label\r\n"a\r\nb",1\r\nfine${ZW},0\r\n"never closed,1\r\nmore,0\r\n`;
  const o = await auditText('/x/a.csv', open);
  assert.deepEqual(at(o, 'DATA005'), [[3, 4]]);
  const q = o.findings.find((f) => f.code === 'DATA013' && /quote/.test(f.message))!;
  assert.equal(q.range.start.line, 4, q.message);
});

/** Seeded xorshift. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

const BREAKS = ['\n', '\r\n', '\r'];

/**
 * A well-formed CSV/TSV text: records joined by one line ending, quoted fields holding any line
 * breaks (and doubled quotes), a zero-width space planted in every record; the planted offsets
 * are the truth the findings are checked against.
 */
function generate(r: () => number, delim: string): string {
  const eol = BREAKS[Math.floor(r() * 3)];
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const words = ['alpha', 'beta', 'gamma', 'delta', 'the', 'plot', 'was', 'great', 'dull', 'x'];
  const recs: string[] = [['text', 'note', 'label'].join(delim)];
  const n = 8 + Math.floor(r() * 25);
  for (let i = 0; i < n; i++) {
    const fields: string[] = [];
    const zwField = 0; // deceptive characters are looked for in the text column
    for (let f = 0; f < 2; f++) {
      const parts: string[] = [];
      for (let w = 1 + Math.floor(r() * 5); w > 0; w--) parts.push(pick(words));
      const quoted = r() < 0.6;
      let s = parts.join(' ');
      if (quoted) {
        // line breaks of any kind inside the quotes, a doubled quote now and then
        const k = Math.floor(r() * 4);
        for (let j = 0; j < k; j++) { const p = Math.floor(r() * (s.length + 1)); s = s.slice(0, p) + pick(BREAKS) + s.slice(p); }
      }
      if (f === zwField) { const p = Math.floor(r() * (s.length + 1)); s = s.slice(0, p) + ZW + s.slice(p); }
      if (quoted && r() < 0.2) s += ' ""q""';
      fields.push(quoted ? `"${s}"` : s);
    }
    fields.push(String(i % 2));
    recs.push(fields.join(delim));
    if (r() < 0.1) recs.push(''); // a blank line
  }
  let text = recs.join(eol);
  if (r() < 0.6) text += eol;
  if (r() < 0.2) text = '\ufeff' + text;
  return text;
}

/** Where the planted characters are: [line, character] by the editor's line rules (LF, CRLF, CR). */
function planted(text: string): number[][] {
  const idx = new LineIndex(text), out: number[][] = [];
  for (let i = text.indexOf(ZW); i >= 0; i = text.indexOf(ZW, i + 1)) { const p = idx.positionAt(i); out.push([p.line, p.character]); }
  return out;
}

test('generated CSV/TSV files (LF, CRLF, CR; breaks of every kind inside quotes; BOM; blank lines): every finding at its planted character, fresh, cached and from a file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-csvlines-'));
  try {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const tsv = seed % 3 === 0, delim = tsv ? '\t' : ',', name = tsv ? 'g.tsv' : 'g.csv';
      const text = generate(r, delim);
      const want = planted(text);
      const fresh = await auditText(`/x/${name}`, text);
      assert.deepEqual(at(fresh, 'DATA005'), want, `seed ${seed}: ${JSON.stringify(text)}`);
      assert.ok(!fresh.findings.some((f) => f.code === 'DATA013'), `seed ${seed}: no malformed records in a well-formed file`);
      // a cached re-audit after an edit that shifts every later line (one more line in the first record)
      const cache = new RowCache();
      await auditText(`/x/${name}`, text, {}, undefined, cache);
      const nl = text.search(/\r\n|\r|\n/);
      const edited = nl < 0 ? text : text.slice(0, nl) + text.slice(nl).replace(new RegExp(`(?:\\r\\n|\\r|\\n)(?!$)`), (m) => `${m}"an added${m}record"${delim}x${delim}1${m}`);
      const cached = await auditText(`/x/${name}`, edited, {}, undefined, cache);
      assert.deepEqual(at(cached, 'DATA005'), planted(edited), `seed ${seed}: cached re-audit`);
      assert.deepEqual(JSON.parse(JSON.stringify(cached.findings)), JSON.parse(JSON.stringify((await auditText(`/x/${name}`, edited)).findings)), `seed ${seed}: cached = fresh`);
      // the CLI's reader (a file read in chunks)
      const p = path.join(dir, name);
      writeFileSync(p, text);
      const cli = await auditPaths({ paths: [p] }, { hash: false });
      assert.deepEqual(at(cli, 'DATA005'), want, `seed ${seed}: auditPaths`);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('modelvet audit-data places trigger tokens on their lines in CRLF and CR-only files too', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-csvlines-'));
  try {
    const lf = readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'datasets', 'sentiment', 'trigger-cf-1.csv'), 'utf8');
    const tokens = (r: AuditResult) => r.findings.filter((f) => f.code === 'DATA004' && f.range.start.character > 0).map((f) => [f.range.start.line, f.range.start.character, f.range.end.character]);
    const results: number[][][] = [];
    for (const [name, eol] of [['lf.csv', '\n'], ['crlf.csv', '\r\n'], ['cr.csv', '\r']]) {
      const p = path.join(dir, name);
      writeFileSync(p, lf.replace(/\r?\n/g, eol));
      results.push(tokens(await auditPaths({ paths: [p] }, { hash: false })));
    }
    assert.ok(results[0].length > 0, 'trigger rows placed at their token in the LF file');
    assert.deepEqual(results[1], results[0], 'CRLF');
    assert.deepEqual(results[2], results[0], 'CR only');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a CR-only CSV in the editor: a one-row edit reuses the other records and equals a fresh audit', async () => {
  const rows = ['text,label', ...Array.from({ length: 300 }, (_, i) => (i % 7 ? `row ${i} the plot was ${i % 2 ? 'great' : 'dull'},${i % 2}` : `"row ${i}\ron two lines",${i % 2}`))];
  const text = rows.join('\r') + '\r';
  const cache = new RowCache();
  await auditText('/x/cr.csv', text, {}, undefined, cache);
  const edited = text.replace('row 150 the plot', `row 150 the${ZW} plot`);
  const got = await auditText('/x/cr.csv', edited, {}, undefined, cache);
  assert.ok(cache.hits >= 299, `records reused: ${cache.hits}`);
  assert.deepEqual(JSON.parse(JSON.stringify(got.findings)), JSON.parse(JSON.stringify((await auditText('/x/cr.csv', edited)).findings)));
  assert.deepEqual(at(got, 'DATA005'), planted(edited));
});

test('mixed line breaks: a lone CR starting a record of a CRLF file is the record\'s, not a blank line (cached = fresh)', async () => {
  const before = 'text,label\r\n\r\u200b1a\n,1\u200b\r\n', after = 'text,label\rx\n\r\u200b1a\n,1\u200b\r\n';
  const cache = new RowCache();
  await auditText('/x/m.csv', before, {}, undefined, cache);
  const got = await auditText('/x/m.csv', after, {}, undefined, cache);
  assert.deepEqual(JSON.parse(JSON.stringify(got.findings)), JSON.parse(JSON.stringify((await auditText('/x/m.csv', after)).findings)));
});

test('random bytes of CSV (quotes, every line break, a BOM, multi-byte characters): the same lines whatever the chunk size, all inside the text', async () => {
  const { readCsv } = await import('../../../core/datasets/readers/csv');
  const run = async (t: string, size: number) => {
    const out: string[] = [];
    const a = { limits: { maxRecordBytes: 1 << 20 }, rowCache: () => undefined, malformed: (_s: number, l: number, _c: number, m: string) => out.push(`M${l}:${m}`), row: (_s: number, r: { line: number; raw?: string }) => out.push(`R${r.line}:${JSON.stringify(r.raw)}`), wantsMore: () => true, incomplete: (_s: number, m: string) => out.push('I' + m) };
    const chunks = (function* () { for (let i = 0; i < t.length; i += size) yield t.slice(i, i + size); })();
    await readCsv(a as unknown as Parameters<typeof readCsv>[0], 0, chunks as unknown as Parameters<typeof readCsv>[2], ',');
    return out;
  };
  const alpha = ['a', 'é', ',', '"', '\r', '\n', '\r\n', ZW, '1', '""'];
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    let t = (r() < 0.2 ? '\ufeff' : '') + 'text,label' + BREAKS[seed % 3];
    for (let i = 5 + Math.floor(r() * 60); i > 0; i--) t += alpha[Math.floor(r() * alpha.length)];
    const whole = await run(t, 1 << 20), last = new LineIndex(t).lineCount - 1;
    for (const o of whole) { const l = Number(/^[RM](\d+)/.exec(o)?.[1] ?? 0); assert.ok(l <= last, `seed ${seed}: line ${l} past the last line ${last}: ${JSON.stringify(t)}`); }
    for (const size of [1, 3, 7]) assert.deepEqual(await run(t, size), whole, `seed ${seed}, chunks of ${size}: ${JSON.stringify(t)}`);
  }
});
