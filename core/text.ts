/** Text helpers shared by every parser: line tables and offset <-> position mapping. */
import type { Position, Range } from './types';

/** Line starts after each terminator in text[from, to), appended to `out`; \n via indexOf (memchr speed) when there is no \r. */
function lineStarts(text: string, from: number, to: number, out: number[]): number[] {
  const cr = text.indexOf('\r', from);
  if (cr < 0 || cr >= to) {
    for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) out.push(i + 1);
    return out;
  }
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) out.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      out.push(i + 1);
    }
  }
  return out;
}

/** Start offsets of each line; handles \n, \r\n and lone \r. */
export class LineIndex {
  readonly starts: number[];
  constructor(readonly text: string, starts?: number[]) {
    this.starts = starts ?? lineStarts(text, 0, text.length, [0]);
  }
  /**
   * The index of `text`, which is `old.text` with [start, oldEnd) replaced by [start, newEnd):
   * line starts before the edit are kept, after it shifted, so an edit costs O(lines) additions
   * instead of a scan of the whole text.
   */
  static edited(old: LineIndex, text: string, start: number, oldEnd: number, newEnd: number): LineIndex {
    const delta = newEnd - oldEnd;
    const starts: number[] = [];
    let k = 0;
    // A line start s depends on the characters at s-2..s ('\r\n' is one terminator): keep those before the edit.
    while (k < old.starts.length && old.starts[k] < start) starts.push(old.starts[k++]);
    if (!starts.length) starts.push(0);
    lineStarts(text, starts[starts.length - 1], Math.min(text.length, newEnd + 1), starts);
    for (k = 0; k < old.starts.length && old.starts[k] < oldEnd + 2; k++);
    const last = starts[starts.length - 1];
    for (; k < old.starts.length; k++) if (old.starts[k] + delta > last) starts.push(old.starts[k] + delta);
    return new LineIndex(text, starts);
  }
  get lineCount(): number { return this.starts.length; }
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid; else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo] };
  }
  offsetAt(p: Position): number {
    if (p.line >= this.starts.length) return this.text.length;
    return Math.min(this.starts[Math.max(0, p.line)] + p.character, this.lineEnd(p.line));
  }
  rangeOf(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }
  /** Offset of the end of line `line`, excluding its terminator. */
  lineEnd(line: number): number {
    const next = line + 1 < this.starts.length ? this.starts[line + 1] : this.text.length;
    let e = next;
    if (e > this.starts[line] && this.text.charCodeAt(e - 1) === 10) e--;
    if (e > this.starts[line] && this.text.charCodeAt(e - 1) === 13) e--;
    return e;
  }
  lineText(line: number): string {
    return this.text.slice(this.starts[line], this.lineEnd(line));
  }
}
