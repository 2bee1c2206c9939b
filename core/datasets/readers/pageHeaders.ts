/**
 * Parquet page headers read before hyparquet decodes anything: a hostile page can claim billions of
 * values in a few bytes (RLE), and the decoder would allocate an array of that length. Every page of
 * every column chunk is visited (headers only, a few bytes each) and checked against the limits.
 * The headers are Thrift compact-protocol PageHeader structs (parquet-format): 1 type, 2
 * uncompressed_page_size, 3 compressed_page_size, 5/7/8 data / dictionary / data v2 headers whose
 * field 1 is num_values.
 */
import type { FileHandle } from 'node:fs/promises';

export interface PageHeaderInfo { type: number; uncompressed: number; compressed: number; numValues: number; headerBytes: number }

class Cursor {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  byte(): number { if (this.pos >= this.b.length) throw new RangeError('truncated page header'); return this.b[this.pos++]; }
  varint(): number {
    let shift = 0, out = 0;
    for (let i = 0; i < 10; i++) {
      const c = this.byte();
      if (shift < 49) out += (c & 0x7f) * 2 ** shift;
      if (!(c & 0x80)) return out;
      shift += 7;
    }
    throw new RangeError('bad varint in page header');
  }
  zigzag(): number { const v = this.varint(); return v % 2 === 0 ? v / 2 : -(v + 1) / 2; }
  skip(type: number, depth: number): void {
    if (depth > 16) throw new RangeError('page header nests too deep');
    switch (type) {
      case 1: case 2: return;
      case 3: this.pos++; return;
      case 4: case 5: case 6: this.varint(); return;
      case 7: this.pos += 8; return;
      case 8: { const n = this.varint(); this.pos += n; return; }
      case 9: case 10: {
        const h = this.byte();
        let n = h >> 4;
        if (n === 15) n = this.varint();
        if (n > 1_000_000) throw new RangeError('page header list too long');
        for (let i = 0; i < n; i++) this.skip(h & 15, depth + 1);
        return;
      }
      case 11: {
        const n = this.varint();
        if (!n) return;
        if (n > 1_000_000) throw new RangeError('page header map too long');
        const kv = this.byte();
        for (let i = 0; i < n; i++) { this.skip(kv >> 4, depth + 1); this.skip(kv & 15, depth + 1); }
        return;
      }
      case 12: this.struct(depth + 1, () => false); return;
      default: throw new RangeError(`bad Thrift type ${type} in page header`);
    }
  }
  /** Walk a struct; `field(id, type)` returns true when it consumed the value. */
  struct(depth: number, field: (id: number, type: number) => boolean): void {
    let last = 0;
    for (let n = 0; n < 1000; n++) {
      const h = this.byte();
      if (h === 0) return;
      const type = h & 15;
      const delta = h >> 4;
      const id = delta ? last + delta : this.zigzag();
      last = id;
      if (!field(id, type)) this.skip(type, depth);
    }
    throw new RangeError('page header has too many fields');
  }
}

/** One PageHeader from `bytes` (throws RangeError when it is malformed or cut off). */
export function parsePageHeader(bytes: Uint8Array): PageHeaderInfo {
  const c = new Cursor(bytes);
  const out: PageHeaderInfo = { type: -1, uncompressed: -1, compressed: -1, numValues: 0, headerBytes: 0 };
  c.struct(0, (id, type) => {
    if (type === 5 && (id === 1 || id === 2 || id === 3)) {
      const v = c.zigzag();
      if (id === 1) out.type = v; else if (id === 2) out.uncompressed = v; else out.compressed = v;
      return true;
    }
    if (type === 12 && (id === 5 || id === 7 || id === 8)) {
      c.struct(1, (fid, ftype) => { if (fid === 1 && ftype === 5) { out.numValues = c.zigzag(); return true; } return false; });
      return true;
    }
    return false;
  });
  out.headerBytes = c.pos;
  return out;
}

export interface PageLimits { maxParquetPageBytes: number; maxParquetPageValues: number }

/**
 * Visit the page headers of one column chunk [start, start + length). Returns a problem description,
 * or undefined when every page is within the limits.
 */
export async function checkChunkPages(fh: FileHandle, start: number, length: number, fileSize: number, limits: PageLimits): Promise<string | undefined> {
  const end = Math.min(fileSize, start + length);
  const head = new Uint8Array(1024);
  let pos = start, pages = 0;
  while (pos < end) {
    if (++pages > 1_000_000) return 'more than 1,000,000 pages in one column chunk';
    const { bytesRead } = await fh.read(head, 0, Math.min(head.length, end - pos), pos);
    let h: PageHeaderInfo;
    try { h = parsePageHeader(head.subarray(0, bytesRead)); } catch (e) { return `page ${pages} at byte ${pos}: ${(e as Error).message}`; }
    if (h.compressed < 0 || h.uncompressed < 0) return `page ${pages} at byte ${pos}: negative or missing page size`;
    if (h.uncompressed > limits.maxParquetPageBytes) return `page ${pages} at byte ${pos} claims ${h.uncompressed} decompressed bytes (page limit ${limits.maxParquetPageBytes})`;
    if (h.numValues < 0 || h.numValues > limits.maxParquetPageValues) return `page ${pages} at byte ${pos} claims ${h.numValues} values (limit ${limits.maxParquetPageValues}): a decoder would allocate that many`;
    pos += h.headerBytes + h.compressed;
  }
  return undefined;
}
