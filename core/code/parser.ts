/**
 * The tree-sitter runtime and Python grammar, loaded once, plus a small per-path
 * tree cache so that re-analysis after an edit re-parses incrementally.
 * Trees live in wasm memory that the JS GC does not reclaim: every tree we drop
 * is deleted explicitly.
 */
import type { Tree, Edit } from 'web-tree-sitter';
// require(), not import: esbuild then picks the package's "require" (CommonJS) build. The ESM build
// reads import.meta.url, which is undefined in our CommonJS bundles (dist/cli.js, dist/server.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Parser, Language } = require('web-tree-sitter') as typeof import('web-tree-sitter');
type Parser = import('web-tree-sitter').Parser;
type Language = import('web-tree-sitter').Language;
import { createRequire } from 'node:module';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { LineIndex } from '../text';
import type { ParseRange } from './segments';

/** Files above this many UTF-16 code units are not parsed (reported as incomplete). */
export const MAX_PYTHON_CHARS = 8_000_000;
/** A parse that runs longer than this (plus the per-MB allowance) is abandoned (reported as incomplete). */
export const PARSE_TIMEOUT_MS = 10_000;
export const PARSE_TIMEOUT_MS_PER_MB = 10_000;
/** How many parsed trees we keep for incremental re-parsing. */
export const TREE_CACHE_SIZE = 32;

let parser: Parser | undefined;
let language: Language | undefined;
let initPromise: Promise<void> | undefined;

function resolvePackageFile(spec: string): string {
  // Under tsx/node the packages resolve normally; createRequire needs a real anchor file.
  const anchor = typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'noop.js');
  return createRequire(anchor).resolve(spec);
}

export function initParser(wasmDir?: string): Promise<void> {
  if (!initPromise) {
    initPromise = (async () => {
      // A wasmDir without the files (e.g. a source tree run under tsx) falls back to node_modules.
      const fromDir = wasmDir && existsSync(path.join(wasmDir, 'tree-sitter-python.wasm')) && existsSync(path.join(wasmDir, 'tree-sitter.wasm'));
      const runtimeWasm = fromDir ? path.join(wasmDir!, 'tree-sitter.wasm') : resolvePackageFile('web-tree-sitter/tree-sitter.wasm');
      const grammarWasm = fromDir ? path.join(wasmDir!, 'tree-sitter-python.wasm') : resolvePackageFile('tree-sitter-python/tree-sitter-python.wasm');
      await Parser.init({ locateFile: (file: string) => (file.endsWith('.wasm') ? runtimeWasm : file) });
      language = await Language.load(grammarWasm);
      parser = new Parser();
      parser.setLanguage(language);
    })();
    initPromise.catch(() => { initPromise = undefined; });
  }
  return initPromise;
}

export function isParserReady(): boolean { return parser !== undefined; }

/** One tree: a group of included ranges (or, with no ranges, the whole text). */
interface Chunk { ranges: ParseRange[]; tree: Tree }
interface CachedParse { text: string; lines: LineIndex; chunks: Chunk[]; parsed: ParsedModule }
const cache = new Map<string, CachedParse>();

/** The span an edit replaced: [start, oldEnd) of the old text became [start, newEnd) of the new. */
export interface TextChange { start: number; oldEnd: number; newEnd: number }
/** A change together with the text it applies to (so a cache holding another version ignores it). */
export interface TextChangeFrom extends TextChange { from: string }

/** Characters compared at once when looking for the changed span (string equality is memcmp-fast). */
const DIFF_CHUNK = 512;

/** The changed span between two texts, from their common prefix and suffix. */
export function diffSpan(oldText: string, newText: string): TextChange {
  const minLen = Math.min(oldText.length, newText.length);
  let prefix = 0;
  while (prefix + DIFF_CHUNK <= minLen && oldText.slice(prefix, prefix + DIFF_CHUNK) === newText.slice(prefix, prefix + DIFF_CHUNK)) prefix += DIFF_CHUNK;
  while (prefix < minLen && oldText.charCodeAt(prefix) === newText.charCodeAt(prefix)) prefix++;
  const max = minLen - prefix;
  let suffix = 0;
  while (suffix + DIFF_CHUNK <= max
    && oldText.slice(oldText.length - suffix - DIFF_CHUNK, oldText.length - suffix) === newText.slice(newText.length - suffix - DIFF_CHUNK, newText.length - suffix)) suffix += DIFF_CHUNK;
  while (suffix < max && oldText.charCodeAt(oldText.length - 1 - suffix) === newText.charCodeAt(newText.length - 1 - suffix)) suffix++;
  return { start: prefix, oldEnd: oldText.length - suffix, newEnd: newText.length - suffix };
}

