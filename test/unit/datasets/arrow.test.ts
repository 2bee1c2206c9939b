// Arrow IPC (stream and file format, as Hugging Face `datasets` writes them): the committed fixtures
// are checked against the IPC spec's bytes, audited like their JSONL/Parquet twins, through the CLI
// as a save_to_disk folder, and hostile variants end in DATA014, never a crash or a hang.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Field, List, Message, MessageHeader, RecordBatchStreamWriter, Table, vectorFromArray, Utf8, Int64, type DataType } from 'apache-arrow';
import { BodyCompression } from 'apache-arrow/ipc/metadata/message';
import { batchMessage, schemaPart } from '../../helpers/arrowMessages';
import { auditPaths } from '../../../core/datasets/index';
import { main } from '../../../core/cli/main';

const FIX = path.resolve(__dirname, '../../fixtures/datasets');
const manifest = JSON.parse(readFileSync(path.join(FIX, 'manifest.json'), 'utf8')) as Record<string, { planted: number[]; note?: string }>;
let dir: string;
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-arrow-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out: string[] = [], err: string[] = [];
  return { io: { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { err.push(s); }, isTTY: false }, out, err };
}

/** The encapsulated messages of an IPC stream starting at `pos`, read by hand from the spec. */
function walk(b: Buffer, pos: number): { types: string[]; eosAt: number } {
  const types: string[] = [];
  for (;;) {
    assert.equal(b.readUInt32LE(pos), 0xffffffff, `continuation marker at ${pos}`);
    const len = b.readInt32LE(pos + 4);
    if (len === 0) return { types, eosAt: pos };
    assert.equal((8 + len) % 8, 0, 'metadata padded to 8 bytes');
    const msg = Message.decode(b.subarray(pos + 8, pos + 8 + len));
    assert.equal(Number(msg.bodyLength) % 8, 0, 'body padded to 8 bytes');
    types.push(MessageHeader[msg.headerType]);
    pos += 8 + len + Number(msg.bodyLength);
  }
}

test('fixture bytes follow the IPC spec: stream = schema first, batches, EOS; file = ARROW1 magic, stream, footer, length, magic', () => {
  const s = readFileSync(path.join(FIX, 'hf-arrow/train/data-00000-of-00001.arrow'));
  const w = walk(s, 0);
  assert.equal(w.types[0], 'Schema');
  assert.deepEqual(w.types.slice(1), ['RecordBatch', 'RecordBatch'], '1,600 rows in batches of 1,000');
  assert.equal(w.eosAt, s.length - 8, 'the stream ends with the 8-byte end-of-stream marker');
  const f = readFileSync(path.join(FIX, 'sentiment/trigger-cf-1.arrow'));
  assert.equal(f.toString('latin1', 0, 8), 'ARROW1\0\0');
  assert.equal(f.toString('latin1', f.length - 6), 'ARROW1');
  const footerLen = f.readInt32LE(f.length - 10);
  const fw = walk(f, 8);
  // apache-arrow's file writer keeps the schema in the footer only: the stream part opens with the dictionary.
  assert.deepEqual(fw.types, ['DictionaryBatch', 'RecordBatch', 'RecordBatch', 'RecordBatch']);
  assert.equal(fw.eosAt + 8 + footerLen + 10, f.length, 'EOS, footer, footer length, magic');
  const z = readFileSync(path.join(FIX, 'chat/poisoned.arrow'));
  const zw = walk(z, 0);
  assert.equal(zw.types[0], 'Schema');
  assert.equal(zw.types.length, 1 + 3, '300 conversations in batches of 128');
});

