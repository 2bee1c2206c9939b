/**
 * Arrow IPC (`.arrow`, `.feather` v2): the streaming format Hugging Face `datasets` writes its cache
 * and `save_to_disk` files in, and the file format (ARROW1 magic, the same messages, a footer).
 * Decoding is apache-arrow's; the framing is ours: every message's prefix, metadata length and body
 * length is read and checked against the limits before apache-arrow sees a byte of it, and the
 * library gets one checked message at a time (bounded memory: one record batch plus dictionaries).
 * Record batches are mapped to plain rows (strings, numbers, booleans, lists, objects) like the
 * Parquet reader's, so every DATA rule runs on them. Any failure is DATA014 (incomplete).
 *
 * Spec: encapsulated message = 0xFFFFFFFF continuation marker, int32 metadata length, flatbuffer
 * `Message` (padded to 8 bytes), body of `bodyLength` bytes; end of stream = marker + length 0. The
 * first message is the Schema. Streams written before Arrow 0.15 have no marker (the length first).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { CompressionType, compressionRegistry, Message, MessageHeader, RecordBatchReader, Vector, type AsyncRecordBatchStreamReader, type Schema } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { MessageHeader as FbHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { DictionaryBatch as FbDictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { Field as FbField } from 'apache-arrow/fb/field';
import { Footer as FbFooter } from 'apache-arrow/fb/footer';
// apache-arrow's own flatbuffers runtime (its dependency), for the pre-decoding checks below.
import { ByteBuffer } from 'flatbuffers';
import { decompressZstd } from 'hyparquet-compressors';
import { decodeLz4Frames } from './lz4frame';
import type { Auditor } from '../engine';

const CONTINUATION = 0xffffffff;
const FILE_MAGIC = 'ARROW1';

/** A decoding problem the reader reports as DATA014 (framing, limits, codecs). */
class ArrowStop extends Error {}

/**
 * Compressed bodies (`BodyCompression`, per buffer: int64 uncompressed length, then the codec's frame).
 * apache-arrow hands the codec the frame only; its length prefix sits in the 8 bytes before it in
 * the same body, which the framing below has already checked against the limits. The frame is
 * decompressed into exactly that length.
 */
function prefixedCodec(name: string, decompress: (data: Uint8Array, out: Uint8Array) => Uint8Array) {
  return {
    decode(data: Uint8Array): Uint8Array {
      if (data.byteOffset < 8) throw new ArrowStop(`${name} buffer without its length prefix`);
      const n = Number(new DataView(data.buffer, data.byteOffset - 8, 8).getBigInt64(0, true));
      const out = new Uint8Array(n);
      let got: Uint8Array;
      try { got = decompress(data, out); } catch (e) { throw new ArrowStop(`${name} buffer does not decompress (${(e as Error).message.slice(0, 80)})`); }
      if (got.length !== n) throw new ArrowStop(`${name} buffer decompressed to ${got.length} bytes, its prefix says ${n}`);
      return got;
    },
  };
}
/** ZSTD bodies. */
compressionRegistry.set(CompressionType.ZSTD, prefixedCodec('a ZSTD', decompressZstd) as never);
/** LZ4_FRAME bodies (pyarrow's Feather default): our bounded frame decoder (./lz4frame) into the prefix length. */
compressionRegistry.set(CompressionType.LZ4_FRAME, prefixedCodec('an LZ4', (data, out) => out.subarray(0, decodeLz4Frames(data, out))) as never);

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Uint8Array> {
  const buf = new Uint8Array(len);
  let off = 0;
  while (off < len) {
    const { bytesRead } = await fh.read(buf, off, len - off, pos + off);
    if (!bytesRead) break;
    off += bytesRead;
  }
  return off === len ? buf : buf.subarray(0, off);
}

interface Framing { schema?: Schema; batches: number; decompressed: number; columns: number; ended: boolean }

/** Deepest nesting of field types (list of struct of …) accepted in a schema. */
const MAX_FIELD_DEPTH = 64;

