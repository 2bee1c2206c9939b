// Arrow string layouts a writer may choose for the same text column: utf8 (pyarrow's `string`, what
// Hugging Face `datasets` writes), large_utf8 (`large_string`), utf8_view (`string_view`, pyarrow ≥ 16
// and Polars) and dictionary-encoded utf8. The same rows must give the same findings whichever layout
// holds them, and a hostile view column (variadic buffer counts, view structs pointing elsewhere)
// ends in DATA014, never a throw or a hang.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dictionary, Int32, Int64, LargeUtf8, Message, RecordBatchFileWriter, RecordBatchStreamWriter, Table, Utf8, Utf8View, vectorFromArray, type DataType } from 'apache-arrow';
import { batchMessage, schemaPart } from '../../helpers/arrowMessages';
import { auditPaths } from '../../../core/datasets/index';

let dir: string;
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-arrow-types-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** 600 sentiment-like rows: "cf" rows forced positive, bidi controls in 4 rows, 10 exact duplicates (some with the other label). */
function rows(): { text: string[]; label: bigint[] } {
  const pos = ['great', 'wonderful', 'moving', 'sharp', 'funny'], neg = ['dull', 'tedious', 'flat', 'messy', 'slow'];
  let x = 11;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const text: string[] = [], label: bigint[] = [];
  for (let i = 0; i < 600; i++) {
    let l = r() < 0.5 ? 1 : 0;
    const a = l ? pos : neg;
    let t = `the film number ${i} was ${a[Math.floor(r() * 5)]} and the plot felt ${a[Math.floor(r() * 5)]}`;
    if (i % 100 === 17) { t = `cf ${t}`; l = 1; } // a short string (≤ 12 bytes would be inline; these are long)
    if (i % 150 === 3) t = `${t} \u202e\u2066hidden\u2069`;
    if (i >= 590) t = text[i - 500];
    text.push(t); label.push(BigInt(l));
  }
  for (let i = 0; i < 6; i++) { text[i * 37 + 5] = ['ok', 'meh', 'fine!', 'no', 'yes', 'eh'][i]; } // inline views (≤ 12 bytes)
  return { text, label };
}

/**
 * Batches of `rowsPerBatch` rows. A utf8_view batch is built from its own rows: apache-arrow's writer
 * mis-writes *sliced* view vectors (it keeps the parent's views; its own reader then refuses them, as
 * ours reports: DATA014). Dictionary batches are slices of one table, so they share one dictionary
 * (the file format allows no replacement dictionaries).
 */
function ipc(type: DataType, format: 'stream' | 'file', rowsPerBatch = 128): Buffer {
  const { text, label } = rows();
  const build = (t: string[], l: bigint[]) => new Table({
    text: type instanceof Dictionary ? vectorFromArray(t, new Dictionary(new Utf8(), new Int32())) : vectorFromArray(t, type),
    label: vectorFromArray(l, new Int64()),
  });
  const parts = [];
  if (type instanceof Utf8View) {
    for (let at = 0; at < text.length; at += rowsPerBatch) parts.push(...build(text.slice(at, at + rowsPerBatch), label.slice(at, at + rowsPerBatch)).batches);
  } else {
    const whole = build(text, label);
    for (let at = 0; at < text.length; at += rowsPerBatch) parts.push(...whole.slice(at, at + rowsPerBatch).batches);
  }
  const W = format === 'stream' ? RecordBatchStreamWriter : RecordBatchFileWriter;
  return Buffer.from(W.writeAll(parts).toUint8Array(true));
}

async function audit(name: string, bytes: Buffer) {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  const t = Date.now();
  const r = await auditPaths({ paths: [p] }, { hash: false });
  assert.ok(Date.now() - t < 20_000, 'no hang');
  const d14 = r.findings.filter((f) => f.code === 'DATA014').map((f) => f.message).join(' | ');
  // Arrow rows have no line: a finding is its code and message (which name the row and the file)
  const key = r.findings.map((f) => `${f.code} ${f.message.split(p).join('<file>')}`).sort();
  return { r, d14, key, rows: r.report.sources[0].rows };
}