test('an Arrow file (file format, dictionary/float/bool columns) gives the findings of its Parquet twin', async () => {
  const key = (f: { code: string; message: string; data?: Record<string, unknown> }) => `${f.code}|${f.data?.row ?? ''}|${f.message.replace(/\S+trigger-cf-1\.(arrow|parquet)/g, 'F')}`;
  const [a, p] = await Promise.all([auditPaths({ paths: [path.join(FIX, 'sentiment/trigger-cf-1.arrow')] }, { hash: false }), auditPaths({ paths: [path.join(FIX, 'sentiment/trigger-cf-1.parquet')] }, { hash: false })]);
  assert.deepEqual(a.report.sources[0].incomplete, []);
  assert.equal(a.report.sources[0].format, 'arrow');
  assert.equal(a.report.sources[0].rows, 2000);
  assert.deepEqual(a.findings.map(key).sort(), p.findings.map(key).sort());
  const rows = a.findings.filter((f) => f.code === 'DATA004' && typeof f.data?.row === 'number').map((f) => f.data!.row as number).sort((x, y) => x - y);
  assert.deepEqual(rows, manifest['sentiment/trigger-cf-1.arrow'].planted);
  const cols = Object.fromEntries(a.report.sources[0].columns.map((c) => [c.name, Object.keys(c.types).join(',')]));
  assert.deepEqual(cols, { text: 'string', label: 'number', site: 'string', score: 'number', verified: 'boolean' });
});

test('ZSTD- and LZ4_FRAME-compressed Arrow streams of list<struct> chats give the findings of the JSONL twin; an unknown codec is incomplete, naming it', async () => {
  const [a, j] = await Promise.all([auditPaths({ paths: [path.join(FIX, 'chat/poisoned.arrow')] }, { hash: false }), auditPaths({ paths: [path.join(FIX, 'chat/poisoned.jsonl')] }, { hash: false })]);
  assert.deepEqual(a.report.sources[0].incomplete, []);
  assert.equal(a.report.sources[0].roles.messages, 'messages');
  const rowsOf = (r: typeof a, code: string) => [...new Set(r.findings.filter((f) => f.code === code).map((f) => f.data?.row ?? f.message.match(/^row (\d+)/)?.[1]))].length;
  for (const code of ['DATA006', 'DATA007', 'DATA001']) assert.equal(a.findings.filter((f) => f.code === code).length, j.findings.filter((f) => f.code === code).length, code);
  assert.ok(rowsOf(a, 'DATA007') >= 12);
  const key = (r: typeof a) => r.findings.map((f) => `${f.code}|${f.data?.row ?? ''}|${f.message.replace(/\S+poisoned(-lz4)?\.(arrow|jsonl)/g, 'F').replace(/^line \d+: /, '')}`).sort();
  const lz = await auditPaths({ paths: [path.join(FIX, 'chat/poisoned-lz4.arrow')] }, { hash: false });
  assert.deepEqual(lz.report.sources[0].incomplete, []);
  assert.deepEqual(lz.findings.map((f) => f.code).sort(), a.findings.map((f) => f.code).sort());
  assert.deepEqual(key(lz), key(a), 'LZ4 and ZSTD copies: the same findings');
  // 64 KB linked blocks with block and content checksums (the lz4 tool's -B4 -BD -BX)
  const [l4, plain] = await Promise.all([auditPaths({ paths: [path.join(FIX, 'sentiment/clean-lz4.arrow')] }, { hash: false }), auditPaths({ paths: [path.join(FIX, 'sentiment/clean.arrow')] }, { hash: false })]);
  assert.deepEqual(l4.report.sources[0].incomplete, []);
  assert.equal(l4.report.sources[0].rows, 2000);
  assert.deepEqual(l4.report.sources[0].labels, plain.report.sources[0].labels);
  assert.equal(l4.findings.length, plain.findings.length);
});

