// Minimal container writers for scanner tests (every header field under test control).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export interface ZipMember { name: string; data: Uint8Array; deflate?: boolean; crc?: number; flags?: number; localName?: string }

/** A zip with stored (or deflate) members, central directory and EOCD. */
export function makeZip(members: ZipMember[], prefix: Uint8Array = new Uint8Array(0)): Buffer {
  const locals: Buffer[] = []; const centrals: Buffer[] = []; let off = prefix.length;
  for (const m of members) {
    const body = m.deflate ? zlib.deflateRawSync(m.data) : Buffer.from(m.data);
    const crc = m.crc ?? zlib.crc32(m.data);
    const name = Buffer.from(m.name); const lname = Buffer.from(m.localName ?? m.name);
    const lh = Buffer.alloc(30); lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(m.flags ?? 0, 6); lh.writeUInt16LE(m.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(crc >>> 0, 14); lh.writeUInt32LE(body.length, 18); lh.writeUInt32LE(m.data.length, 22); lh.writeUInt16LE(lname.length, 26);
    const ch = Buffer.alloc(46); ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(m.flags ?? 0, 8); ch.writeUInt16LE(m.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(crc >>> 0, 16); ch.writeUInt32LE(body.length, 20); ch.writeUInt32LE(m.data.length, 24); ch.writeUInt16LE(name.length, 28); ch.writeUInt32LE(off, 42);
    locals.push(lh, lname, body); centrals.push(ch, name); off += 30 + lname.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22); eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(members.length, 8); eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(off, 16);
  return Buffer.concat([Buffer.from(prefix), ...locals, cd, eocd]);
}

/** A ustar archive of regular files. */
export function makeTar(members: { name: string; data: Uint8Array }[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const h = Buffer.alloc(512);
    h.write(m.name, 0, 100, 'latin1');
    h.write('0000644\0', 100, 'latin1'); h.write('0000000\0', 108, 'latin1'); h.write('0000000\0', 116, 'latin1');
    h.write(m.data.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar\0', 257, 'latin1'); h.write('00', 263, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0; for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    parts.push(h, Buffer.from(m.data), Buffer.alloc((512 - (m.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** `torch.storage._load_from_bytes(<inner>)` as a protocol-2 pickle (BINBYTES argument). */
export function loadFromBytes(inner: Uint8Array): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32LE(inner.length);
  return Buffer.concat([Buffer.from('\x80\x02ctorch.storage\n_load_from_bytes\n(B', 'latin1'), len, Buffer.from(inner), Buffer.from('tR.', 'latin1')]);
}

/**
 * A sparse 2 GB SafeTensors file in `dir` (one F32 tensor, no data on disk): hashing it takes seconds, far
 * past a sub-second time limit, so it stands for "a file that takes too long" in the timeout tests.
 */
export function writeSlowSafetensors(dir: string): string {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [536870912], data_offsets: [0, 2147483648] } }));
  const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(header.length));
  const file = path.join(dir, 'big.safetensors');
  fs.writeFileSync(file, Buffer.concat([len, header]));
  fs.truncateSync(file, 8 + header.length + 2147483648);
  return file;
}