/** The tree-sitter edit that turns `oldText` into `newText`. */
export function computeEdit(oldText: string, newText: string, oldLines = new LineIndex(oldText), newLines = new LineIndex(newText), change = diffSpan(oldText, newText)): Edit {
  return {
    startIndex: change.start, oldEndIndex: change.oldEnd, newEndIndex: change.newEnd,
    startPosition: pointAt(oldLines, change.start), oldEndPosition: pointAt(oldLines, change.oldEnd), newEndPosition: pointAt(newLines, change.newEnd),
  } as Edit;
}

function pointAt(lines: LineIndex, offset: number): { row: number; column: number } {
  const p = lines.positionAt(offset);
  return { row: p.line, column: p.character };
}

/**
 * A parsed module: one tree per chunk of included ranges, in text order (`starts[i]` is where
 * chunk i begins), or a single tree over the whole text. Nodes keep their document positions.
 */
export interface ParsedModule { trees: Tree[]; starts: number[] }
export type ParseOutcome = { parsed: ParsedModule; owned: boolean } | { incomplete: string };

/**
 * A chunk ends after a range whose statement head hashes to 0 mod this (content-defined, so an edit
 * moves at most the boundaries next to it), or once it holds MAX_CHUNK_CHARS.
 */
export const CHUNK_CUT_MODULUS = 8;
export const MAX_CHUNK_CHARS = 16_384;

/** Group ranges into chunks (see CHUNK_CUT_MODULUS): small trees make typing cost one small re-parse. */
function chunkRanges(text: string, ranges: ParseRange[]): ParseRange[][] {
  const groups: ParseRange[][] = [];
  let current: ParseRange[] = [];
  let chars = 0;
  for (const r of ranges) {
    current.push(r);
    chars += r.endIndex - r.startIndex;
    let h = 2166136261;
    for (let i = r.startIndex, end = Math.min(r.endIndex, r.startIndex + 24); i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    if ((h >>> 0) % CHUNK_CUT_MODULUS === 0 || chars >= MAX_CHUNK_CHARS) { groups.push(current); current = []; chars = 0; }
  }
  if (current.length) groups.push(current);
  return groups;
}

const signature = (ranges: ParseRange[], shift = 0) => ranges.map((r) => `${r.startIndex + shift}:${r.endIndex + shift}`).join(',');

/**
 * Parse `text`. With a `cacheKey` the previous parse for that key is reused and the result is kept
 * in the cache (owned=false: the caller must not delete it); without a key the caller owns it.
 * With `ranges`, only those parts of the text are parsed, as chunks of ranges with a tree each:
 * after an edit, chunks away from it are reused (shifted by `tree.edit`), the one around it is
 * parsed again. With no ranges, the whole text is parsed (incrementally from the previous tree).
 */
export function parsePython(text: string, cacheKey?: string, lines?: LineIndex, ranges: ParseRange[] = [], change?: TextChangeFrom): ParseOutcome {
  if (!parser) throw new Error('initPythonParser() has not completed');
  if (text.length > MAX_PYTHON_CHARS) return { incomplete: `file is larger than ${MAX_PYTHON_CHARS} characters` };
  const previous = cacheKey !== undefined ? cache.get(cacheKey) : undefined;
  const wanted = signature(ranges);
  if (previous && previous.text === text && signature(previous.chunks.flatMap((c: Chunk) => c.ranges)) === wanted) {
    cache.delete(cacheKey!); cache.set(cacheKey!, previous); // LRU touch
    return { parsed: previous.parsed, owned: false };
  }
  lines ??= new LineIndex(text);
  const groups = ranges.length ? chunkRanges(text, ranges) : [[]];
  // Old chunks, keyed by their ranges in the new text's coordinates.
  const reusable = new Map<string, { chunk: Chunk; shifted: boolean }>();
  let oldWhole: Chunk | undefined;
  let edit: Edit | undefined;
  if (previous) {
    const span = previous.text === text ? { start: text.length, oldEnd: text.length, newEnd: text.length }
      : change && change.from === previous.text ? change : diffSpan(previous.text, text);
    const delta = span.newEnd - span.oldEnd;
    if (previous.text !== text) edit = computeEdit(previous.text, text, previous.lines, lines, span);
    for (const c of previous.chunks) {
      if (!c.ranges.length) { oldWhole = c; continue; }
      const first = c.ranges[0].startIndex, last = c.ranges[c.ranges.length - 1].endIndex;
      if (last <= span.start) reusable.set(signature(c.ranges), { chunk: c, shifted: false });
      else if (first >= span.oldEnd) reusable.set(signature(c.ranges, delta), { chunk: c, shifted: delta !== 0 || !!edit });
    }
  }
  const deadline = performance.now() + PARSE_TIMEOUT_MS + (text.length / 1e6) * PARSE_TIMEOUT_MS_PER_MB;
  const chunks: Chunk[] = [];
  const kept = new Set<Chunk>();
  let failed = false;
  try {
    for (const group of groups) {
      const sig = signature(group);
      const old = group.length ? reusable.get(sig) : undefined;
      if (old && !kept.has(old.chunk)) {
        if (old.shifted && edit) old.chunk.tree.edit(edit);
        if (previous!.text !== text) readTextFrom(old.chunk.tree, text);
        kept.add(old.chunk);
        chunks.push({ ranges: group, tree: old.chunk.tree });
        continue;
      }
      let oldTree: Tree | null = null;
      if (!group.length && oldWhole) {
        if (edit) oldWhole.tree.edit(edit);
        oldTree = oldWhole.tree;
      }
      const options = { includedRanges: group, progressCallback: () => performance.now() > deadline };
      const tree = parser.parse(group.length ? rangeReader(text, group) : text, oldTree, options);
      if (!tree) { failed = true; break; }
      chunks.push({ ranges: group, tree });
    }
  } finally {
    if (previous) {
      for (const c of previous.chunks) if (!kept.has(c)) c.tree.delete();
      cache.delete(cacheKey!);
    }
  }
  if (failed) {
    for (const c of chunks) c.tree.delete(); // reused trees too: the cache entry is gone
    parser.reset();
    return { incomplete: 'parsing took longer than the time limit' };
  }
  const parsed: ParsedModule = { trees: chunks.map((c) => c.tree), starts: chunks.map((c) => (c.ranges.length ? c.ranges[0].startIndex : 0)) };
  if (cacheKey === undefined) return { parsed, owned: true };
  cache.set(cacheKey, { text, lines, chunks, parsed });
  while (cache.size > TREE_CACHE_SIZE) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, CachedParse];
    for (const c of oldest.chunks) c.tree.delete();
    cache.delete(oldestKey);
  }
  return { parsed, owned: false };
}

