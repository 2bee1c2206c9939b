/** Text edits for quick-fixes, computed from the syntax tree so commas, parentheses and layout stay valid. */
import type { Node } from 'web-tree-sitter';
import type { LineIndex } from '../text';
import type { TextEdit } from '../types';
import type { CallArgs } from './model';

export function replaceSpan(lines: LineIndex, start: number, end: number, newText: string): TextEdit {
  return { range: lines.rangeOf(start, end), newText };
}

export function replaceNode(lines: LineIndex, node: Node, newText: string): TextEdit {
  return replaceSpan(lines, node.startIndex, node.endIndex, newText);
}

/** The document's line terminator, so inserted lines match the file. */
function eolOf(lines: LineIndex): string {
  const second = lines.starts[1];
  if (second === undefined) return '\n';
  return lines.text.charCodeAt(second - 2) === 13 ? '\r\n' : lines.text.charCodeAt(second - 1) === 13 ? '\r' : '\n';
}

function indentOfLineAt(lines: LineIndex, offset: number): string {
  const line = lines.lineText(lines.positionAt(offset).line);
  return /^[ \t]*/.exec(line)![0];
}

/**
 * Add `keywordText` (e.g. `weights_only=True`) as the last argument of a call.
 * Handles empty argument lists, trailing commas, multi-line calls (the new
 * argument gets its own line with the previous argument's indentation) and
 * `*args`/`**kwargs` (keyword arguments may follow both).
 */
export function addKeywordArgument(lines: LineIndex, args: CallArgs, keywordText: string): TextEdit | undefined {
  const list = args.list;
  if (!list) return undefined;
  const open = list.firstChild;
  const close = list.lastChild;
  if (!open || open.type !== '(' || !close || close.type !== ')' || close.isMissing) return undefined;
  const items = list.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
  if (!items.length) return replaceSpan(lines, open.endIndex, close.startIndex, keywordText);
  const last = items[items.length - 1];
  // A comma after the last argument (a trailing comma)?
  let trailingComma: Node | undefined;
  for (let c = last.nextSibling; c && c.startIndex < close.startIndex; c = c.nextSibling) {
    if (c.type === ',') { trailingComma = c; break; }
  }
  const lastLine = lines.positionAt(last.endIndex).line;
  const closeLine = lines.positionAt(close.startIndex).line;
  const multiLine = closeLine > lastLine;
  const indent = indentOfLineAt(lines, last.startIndex);
  const eol = eolOf(lines);
  if (trailingComma) {
    if (multiLine) return replaceSpan(lines, trailingComma.endIndex, trailingComma.endIndex, `${eol}${indent}${keywordText},`);
    return replaceSpan(lines, trailingComma.endIndex, close.startIndex, ` ${keywordText}`);
  }
  if (multiLine) return replaceSpan(lines, last.endIndex, last.endIndex, `,${eol}${indent}${keywordText}`);
  return replaceSpan(lines, last.endIndex, last.endIndex, `, ${keywordText}`);
}

/** Remove one argument (and the comma that separates it) from a call. */
export function removeArgument(lines: LineIndex, arg: Node): TextEdit {
  const next = arg.nextSibling;
  if (next && next.type === ',') {
    // Remove "arg, " up to the next argument's start.
    const after = next.nextSibling;
    const end = after && after.type !== ')' ? after.startIndex : next.endIndex;
    return replaceSpan(lines, arg.startIndex, end, '');
  }
  const prev = arg.previousSibling;
  if (prev && prev.type === ',') return replaceSpan(lines, prev.startIndex, arg.endIndex, '');
  return replaceSpan(lines, arg.startIndex, arg.endIndex, '');
}

/** Apply LSP-style edits to a text (used by tests and by notebook remapping checks). */
export function applyEdits(text: string, edits: TextEdit[], lines: LineIndex): string {
  const spans = edits.map((e) => ({ start: lines.offsetAt(e.range.start), end: lines.offsetAt(e.range.end), newText: e.newText }))
    .sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const s of spans) out = out.slice(0, s.start) + s.newText + out.slice(s.end);
  return out;
}