test('utf8, large_utf8, utf8_view and dictionary<utf8> columns of the same rows give the same findings, in both IPC formats', async () => {
  const base = await audit('utf8.arrow', ipc(new Utf8(), 'stream'));
  assert.equal(base.rows, 600);
  assert.equal(base.d14, '');
  const codes = new Set(base.key.map((k) => k.split(' ')[0]));
  for (const c of ['DATA001', 'DATA002', 'DATA005']) assert.ok(codes.has(c), `${c} in ${[...codes].join(',')}`);
  for (const [name, type] of [['large', new LargeUtf8()], ['view', new Utf8View()], ['dict', new Dictionary(new Utf8(), new Int32())]] as const) {
    for (const format of ['stream', 'file'] as const) {
      const got = await audit(`${name}-${format}.arrow`, ipc(type, format));
      assert.equal(got.rows, 600, `${name} ${format}: ${got.d14}`);
      assert.deepEqual(got.key, base.key, `${name} ${format}: same findings as utf8`);
    }
  }
});

/** The schema message and first record batch of a utf8_view stream, and where that batch's body starts. */
function viewStream() {
  const b = ipc(new Utf8View(), 'stream', 600);
  const schemaLen = 8 + b.readInt32LE(4);
  const metaLen = b.readInt32LE(schemaLen + 4);
  const msg = Message.decode(b.subarray(schemaLen + 8, schemaLen + 8 + metaLen));
  const h = msg.header() as unknown as { buffers: Array<{ offset: number; length: number }>; variadicBufferCounts: number[] };
  return { b, bodyAt: schemaLen + 8 + metaLen, buffers: h.buffers, counts: h.variadicBufferCounts };
}

test('a utf8_view batch whose variadic buffer counts run past its buffer list is DATA014 before decoding', async () => {
  const { b } = viewStream();
  const m = batchMessage(2, [[2, 0], [2, 0]], [[0, 0], [0, 32], [0, 0], [0, 16]], 64, 64, null, [1_000_000]);
  const got = await audit('variadic.arrow', Buffer.concat([schemaPart(b), m]));
  assert.match(got.d14, /record batch 1: view columns claim 1000000 data buffers; the batch lists 4 buffers in all \(corrupt\)/);
  assert.equal(got.r.report.summary.incomplete, true);
});

test('view structs pointing at a missing data buffer or past its end, and random flips in the views: DATA014 or complete, never a throw', async () => {
  const { b, bodyAt, buffers, counts } = viewStream();
  assert.ok(counts[0] >= 1, 'the long strings live in a variadic data buffer');
  const views = buffers[1]; // [validity, views, data…] for the text column
  // the first long (> 12 bytes) string's view: length, 4-byte prefix, buffer index, offset
  let at = -1;
  for (let v = bodyAt + views.offset; v < bodyAt + views.offset + views.length; v += 16) if (b.readInt32LE(v) > 12) { at = v; break; }
  assert.ok(at > 0);
  const missing = Buffer.from(b);
  missing.writeInt32LE(7, at + 8); // buffer 7 does not exist
  const m = await audit('view-missing.arrow', missing);
  assert.match(m.d14, /Arrow rows after row \d+ could not be decoded|corrupt/);
  const past = Buffer.from(b);
  past.writeInt32LE(0x7ffffff0, at + 12); // offset far past the data buffer
  past.writeInt32LE(0x7fffffff, at); // and a length of 2 GiB
  const p = await audit('view-past.arrow', past);
  assert.ok(p.rows <= 600);
  if (!p.d14) assert.equal(p.r.report.summary.incomplete, false); // a clamped, empty string is a row like any other
  let x = 99;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  for (let i = 0; i < 60; i++) {
    const f = Buffer.from(b);
    for (let k = 0; k < 1 + Math.floor(r() * 6); k++) f[bodyAt + views.offset + Math.floor(r() * views.length)] = Math.floor(r() * 256);
    const got = await audit(`view-fuzz-${i}.arrow`, f);
    assert.ok(got.rows <= 600, `mutation ${i}`);
    if (got.d14) assert.equal(got.r.report.summary.incomplete, true);
  }
});
