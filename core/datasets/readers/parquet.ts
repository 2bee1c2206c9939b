/**
 * Parquet through hyparquet (+ hyparquet-compressors for GZIP/ZSTD/BROTLI/LZ4), read from a file
 * handle one slice of a row group at a time. Before anything is decoded the footer and every column
 * chunk's sizes are checked against the limits (corrupt footer, absurd sizes, compression ratios of
 * a bomb); every page goes through a decompressor wrapper that refuses pages over the page limit,
 * over the ratio, or past the per-file decompressed budget. Any failure is DATA014 (incomplete).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetReadObjects, snappyUncompress, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors as extraCompressors } from 'hyparquet-compressors';
import type { Auditor } from '../engine';
import { checkChunkPages } from './pageHeaders';

class BudgetError extends Error {}

function fileBuffer(fh: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const e = Math.min(end ?? size, size);
      const len = Math.max(0, e - start);
      const buf = new Uint8Array(len);
      let off = 0;
      while (off < len) {
        const { bytesRead } = await fh.read(buf, off, len - off, start + off);
        if (!bytesRead) break;
        off += bytesRead;
      }
      return buf.buffer;
    },
  };
}

type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;

export function guardedCompressors(limits: Auditor['limits'], budget: { used: number }): Record<string, Decompress> {
  const guard = (name: string, inner: Decompress): Decompress => (input, outputLength) => {
    if (outputLength > limits.maxParquetPageBytes) throw new BudgetError(`a ${name} page claims ${outputLength} decompressed bytes (page limit ${limits.maxParquetPageBytes})`);
    if (input.length && outputLength / input.length > limits.maxParquetCompressionRatio) throw new BudgetError(`a ${name} page expands ${Math.round(outputLength / input.length)}× (${input.length} → ${outputLength} bytes): a decompression bomb`);
    budget.used += outputLength;
    if (budget.used > limits.maxParquetDecompressedBytes) throw new BudgetError(`more than ${limits.maxParquetDecompressedBytes} decompressed bytes`);
    const out = inner(input, outputLength);
    if (out.length !== outputLength) throw new BudgetError(`a ${name} page decompressed to ${out.length} bytes, its header says ${outputLength}`);
    return out;
  };
  const out: Record<string, Decompress> = { SNAPPY: guard('SNAPPY', (input, n) => { const o = new Uint8Array(n); snappyUncompress(input, o); return o; }) };
  for (const [k, fn] of Object.entries(extraCompressors as Record<string, Decompress>)) if (k !== 'SNAPPY') out[k] = guard(k, fn);
  return out;
}

/** Checks on the metadata alone; a reason when the file must not be decoded. */
export function metadataProblem(md: FileMetaData, size: number, limits: Auditor['limits']): string | undefined {
  let total = 0;
  for (const [gi, rg] of md.row_groups.entries()) {
    for (const col of rg.columns) {
      const m = col.meta_data;
      if (!m) continue;
      const comp = Number(m.total_compressed_size), unc = Number(m.total_uncompressed_size);
      if (comp < 0 || unc < 0 || comp > size) return `row group ${gi + 1}, column ${m.path_in_schema.join('.')}: compressed size ${comp} does not fit the ${size}-byte file (corrupt metadata)`;
      if (comp > 0 && unc / comp > limits.maxParquetCompressionRatio) return `row group ${gi + 1}, column ${m.path_in_schema.join('.')}: ${comp} compressed bytes claim ${unc} decompressed (${Math.round(unc / comp)}×): a decompression bomb`;
      total += unc;
    }
  }
  if (total > limits.maxParquetDecompressedBytes) return `the columns claim ${total} decompressed bytes, more than the ${limits.maxParquetDecompressedBytes}-byte limit`;
  return undefined;
}

export async function readParquet(a: Auditor, src: number, file: string, cancelled?: () => boolean): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, 'r');
    const size = (await fh.stat()).size;
    if (size < 12) { a.incomplete(src, 'not a Parquet file (too short for the PAR1 header and footer)'); return; }
    const head = Buffer.alloc(4), tail = Buffer.alloc(8);
    await fh.read(head, 0, 4, 0);
    await fh.read(tail, 0, 8, size - 8);
    if (head.toString('latin1') !== 'PAR1' || tail.toString('latin1', 4) !== 'PAR1') { a.incomplete(src, 'corrupt Parquet file: the PAR1 magic is missing at the start or the end (truncated or not Parquet)'); return; }
    const footerLen = tail.readUInt32LE(0);
    if (footerLen > size - 12 || footerLen > a.limits.maxParquetFooterBytes) { a.incomplete(src, `corrupt Parquet footer: it claims ${footerLen} bytes in a ${size}-byte file${footerLen > a.limits.maxParquetFooterBytes ? ` (limit ${a.limits.maxParquetFooterBytes})` : ''}`); return; }
    const buf = fileBuffer(fh, size);
    let md: FileMetaData;
    try { md = await parquetMetadataAsync(buf); } catch (e) { a.incomplete(src, `corrupt Parquet footer: ${(e as Error).message.slice(0, 160)}`); return; }
    const problem = metadataProblem(md, size, a.limits);
    if (problem) { a.incomplete(src, `Parquet file not decoded: ${problem}`); return; }
    // Page headers before any page is decoded (a lying num_values is an allocation bomb).
    for (const [gi, rg] of md.row_groups.entries()) {
      for (const col of rg.columns) {
        const m = col.meta_data;
        if (!m) continue;
        const start = Number(m.dictionary_page_offset || m.data_page_offset);
        const pageProblem = await checkChunkPages(fh, start, Number(m.total_compressed_size), size, a.limits);
        if (pageProblem) { a.incomplete(src, `Parquet file not decoded: row group ${gi + 1}, column ${m.path_in_schema.join('.')}: ${pageProblem}`); return; }
      }
      if (cancelled?.()) { a.incomplete(src, 'cancelled'); return; }
    }
    const budget = { used: 0 };
    const compressors = guardedCompressors(a.limits, budget);
    let rowStart = 0;
    for (const rg of md.row_groups) {
      const n = Number(rg.num_rows);
      for (let off = 0; off < n; off += a.limits.parquetBatchRows) {
        if (cancelled?.()) { a.incomplete(src, 'cancelled'); return; }
        if (!a.wantsMore(src)) { a.row(src, { line: -1, record: {} }); return; }
        const start = rowStart + off, end = Math.min(rowStart + n, start + a.limits.parquetBatchRows);
        let rows: Record<string, unknown>[];
        try {
          rows = await parquetReadObjects({ file: buf, metadata: md, rowStart: start, rowEnd: end, compressors: compressors as never }) as Record<string, unknown>[];
        } catch (e) {
          a.incomplete(src, `Parquet rows ${start + 1}–${end} could not be decoded: ${(e as Error).message.slice(0, 160)}`);
          return;
        }
        for (const r of rows) a.row(src, { line: -1, record: r });
      }
      rowStart += n;
    }
  } catch (e) {
    a.incomplete(src, `Parquet file could not be read: ${(e as Error).message.slice(0, 160)}`);
  } finally {
    await fh?.close();
  }
}
