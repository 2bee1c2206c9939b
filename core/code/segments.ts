/**
 * Top-level statement boundaries of Python source, found by a small lexer that
 * only tracks what decides where a statement ends: strings (single, triple,
 * escapes), comments, brackets and backslash continuations. It does not parse:
 * tree-sitter does that, but only over the statements the rules can care about
 * (tree-sitter "included ranges"), which is what keeps a 5,000-line module cheap.
 *
 * A boundary is a line that starts at column 0 with a statement, outside any
 * string or bracket, not continued by a backslash, and not a clause that belongs
 * to the statement before it (`else`, `elif`, `except`, `finally`) or the
 * definition a decorator applies to. Mistakes are safe in one direction only:
 * a missed boundary makes a segment larger (more gets parsed), never smaller.
 */

export interface Segments {
  /** Start offset of each segment; segment i spans [starts[i], starts[i + 1]) and the last one ends at the text's end. */
  starts: number[];
  /** tree-sitter point (rows count '\n' only; column in UTF-16 code units) of each start. */
  rows: number[];
  columns: number[];
  /** Point of the end of the text. */
  endRow: number;
  endColumn: number;
  textLength: number;
  /**
   * Set by updateSegments: segments [0, prefix) and, from tailNew on, those from tailOld on in the
   * old list have exactly the old text (shifted), so per-segment facts can be carried over.
   */
  reused?: { prefix: number; tailOld: number; tailNew: number };
}

/** Carry per-segment flags over an update: reused segments keep theirs, the others get `fresh(i)`. */
export function carryFlags(old: Uint8Array, segs: Segments, fresh: (index: number) => number): Uint8Array {
  const out = new Uint8Array(segs.starts.length);
  const r = segs.reused;
  if (!r) { for (let i = 0; i < out.length; i++) out[i] = fresh(i); return out; }
  out.set(old.subarray(0, r.prefix), 0);
  for (let i = r.prefix; i < r.tailNew; i++) out[i] = fresh(i);
  out.set(old.subarray(r.tailOld, r.tailOld + (out.length - r.tailNew)), r.tailNew);
  return out;
}

const CONTINUATION_CLAUSES = ['else', 'elif', 'except', 'finally'];

function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 127;
}

function startsWithWord(text: string, at: number, word: string): boolean {
  return text.startsWith(word, at) && !isIdentChar(text.charCodeAt(at + word.length));
}

/** Split `text` into top-level statement segments. Linear time, no allocation per character. */
export function segmentPython(text: string): Segments {
  const segs: Segments = { starts: [0], rows: [0], columns: [0], endRow: 0, endColumn: 0, textLength: text.length };
  lexFrom(text, 0, 0, segs);
  return segs;
}

/**
 * Lex from `from` (a segment start: the lexer's state is fresh there) with `row` its row, appending
 * boundaries after `from` to `segs`. `resync` (for updates) is called at each boundary and may
 * stop the lexer by returning true once the boundaries agree with the old text's again.
 */
function lexFrom(text: string, from: number, row: number, segs: Segments, resync?: (at: number, row: number) => boolean): void {
  const n = text.length;
  const { starts, rows, columns } = segs;
  let lineStart = from; // offset just after the last '\n' (tree-sitter columns count from there)
  let depth = 0;
  let atLineStart = true;
  let decoratorOpen = false;
  let i = from;
  while (i < n) {
    if (atLineStart) {
      atLineStart = false;
      const c = text.charCodeAt(i);
      if (depth === 0 && c !== 32 && c !== 9 && c !== 12 && c !== 10 && c !== 13 && c !== 35) {
        const clause = CONTINUATION_CLAUSES.some((w) => startsWithWord(text, i, w));
        if (!clause && !decoratorOpen && i > from) {
          if (resync?.(i, row)) return;
          starts.push(i); rows.push(row); columns.push(i - lineStart);
        }
        decoratorOpen = c === 64; // '@': the next statement is the decorated definition
      }
    }
    const c = text.charCodeAt(i);
    switch (c) {
      case 10: row++; lineStart = i + 1; atLineStart = true; i++; break;
      case 13: atLineStart = text.charCodeAt(i + 1) !== 10; i++; break; // a lone '\r' ends a line for Python
      case 35: { // '#': comment to the end of the line
        let j = i + 1;
        while (j < n) { const d = text.charCodeAt(j); if (d === 10 || d === 13) break; j++; }
        i = j;
        break;
      }
      case 92: { // backslash: a line continuation when a newline follows
        const d = text.charCodeAt(i + 1);
        if (d === 10) { row++; lineStart = i + 2; i += 2; }
        else if (d === 13) i += text.charCodeAt(i + 2) === 10 ? (row++, lineStart = i + 3, 3) : 2;
        else i++;
        break;
      }
      case 34: case 39: { // a string; backslash escapes the next character in every kind (raw strings included)
        if (text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c) {
          let j = i + 3;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === 92) { if (text.charCodeAt(j + 1) === 10) { row++; lineStart = j + 2; } j += 2; continue; }
            if (d === 10) { row++; lineStart = j + 1; }
            else if (d === c && text.charCodeAt(j + 1) === c && text.charCodeAt(j + 2) === c) { j += 3; break; }
            j++;
          }
          i = Math.min(j, n);
        } else {
          let j = i + 1;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === 92) { if (text.charCodeAt(j + 1) === 10) { row++; lineStart = j + 2; } j += 2; continue; }
            if (d === c) { j++; break; }
            if (d === 10 || d === 13) break; // unterminated: the line ends it
            j++;
          }
          i = Math.min(j, n);
        }
        break;
      }
      case 40: case 91: case 123: depth++; i++; break;
      case 41: case 93: case 125: if (depth > 0) depth--; i++; break;
      default: i++;
    }
  }
  segs.endRow = row;
  segs.endColumn = n - lineStart;
}