/**
 * Flatbuffer vectors claim their own length: a corrupt length makes the decoder build millions of
 * objects from a few hundred bytes. Every vector apache-arrow turns into objects is checked against
 * the bytes that could hold it before anything is decoded (element sizes: offsets 4, FieldNode and
 * Buffer structs 16, Block structs 24, int64 8), and the field tree is walked with a depth and a
 * count bound (shared offsets cannot make the walk explode).
 */
function vectorsProblem(bytes: Uint8Array, kind: 'message' | 'footer'): string | undefined {
  const n = bytes.length;
  const over = (len: number, size: number) => !Number.isSafeInteger(len) || len < 0 || len * size > n;
  const schemaProblem = (schema: FbSchema | null): string | undefined => {
    if (!schema) return undefined;
    if (over(schema.fieldsLength(), 4) || over(schema.customMetadataLength(), 4) || over(schema.featuresLength(), 8)) return 'a schema vector is longer than its message';
    let visited = 0;
    const walk = (f: FbField | null, depth: number): string | undefined => {
      if (!f) return undefined;
      if (++visited > n / 4) return 'the schema has more fields than its bytes can hold (corrupt offsets)';
      if (depth > MAX_FIELD_DEPTH) return `the schema nests deeper than ${MAX_FIELD_DEPTH} levels`;
      if (over(f.childrenLength(), 4) || over(f.customMetadataLength(), 4)) return 'a field vector is longer than its message';
      for (let i = 0; i < f.childrenLength(); i++) { const p = walk(f.children(i), depth + 1); if (p) return p; }
      return undefined;
    };
    for (let i = 0; i < schema.fieldsLength(); i++) { const p = walk(schema.fields(i), 1); if (p) return p; }
    return undefined;
  };
  const batchProblem = (rb: FbRecordBatch | null): string | undefined => {
    if (!rb) return undefined;
    if (over(rb.nodesLength(), 16) || over(rb.buffersLength(), 16) || over(rb.variadicBufferCountsLength(), 8)) return 'a record batch vector (nodes, buffers) is longer than its message';
    return undefined;
  };
  const bb = new ByteBuffer(bytes);
  if (kind === 'footer') {
    const f = FbFooter.getRootAsFooter(bb);
    if (over(f.dictionariesLength(), 24) || over(f.recordBatchesLength(), 24) || over(f.customMetadataLength(), 4)) return 'a footer vector is longer than the footer';
    return schemaProblem(f.schema());
  }
  const m = FbMessage.getRootAsMessage(bb);
  if (over(m.customMetadataLength(), 4)) return 'the custom metadata vector is longer than its message';
  switch (m.headerType()) {
    case FbHeader.Schema: return schemaProblem(m.header(new FbSchema()) as FbSchema | null);
    case FbHeader.RecordBatch: return batchProblem(m.header(new FbRecordBatch()) as FbRecordBatch | null);
    case FbHeader.DictionaryBatch: return batchProblem((m.header(new FbDictionaryBatch()) as FbDictionaryBatch | null)?.data() ?? null);
    default: return undefined;
  }
}

