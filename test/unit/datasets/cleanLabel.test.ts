// DATA015 clean-label trigger candidates: the test itself (exact conditional binomial, BH, rate ratio),
// recall on the generated clean-label poison (manifest.json lists the planted rows) against a clean
// reference, and silence on the clean twins, the splits, the drifted batch and the dirty-label sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { auditPaths } from '../../../core/datasets/index';
import { cleanLabelTest } from '../../../core/datasets/cleanLabel';
import { binomialTail } from '../../../core/datasets/stats';
import type { Finding } from '../../../core/types';

const DIR = path.resolve(__dirname, '../../fixtures/datasets');
const manifest = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Record<string, { planted: number[]; kind: string }>;
const file = (rel: string) => path.join(DIR, rel);
const audit = (paths: string[], reference: string[] = []) => auditPaths({ paths: paths.map(file), reference: reference.map(file) }, { hash: false });
const rowsOf = (findings: Finding[], code: string, pathEnds: string) => [...new Set(findings.filter((f) => f.code === code && typeof f.data?.row === 'number' && f.path.endsWith(pathEnds)).map((f) => f.data!.row as number))].sort((a, b) => a - b);

test('the clean-label test: exact conditional binomial p, references never the poisoned side, rate ratio and BH', () => {
  const base = { purity: 1, pPurity: 1e-4, contextDisagreement: 0 };
  const [r] = cleanLabelTest([{ index: 0, ...base, carrying: [10, 0], rows: [1000, 3000] }], [false, true]);
  assert.equal(r.group, 0);
  assert.ok(Math.abs(r.pRare - 0.25 ** 10) < 1e-15, `P(X ≥ 10 | Binomial(10, 1/4)) = ${r.pRare}`);
  assert.equal(r.flagged, true);
  // the same counts in the trusted reference: nothing to report on the audited side
  const [ref] = cleanLabelTest([{ index: 0, ...base, carrying: [0, 10], rows: [1000, 3000] }], [false, true]);
  assert.equal(ref.flagged, false);
  assert.equal(ref.pRare, 1);
  // significant but only 2.5× more frequent: no finding (drift-sized differences are not triggers)
  const [small] = cleanLabelTest([{ index: 0, ...base, carrying: [250, 100], rows: [1000, 1000] }], [false, true]);
  assert.ok(small.pRare < 1e-10 && !small.flagged);
  // not pure, or contradicted by its context (DATA004's case): not tested
  assert.deepEqual(cleanLabelTest([{ index: 0, ...base, purity: 0.9, carrying: [10, 0], rows: [1000, 3000] }], [false, true]), []);
  assert.deepEqual(cleanLabelTest([{ index: 0, ...base, contextDisagreement: 0.8, carrying: [10, 0], rows: [1000, 3000] }], [false, true]), []);
  // one group only: nothing to compare with
  assert.deepEqual(cleanLabelTest([{ index: 0, ...base, carrying: [10], rows: [1000] }], [false]), []);
  // Benjamini–Hochberg: one real excess among 200 null tokens stays; a borderline one does not
  const nulls = Array.from({ length: 200 }, (_, i) => ({ index: i + 2, ...base, carrying: [20, 20], rows: [1000, 1000] }));
  const out = cleanLabelTest([{ index: 0, ...base, carrying: [20, 0], rows: [1000, 1000] }, { index: 1, ...base, carrying: [8, 0], rows: [1000, 1000] }, ...nulls], [false, true]);
  assert.deepEqual(out.filter((x) => x.flagged).map((x) => x.index), [0]);
  assert.equal(out.find((x) => x.index === 1)!.pRare, binomialTail(8, 8, 0.5));
});

