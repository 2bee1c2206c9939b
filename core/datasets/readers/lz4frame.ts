/**
 * LZ4 frame decoding (the LZ4_FRAME codec of Arrow IPC bodies; pyarrow's default for Feather v2)
 * into a caller-sized output buffer. The output size is known beforehand (Arrow's per-buffer length
 * prefix, checked against the limits), so a hostile frame can never make this allocate or write more:
 * every literal run and match is checked against the input and the output bounds, matches may only
 * reach back into what was already written (blocks may be linked), and anything else — an unknown
 * magic or version, a dictionary id, a truncated block, an output of another size — is an error.
 * Frame format: https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md (magic 0x184D2204, FLG,
 * BD, optional content size and dictionary id, header checksum, blocks of uint32 size — high bit set
 * means stored — each optionally followed by a block checksum, an end mark 0, an optional content
 * checksum); skippable frames (0x184D2A50–5F) are skipped. Checksums are not verified.
 */
export class Lz4Error extends Error {}

const MAGIC = 0x184d2204;

/** Decodes one or more concatenated LZ4 frames in `src` into `out`; returns the bytes written (must fill `out`). */
export function decodeLz4Frames(src: Uint8Array, out: Uint8Array): number {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let i = 0, o = 0;
  const need = (n: number) => { if (i + n > src.length) throw new Lz4Error('truncated LZ4 frame'); };
  while (i < src.length) {
    need(4);
    const magic = dv.getUint32(i, true);
    i += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) { need(4); const n = dv.getUint32(i, true); i += 4; need(n); i += n; continue; }
    if (magic !== MAGIC) throw new Lz4Error(`not an LZ4 frame (magic 0x${magic.toString(16)})`);
    need(2);
    const flg = src[i++], bd = src[i++];
    if (flg >> 6 !== 1) throw new Lz4Error(`unsupported LZ4 frame version ${flg >> 6}`);
    if (flg & 1) throw new Lz4Error('LZ4 frames with a dictionary id are not supported');
    const blockChecksum = (flg & 0x10) !== 0, contentSize = (flg & 0x08) !== 0, contentChecksum = (flg & 0x04) !== 0;
    const maxBlock = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20][(bd >> 4) & 7];
    if (!maxBlock) throw new Lz4Error(`invalid LZ4 block size code ${(bd >> 4) & 7}`);
    if (contentSize) { need(8); i += 8; }
    need(1); i++; // header checksum
    for (;;) {
      need(4);
      const word = dv.getUint32(i, true);
      i += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (size > maxBlock) throw new Lz4Error(`an LZ4 block of ${size} bytes exceeds the frame's ${maxBlock}-byte blocks`);
      need(size);
      if (word & 0x80000000) {
        if (o + size > out.length) throw new Lz4Error('LZ4 data longer than its declared size');
        out.set(src.subarray(i, i + size), o);
        o += size;
      } else o = decodeBlock(src, i, i + size, out, o, Math.min(out.length, o + maxBlock));
      i += size;
      if (blockChecksum) { need(4); i += 4; }
    }
    if (contentChecksum) { need(4); i += 4; }
  }
  return o;
}

/** One LZ4 block from src[start, end) into out at `o` (at most up to `limit`); returns the new output position. */
function decodeBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, o: number, limit: number): number {
  let i = start;
  while (i < end) {
    const token = src[i++];
    let lit = token >> 4;
    if (lit === 15) { let b; do { if (i >= end) throw new Lz4Error('truncated LZ4 literal length'); b = src[i++]; lit += b; } while (b === 255); }
    if (i + lit > end) throw new Lz4Error('an LZ4 literal run reaches past its block');
    if (o + lit > limit) throw new Lz4Error('LZ4 data longer than its declared size');
    out.set(src.subarray(i, i + lit), o);
    i += lit; o += lit;
    if (i >= end) break; // the last sequence has literals only
    if (i + 2 > end) throw new Lz4Error('truncated LZ4 match offset');
    const offset = src[i] | (src[i + 1] << 8);
    i += 2;
    if (offset === 0 || offset > o) throw new Lz4Error(`an LZ4 match reaches ${offset} bytes back from position ${o}`);
    let ml = token & 15;
    if (ml === 15) { let b; do { if (i >= end) throw new Lz4Error('truncated LZ4 match length'); b = src[i++]; ml += b; } while (b === 255); }
    ml += 4;
    if (o + ml > limit) throw new Lz4Error('LZ4 data longer than its declared size');
    let from = o - offset;
    if (offset >= ml) { out.copyWithin(o, from, from + ml); o += ml; }
    else for (const stop = o + ml; o < stop;) out[o++] = out[from++]; // overlapping copy (runs)
  }
  return o;
}
