/**
 * CSV/TSV through csv-parse (quoted fields, BOM, CRLF, embedded newlines). A record longer than
 * maxRecordBytes (e.g. an unbalanced quote swallowing the rest of the file) stops with a DATA013
 * at the record's line and the rest of the file is reported incomplete; malformed records
 * (bad quotes, wrong field counts) are DATA013 and skipped.
 */
import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { countLineBreaks } from '../../text';
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

/** CR and LF characters in s[from, to). */
function breakChars(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  for (let i = s.indexOf('\r', from); i >= 0 && i < to; i = s.indexOf('\r', i + 1)) n++;
  return n;
}

/** CRLF pairs in s. */
function crlfPairs(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\r\n'); i >= 0; i = s.indexOf('\r\n', i + 2)) n++;
  return n;
}


/**
 * Real line numbers for csv-parse's records. A record's line is the line of its first character
 * after the blank lines before it, counted as the editor counts (LF, CRLF and a lone CR each end
 * one line). csv-parse's own count (`info.lines`) adds one at every CR and every LF it reads one at
 * a time: a CRLF record delimiter counts once (it skips the LF), but a CRLF it reads as two
 * characters — inside a quoted field, or a CR before an LF-file's LF — counts twice. `ahead` is how
 * far its count has run ahead of the real one, kept in parse order from each record's raw text
 * (the `raw` option: the characters the parser read for the record, the blank lines before it
 * included, a CRLF delimiter's LF excluded), skipped records placed between the records they came
 * between (by csv-parse's record count when it skipped them); a skipped record's characters after its error are never
 * seen, so a CRLF inside quotes there is not counted (the next lines may be one too far until the
 * end of the file; only after malformed records).
 */
class CsvLines {
  ahead = 0;
  private started = false;
  private kind: '' | 'lf' | 'crlf' | 'cr' = '';
  /** The skipped record under way: its raw text so far, its line and the count before it. */
  private skip?: { raw: string; m: number; line: number; ahead: number; pairs: number; guess: boolean };
  constructor(private readonly parser: { options: { record_delimiter?: Buffer[] } }) {}

  delimiter(): '' | 'lf' | 'crlf' | 'cr' {
    if (!this.kind) {
      const d = this.parser.options.record_delimiter?.[0];
      if (d && d.length) this.kind = d.length >= 2 && d[0] === 13 && d[1] === 10 ? 'crlf' : d[0] === 13 ? 'cr' : 'lf';
    }
    return this.kind;
  }

  /** Characters of `raw` that are blank lines before the record. */
  lead(raw: string): number {
    const k = this.delimiter();
    if (!k) return 0;
    const c = k === 'lf' ? '\n' : '\r';
    let m = 0;
    while (m < raw.length && raw[m] === c) m++;
    return m;
  }

  private commitSkip(): void {
    if (this.skip) { this.ahead = this.skip.ahead + this.skip.pairs; this.skip = undefined; }
  }

  /**
   * Where the record read as `raw` (`m` blank-line characters first) starts, 0-based, given the
   * parser's (1-based) line at its last character `endLine`, the count before it, and the CRLF
   * pairs the parser read as two characters in it.
   */
  private place(raw: string, m: number, endLine: number): { line: number; ahead: number; pairs: number } {
    let ahead = this.ahead;
    // a CR-delimited file: an LF right after the CR that ended the last line is part of that line break
    if (this.started && this.kind === 'cr' && raw.charCodeAt(m) === 10) ahead++;
    const last = raw.length > m ? raw.charCodeAt(raw.length - 1) : 0;
    // the parser counts a line break when it reads the character after it: the last one is not counted yet
    const counted = breakChars(raw, m, last === 10 || last === 13 ? raw.length - 1 : raw.length);
    const pairs = crlfPairs(m ? raw.slice(m) : raw);
    return { line: endLine - counted - 1 - ahead, ahead, pairs };
  }

  /**
   * A record the parser emitted: its line. After a skipped record (whose characters after its
   * error were not seen) the count is set again from the input's bytes when `real` can tell the
   * line where the record starts (`start`: its offset, from the record's end and raw text).
   */
  record(raw: string, m: number, endLine: number, real?: (own: string) => number): number {
    const afterSkip = this.skip !== undefined;
    this.commitSkip();
    const p = this.place(raw, m, endLine);
    if (afterSkip && real && raw.length > m) {
      const line = real(m ? raw.slice(m) : raw);
      if (line >= 0) { p.ahead += p.line - line; p.line = line; }
    }
    this.ahead = p.ahead + p.pairs;
    this.started = true;
    return Math.max(0, p.line);
  }

