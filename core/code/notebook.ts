/**
 * Notebook support: IPython syntax (magics, shell escapes, help) is masked
 * with same-length text so that positions stay exact, code cells are
 * concatenated (imports and taint in earlier cells apply to later ones), and
 * findings are mapped back to cell-relative ranges.
 */
import type { NotebookCellInput } from '../analysis';
import { LineIndex } from '../text';
import type { Finding, Fix, Range, TextEdit } from '../types';

/** Cell magics whose body is Python. */
const PYTHON_CELL_MAGICS = new Set(['time', 'timeit', 'capture', 'prun', 'debug', 'python', 'python3', 'ipython', 'pdb']);
/** Cell magics whose body is a shell script (scanned for `pip install`). */
const SHELL_CELL_MAGICS = new Set(['bash', 'sh', 'script', 'system']);

export interface PipLine { cell: number; line: number; lineText: string; argsStart: number }

export interface MaskedCell { text: string; pipLines: Array<{ line: number; lineText: string; argsStart: number }>; }

const PIP_COMMAND = /^\s*(?:[%!]\s*|[\w.\[\], ]+?=\s*!\s*)(?:pip3?|python3?(?:\.\d+)?\s+-m\s+pip|uv\s+pip)\s+install\b[ \t]*/;
const SHELL_PIP_COMMAND = /^\s*(?:pip3?|python3?(?:\.\d+)?\s+-m\s+pip|uv\s+pip)\s+install\b[ \t]*/;
const ASSIGN_FROM_MAGIC = /^\s*[\w.\[\], ]+?=\s*[!%]/;
const HELP_LINE = /^\s*(?:\?{1,2}[\w.]+|[\w.]+(?:\(\))?\?{1,2})\s*$/;

export function isPythonCell(cell: NotebookCellInput): boolean {
  return cell.kind === 'code' && (!cell.languageId || /^(i?python\d*|py)$/i.test(cell.languageId));
}

function mask(line: string): string {
  const indent = /^[ \t]*/.exec(line)![0];
  const rest = line.length - indent.length;
  return indent + (rest >= 4 ? 'pass' + ' '.repeat(rest - 4) : ' '.repeat(rest));
}

/** Mask IPython-only syntax in one cell, keeping every line's length. */
export function maskCell(text: string): MaskedCell {
  const lines = new LineIndex(text);
  const pipLines: MaskedCell['pipLines'] = [];
  const out: string[] = [];
  const first = lines.lineCount ? lines.lineText(0) : '';
  const cellMagic = /^\s*%%(\w+)/.exec(first);
  let maskAll = false, shellBody = false;
  if (cellMagic) {
    maskAll = !PYTHON_CELL_MAGICS.has(cellMagic[1]);
    shellBody = SHELL_CELL_MAGICS.has(cellMagic[1]);
  }
  let continuation = false;
  for (let i = 0; i < lines.lineCount; i++) {
    const lineText = lines.lineText(i);
    const terminator = text.slice(lines.lineEnd(i), i + 1 < lines.lineCount ? lines.starts[i + 1] : text.length);
    let masked = lineText;
    if (i === 0 && cellMagic) masked = mask(lineText);
    else if (maskAll) {
      masked = mask(lineText);
      if (shellBody) { const m = SHELL_PIP_COMMAND.exec(lineText); if (m) pipLines.push({ line: i, lineText, argsStart: m[0].length }); }
    } else if (continuation || /^\s*[%!]/.test(lineText) || ASSIGN_FROM_MAGIC.test(lineText) || HELP_LINE.test(lineText)) {
      if (!continuation) { const m = PIP_COMMAND.exec(lineText); if (m) pipLines.push({ line: i, lineText, argsStart: m[0].length }); }
      masked = mask(lineText);
      continuation = lineText.endsWith('\\');
      out.push(masked + terminator);
      continue;
    }
    continuation = false;
    out.push(masked + terminator);
  }
  return { text: out.join(''), pipLines };
}

export interface NotebookLayout {
  /** The concatenated, masked Python source. */
  text: string;
  /** For each cell index: first line in `text`, or -1 for skipped cells. */
  cellStartLine: number[];
  cellLineCount: number[];
  pipLines: PipLine[];
}

export function layoutNotebook(cells: NotebookCellInput[]): NotebookLayout {
  const parts: string[] = [];
  const cellStartLine: number[] = [];
  const cellLineCount: number[] = [];
  const pipLines: PipLine[] = [];
  let line = 0;
  cells.forEach((cell, index) => {
    if (!isPythonCell(cell)) { cellStartLine.push(-1); cellLineCount.push(0); return; }
    const masked = maskCell(cell.text ?? '');
    for (const p of masked.pipLines) pipLines.push({ cell: index, ...p });
    const count = new LineIndex(masked.text).lineCount;
    cellStartLine.push(line);
    cellLineCount.push(count);
    parts.push(masked.text);
    line += count;
  });
  return { text: parts.join('\n'), cellStartLine, cellLineCount, pipLines };
}

/** Which cell a global line belongs to. */
export function cellOfLine(layout: NotebookLayout, line: number): number {
  for (let c = layout.cellStartLine.length - 1; c >= 0; c--) {
    const start = layout.cellStartLine[c];
    if (start >= 0 && start <= line) return c;
  }
  return -1;
}

function toCell(layout: NotebookLayout, cell: number, r: Range): Range | undefined {
  const start = layout.cellStartLine[cell];
  const last = start + layout.cellLineCount[cell] - 1;
  if (r.start.line < start || r.end.line > last) return undefined;
  return { start: { line: r.start.line - start, character: r.start.character }, end: { line: r.end.line - start, character: r.end.character } };
}

/** Map a finding on the concatenated text to its cell; edits outside the cell are relocated (imports) or the fix is dropped. */
export function mapFindingToCell(layout: NotebookLayout, f: Finding): Finding | undefined {
  const cell = cellOfLine(layout, f.range.start.line);
  if (cell < 0) return undefined;
  const range = toCell(layout, cell, f.range);
  if (!range) return undefined;
  const fixes: Fix[] = [];
  for (const fix of f.fixes) {
    const edits: TextEdit[] = [];
    let ok = true;
    for (const e of fix.edits) {
      const r = toCell(layout, cell, e.range);
      if (r) edits.push({ range: r, newText: e.newText });
      else if (/^import [\w.]+\r?\n$/.test(e.newText) && e.range.start.line === e.range.end.line && e.range.start.character === e.range.end.character) {
        edits.push({ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: e.newText });
      } else ok = false;
    }
    if (!ok) continue;
    let resolve = fix.resolve;
    const template = (resolve?.data as { editTemplate?: TextEdit[] } | undefined)?.editTemplate;
    if (resolve && template) {
      const mapped = template.map((e) => ({ range: toCell(layout, cell, e.range), newText: e.newText }));
      if (mapped.some((e) => !e.range)) continue;
      resolve = { ...resolve, data: { ...(resolve.data as object), editTemplate: mapped, cell } };
    }
    fixes.push({ ...fix, edits, ...(resolve ? { resolve } : {}) });
  }
  return { ...f, range, fixes, cell };
}