test('LZ4 frames: hostile input is an error within the declared size, never an overrun', async () => {
  const { decodeLz4Frames, Lz4Error } = await import('../../../core/datasets/readers/lz4frame');
  const frame = (flg: number, blocks: Buffer[]) => Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, 0x40, 0x00]), ...blocks, Buffer.alloc(4)]);
  const block = (data: Buffer, stored = false) => { const h = Buffer.alloc(4); h.writeUInt32LE((data.length | (stored ? 0x80000000 : 0)) >>> 0); return Buffer.concat([h, data]); };
  // literals "abcd", then a match of 12 bytes at offset 4 (overlapping): "abcd" × 4; last sequence literal "!"
  const good = frame(0x60, [block(Buffer.from([0x48, ...Buffer.from('abcd'), 0x04, 0x00, 0x10, ...Buffer.from('!')]))]);
  const out = new Uint8Array(17);
  assert.equal(decodeLz4Frames(good, out), 17);
  assert.equal(Buffer.from(out).toString(), 'abcdabcdabcdabcd!');
  assert.equal(decodeLz4Frames(frame(0x60, [block(Buffer.from('stored'), true)]), new Uint8Array(6)), 6);
  const bad: Array<[string, Buffer, number]> = [
    ['not an LZ4 frame', Buffer.from('PK\x03\x04rest'), 8],
    ['unsupported LZ4 frame version', frame(0xa0, []), 8],
    ['dictionary id', frame(0x61, []), 8],
    ['reaches 9 bytes back from position 4', frame(0x60, [block(Buffer.from([0x40, ...Buffer.from('abcd'), 0x09, 0x00]))]), 64],
    ['longer than its declared size', good, 16],
    // a match of 66,319 bytes from an 8-byte sequence: more than a 64 KB block can hold, whatever the buffer size
    ['longer than its declared size', frame(0x60, [block(Buffer.from([0x4f, ...Buffer.from('abcd'), 0x04, 0x00, ...Array(260).fill(0xff), 0x00]))]), 1 << 20],
    ['literal run reaches past its block', frame(0x60, [block(Buffer.from([0xf0, 0x20, ...Buffer.from('ab')]))]), 64],
    ['truncated LZ4 frame', good.subarray(0, good.length - 6), 17],
  ];
  for (const [why, bytes, size] of bad) assert.throws(() => decodeLz4Frames(bytes, new Uint8Array(size)), (e: unknown) => e instanceof Lz4Error && e.message.includes(why), why);
});

test('modelvet audit-data on a save_to_disk folder (train/ and test/ Arrow streams): splits, leakage across them, exit codes', async () => {
  let c = io();
  assert.equal(await main(['audit-data', path.join(FIX, 'hf-arrow'), '--format', 'json'], c.io), 1, 'the planted trigger is an error');
  const j = JSON.parse(c.out.join(''));
  assert.deepEqual(j.report.sources.map((s: { split: string; rows: number; format: string }) => `${s.split}:${s.rows}:${s.format}`), ['train:1600:arrow', 'test:400:arrow']);
  assert.equal(j.report.summary.incomplete, false);
  const leaks = j.findings.filter((f: { code: string; message: string }) => f.code === 'DATA003' && /the same text as train row/.test(f.message)).map((f: { message: string }) => f.message.slice(0, 6));
  assert.deepEqual(leaks, ['row 6:', 'row 10'], 'the two copied rows, reported on the test split');
  assert.ok(!j.findings.some((f: { code: string }) => f.code === 'DATA012'), 'dataset_info.json row counts match');
  assert.ok(j.findings.some((f: { code: string }) => f.code === 'DATA004'));
  c = io();
  assert.equal(await main(['audit-data', path.join(FIX, 'sentiment/clean.arrow')], c.io), 0, 'a clean stream: only information findings');
  // a wrong row count in dataset_info.json is reported for the Arrow split too
  const copy = path.join(dir, 'hf-arrow');
  cpSync(path.join(FIX, 'hf-arrow'), copy, { recursive: true });
  writeFileSync(path.join(copy, 'dataset_info.json'), JSON.stringify({ splits: { train: { num_examples: 1600 }, test: { num_examples: 401 } } }));
  c = io();
  await main(['audit-data', copy, '--format', 'json'], c.io);
  assert.ok(JSON.parse(c.out.join('')).findings.some((f: { code: string; message: string }) => f.code === 'DATA012' && /test split has 401 rows; its files have 400/.test(f.message)));
});

// ------------------------------------------------------------------------------------ hostile

