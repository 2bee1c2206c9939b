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

interface CachedTree { text: string; tree: Tree; lines: LineIndex; ranges: ParseRange[] }
const cache = new Map<string, CachedTree>();

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

export type ParseOutcome = { tree: Tree; owned: boolean } | { incomplete: string };

/**
 * Parse `text`. With a `cacheKey` the previous tree for that key is reused
 * (incrementally re-parsed) and the new tree is kept in the cache (owned=false:
 * the caller must not delete it). Without a key the caller owns the tree.
 * With `ranges`, only those parts of the text are parsed (tree-sitter included
 * ranges: nodes keep their document positions); an empty list means the whole text.
 */
export function parsePython(text: string, cacheKey?: string, lines?: LineIndex, ranges: ParseRange[] = [], change?: TextChangeFrom): ParseOutcome {
  if (!parser) throw new Error('initPythonParser() has not completed');
  if (text.length > MAX_PYTHON_CHARS) return { incomplete: `file is larger than ${MAX_PYTHON_CHARS} characters` };
  const previous = cacheKey !== undefined ? cache.get(cacheKey) : undefined;
  if (previous && previous.text === text && sameRanges(previous.ranges, ranges)) {
    cache.delete(cacheKey!); cache.set(cacheKey!, previous); // LRU touch
    return { tree: previous.tree, owned: false };
  }
  let oldTree: Tree | undefined;
  if (previous) {
    lines ??= new LineIndex(text);
    if (previous.text !== text) previous.tree.edit(computeEdit(previous.text, text, previous.lines, lines, change && change.from === previous.text ? change : undefined));
    oldTree = previous.tree;
  }
  const deadline = performance.now() + PARSE_TIMEOUT_MS + (text.length / 1e6) * PARSE_TIMEOUT_MS_PER_MB;
  let tree: Tree | null = null;
  try {
    const options = { includedRanges: ranges, progressCallback: () => performance.now() > deadline };
    tree = parser.parse(ranges.length ? rangeReader(text, ranges) : text, oldTree ?? null, options);
  } finally {
    if (previous) { previous.tree.delete(); cache.delete(cacheKey!); }
  }
  if (!tree) { parser.reset(); return { incomplete: 'parsing took longer than the time limit' }; }
  if (cacheKey === undefined) return { tree, owned: true };
  cache.set(cacheKey, { text, tree, lines: lines ?? new LineIndex(text), ranges });
  while (cache.size > TREE_CACHE_SIZE) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, CachedTree];
    oldest.tree.delete();
    cache.delete(oldestKey);
  }
  return { tree, owned: false };
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

function sameRanges(a: ParseRange[], b: ParseRange[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].startIndex !== b[i].startIndex || a[i].endIndex !== b[i].endIndex) return false;
  return true;
}

/** Drop (and free) the cached tree of a closed document. */
export function forgetTree(cacheKey: string): void {
  const entry = cache.get(cacheKey);
  if (entry) { entry.tree.delete(); cache.delete(cacheKey); }
}