  /**
   * A record the parser skipped (an error at its line `errLine`): the record's line and the error's.
   * `exact(m)`, when the record follows a record that was read (not another skipped one), gives its
   * blank-line characters and first line from the input's bytes; otherwise (`guess`) the line is
   * csv-parse's count corrected as far as seen, which the caller bounds by the next record's line.
   */
  skipped(raw: string, errLine: number, exact?: (m: number) => { m: number; line: number } | undefined): { line: number; errorLine: number; guess: boolean } {
    if (this.skip && raw.startsWith(this.skip.raw)) {
      // another error in the same record
      this.skip.raw = raw;
      const own = raw.slice(this.skip.m);
      this.skip.pairs = crlfPairs(own);
      return { line: this.skip.line, errorLine: this.skip.line + countLineBreaks(own), guess: this.skip.guess };
    }
    const afterRecord = this.skip === undefined;
    const prevLine = this.skip?.line ?? 0; // a guess is never before the skipped record it follows
    this.commitSkip();
    let m = this.lead(raw);
    const e = afterRecord && exact ? exact(m) : undefined;
    if (e) m = e.m;
    const p = this.place(raw, m, errLine);
    if (e) { p.ahead += p.line - e.line; p.line = e.line; }
    else p.line = Math.max(prevLine, p.line);
    this.skip = { raw, m, line: Math.max(0, p.line), ahead: p.ahead, pairs: p.pairs, guess: !e };
    this.started = true;
    return { line: this.skip.line, errorLine: this.skip.line + countLineBreaks(raw.slice(m)), guess: !e };
  }

  /** The real line of a line in the parser's count (an error outside any record it reported). */
  real(csvLine: number, raw?: string): number {
    const pairs = raw ? crlfPairs(raw.slice(this.lead(raw))) : 0;
    return Math.max(0, csvLine - 1 - (this.skip ? this.skip.ahead + this.skip.pairs : this.ahead) - (this.skip ? 0 : pairs));
  }
}

/**
 * The input's bytes from the last record read on, for the line at a byte offset after a skipped
 * record (csv-parse gives byte offsets, `info.bytes`, only for the records it emits). Each record
 * read sets the mark (its end and the line there, known from its text); the bytes before the mark
 * are dropped, so those kept are the ones the parser has been handed but not yet given back as
 * records (a chunk or two). Lines end at LF, CRLF and a lone CR.
 */
class ByteLines {
  private bufs: Buffer[] = [];
  private base = 0; // offset of bufs[0]
  private pos = 0; // the mark: `line` lines ended before it
  private line = 0;
  private cr = false; // the byte before the mark is a CR counted as a line end (an LF at the mark is part of it)
  push(b: Buffer): void { if (b.length) this.bufs.push(b); }
  private byteAt(o: number): number {
    let off = this.base;
    for (const b of this.bufs) { if (o < off + b.length) return b[o - off]; off += b.length; }
    return -1;
  }
  /** The byte at offset o, or -1 when it is no longer (or not yet) kept. */
  at(o: number): number { return o >= this.base ? this.byteAt(o) : -1; }
  get markAt(): number { return this.pos; }
  /** The line at the mark is `line` plus the line breaks of `text`, counted when first needed (rarely: after a skipped record). */
  private text?: string;
  /** The end of the last record read, which started on `line` and read as `text`. */
  mark(pos: number, line: number, text: string, cr: boolean): void {
    this.pos = pos; this.line = line; this.text = text; this.cr = cr;
    while (this.bufs.length && this.base + this.bufs[0].length <= pos) { this.base += this.bufs[0].length; this.bufs.shift(); }
  }
  private count(to: number): { line: number; pos: number; cr: boolean } {
    if (this.text !== undefined) { this.line += countLineBreaks(this.text); this.text = undefined; }
    let line = this.line, pos = this.pos, cr = this.cr;
    if (cr && pos < to && this.at(pos) === 10) { pos++; cr = false; }
    let off = this.base;
    for (const b of this.bufs) {
      const end = off + b.length;
      if (end > pos && off < to && Math.min(to, end) > pos) {
        const from = pos - off, stop = Math.min(to, end) - off;
        for (let i = b.indexOf(10, from); i >= 0 && i < stop; i = b.indexOf(10, i + 1)) line++;
        for (let i = b.indexOf(13, from); i >= 0 && i < stop; i = b.indexOf(13, i + 1)) {
          const next = i + 1 < b.length ? b[i + 1] : this.byteAt(off + i + 1);
          if (next !== 10) line++; // a CRLF ends its line at the LF
        }
        pos = Math.min(to, end);
        cr = false;
      }
      off = end;
    }
    return { line, pos, cr };
  }
  /** Lines ended before offset `to` (from the mark on; otherwise -1); the mark moves there. */
  lineAt(to: number): number {
    if (to < this.pos) return -1;
    const c = this.count(to);
    if (c.pos < to) return -1;
    this.pos = c.pos; this.line = c.line; this.cr = c.cr;
    return c.line;
  }
  /** The last line of the bytes handed over so far (the mark stays). */
  lastLine(): number { return this.count(Infinity).line; }
}