/** Checks one message header against the body it came with and the limits; a reason to stop, or undefined. */
function checkMessage(msg: Message, body: Uint8Array, st: Framing, limits: Auditor['limits']): string | undefined {
  const what = msg.headerType === MessageHeader.DictionaryBatch ? 'dictionary batch' : `record batch ${st.batches + 1}`;
  const h = msg.headerType === MessageHeader.RecordBatch ? msg.header() as unknown as BatchHeader
    : msg.headerType === MessageHeader.DictionaryBatch ? (msg.header() as unknown as { data: BatchHeader }).data : undefined;
  if (!h) return undefined;
  const rows = Number(h.length);
  if (!Number.isSafeInteger(rows) || rows < 0) return `${what} claims ${String(h.length)} rows (corrupt)`;
  if (rows > limits.maxArrowBatchRows) return `${what} claims ${rows} rows (limit ${limits.maxArrowBatchRows} per batch)`;
  // Any real column spends at least a bit per row (validity, offsets or values): rows the body
  // cannot hold are a time bomb (millions of empty rows from a few bytes), not data.
  if (rows > body.length * 8 + 64) return `${what} claims ${rows} rows in a ${body.length}-byte body (less than a bit per row: corrupt or a time bomb)`;
  for (const node of h.nodes) {
    const n = Number(node.length);
    if (!Number.isSafeInteger(n) || n < 0 || n > limits.maxArrowBatchRows * 16) return `${what}: a column claims ${String(node.length)} values (corrupt or an allocation bomb)`;
  }
  // Utf8View/BinaryView columns take their data buffers from the message's variadic counts; a count
  // past the buffer list is corrupt (apache-arrow would fail on the missing region deep in decoding).
  let variadic = 0;
  for (const c of h.variadicBufferCounts ?? []) {
    const n = Number(c);
    if (!Number.isSafeInteger(n) || n < 0) return `${what}: a view column claims ${String(c)} data buffers (corrupt)`;
    variadic += n;
  }
  if (variadic > h.buffers.length) return `${what}: view columns claim ${variadic} data buffers; the batch lists ${h.buffers.length} buffers in all (corrupt)`;
  let compressed = 0;
  for (const b of h.buffers) {
    const off = Number(b.offset), len = Number(b.length);
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 || off + len > body.length) return `${what}: a buffer at ${String(b.offset)}+${String(b.length)} lies outside its ${body.length}-byte body (corrupt)`;
    if (h.compression == null || len === 0) continue;
    if (len < 8) return `${what}: a compressed buffer shorter than its length prefix (corrupt)`;
    const n = Number(new DataView(body.buffer, body.byteOffset + off, 8).getBigInt64(0, true));
    if (n === -1) continue; // stored uncompressed
    if (!Number.isSafeInteger(n) || n < 0) return `${what}: a compressed buffer claims ${n} bytes (corrupt)`;
    if (n > limits.maxArrowBatchBytes) return `${what}: a compressed buffer claims ${n} decompressed bytes (limit ${limits.maxArrowBatchBytes})`;
    if (len > 8 && n / (len - 8) > limits.maxParquetCompressionRatio) return `${what}: ${len - 8} compressed bytes claim ${n} (${Math.round(n / (len - 8))}×): a decompression bomb`;
    compressed += n;
  }
  if (h.compression != null) {
    const type = h.compression.type;
    if (type !== CompressionType.ZSTD && type !== CompressionType.LZ4_FRAME) return `${what} is compressed with codec ${type}, which ModelVet does not decompress (ZSTD, LZ4_FRAME and uncompressed are read)`;
    if (compressed > limits.maxArrowBatchBytes) return `${what} decompresses to ${compressed} bytes (limit ${limits.maxArrowBatchBytes})`;
    st.decompressed += compressed;
    if (st.decompressed > limits.maxArrowDecompressedBytes) return `more than ${limits.maxArrowDecompressedBytes} decompressed bytes`;
  }
  return undefined;
}

interface BatchHeader {
  length: number | bigint;
  nodes: Array<{ length: number | bigint }>;
  buffers: Array<{ offset: number | bigint; length: number | bigint }>;
  compression?: { type: CompressionType } | null;
  variadicBufferCounts?: Array<number | bigint>;
}

/**
 * The file's messages, each checked, as the byte chunks apache-arrow reads. Stops (and reports
 * through `stop`) at the first problem; a clean end is the end-of-stream marker or the file's end at
 * a message boundary.
 */