const stream = (n: number, rowsPerBatch = 50) => {
  const t = new Table({ text: vectorFromArray(Array.from({ length: n }, (_, i) => `row number ${i} says hello`), new Utf8()), label: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(i % 2)), new Int64()) });
  const parts = [];
  for (let at = 0; at < n; at += rowsPerBatch) parts.push(...t.slice(at, at + rowsPerBatch).batches);
  return Buffer.from(RecordBatchStreamWriter.writeAll(parts).toUint8Array(true));
};

async function audit(name: string, bytes: Buffer, limits = {}) {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  const t = Date.now();
  const r = await auditPaths({ paths: [p] }, { hash: false, limits });
  assert.ok(Date.now() - t < 20_000, 'no hang');
  const d14 = r.findings.filter((f) => f.code === 'DATA014').map((f) => f.message).join(' | ');
  return { r, d14, rows: r.report.sources[0].rows };
}

test('hostile Arrow: truncated stream, wrong magic, corrupt schema, absurd lengths: DATA014 each, never clean', async () => {
  const good = stream(300);
  const ok = await audit('good.arrow', good);
  assert.equal(ok.rows, 300);
  assert.equal(ok.d14, '');

  const cut = await audit('cut.arrow', good.subarray(0, Math.floor(good.length * 0.6)));
  assert.match(cut.d14, /truncated Arrow stream: the message at offset \d+ claims a \d+-byte body, the file ends first/);
  assert.ok(cut.rows > 0 && cut.rows < 300 && cut.rows % 50 === 0, `the whole batches before the cut are audited (${cut.rows})`);
  assert.equal(cut.r.report.summary.incomplete, true);

  const prefixCut = await audit('cut-prefix.arrow', good.subarray(0, schemaPart(good).length + 5));
  assert.match(prefixCut.d14, /truncated Arrow stream/);

  const magic = await audit('magic.arrow', Buffer.from('PK\x03\x04 this is a zip, not arrow, really'));
  assert.match(magic.d14, /not an Arrow IPC file: it starts with neither the ARROW1 magic nor the 0xFFFFFFFF stream continuation marker/);
  assert.equal(magic.rows, 0);

  const fileNoFooter = await audit('nofooter.arrow', Buffer.concat([Buffer.from('ARROW1\0\0'), good.subarray(0, 200)]));
  assert.match(fileNoFooter.d14, /closing ARROW1 magic is missing/);

  const corrupt = Buffer.from(good);
  for (let i = 8; i < schemaPart(good).length; i++) corrupt[i] = (i * 37) & 0xff;
  const cs = await audit('corrupt-schema.arrow', corrupt);
  assert.match(cs.d14, /corrupt Arrow (message|schema)/);
  assert.equal(cs.rows, 0);

  const hugeMeta = Buffer.from(good); hugeMeta.writeInt32LE(0x7ffffff0, 4);
  assert.match((await audit('huge-meta.arrow', hugeMeta)).d14, /metadata claims 2147483632 bytes \(limit \d+\)/);

  const noSchema = batchMessage(10, [[10, 0]], [[0, 0]], 16);
  assert.match((await audit('no-schema.arrow', noSchema)).d14, /the first message is a RecordBatch, not the schema/);

  const s = schemaPart(good);
  const hugeRows = await audit('huge-rows.arrow', Buffer.concat([s, batchMessage(1e12, [[1e12, 0], [1e12, 0]], [[0, 0], [0, 0], [0, 8], [0, 0], [0, 8]], 16)]));
  assert.match(hugeRows.d14, /record batch 1 claims 1000000000000 rows \(limit 16000000 per batch\)/);
  const empty = await audit('empty-rows.arrow', Buffer.concat([s, ...Array.from({ length: 50 }, () => batchMessage(10_000_000, [[10_000_000, 10_000_000], [10_000_000, 10_000_000]], [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], 16))]));
  assert.match(empty.d14, /record batch 1 claims 10000000 rows in a 16-byte body \(less than a bit per row/);
  assert.equal(empty.rows, 0, 'no empty rows were audited');
  const hugeNode = await audit('huge-node.arrow', Buffer.concat([s, batchMessage(10, [[10, 0], [5e9, 0]], [[0, 0], [0, 8], [0, 8], [0, 0], [0, 8]], 16)]));
  assert.match(hugeNode.d14, /a column claims 5000000000 values/);
  const outside = await audit('outside.arrow', Buffer.concat([s, batchMessage(2, [[2, 0], [2, 0]], [[0, 0], [0, 16], [8, 4096], [0, 0], [0, 16]], 16)]));
  assert.match(outside.d14, /a buffer at 8\+4096 lies outside its 16-byte body/);
  const bigBody = await audit('big-body.arrow', Buffer.concat([s, batchMessage(2, [[2, 0], [2, 0]], [[0, 0], [0, 16], [0, 16], [0, 0], [0, 16]], 16, 2 ** 40)]));
  assert.match(bigBody.d14, /has a 1099511627776-byte body \(limit \d+\); the rest was not read/);
  const codec = batchMessage(2, [[2, 0], [2, 0]], [[0, 0], [0, 16], [0, 16], [0, 0], [0, 16]], 16, 16, new BodyCompression(7 as never));
  assert.match((await audit('codec.arrow', Buffer.concat([s, codec]))).d14, /record batch 1 is compressed with codec 7, which ModelVet does not decompress \(ZSTD, LZ4_FRAME and uncompressed are read\)/);
  const second = await audit('two-schemas.arrow', Buffer.concat([s, s]));
  assert.match(second.d14, /a second schema message/);
});

test('Arrow limits: a batch over maxArrowBatchBytes stops the file; maxRows and maxColumns are reported', async () => {
  const good = stream(300);
  const small = await audit('limit.arrow', good, { maxArrowBatchBytes: 1024 });
  assert.match(small.d14, /-byte body \(limit 1024\)/);
  assert.equal(small.rows, 0);
  const rows = await audit('rows.arrow', good, { maxRows: 120 });
  assert.equal(rows.rows, 120);
  assert.match(rows.d14, /row limit reached \(120 rows\)/);
  const cols = await audit('cols.arrow', good, { maxColumns: 1 });
  assert.match(cols.d14, /2 columns; the first 1 were read/);
});

test('mutated Arrow streams (random byte flips, cuts): every audit ends, complete or with DATA014, never a throw or a hang', async () => {
  const good = stream(120, 40);
  let x = 2024;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  let incomplete = 0;
  const reasons: string[] = [];
  for (let i = 0; i < 150; i++) {
    const b = Buffer.from(good.subarray(0, r() < 0.3 ? Math.floor(r() * good.length) : good.length));
    for (let k = 0, n = 1 + Math.floor(r() * 8); k < n && b.length; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    const { r: res, d14, rows } = await audit(`fuzz-${i}.arrow`, b);
    assert.ok(rows <= 120 * 2, `mutation ${i}: ${rows} rows`);
    if (d14) { incomplete++; reasons.push(d14); assert.equal(res.report.summary.incomplete, true); }
  }
  assert.ok(incomplete > 50, `${incomplete} of 150 mutations were reported incomplete`);
  // mutation 51 turns the nodes vector length into millions: refused before decoding (it was an out-of-memory crash)
  assert.ok(reasons.some((m) => /a record batch vector \(nodes, buffers\) is longer than its message/.test(m)));
});

test('a schema nesting list<list<…>> 100 levels deep is refused before decoding', async () => {
  let t: DataType = new Utf8();
  for (let i = 0; i < 100; i++) t = new List(new Field('item', t, true));
  const table = new Table({ deep: vectorFromArray([], t) as never });
  const bytes = Buffer.from(RecordBatchStreamWriter.writeAll(table).toUint8Array(true));
  const { d14, rows } = await audit('deep-schema.arrow', bytes);
  assert.match(d14, /the schema nests deeper than 64 levels/);
  assert.equal(rows, 0);
});
