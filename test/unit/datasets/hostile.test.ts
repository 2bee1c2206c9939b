// Hostile dataset files: each one ends in a clear finding or an explicit "incomplete" (DATA013 /
// DATA014), never a crash, a hang or unbounded memory. Files are generated into a temp folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { auditPaths, auditText } from '../../../core/datasets/index';
import { guardedCompressors } from '../../../core/datasets/readers/parquet';
import { DEFAULT_LIMITS } from '../../../core/datasets/limits';

let dir: string;
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-data-')); });
after(() => rmSync(dir, { recursive: true, force: true }));
const FIX = path.resolve(__dirname, '../../fixtures/datasets');

test('a 64 MB single-line JSONL with a 1 MB record limit: DATA013 at line 1, the next line still read, memory stays flat', async () => {
  const p = path.join(dir, 'one-line.jsonl');
  const fd = openSync(p, 'w');
  writeSync(fd, '{"text": "');
  const block = Buffer.alloc(1 << 20, 'a');
  for (let i = 0; i < 64; i++) writeSync(fd, block);
  writeSync(fd, '", "label": 1}\n{"text": "after the long line", "label": 0}\n');
  closeSync(fd);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const { findings, report } = await auditPaths({ paths: [p] }, { limits: { maxRecordBytes: 1 << 20 }, hash: false });
  const grew = process.memoryUsage().rss - before;
  const m = findings.find((f) => f.code === 'DATA013')!;
  assert.match(m.message, /line 1 is longer than 1048576 bytes; skipped/);
  assert.equal(m.range.start.line, 0);
  assert.equal(report.sources[0].rows, 1, 'the line after it is audited');
  assert.ok(grew < 48 * 1024 * 1024, `RSS grew ${(grew / 1048576).toFixed(0)} MB for a 64 MB line`);
});

test('deeply nested JSON (JSON Lines and a JSON array): DATA013, no stack overflow', async () => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const jl = path.join(dir, 'deep.jsonl');
  writeFileSync(jl, `{"text": "ok", "label": 1}\n{"text": ${deep}, "label": 0}\n{"text": "fine", "label": 0}\n`);
  const r1 = await auditPaths({ paths: [jl] }, { hash: false });
  assert.ok(r1.findings.some((f) => f.code === 'DATA013' && f.range.start.line === 1 && /nests deeper than 64 levels/.test(f.message)));
  assert.equal(r1.report.sources[0].rows, 2);
  const arr = path.join(dir, 'deep.json');
  writeFileSync(arr, `[{"text": "ok", "label": 1},\n{"text": ${deep}},\n{"text": "fine", "label": 0}]`);
  const r2 = await auditPaths({ paths: [arr] }, { hash: false });
  assert.ok(r2.findings.some((f) => f.code === 'DATA013' && f.range.start.line === 1 && /nests deeper/.test(f.message)));
  assert.equal(r2.report.sources[0].rows, 2);
  // a truncated array and a non-array file
  const t = await auditText('/x/trunc.json', '[{"text": "a"}, {"text": "b"');
  assert.ok(t.findings.some((f) => f.code === 'DATA013' && /not closed/.test(f.message)));
  const n = await auditText('/x/num.json', '42');
  assert.ok(n.findings.some((f) => f.code === 'DATA013' && /not a JSON array or object/.test(f.message)));
});

test('CSV with an unbalanced quote: a DATA013 at its line, rows before it audited, the rest reported incomplete', async () => {
  const rows = ['text,label', 'good one,1', 'bad one,0', '"never closed,1', ...Array.from({ length: 2000 }, (_, i) => `row ${i},${i % 2}`)];
  const p = path.join(dir, 'quote.csv');
  writeFileSync(p, rows.join('\n') + '\n');
  const { findings, report } = await auditPaths({ paths: [p] }, { limits: { maxRecordBytes: 4096 }, hash: false });
  const bad = findings.filter((f) => f.code === 'DATA013');
  assert.ok(bad.length >= 1);
  assert.ok(bad.some((f) => /record|quote/.test(f.message)), bad.map((f) => f.message).join('; '));
  assert.ok(report.sources[0].rows >= 2);
  // with the default limit the quote swallows the rest of the file: reported at the end, never silently
  const whole = await auditPaths({ paths: [p] }, { hash: false });
  assert.ok(whole.findings.some((f) => (f.code === 'DATA013' || f.code === 'DATA014') && /quote/.test(f.message)));
  // wrong field counts
  const c = await auditText('/x/fields.csv', 'text,label\na,1\nb,0,extra\n');
  assert.ok(c.findings.some((f) => f.code === 'DATA013' && f.range.start.line === 2 && /has 3 fields, the header has 2/.test(f.message)));
});

test('Parquet with a corrupt footer, truncated, or not Parquet at all: DATA014 incomplete, never "clean"', async () => {
  const good = readFileSync(path.join(FIX, 'sentiment/trigger-cf-1.parquet'));
  const cases: Array<[string, Buffer, RegExp]> = [];
  const flipped = Buffer.from(good);
  const footerLen = flipped.readUInt32LE(flipped.length - 8);
  for (let i = flipped.length - 8 - footerLen; i < flipped.length - 8; i += 7) flipped[i] ^= 0xa5;
  cases.push(['flipped-footer.parquet', flipped, /corrupt Parquet footer|could not be decoded|not decoded/]);
  cases.push(['truncated.parquet', good.subarray(0, good.length - 100), /PAR1 magic|corrupt/]);
  const huge = Buffer.from(good); huge.writeUInt32LE(0x7fffffff, huge.length - 8);
  cases.push(['footer-length.parquet', huge, /footer: it claims 2147483647 bytes/]);
  cases.push(['short.parquet', Buffer.from('PAR1'), /too short/]);
  for (const [name, bytes, re] of cases) {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    const { findings, report } = await auditPaths({ paths: [p] }, { hash: false });
    const inc = findings.filter((f) => f.code === 'DATA014');
    assert.ok(inc.length && inc.some((f) => re.test(f.message)), `${name}: ${inc.map((f) => f.message).join('; ')}`);
    assert.equal(report.summary.incomplete, true, name);
  }
});

