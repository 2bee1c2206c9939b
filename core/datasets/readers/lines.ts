/**
 * JSON Lines and JSON-array readers over a stream of text chunks (a file stream or an editor
 * buffer). Lines longer than maxRecordBytes are skipped without being held in memory (a 1 GB
 * single-line file costs one chunk of memory), JSON nesting deeper than maxJsonDepth is refused
 * before parsing, and every problem is a DATA013 finding with its line.
 */
import type { Auditor } from '../engine';

export type Chunks = AsyncIterable<string> | Iterable<string>;

/** Records shorter than this are not scanned for depth (at most 2,048 levels: harmless). */
export const DEPTH_SCAN_MIN_CHARS = 4096;

/** Nesting depth of a JSON text exceeds `limit` (strings are skipped). */
export function depthExceeds(s: string, limit: number): boolean {
  let depth = 0, inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inStr) { if (c === 92) i++; else if (c === 34) inStr = false; continue; }
    if (c === 34) inStr = true;
    else if (c === 123 || c === 91) { if (++depth > limit) return true; }
    else if (c === 125 || c === 93) depth--;
  }
  return false;
}

function parseRecord(a: Auditor, src: number, text: string, line: number, character: number, what: string): Record<string, unknown> | undefined {
  const lim = a.limits.maxJsonDepth;
  // Depth is checked on records long enough to nest past what the code that walks values can take;
  // a short record cannot nest deeper than half its length, which JSON.parse and our walkers handle.
  if (text.length > Math.max(lim * 2, DEPTH_SCAN_MIN_CHARS) && depthExceeds(text, lim)) { a.malformed(src, line, character, `${what} nests deeper than ${lim} levels; not read`); return undefined; }
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) {
    a.malformed(src, line, character, `${what} is not valid JSON (${(e as Error).message.replace(/\s+in JSON at position.*$/, '').slice(0, 120)})`);
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) { a.malformed(src, line, character, `${what} is not a JSON object (${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v})`); return undefined; }
  return v as Record<string, unknown>;
}

/** JSON Lines: one object per line; blank lines are skipped. */
export async function readJsonl(a: Auditor, src: number, chunks: Chunks, cancelled?: () => boolean): Promise<void> {
  const max = a.limits.maxRecordBytes;
  let carry = '';
  let skipping = false; // inside an over-long line
  let line = 0; // line number of carry's start
  let lineStart = 0;
  const cache = a.rowCache(src);
  const handle = (text: string, at: number) => {
    let t = text;
    if (t.endsWith('\r')) t = t.slice(0, -1);
    if (line === 0 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    if (!t.trim()) return;
    // an editor re-audit: a line seen before is not parsed again (its record and row work are cached)
    let entry = cache ? cache.get(at, t) : -1;
    const rec = entry >= 0 ? cache!.records[entry] : parseRecord(a, src, t, at, 0, `line ${at + 1}`);
    if (!rec) return;
    if (cache && entry < 0) entry = cache.add(at, t, rec);
    a.row(src, entry >= 0 ? { line: at, record: rec, raw: t, entry } : { line: at, record: rec, raw: t });
  };
  for await (const chunk of chunks) {
    if (cancelled?.()) { a.incomplete(src, 'cancelled'); return; }
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', pos);
      if (nl < 0) {
        if (!skipping) {
          carry += chunk.slice(pos);
          if (carry.length > max) { a.malformed(src, line, 0, `line ${line + 1} is longer than ${max} bytes; skipped`); carry = ''; skipping = true; }
        }
        break;
      }
      if (skipping) skipping = false;
      else handle(carry ? carry + chunk.slice(pos, nl) : chunk.slice(pos, nl), line);
      carry = '';
      line++;
      lineStart = nl + 1;
      pos = nl + 1;
      if (!a.wantsMore(src)) { a.row(src, { line, record: {} }); return; }
    }
  }
  void lineStart;
  if (!skipping && carry) handle(carry, line);
}

/**
 * A JSON file: an array of objects, streamed element by element (positions of each element kept),
 * or an object holding such an array (read whole, up to maxRecordBytes), or JSON Lines misnamed .json.
 */