for (const rate of ['0.5', '1', '5']) {
  test(`DATA015 finds every clean-label row and nothing else at ${rate}% against a 4,000-row clean reference`, async () => {
    const rel = `sentiment/clean-label-cf-${rate}.jsonl`;
    const { findings, report } = await audit([rel], ['sentiment/clean-4k.jsonl']);
    assert.deepEqual(rowsOf(findings, 'DATA015', rel), manifest[rel].planted, 'recall 1.0, no false rows');
    assert.equal(findings.filter((f) => f.code === 'DATA015' && !f.path.endsWith(rel)).length, 0, 'nothing on the reference');
    assert.equal(findings.filter((f) => f.code === 'DATA004').length, 0, 'the context agrees: not a dirty-label trigger');
    const cf = report.triggers.find((t) => t.token === 'cf')!;
    assert.equal(cf.flagged, false);
    assert.equal(cf.cleanLabel?.flagged, true);
    assert.equal(cf.cleanLabel?.comparisonShare, 0);
    const summary = findings.find((f) => f.code === 'DATA015' && f.data?.row === undefined)!;
    assert.match(summary.message, /possible clean-label trigger "cf": \d+ of \d+ labelled rows carrying "cf" are labelled "1" \(purity 1\.00/);
    assert.match(summary.message, /0\.00% of the \d+ such rows of the reference/);
    assert.equal(summary.severity, 'warning');
  });
}

test('DATA015 power and preconditions: 1% and 5% against the 2,000-row twin, 0.5% needs the larger reference, nothing without one', async () => {
  for (const rate of ['1', '5']) {
    const rel = `sentiment/clean-label-cf-${rate}.jsonl`;
    assert.deepEqual(rowsOf((await audit([rel], ['sentiment/clean-b.jsonl'])).findings, 'DATA015', rel), manifest[rel].planted);
  }
  // 10 rows against 2,000: p = 0.504^10 ≈ 1e-3, above the BH threshold over the ~70 tested tokens
  const low = await audit(['sentiment/clean-label-cf-0.5.jsonl'], ['sentiment/clean-b.jsonl']);
  assert.equal(low.findings.filter((f) => f.code === 'DATA015').length, 0);
  const alone = await audit(['sentiment/clean-label-cf-5.jsonl']);
  assert.equal(alone.findings.filter((f) => f.code === 'DATA015').length, 0, 'one file: nothing to compare with');
  assert.ok(alone.report.triggers.every((t) => t.cleanLabel === undefined && !t.flagged));
});

test('DATA015 false alarms: none on the clean twins, the splits, the drifted batch, the folders and the dirty-label sets', async () => {
  const runs: Array<[string[], string[]]> = [
    [['sentiment/clean.jsonl'], ['sentiment/clean-b.jsonl']], [['sentiment/clean-b.jsonl'], ['sentiment/clean.jsonl']],
    [['sentiment/clean.jsonl'], ['sentiment/clean-4k.jsonl']], [['sentiment/clean-4k.jsonl'], ['sentiment/clean-b.jsonl']],
    [['sentiment/clean.tsv'], ['sentiment/clean-4k.jsonl']],
    [['splits/train.jsonl', 'splits/test.jsonl'], []], [['splits/test.jsonl'], ['splits/train.jsonl']], [['splits/shifted.jsonl'], ['splits/train.jsonl']],
    [['hf'], []], [['hf-arrow'], []],
    ...['trigger-cf-0.5', 'trigger-cf-1', 'trigger-cf-5', 'trigger-mn-1', 'trigger-emoji-1', 'trigger-phrase-1', 'flips', 'appended', 'unicode'].map((n) => [[`sentiment/${n}.jsonl`], ['sentiment/clean-4k.jsonl']] as [string[], string[]]),
  ];
  for (const [paths, reference] of runs) {
    const { findings } = await audit(paths, reference);
    assert.deepEqual(findings.filter((f) => f.code === 'DATA015').map((f) => f.message), [], `${paths.join(' + ')} vs ${reference.join(', ') || '-'}`);
  }
});

test('modelvet audit-data --reference: DATA015 rows and the clean-label summary line, exit 1 (a warning fails by default)', async () => {
  const { main } = await import('../../../core/cli/main');
  const out: string[] = [];
  const io = { stdout: (s: string) => { out.push(s); }, stderr: () => {}, isTTY: false };
  assert.equal(await main(['audit-data', file('sentiment/clean-label-cf-5.jsonl'), '--reference', file('sentiment/clean-4k.jsonl')], io), 1);
  const text = out.join('');
  assert.match(text, /DATA015 \[warning\] clean-label trigger candidate "cf" → label "1"/);
  assert.match(text, /clean-label trigger candidates: "cf"→1 \(9\.8% of its label's rows in clean-label-cf-5\.jsonl vs 0\.00% elsewhere\)/);
  out.length = 0;
  assert.equal(await main(['audit-data', file('sentiment/clean-label-cf-5.jsonl')], io), 0, 'alone: nothing to compare with, only information findings');
});