test('a decompression bomb disguised as Parquet pages (GZIP, 1000x+): refused from the metadata and by the page guard', async () => {
  const big = 'A'.repeat(32 * 1024 * 1024);
  const bytes = new Uint8Array(parquetWriteBuffer({
    columnData: [{ name: 'text', data: [big, 'x'], type: 'STRING' }, { name: 'label', data: Int32Array.from([1, 0]), type: 'INT32' }],
    codec: 'GZIP', compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input, { level: 9 })) },
  }));
  assert.ok(bytes.length < 1024 * 1024, `bomb file is ${bytes.length} bytes`);
  const p = path.join(dir, 'bomb.parquet');
  writeFileSync(p, bytes);
  const before = process.memoryUsage().rss;
  const { findings } = await auditPaths({ paths: [p] }, { hash: false });
  assert.ok(findings.some((f) => f.code === 'DATA014' && /decompression bomb/.test(f.message)), findings.map((f) => f.message).join('; '));
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024);
  // the page guard on its own: a page claiming more than the page limit, or a huge ratio
  const budget = { used: 0 };
  const g = guardedCompressors({ ...DEFAULT_LIMITS, maxParquetPageBytes: 1 << 20, maxParquetCompressionRatio: 100 }, budget);
  const small = new Uint8Array(gzipSync(Buffer.alloc(1 << 16)));
  assert.throws(() => g.GZIP(small, 2 << 20), /page limit/);
  assert.throws(() => g.GZIP(small, 1 << 19), /expands/);
  const ok = new Uint8Array(gzipSync(Buffer.from('hello world, hello world')));
  assert.equal(Buffer.from(g.GZIP(ok, 24)).toString(), 'hello world, hello world');
  assert.ok(gunzipSync(small).length === 1 << 16);
});

test('row limits, sampling and cancellation are explicit', async () => {
  const p = path.join(FIX, 'sentiment/clean.jsonl');
  const s = await auditPaths({ paths: [p] }, { sample: 100, hash: false });
  assert.equal(s.report.sources[0].rows, 100);
  assert.equal(s.report.summary.incomplete, false);
  assert.ok(s.report.sources[0].incomplete.some((r) => r.startsWith('sampled')));
  const l = await auditPaths({ paths: [p] }, { limits: { maxRows: 50 }, hash: false });
  assert.equal(l.report.sources[0].rows, 50);
  assert.ok(l.findings.some((f) => f.code === 'DATA014' && /row limit reached/.test(f.message)));
  let n = 0;
  const c = await auditPaths({ paths: [p] }, { isCancelled: () => ++n > 1, hash: false });
  assert.ok(c.findings.some((f) => f.code === 'DATA014' && /cancelled/.test(f.message)));
  const missing = await auditPaths({ paths: [path.join(dir, 'nope.jsonl')] });
  assert.ok(missing.findings.some((f) => f.code === 'DATA014' && /no such file/.test(f.message)));
  const arrow = path.join(dir, 'data.arrow'); writeFileSync(arrow, 'ARROW1');
  const a = await auditPaths({ paths: [arrow] });
  assert.ok(a.findings.some((f) => f.code === 'DATA014' && /truncated Arrow file/.test(f.message)), 'an Arrow magic alone: truncated (test/unit/datasets/arrow.test.ts has the rest)');
});

test('Parquet page headers are read before decoding: a page claiming more values than the limit stops the file', async () => {
  const { parsePageHeader } = await import('../../../core/datasets/readers/pageHeaders');
  // Thrift compact PageHeader: type DATA_PAGE, sizes 10/10, data_page_header.num_values = 2^31 - 1
  const varint = (n: number) => { const out: number[] = []; while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); } out.push(n); return out; };
  const zz = (n: number) => varint(n * 2);
  const header = Uint8Array.from([0x15, ...zz(0), 0x15, ...zz(10), 0x15, ...zz(10), 0x2c, 0x15, ...zz(2 ** 31 - 1), 0x15, ...zz(0), 0x00, 0x00]);
  const h = parsePageHeader(header);
  assert.deepEqual([h.type, h.uncompressed, h.compressed, h.numValues, h.headerBytes], [0, 10, 10, 2 ** 31 - 1, header.length]);
  assert.throws(() => parsePageHeader(header.subarray(0, 9)), /truncated/);
  // A real file whose pages hold 4,000 values, audited with a 1,000-value page limit.
  const p = path.join(dir, 'many-values.parquet');
  writeFileSync(p, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'text', data: Array.from({ length: 4000 }, (_, i) => `row ${i} text`), type: 'STRING' }, { name: 'label', data: Int32Array.from({ length: 4000 }, (_, i) => i % 2), type: 'INT32' }] })));
  const bad = await auditPaths({ paths: [p] }, { limits: { maxParquetPageValues: 1000 }, hash: false });
  assert.ok(bad.findings.some((f) => f.code === 'DATA014' && /claims \d+ values \(limit 1000\)/.test(f.message)), bad.findings.map((f) => f.message).join('; '));
  assert.equal(bad.report.sources[0].rows, 0, 'nothing decoded');
  const good = await auditPaths({ paths: [p] }, { hash: false });
  assert.equal(good.report.sources[0].rows, 4000);
  assert.equal(good.report.summary.incomplete, false);
});
