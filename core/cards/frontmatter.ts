/**
 * Model-card (`README.md`) front matter: the YAML block between `---` fences at the top of the file,
 * as the Hugging Face Hub reads it, with source positions for diagnostics and fixes, and the
 * Markdown headings of the body. Hostile input is normal: size and alias limits are named, broken
 * YAML is an explicit error with a position, never an exception.
 */
import { LineCounter, parseDocument, isMap, isScalar, type Node as YamlNode } from 'yaml';
import { LineIndex } from '../text';
import type { Range } from '../types';

/** Cards larger than this are not analyzed (the result says so). */
export const MAX_CARD_BYTES = 4 * 1024 * 1024;
/** Front matter larger than this is not parsed. */
export const MAX_FRONT_MATTER_BYTES = 512 * 1024;
/** YAML aliases expanded while converting (billion-laughs guard). */
export const MAX_YAML_ALIASES = 100;
/** Headings collected from the body. */
export const MAX_HEADINGS = 2_000;

export interface CardHeading { level: number; text: string; line: number }

export interface ParsedCard {
  /** Set when the card was not parsed at all (too large). */
  skipped?: string;
  /** A `---` block opens the file. */
  hasFrontMatter: boolean;
  /** Plain data of the front matter (undefined when absent or broken). */
  data?: Record<string, unknown>;
  /** Broken YAML / not a mapping / over a limit: a message and where. */
  error?: { message: string; range: Range };
  /** Line of the opening and of the closing fence (when present). */
  openLine?: number;
  closeLine?: number;
  /** Ranges of top-level keys (key text) and their values. */
  keys: Map<string, { key: Range; value?: Range }>;
  headings: CardHeading[];
  /** First line after the front matter. */
  bodyLine: number;
  lines: LineIndex;
}

const FENCE = /^---[ \t]*$/;

export function parseCard(text: string): ParsedCard {
  const lines = new LineIndex(text);
  const card: ParsedCard = { hasFrontMatter: false, keys: new Map(), headings: [], bodyLine: 0, lines };
  if (text.length > MAX_CARD_BYTES) { card.skipped = `the card is larger than ${MAX_CARD_BYTES / 1048576} MB`; return card; }
  const first = lines.lineText(0).replace(/^\uFEFF/, '');
  if (FENCE.test(first)) {
    card.hasFrontMatter = true;
    card.openLine = 0;
    const lineCount = lines.starts.length;
    for (let l = 1; l < lineCount; l++) {
      if (FENCE.test(lines.lineText(l)) || /^\.\.\.[ \t]*$/.test(lines.lineText(l))) { card.closeLine = l; break; }
    }
    if (card.closeLine === undefined) {
      card.error = { message: 'the front matter has no closing `---` line', range: lines.rangeOf(0, Math.min(3, text.length)) };
      card.bodyLine = lineCount;
    } else {
      card.bodyLine = card.closeLine + 1;
      parseYamlBlock(text, card);
    }
  }
  collectHeadings(card);
  return card;
}

function parseYamlBlock(text: string, card: ParsedCard): void {
  const { lines } = card;
  const start = lines.starts[1] ?? text.length;
  const end = lines.starts[card.closeLine!];
  const yamlText = text.slice(start, end);
  if (yamlText.length > MAX_FRONT_MATTER_BYTES) {
    card.error = { message: `the front matter is larger than ${MAX_FRONT_MATTER_BYTES / 1024} KB; not parsed`, range: lines.rangeOf(0, 3) };
    return;
  }
  const at = (off: number) => Math.max(start, Math.min(end, start + off));
  let doc;
  try {
    doc = parseDocument(yamlText, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: false });
  } catch (e) {
    card.error = { message: `the front matter could not be read: ${(e as Error).message}`, range: lines.rangeOf(0, 3) };
    return;
  }
  if (doc.errors.length) {
    const err = doc.errors[0];
    const [a, b] = err.pos ?? [0, 1];
    card.error = { message: `the front matter is not valid YAML: ${err.message.split('\n')[0]}`, range: lines.rangeOf(at(a), at(Math.max(b, a + 1))) };
    return;
  }
  let data: unknown;
  try { data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }); } catch (e) {
    card.error = { message: `the front matter could not be read: ${(e as Error).message}`, range: lines.rangeOf(0, 3) };
    return;
  }
  if (data === null || data === undefined) { card.data = {}; return; }
  if (typeof data !== 'object' || Array.isArray(data)) {
    card.error = { message: 'the front matter is not a YAML mapping (key: value lines)', range: lines.rangeOf(start, Math.max(start + 1, end - 1)) };
    return;
  }
  card.data = data as Record<string, unknown>;
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const k = pair.key as YamlNode | null;
      if (!k || !isScalar(k) || !k.range) continue;
      const v = pair.value as YamlNode | null;
      card.keys.set(String(k.value), {
        key: lines.rangeOf(at(k.range[0]), at(k.range[1])),
        value: v?.range ? lines.rangeOf(at(v.range[0]), at(v.range[1])) : undefined,
      });
    }
  }
}

function collectHeadings(card: ParsedCard): void {
  const { lines } = card;
  let fenced = false;
  for (let l = card.bodyLine; l < lines.starts.length && card.headings.length < MAX_HEADINGS; l++) {
    const t = lines.lineText(l);
    if (/^\s*(```|~~~)/.test(t)) { fenced = !fenced; continue; }
    if (fenced) continue;
    const m = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(t);
    if (m) card.headings.push({ level: m[1].length, text: m[2], line: l });
    else if (l + 1 < lines.starts.length && t.trim() && /^(=+|-+)\s*$/.test(lines.lineText(l + 1)) && !FENCE.test(lines.lineText(l + 1))) {
      card.headings.push({ level: lines.lineText(l + 1).startsWith('=') ? 1 : 2, text: t.trim(), line: l });
    }
  }
}

/** A front-matter value as a list of strings (`datasets: x` and `datasets: [x, y]` both work). */
export function stringList(v: unknown): string[] {
  if (typeof v === 'string') return v.trim() ? [v.trim()] : [];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && !!x.trim()).map((x) => x.trim());
  return [];
}