/**
 * A tree reads `node.text` through the input callback it was parsed with, which closes over the
 * text of that time: a tree reused after an edit (shifted by `tree.edit`) must read the new text,
 * or every `node.text` after the edit would be off by the edit's length. web-tree-sitter keeps the
 * callback in `Tree.textCallback` (not in its typings; the chunk tests check node texts after edits).
 */
function readTextFrom(tree: Tree, text: string): void {
  const t = tree as unknown as { textCallback?: unknown };
  if (typeof t.textCallback !== 'function') throw new Error('web-tree-sitter: Tree.textCallback not found (library changed)');
  t.textCallback = (index: number) => text.slice(index, index + READ_CHUNK);
}

/** Free the trees of a parse the caller owns. */
export function deleteParsed(parsed: ParsedModule): void {
  for (const t of parsed.trees) t.delete();
}

/** Characters handed to tree-sitter per read; reads stop at a range's end so gaps are never copied into wasm. */
const READ_CHUNK = 8192;

/** An input callback for included ranges: copying the rest of the text at every jump would dominate the parse. */
function rangeReader(text: string, ranges: ParseRange[]): (index: number) => string {
  let k = 0;
  return (index: number) => {
    if (k >= ranges.length || index < ranges[k].startIndex || index >= ranges[k].endIndex) {
      let lo = 0, hi = ranges.length - 1;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ranges[mid].startIndex <= index) lo = mid; else hi = mid - 1; }
      k = lo;
    }
    const r = ranges[k];
    const end = index >= r.startIndex && index < r.endIndex ? Math.min(r.endIndex, index + READ_CHUNK) : index + 64;
    return text.slice(index, end);
  };
}

/** Drop (and free) the cached tree of a closed document. */
export function forgetTree(cacheKey: string): void {
  const entry = cache.get(cacheKey);
  if (entry) { for (const c of entry.chunks) c.tree.delete(); cache.delete(cacheKey); }
}