/**
 * The segments of `text` = `old`'s text with [start, oldEnd) replaced by [start, newEnd).
 * Boundaries before the edit are kept; lexing restarts one segment before it and stops at the
 * first boundary after it that the old text also had (the lexer's state is the same there), and
 * the rest are shifted. Typing a character costs a few lines of lexing, not the whole file.
 */
export function updateSegments(old: Segments, text: string, start: number, oldEnd: number, newEnd: number): Segments {
  // Columns other than 0 come from a lone '\r' before a boundary; shifting cannot keep them exact.
  if (old.columns.some((c) => c !== 0)) return segmentPython(text);
  const delta = newEnd - oldEnd;
  const restart = Math.max(0, segmentAt(old, start) - 1);
  const segs: Segments = {
    starts: old.starts.slice(0, restart + 1), rows: old.rows.slice(0, restart + 1), columns: old.columns.slice(0, restart + 1),
    endRow: 0, endColumn: 0, textLength: text.length,
  };
  let synced = false;
  segs.reused = { prefix: restart, tailOld: old.starts.length, tailNew: 0 };
  lexFrom(text, old.starts[restart], old.rows[restart], segs, (at, row) => {
    // A boundary decision reads at most a clause keyword past `at`: beyond the edit by that much, the texts agree.
    if (at < newEnd + 16) return false;
    const q = segmentAt(old, at - delta);
    if (old.starts[q] !== at - delta) return false;
    const rowDelta = row - old.rows[q];
    segs.reused = { prefix: restart, tailOld: q, tailNew: segs.starts.length };
    for (let k = q; k < old.starts.length; k++) {
      segs.starts.push(old.starts[k] + delta); segs.rows.push(old.rows[k] + rowDelta); segs.columns.push(0);
    }
    segs.endRow = old.endRow + rowDelta;
    synced = true;
    return true;
  });
  if (synced) segs.endColumn = endColumnOf(text);
  else segs.reused!.tailNew = segs.starts.length;
  return segs;
}

function endColumnOf(text: string): number {
  return text.length - (text.lastIndexOf('\n') + 1);
}

/** Index of the segment containing `offset` (binary search). */
export function segmentAt(segs: Segments, offset: number): number {
  let lo = 0, hi = segs.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs.starts[mid] <= offset) lo = mid; else hi = mid - 1;
  }
  return lo;
}

export function segmentEnd(segs: Segments, index: number): number {
  return index + 1 < segs.starts.length ? segs.starts[index + 1] : segs.textLength;
}

/** A tree-sitter range (indices and points) covering the segments first..last. */
export interface ParseRange {
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
}

/**
 * One tree-sitter range per selected segment. Adjacent ranges are not merged: the parser groups
 * ranges into chunks with a tree each (content-defined boundaries between statements), which only
 * works when every statement is its own range.
 */
export function rangesOf(segs: Segments, selected: Uint8Array): ParseRange[] {
  const out: ParseRange[] = [];
  const count = segs.starts.length;
  for (let i = 0; i < count; i++) {
    if (!selected[i]) continue;
    const endPosition = i + 1 < count ? { row: segs.rows[i + 1], column: segs.columns[i + 1] } : { row: segs.endRow, column: segs.endColumn };
    out.push({ startIndex: segs.starts[i], endIndex: segmentEnd(segs, i), startPosition: { row: segs.rows[i], column: segs.columns[i] }, endPosition });
  }
  return out;
}

/** Does segment `index` start with a definition (`def`, `async def`, `class`, or a decorator)? */
export function isDefinitionSegment(text: string, segs: Segments, index: number): boolean {
  const at = segs.starts[index];
  if (text.charCodeAt(at) === 64 || startsWithWord(text, at, 'def') || startsWithWord(text, at, 'class')) return true;
  if (!startsWithWord(text, at, 'async')) return false;
  let j = at + 5;
  while (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9) j++;
  return startsWithWord(text, j, 'def'); // `async with`/`async for` at top level (notebooks) is module-level code
}
