/**
 * CSV/TSV through csv-parse (quoted fields, BOM, CRLF, embedded newlines). A record longer than
 * maxRecordBytes (e.g. an unbalanced quote swallowing the rest of the file) stops with a DATA013
 * at the record's line and the rest of the file is reported incomplete; malformed records
 * (bad quotes, wrong field counts) are DATA013 and skipped.
 */
import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import type { Auditor } from '../engine';
import type { Chunks } from './lines';

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** CSV cells are text; numbers and booleans are recognized so types and labels work as in JSON. */
export function castCell(v: string): unknown {
  if (v === '') return null;
  if (v.length <= 24 && NUMBER.test(v)) { const n = Number(v); if (Number.isFinite(n)) return n; }
  if (v === 'true' || v === 'True' || v === 'TRUE') return true;
  if (v === 'false' || v === 'False' || v === 'FALSE') return false;
  return v;
}

function countNewlines(s: string): number { let n = 0; for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++; return n; }

export async function readCsv(a: Auditor, src: number, chunks: Chunks, delimiter: ',' | '\t', cancelled?: () => boolean): Promise<void> {
  const skipped: Array<{ line: number; message: string }> = [];
  const parser = parse({
    delimiter, bom: true, info: true, raw: true, relax_column_count: true, skip_empty_lines: true,
    max_record_size: a.limits.maxRecordBytes, skip_records_with_error: true, relax_quotes: delimiter === '\t',
    on_skip: (err: CsvError | undefined) => {
      if (!err) return;
      const line = Math.max(0, Number((err as { lines?: number }).lines ?? 1) - 1);
      skipped.push({ line, message: csvMessage(err) });
    },
  });
  const input = Readable.from(chunks as AsyncIterable<string>, { objectMode: false });
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  let header: string[] | undefined;
  let fatal: CsvError | undefined;
  // an editor re-audit: a record seen before (same text, same header) keeps its record and row work
  const cache = a.rowCache(src);
  parser.on('error', (e) => { fatal = e as CsvError; });
  const flushSkipped = () => { for (const s of skipped.splice(0)) a.malformed(src, s.line, 0, s.message); };
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      flushSkipped();
      if (cancelled?.()) { a.incomplete(src, 'cancelled'); input.destroy(); parser.destroy(); return; }
      let raw = item.raw ?? '';
      while (raw.startsWith('\n') || raw.startsWith('\r\n')) raw = raw.slice(raw[0] === '\r' ? 2 : 1);
      const endLine = item.info.lines; // 1-based line where the record ends (including its newline)
      const trailingNl = raw.endsWith('\n') ? 1 : 0;
      const startLine = trailingNl ? endLine - countNewlines(raw) : endLine - 1 - countNewlines(raw);
      if (!header) {
        header = item.record.map((h, i) => (h.trim() ? h.trim() : `column_${i + 1}`));
        const seen = new Set<string>();
        header = header.map((h) => { let n = h, k = 2; while (seen.has(n)) n = `${h}_${k++}`; seen.add(n); return n; });
        cache?.useHeader(JSON.stringify(header));
        continue;
      }
      const cells = item.record;
      const line = Math.max(0, startLine), text = raw.replace(/\r?\n$/, '');
      if (cells.length !== header.length) a.malformed(src, line, 0, `record at line ${startLine + 1} has ${cells.length} fields, the header has ${header.length}`);
      // keyed by the whole raw record, its line break included (a CR the parser keeps in the last cell of an LF file is part of the record)
      let entry = cache && startLine >= 0 ? cache.getRecord(line, raw) : -1;
      let rec: Record<string, unknown>;
      if (entry >= 0) rec = cache!.records[entry];
      else {
        rec = {};
        for (let i = 0; i < header.length && i < cells.length; i++) rec[header[i]] = castCell(cells[i]);
        if (cache && startLine >= 0) entry = cache.addRecord(line, raw, rec);
      }
      a.row(src, entry >= 0 ? { line, record: rec, raw: text, header, entry } : { line, record: rec, raw: text, header });
      if (!a.wantsMore(src)) { a.row(src, { line: startLine, record: {} }); input.destroy(); parser.destroy(); return; }
    }
  } catch (e) { fatal = e as CsvError; }
  flushSkipped();
  if (fatal) {
    const line = Math.max(0, Number((fatal as { lines?: number }).lines ?? 1) - 1);
    a.malformed(src, line, 0, csvMessage(fatal));
    a.incomplete(src, `the CSV parser stopped at line ${line + 1} (${fatal.code ?? 'error'}); the rest of the file was not read`, line);
  }
}

function csvMessage(e: CsvError): string {
  const line = Number((e as { lines?: number }).lines ?? 0);
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED': return `unbalanced quote: the quoted field opened before line ${line} is never closed`;
    case 'CSV_MAX_RECORD_SIZE': return `record at line ${line} is longer than the record limit (an unbalanced quote?); skipped`;
    case 'INVALID_OPENING_QUOTE': return `invalid opening quote at line ${line}; record skipped`;
    case 'CSV_INVALID_CLOSING_QUOTE': return `invalid closing quote at line ${line}; record skipped`;
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE': return `characters after a closing quote at line ${line}; record skipped`;
    default: return `${e.code ?? 'CSV error'} at line ${line}: ${e.message.slice(0, 120)}`;
  }
}