interface CsvItem { record: string[]; info: { lines: number; bytes: number }; raw: string }

export async function readCsv(a: Auditor, src: number, chunks: Chunks, delimiter: ',' | '\t', cancelled?: () => boolean): Promise<void> {
  // parser errors of skipped records, with the number of records emitted before them: placed in
  // parse order between the records (an `on_record` callback would cost ~2 µs a record: csv-parse
  // builds a second info object and raw string for it)
  const skipped: Array<{ err: CsvError; raw: string; at: number }> = [];
  // bytes handed to the parser, the last character, and whether the input ended: a record that
  // ends the input with a CR kept in its last cell (no LF after it) is not the same record as one
  // ending in a CRLF delimiter
  let fedBytes = 0, lastFed = 0, inputDone = false;
  const parser = parse({
    delimiter, bom: true, info: true, raw: true, relax_column_count: true, skip_empty_lines: true,
    max_record_size: a.limits.maxRecordBytes, skip_records_with_error: true, relax_quotes: delimiter === '\t',
    on_skip: (err: CsvError | undefined, raw?: string) => {
      if (!err) return;
      skipped.push({ err, raw: raw ?? String((err as { raw?: string }).raw ?? ''), at: parser.info.records });
    },
  });
  const lines = new CsvLines(parser as unknown as { options: { record_delimiter?: Buffer[] } });
  const bytes = new ByteLines();
  const counted = (async function* () {
    for await (const c of chunks as AsyncIterable<string>) {
      if (!c.length) continue;
      const b = Buffer.from(c, 'utf8');
      fedBytes += b.length;
      lastFed = c.charCodeAt(c.length - 1);
      bytes.push(b);
      yield b;
    }
    inputDone = true;
  })();
  const input = Readable.from(counted, { objectMode: false });
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  let header: string[] | undefined;
  let fatal: CsvError | undefined;
  // an editor re-audit: a record seen before (same text, same header) keeps its record and row work
  const cache = a.rowCache(src);
  parser.on('error', (e) => { fatal = e as CsvError; });
  let next = 0, index = 0;
  /** The skipped records before record `upTo` (all of them: Infinity). */
  const flushSkipped = (upTo: number) => {
    for (; next < skipped.length && skipped[next].at <= upTo; next++) {
      const s = skipped[next];
      const r = lines.skipped(s.raw, Number((s.err as { lines?: number }).lines ?? 1), (m) => {
        // the record starts after the last record read and its blank lines (a CRLF each in a CRLF file)
        const kind = lines.delimiter();
        let at = bytes.markAt, k = 0;
        for (; k < m; k++) {
          if (kind === 'crlf') { if (bytes.at(at) === 13 && bytes.at(at + 1) === 10) at += 2; else break; }
          else if (bytes.at(at) === (kind === 'lf' ? 10 : 13)) at++;
          else break;
        }
        const line = bytes.lineAt(at);
        return line >= 0 ? { m: k, line } : undefined;
      });
      placed.push({ err: s.err, ...r });
    }
    if (next === skipped.length) { skipped.length = 0; next = 0; }
  };
  // skipped records placed, reported once the next record's line (or the last line) bounds the guessed ones
  const placed: Array<{ err: CsvError; line: number; errorLine: number; guess: boolean }> = [];
  const report = (bound: number) => {
    for (const p of placed) {
      const line = p.guess ? Math.min(p.line, bound) : p.line, errorLine = p.guess ? Math.min(p.errorLine, bound) : p.errorLine;
      a.malformed(src, line, 0, csvMessage(p.err, line, errorLine));
    }
    placed.length = 0;
  };
  try {
    for await (const item of parser as AsyncIterable<CsvItem>) {
      flushSkipped(index++);
      if (cancelled?.()) { a.incomplete(src, 'cancelled'); input.destroy(); parser.destroy(); return; }
      const full = item.raw ?? '';
      let m = lines.lead(full);
      if (m && lines.delimiter() === 'crlf') {
        // CRs before the record: a blank line each (its LF is not in the raw text) unless a lone CR,
        // the first character of the record's first cell: those are the CRs right before its other characters
        const own = full.slice(m), end = item.info.bytes;
        let at = end - (own.charCodeAt(own.length - 1) === 13 && bytes.at(end - 1) === 10 ? 1 : 0) - Buffer.byteLength(own);
        while (m > 0 && bytes.at(at - 1) === 13) { m--; at--; }
      }
      const line = lines.record(full, m, item.info.lines, (own) => {
        // the record's own characters end at its end offset, less a CRLF delimiter's LF (not in the raw text)
        const end = item.info.bytes;
        const lf = own.charCodeAt(own.length - 1) === 13 && bytes.at(end - 1) === 10 ? 1 : 0;
        return bytes.lineAt(end - lf - Buffer.byteLength(own));
      });
      if (placed.length) report(line);
      {
        // the mark follows the records (the bytes before it are dropped): the line at the record's end
        const own = m ? full.slice(m) : full;
        const crEnd = own.charCodeAt(own.length - 1) === 13 && bytes.at(item.info.bytes - 1) === 13;
        bytes.mark(item.info.bytes, line, own, crEnd);
      }
      if (!header) {
        header = item.record.map((h, i) => (h.trim() ? h.trim() : `column_${i + 1}`));
        const seen = new Set<string>();
        header = header.map((h) => { let n = h, k = 2; while (seen.has(n)) n = `${h}_${k++}`; seen.add(n); return n; });
        cache?.useHeader(JSON.stringify(header));
        continue;
      }
      // the record's own characters: the blank lines before it left out
      let raw = m ? full.slice(m) : full;
      // for positions inside the record: without its line break
      const end = raw.charCodeAt(raw.length - 1);
      const text = end === 10 ? raw.slice(0, raw.charCodeAt(raw.length - 2) === 13 ? -2 : -1) : end === 13 ? raw.slice(0, -1) : raw;
      const cells = item.record;
      if (cells.length !== header.length) a.malformed(src, line, 0, `record at line ${line + 1} has ${cells.length} fields, the header has ${header.length}`);
      // keyed by the whole raw record, its line break included (a CR the parser keeps in the last
      // cell of an LF file is part of the record); a CR that ends the input is a cell's character,
      // not the start of a CRLF delimiter: marked so the two never share an entry
      if (inputDone && lastFed === 13 && item.info.bytes === fedBytes && raw.endsWith('\r')) raw += '\u0000';
      let entry = cache ? cache.getRecord(line, raw) : -1;
      let rec: Record<string, unknown>;
      if (entry >= 0) rec = cache!.records[entry];
      else {
        rec = {};
        for (let i = 0; i < header.length && i < cells.length; i++) rec[header[i]] = castCell(cells[i]);
        if (cache) entry = cache.addRecord(line, raw, rec);
      }
      a.row(src, entry >= 0 ? { line, record: rec, raw: text, header, entry } : { line, record: rec, raw: text, header });
      if (!a.wantsMore(src)) { a.row(src, { line, record: {} }); input.destroy(); parser.destroy(); return; }
    }
  } catch (e) { fatal = e as CsvError; }
  flushSkipped(Infinity);
  if (placed.length) report(bytes.lastLine());
  if (fatal) {
    const line = lines.real(Number((fatal as { lines?: number }).lines ?? 1), (fatal as { raw?: string }).raw);
    a.malformed(src, line, 0, csvMessage(fatal, line, line));
    a.incomplete(src, `the CSV parser stopped at line ${line + 1} (${fatal.code ?? 'error'}); the rest of the file was not read`, line);
  }
}

/** The message for a parser error: `line` is the record's (0-based) line, `errorLine` the error's. */
function csvMessage(e: CsvError, line: number, errorLine: number): string {
  const at = errorLine + 1;
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED': return `unbalanced quote: the quoted field opened on line ${line + 1} is never closed`;
    case 'CSV_MAX_RECORD_SIZE': return `record at line ${line + 1} is longer than the record limit (an unbalanced quote?); skipped`;
    case 'INVALID_OPENING_QUOTE': return `invalid opening quote at line ${at}; record skipped`;
    case 'CSV_INVALID_CLOSING_QUOTE': return `invalid closing quote at line ${at}; record skipped`;
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE': return `characters after a closing quote at line ${at}; record skipped`;
    default: return `${e.code ?? 'CSV error'} at line ${at}: ${e.message.slice(0, 120)}`;
  }
}