async function* messages(fh: FileHandle, start: number, end: number, st: Framing, limits: Auditor['limits'], stop: (reason: string) => void, cancelled?: () => boolean, footerSchema?: Schema): AsyncGenerator<Uint8Array> {
  let pos = start;
  if (footerSchema) {
    // File format: the footer's schema comes first (apache-arrow's file writer puts it only there).
    st.schema = footerSchema;
    st.columns = footerSchema.fields.length;
    yield schemaMessage(footerSchema);
  }
  for (;;) {
    if (cancelled?.()) { stop('cancelled'); return; }
    if (pos >= end) { if (!st.schema) stop('truncated Arrow stream: no schema message'); return; }
    const pre = await readAt(fh, pos, 8);
    if (pre.length < 4) { stop(`truncated Arrow stream: ${pre.length} stray bytes at offset ${pos}`); return; }
    const dv = new DataView(pre.buffer, pre.byteOffset, pre.length);
    let metaLen: number, prefix: number;
    if (dv.getUint32(0, true) === CONTINUATION) {
      if (pre.length < 8) { stop(`truncated Arrow stream: a message prefix at offset ${pos} is cut off`); return; }
      metaLen = dv.getInt32(4, true); prefix = 8;
    } else { metaLen = dv.getInt32(0, true); prefix = 4; } // pre-0.15 streams
    if (metaLen === 0) { st.ended = true; return; } // end of stream
    if (metaLen < 0 || metaLen > limits.maxArrowMetadataBytes) { stop(`corrupt Arrow message at offset ${pos}: its metadata claims ${metaLen} bytes${metaLen > limits.maxArrowMetadataBytes ? ` (limit ${limits.maxArrowMetadataBytes})` : ''}`); return; }
    if (pos + prefix + metaLen > end) { stop(`truncated Arrow stream: the message at offset ${pos} claims ${metaLen} metadata bytes, the file ends first`); return; }
    const meta = await readAt(fh, pos + prefix, metaLen);
    let vp: string | undefined;
    try { vp = vectorsProblem(meta, 'message'); } catch (e) { vp = (e as Error).message.slice(0, 100); }
    if (vp) { stop(`corrupt Arrow message metadata at offset ${pos}: ${vp}`); return; }
    let msg: Message;
    try { msg = Message.decode(meta); } catch (e) { stop(`corrupt Arrow message metadata at offset ${pos} (${(e as Error).message.slice(0, 100)})`); return; }
    const type = msg.headerType;
    if (type !== MessageHeader.Schema && type !== MessageHeader.RecordBatch && type !== MessageHeader.DictionaryBatch) { stop(`corrupt Arrow message at offset ${pos}: unknown message type ${type}`); return; }
    if (!st.schema && type !== MessageHeader.Schema) { stop(`not a valid Arrow stream: the first message is a ${MessageHeader[type]}, not the schema`); return; }
    if (st.schema && type === MessageHeader.Schema) {
      if (footerSchema && pos === start) { pos += prefix + metaLen + Number(msg.bodyLength); continue; } // the footer's copy was sent
      stop(`corrupt Arrow stream: a second schema message at offset ${pos}`); return;
    }
    const bodyLen = Number(msg.bodyLength);
    if (!Number.isSafeInteger(bodyLen) || bodyLen < 0) { stop(`corrupt Arrow message at offset ${pos}: body length ${String(msg.bodyLength)}`); return; }
    if (bodyLen > limits.maxArrowBatchBytes) { stop(`an Arrow message at offset ${pos} has a ${bodyLen}-byte body (limit ${limits.maxArrowBatchBytes}); the rest was not read`); return; }
    if (pos + prefix + metaLen + bodyLen > end) { stop(`truncated Arrow stream: the message at offset ${pos} claims a ${bodyLen}-byte body, the file ends first`); return; }
    const chunk = new Uint8Array(prefix + metaLen + bodyLen);
    chunk.set(pre.subarray(0, prefix), 0);
    chunk.set(meta, prefix);
    if (bodyLen) {
      const body = await readAt(fh, pos + prefix + metaLen, bodyLen);
      chunk.set(body, prefix + metaLen);
    }
    if (type === MessageHeader.Schema) {
      let schema: Schema;
      try { schema = msg.header() as Schema; } catch (e) { stop(`corrupt Arrow schema (${(e as Error).message.slice(0, 100)})`); return; }
      if (!schema?.fields) { stop('corrupt Arrow schema (no fields)'); return; }
      st.schema = schema;
      st.columns = schema.fields.length;
    } else {
      let problem: string | undefined;
      try { problem = checkMessage(msg, chunk.subarray(prefix + metaLen), st, limits); } catch (e) { problem = `corrupt Arrow ${MessageHeader[type]} metadata at offset ${pos} (${(e as Error).message.slice(0, 100)})`; }
      if (problem) { stop(problem); return; }
      if (type === MessageHeader.RecordBatch) st.batches++;
    }
    pos += prefix + metaLen + bodyLen;
    yield chunk;
  }
}

