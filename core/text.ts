/** Text helpers shared by every parser: line tables and offset <-> position mapping. */
import type { Position, Range } from './types';

/** Start offsets of each line; handles \n, \r\n and lone \r. */
export class LineIndex {
  readonly starts: number[];
  constructor(readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      }
    }
    this.starts = starts;
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
