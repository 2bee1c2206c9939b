// Hand-built Arrow IPC messages for hostile-input tests: headers with any lengths, bodies of any size.
import { Message } from 'apache-arrow';
import { RecordBatch as RecordBatchHeader, FieldNode, BufferRegion, type BodyCompression } from 'apache-arrow/ipc/metadata/message';

/** The bytes of a stream's first message (the schema). */
export const schemaPart = (b: Buffer): Buffer => b.subarray(0, 8 + b.readInt32LE(4));

/** An encapsulated RecordBatch message with the given header fields and a zero-filled body of `body` bytes. */
export function batchMessage(length: number, nodes: Array<[number, number]>, buffers: Array<[number, number]>, body: number,
  bodyClaim = body, compression: BodyCompression | null = null, variadicBufferCounts: number[] = []): Buffer {
  const h = new RecordBatchHeader(length, nodes.map(([l, n]) => new FieldNode(l, n)), buffers.map(([o, l]) => new BufferRegion(o, l)), compression, variadicBufferCounts);
  const meta = Message.encode(Message.from(h, bodyClaim));
  const pad = (8 - (meta.length % 8)) % 8;
  const out = Buffer.alloc(8 + meta.length + pad + body);
  out.writeUInt32LE(0xffffffff, 0);
  out.writeInt32LE(meta.length + pad, 4);
  Buffer.from(meta).copy(out, 8);
  return out;
}