export async function readJsonArray(a: Auditor, src: number, chunks: Chunks, cancelled?: () => boolean): Promise<void> {
  const max = a.limits.maxRecordBytes;
  const depthLimit = a.limits.maxJsonDepth;
  let state: 'start' | 'between' | 'element' | 'done' | 'object' = 'start';
  let depth = 0, inStr = false, esc = false;
  let buf = '', over = false, tooDeep = false;
  let line = 0, col = 0, elLine = 0, elCol = 0;
  let objectText = '';
  let objectOver = false;
  const iter = (Symbol.asyncIterator in (chunks as object)) ? (chunks as AsyncIterable<string>) : (async function* () { yield* chunks as Iterable<string>; })();
  for await (const chunk of iter) {
    if (cancelled?.()) { a.incomplete(src, 'cancelled'); return; }
    if (state === 'object') {
      if (!objectOver) { objectText += chunk; if (objectText.length > max) objectOver = true; }
      continue;
    }
    let segStart = -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (state === 'start') {
        if (c === 0xfeff || c === 32 || c === 9 || c === 13 || c === 10) { if (c === 10) { line++; col = 0; } else col++; continue; }
        if (c === 91) { state = 'between'; col++; continue; }
        if (c === 123) { state = 'object'; objectText = chunk.slice(i); if (objectText.length > max) objectOver = true; break; }
        a.malformed(src, line, col, 'not a JSON array or object'); return;
      }
      if (state === 'done') {
        if (c !== 32 && c !== 9 && c !== 13 && c !== 10) { a.malformed(src, line, col, 'text after the end of the JSON array'); return; }
        if (c === 10) { line++; col = 0; } else col++;
        continue;
      }
      if (state === 'between') {
        if (c === 10) { line++; col = 0; continue; }
        col++;
        if (c === 32 || c === 9 || c === 13 || c === 44) continue;
        if (c === 93) { state = 'done'; continue; }
        state = 'element'; depth = 0; inStr = false; esc = false; buf = ''; over = false; tooDeep = false;
        elLine = line; elCol = col - 1; segStart = i;
        // fall through to process this char as part of the element
        col--;
      }
      // element
      if (c === 10) { line++; col = 0; } else col++;
      let end = 0; // 1: element ends after this char, 2: before it (a comma), 3: before it and the array closes
      if (inStr) { if (esc) esc = false; else if (c === 92) esc = true; else if (c === 34) inStr = false; }
      else if (c === 34) inStr = true;
      else if (c === 123 || c === 91) { if (++depth > depthLimit) tooDeep = true; }
      else if (c === 125 || c === 93) { if (depth === 0) end = 3; else if (--depth === 0) end = 1; }
      else if (depth === 0 && c === 44) end = 2;
      if (end) {
        if (!over && !tooDeep) {
          const text = (buf + chunk.slice(segStart < 0 ? 0 : segStart, end === 1 ? i + 1 : i)).trim();
          const rec = parseRecord(a, src, text, elLine, elCol, `array element at line ${elLine + 1}`);
          if (rec) a.row(src, { line: elLine, record: rec, ...(text.includes('\n') ? {} : { raw: text, column: elCol }) });
        } else if (tooDeep) a.malformed(src, elLine, elCol, `array element at line ${elLine + 1} nests deeper than ${depthLimit} levels; not read`);
        else a.malformed(src, elLine, elCol, `array element at line ${elLine + 1} is longer than ${max} bytes; skipped`);
        state = end === 3 ? 'done' : 'between';
        segStart = -1; buf = '';
        if (!a.wantsMore(src)) { a.row(src, { line, record: {} }); return; }
      }
    }
    if (state === 'element' && !over && !tooDeep) {
      buf += chunk.slice(segStart < 0 ? 0 : segStart);
      if (buf.length > max) { over = true; buf = ''; }
    }
  }
  if (state === 'object') return readWholeObject(a, src, objectText, objectOver);
  if (state === 'element' || state === 'between') a.malformed(src, line, col, 'the JSON array is not closed (truncated file?)');
}

async function readWholeObject(a: Auditor, src: number, text: string, over: boolean): Promise<void> {
  // JSON Lines with a .json name: the first line is a whole object and more lines follow.
  const nl = text.indexOf('\n');
  if (nl > 0 && text.slice(nl + 1).trimStart().startsWith('{')) {
    let first = false;
    try { JSON.parse(text.slice(0, nl)); first = true; } catch { /* not JSON Lines */ }
    if (first && !over) return readJsonl(a, src, [text]);
  }
  if (over) { a.incomplete(src, `a JSON object file larger than ${a.limits.maxRecordBytes} bytes is not read (use JSON Lines or a JSON array)`); return; }
  const rec = parseRecord(a, src, text, 0, 0, 'the file');
  if (!rec) return;
  const key = Object.keys(rec).find((k) => Array.isArray(rec[k]) && (rec[k] as unknown[]).some((x) => x && typeof x === 'object' && !Array.isArray(x)));
  if (!key) { a.incomplete(src, 'a JSON object without a list of records (nothing to audit)'); return; }
  for (const r of rec[key] as unknown[]) {
    if (!a.wantsMore(src)) break;
    if (r && typeof r === 'object' && !Array.isArray(r)) a.row(src, { line: -1, record: r as Record<string, unknown> });
  }
}
