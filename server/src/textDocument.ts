/**
 * The server's open text documents: `vscode-languageserver-textdocument`'s full-text document
 * (same positions, offsets, incremental updates and line count), with a faster line index.
 *
 * The library finds line starts with a `charCodeAt` loop over the whole text the first time a
 * position is needed: for a 4 MB, 50,000-line dataset buffer that is 15–25 ms on the server thread,
 * paid on the first keystroke (an incremental change needs offsets) before the edit reaches the
 * dataset worker. Here line starts come from core/text.ts `lineStarts` (the parsers' line index: indexOf,
 * memchr speed): ~1.5 ms for the same text. Everything else follows the library (1.0.12) line by line; test/protocol/text-document.test.ts
 * checks the two agree on random edit sequences (CR, LF and CRLF, multi-line changes, full changes).
 */
import type { Position, Range, TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { lineStarts } from '../../core/text';

/** Offsets of the line starts in `text` (\r\n, \r and \n end a line), each plus `textOffset`; the first is `textOffset` when `isAtLineStart`. */
export function lineOffsets(text: string, isAtLineStart: boolean, textOffset = 0): number[] {
  return lineStarts(text, 0, text.length, isAtLineStart ? [textOffset] : [], textOffset);
}

const isEOL = (ch: number) => ch === 13 || ch === 10;

function wellformed(range: Range): Range {
  const { start, end } = range;
  return start.line > end.line || (start.line === end.line && start.character > end.character) ? { start: end, end: start } : range;
}

function isIncremental(e: TextDocumentContentChangeEvent): e is { range: Range; rangeLength?: number; text: string } {
  const c = e as { range?: Range; rangeLength?: number; text?: unknown };
  return c !== undefined && c !== null && typeof c.text === 'string' && c.range !== undefined && (c.rangeLength === undefined || typeof c.rangeLength === 'number');
}

function isFull(e: TextDocumentContentChangeEvent): e is { text: string } {
  const c = e as { range?: Range; rangeLength?: number; text?: unknown };
  return c !== undefined && c !== null && typeof c.text === 'string' && c.range === undefined && c.rangeLength === undefined;
}

/** Splice without spreading a large array into arguments (the library's 10,000-line threshold). */
const SPLICE_ARGS_MAX = 10_000;

export class ServerTextDocument implements TextDocument {
  private lines: number[] | undefined;

  constructor(readonly uri: string, readonly languageId: string, private _version: number, private content: string) {}

  get version(): number { return this._version; }

  get lineCount(): number { return this.lineStarts().length; }

  getText(range?: Range): string {
    if (range) return this.content.substring(this.offsetAt(range.start), this.offsetAt(range.end));
    return this.content;
  }

  positionAt(offset: number): Position {
    offset = Math.max(Math.min(offset, this.content.length), 0);
    const starts = this.lineStarts();
    let low = 0, high = starts.length;
    if (high === 0) return { line: 0, character: offset };
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if (starts[mid] > offset) high = mid;
      else low = mid + 1;
    }
    const line = low - 1;
    offset = this.beforeEOL(offset, starts[line]);
    return { line, character: offset - starts[line] };
  }

  offsetAt(position: Position): number {
    const starts = this.lineStarts();
    if (position.line >= starts.length) return this.content.length;
    if (position.line < 0) return 0;
    const start = starts[position.line];
    if (position.character <= 0) return start;
    const nextStart = position.line + 1 < starts.length ? starts[position.line + 1] : this.content.length;
    return this.beforeEOL(Math.min(start + position.character, nextStart), start);
  }

  update(changes: TextDocumentContentChangeEvent[], version: number): void {
    for (const change of changes) {
      if (isIncremental(change)) {
        const range = wellformed(change.range);
        const startOffset = this.offsetAt(range.start);
        const endOffset = this.offsetAt(range.end);
        this.content = this.content.substring(0, startOffset) + change.text + this.content.substring(endOffset, this.content.length);
        const startLine = Math.max(range.start.line, 0);
        const endLine = Math.max(range.end.line, 0);
        let starts = this.lines!; // offsetAt built it
        const added = lineOffsets(change.text, false, startOffset);
        if (endLine - startLine === added.length) {
          for (let i = 0; i < added.length; i++) starts[i + startLine + 1] = added[i];
        } else if (added.length < SPLICE_ARGS_MAX) {
          starts.splice(startLine + 1, endLine - startLine, ...added);
        } else {
          this.lines = starts = starts.slice(0, startLine + 1).concat(added, starts.slice(endLine + 1));
        }
        const diff = change.text.length - (endOffset - startOffset);
        if (diff !== 0) for (let i = startLine + 1 + added.length; i < starts.length; i++) starts[i] += diff;
      } else if (isFull(change)) {
        this.content = change.text;
        this.lines = undefined;
      } else {
        throw new Error('Unknown change event received');
      }
    }
    this._version = version;
  }

  private lineStarts(): number[] {
    return (this.lines ??= lineOffsets(this.content, true));
  }

  private beforeEOL(offset: number, lineStart: number): number {
    while (offset > lineStart && isEOL(this.content.charCodeAt(offset - 1))) offset--;
    return offset;
  }
}

/** The `TextDocuments` configuration (create, update) for ServerTextDocument. */
export const ServerTextDocuments = {
  create(uri: string, languageId: string, version: number, content: string): ServerTextDocument {
    return new ServerTextDocument(uri, languageId, version, content);
  },
  update(document: ServerTextDocument, changes: TextDocumentContentChangeEvent[], version: number): ServerTextDocument {
    document.update(changes, version);
    return document;
  },
};