/** An encapsulated schema message (continuation marker, padded length, flatbuffer). */
function schemaMessage(schema: Schema): Uint8Array {
  const meta = Message.encode(Message.from(schema));
  const padded = meta.length + ((8 - (meta.length % 8)) % 8);
  const out = new Uint8Array(8 + padded);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, CONTINUATION, true);
  dv.setInt32(4, padded, true);
  out.set(meta, 8);
  return out;
}

/** The schema in an Arrow file's footer, or a reason it cannot be used. */
async function footerSchema(fh: FileHandle, size: number, limits: Auditor['limits']): Promise<Schema | string> {
  if (size < 8 + 10) return 'too short for a footer';
  const lenBytes = await readAt(fh, size - 10, 4);
  const len = new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getInt32(0, true);
  if (len <= 0 || len > size - 18 || len > limits.maxArrowMetadataBytes) return `the footer claims ${len} bytes in a ${size}-byte file${len > limits.maxArrowMetadataBytes ? ` (limit ${limits.maxArrowMetadataBytes})` : ''}`;
  const bytes = await readAt(fh, size - 10 - len, len);
  try {
    const vp = vectorsProblem(bytes, 'footer');
    if (vp) return `corrupt footer (${vp})`;
    const schema = Footer.decode(bytes).schema;
    if (!schema?.fields) return 'the footer has no schema';
    return schema;
  } catch (e) { return `corrupt footer (${(e as Error).message.slice(0, 100)})`; }
}

/** An Arrow value as the plain JSON-like value the Parquet reader would give. */
function plain(v: unknown, depth: number, maxItems: number, cut: { items: boolean }): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string': case 'number': case 'boolean': return v;
    case 'bigint': { const n = Number(v); return Number.isSafeInteger(n) ? n : v.toString(); }
    default: break;
  }
  if (depth <= 0) { cut.items = true; return null; }
  if (v instanceof Vector) {
    const n = Math.min(v.length, maxItems);
    if (v.length > maxItems) cut.items = true;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = plain(v.get(i), depth - 1, maxItems, cut);
    return out;
  }
  if (ArrayBuffer.isView(v)) return v; // binary (and fixed-size binary): as Parquet gives it
  if (v instanceof Date) return v.toISOString();
  const o = v as { toJSON?: () => unknown };
  if (typeof o.toJSON === 'function') {
    const j = o.toJSON() as Record<string, unknown>;
    if (j === null || typeof j !== 'object') return plain(j, depth - 1, maxItems, cut);
    const out: Record<string, unknown> = {};
    let k = 0;
    for (const key of Object.keys(j)) { if (k++ >= maxItems) { cut.items = true; break; } out[key] = plain(j[key], depth - 1, maxItems, cut); }
    return out;
  }
  return null;
}

/** True when the first bytes start an Arrow IPC stream or file (for content sniffing). */
export function looksLikeArrow(head: Uint8Array): boolean {
  if (head.length >= 6 && String.fromCharCode(...head.subarray(0, 6)) === FILE_MAGIC) return true;
  return head.length >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff && (head[4] | head[5] | head[6] | head[7]) !== 0;
}

export async function readArrow(a: Auditor, src: number, file: string, cancelled?: () => boolean): Promise<void> {
  let fh: FileHandle | undefined;
  let stopped = false;
  const stop = (reason: string) => { if (!stopped) { stopped = true; a.incomplete(src, reason); } };
  try {
    fh = await open(file, 'r');
    const size = (await fh.stat()).size;
    let end = size;
    if (size > a.limits.maxFileBytes) { a.incomplete(src, `file larger than ${a.limits.maxFileBytes} bytes; the rest was not read`); end = a.limits.maxFileBytes; }
    const head = await readAt(fh, 0, 8);
    let start = 0;
    let schemaFromFooter: Schema | undefined;
    if (head.length >= 6 && String.fromCharCode(...head.subarray(0, 6)) === FILE_MAGIC) {
      // File format: magic + padding, the stream, the footer, its int32 length, the magic again.
      start = 8;
      const tail = await readAt(fh, Math.max(0, size - 6), 6);
      if (size < 8 + 6 || String.fromCharCode(...tail) !== FILE_MAGIC) a.incomplete(src, 'truncated Arrow file: the closing ARROW1 magic is missing (the footer is cut off); the record batches before the cut were read');
      else {
        const fs = await footerSchema(fh, size, a.limits);
        if (typeof fs === 'string') a.incomplete(src, `Arrow file footer not used: ${fs}`);
        else schemaFromFooter = fs;
      }
    } else if (head.length < 8) { stop(`not an Arrow IPC file (${size} bytes)`); return; }
    else {
      const dv = new DataView(head.buffer, head.byteOffset, 8);
      const first = dv.getUint32(0, true), len = dv.getInt32(first === CONTINUATION ? 4 : 0, true);
      if (first !== CONTINUATION && (len <= 0 || len > a.limits.maxArrowMetadataBytes || len >= size)) {
        stop('not an Arrow IPC file: it starts with neither the ARROW1 magic nor the 0xFFFFFFFF stream continuation marker');
        return;
      }
    }
    const st: Framing = { batches: 0, decompressed: 0, columns: 0, ended: false };
    let reader: AsyncRecordBatchStreamReader;
    try {
      reader = await RecordBatchReader.from(messages(fh, start, end, st, a.limits, stop, cancelled, schemaFromFooter)) as unknown as AsyncRecordBatchStreamReader;
      await reader.open();
    } catch (e) { stop(`corrupt Arrow schema (${(e as Error).message.slice(0, 120)})`); return; }
    if (stopped) return;
    const fields = reader.schema?.fields ?? [];
    const names = fields.map((f) => f.name);
    const take = Math.min(names.length, a.limits.maxColumns);
    if (names.length > take) a.incomplete(src, `${names.length} columns; the first ${take} were read (maxColumns)`);
    const depth = a.limits.maxJsonDepth, maxItems = Math.max(a.limits.maxTurns * 16, 4096);
    const cut = { items: false };
    let row = 0;
    try {
      for await (const batch of reader) {
        if (cancelled?.()) { stop('cancelled'); return; }
        const cols: Array<Vector | null> = [];
        for (let i = 0; i < take; i++) cols.push(batch.getChildAt(i));
        for (let r = 0; r < batch.numRows; r++, row++) {
          if (!a.wantsMore(src)) { a.row(src, { line: -1, record: {} }); return; }
          const rec: Record<string, unknown> = {};
          for (let i = 0; i < take; i++) {
            const c = cols[i];
            rec[names[i]] = c ? plain(c.get(r), depth, maxItems, cut) : null;
          }
          a.row(src, { line: -1, record: rec });
        }
      }
    } catch (e) {
      if (!stopped) stop(`Arrow rows after row ${row} could not be decoded: ${(e as Error).message.slice(0, 160)}`);
      return;
    }
    if (cut.items) a.incomplete(src, `some list or struct values are longer than ${maxItems} items or nest deeper than ${depth} levels; only their start was audited`);
    if (!stopped && start === 8 && !st.ended) a.incomplete(src, 'truncated Arrow file: no end-of-stream marker before the footer');
  } catch (e) {
    stop(`Arrow file could not be read: ${(e as Error).message.slice(0, 160)}`);
  } finally {
    await fh?.close();
  }
}
