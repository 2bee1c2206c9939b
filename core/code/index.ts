/**
 * Python and notebook analysis (unsafe model loading, remote code, unpinned Hub revisions).
 * Parsing is tree-sitter (web-tree-sitter + the Python grammar .wasm); see
 * parser.ts (runtime, incremental cache), model.ts (scopes and name resolution),
 * rules.ts (LOAD001–LOAD008), notebook.ts (IPython masking, cell mapping).
 */
import type { AnalysisContext, AnalysisResult, NotebookCellInput } from '../analysis';
import { analyzePipInstall } from '../deps/index';
import { LineIndex } from '../text';
import type { Finding, Range } from '../types';
import type { RuleMeta } from '../rules/registry';
import { HUB_CALLEES, hubCall } from './hub';
import { codeRuleMeta } from './meta';
import { buildModel, callArgs, qualifiedName, type Coverage } from './model';
import { layoutNotebook, mapFindingToCell } from './notebook';
import { diffSpan, forgetTree, initParser, isParserReady, MAX_PYTHON_CHARS, parsePython, TREE_CACHE_SIZE, type TextChangeFrom } from './parser';
import { RELEVANT_TEXT, runRules, SEED_TEXT } from './rules';
import { rangesOf, segmentAt, segmentEnd, segmentPython, updateSegments, type Segments } from './segments';

/** Rule metadata for LOAD000–LOAD008. */
export const codeRules: RuleMeta[] = codeRuleMeta;

/** Load the tree-sitter runtime and Python grammar once. `wasmDir` holds the .wasm files (dist/ in bundles). */
export async function initPythonParser(wasmDir?: string): Promise<void> {
  await initParser(wasmDir);
}

function incomplete(path: string, reason: string): Finding {
  return {
    path, code: 'LOAD000', severity: 'information', fixes: [],
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    message: `ModelVet could not analyse this file completely: ${reason}. Findings may be missing.`,
  };
}

/** Above this share of the text selected, a partial parse saves too little: parse everything. */
export const PARTIAL_PARSE_MAX_SHARE = 0.5;
/** Rounds of "parse the statements the analysis asked for" before falling back to a full parse. */
export const MAX_PARTIAL_ROUNDS = 4;

/**
 * The statements worth parsing before the analysis asks for more: those that mention a rule's API,
 * an import or a download, plus the leading docstring/`__future__` statements (where a fix adds an import).
 */
function seedSelection(text: string, segs: Segments): Uint8Array {
  const selected = new Uint8Array(segs.starts.length);
  const re = new RegExp(SEED_TEXT.source, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const seg = segmentAt(segs, m.index);
    selected[seg] = 1;
    re.lastIndex = Math.max(re.lastIndex, segmentEnd(segs, seg)); // one hit per statement is enough
  }
  for (let i = 0; i < segs.starts.length; i++) {
    selected[i] = 1;
    const head = text.slice(segs.starts[i], Math.min(segmentEnd(segs, i), segs.starts[i] + 32)).trimStart();
    if (!/^(?:[rRuUbBfF]{0,2}["']|#|from\s+__future__\b)/.test(head) && head !== '') break;
  }
  return selected;
}

/** Per document: the last text with its line table and segments, updated by edit instead of rebuilt. */
interface SourceState { text: string; lines: LineIndex; segs: Segments }
const sources = new Map<string, SourceState>();

function sourceState(cacheKey: string | undefined, text: string): { state: SourceState; change?: TextChangeFrom } {
  const previous = cacheKey !== undefined ? sources.get(cacheKey) : undefined;
  let state: SourceState;
  let change: TextChangeFrom | undefined;
  if (previous && previous.text === text) state = previous;
  else if (previous) {
    const span = diffSpan(previous.text, text);
    change = { ...span, from: previous.text };
    state = {
      text,
      lines: LineIndex.edited(previous.lines, text, span.start, span.oldEnd, span.newEnd),
      segs: updateSegments(previous.segs, text, span.start, span.oldEnd, span.newEnd),
    };
  } else state = { text, lines: new LineIndex(text), segs: segmentPython(text) };
  if (cacheKey !== undefined) {
    sources.delete(cacheKey);
    sources.set(cacheKey, state);
    while (sources.size > TREE_CACHE_SIZE) sources.delete(sources.keys().next().value as string);
  }
  return { state, change };
}

function selectedShare(segs: Segments, selected: Uint8Array): number {
  let chars = 0;
  for (let i = 0; i < selected.length; i++) if (selected[i]) chars += segmentEnd(segs, i) - segs.starts[i];
  return segs.textLength ? chars / segs.textLength : 1;
}

/**
 * Analyse Python source; `cacheKey` enables incremental re-parsing of the same document.
 * Only the statements the rules can care about are parsed (see segments.ts); when the analysis
 * needs a statement that was not parsed (a binding of a name it resolves), that statement is
 * added and the analysis runs again, so the findings equal a full parse's (`fullParse` forces one).
 */
/** How an analysis went: parse rounds and how much of the text was parsed (benchmarks and tests read it). */
export interface ParseStats { rounds: number; parsedChars: number; totalChars: number }
interface AnalyzeOptions { fullParse?: boolean; stats?: ParseStats }

function analyzeSource(path: string, text: string, ctx: AnalysisContext, cacheKey: string | undefined, options: AnalyzeOptions = {}): Finding[] {
  const { fullParse = false, stats } = options;
  if (stats) Object.assign(stats, { rounds: 0, parsedChars: 0, totalChars: text.length });
  if (!isParserReady()) return [incomplete(path, 'the Python parser is not initialised')];
  // Most modules mention none of the APIs the rules look for: skip parsing them entirely.
  if (text.length > MAX_PYTHON_CHARS) return [incomplete(path, `file is larger than ${MAX_PYTHON_CHARS} characters`)];
  if (!RELEVANT_TEXT.test(text)) return [];
  const { state, change } = sourceState(cacheKey, text);
  const lines = state.lines;
  const segs = fullParse ? undefined : state.segs;
  const selected = segs ? seedSelection(text, segs) : undefined;
  for (let round = 0; ; round++) {
    const partial = segs && selected && round < MAX_PARTIAL_ROUNDS && selectedShare(segs, selected) <= PARTIAL_PARSE_MAX_SHARE;
    const coverage: Coverage | undefined = partial ? { segments: segs, ranges: rangesOf(segs, selected), misses: [] } : undefined;
    if (stats) { stats.rounds = round + 1; stats.parsedChars = coverage ? coverage.ranges.reduce((n, r) => n + r.endIndex - r.startIndex, 0) : text.length; }
    let parsed;
    try {
      parsed = parsePython(text, cacheKey, lines, coverage?.ranges, round === 0 ? change : undefined);
    } catch (e) {
      if (cacheKey !== undefined) forgetTree(cacheKey);
      return [incomplete(path, `parser failure (${(e as Error).message})`)];
    }
    if ('incomplete' in parsed) return [incomplete(path, parsed.incomplete)];
    try {
      const model = buildModel(parsed.tree, text, ctx.isCancelled, coverage);
      const findings = runRules({ path, model, lines, ctx });
      if (!coverage || !coverage.misses.length || ctx.isCancelled?.()) return findings;
      for (const offset of coverage.misses) selected![segmentAt(segs!, offset)] = 1;
    } catch (e) {
      return [incomplete(path, `internal error (${(e as Error).message})`)];
    } finally {
      if (parsed.owned) parsed.tree.delete();
    }
  }
}

/**
 * Analyze a Python module. Requires initPythonParser() to have resolved.
 * The last tree per path is kept, so re-analysing an edited document re-parses incrementally.
 */
export function analyzePython(path: string, text: string, ctx: AnalysisContext, options: AnalyzeOptions = {}): AnalysisResult {
  return { findings: analyzeSource(path, text, ctx, path, options), dependsOn: [] };
}

/** Free the cached syntax tree of a closed document (the server calls this on didClose). */
export function forgetPython(path: string): void {
  forgetTree(path);
  forgetTree(notebookKey(path));
  sources.delete(path);
  sources.delete(notebookKey(path));
}

const notebookKey = (path: string) => `${path}#notebook`;

/** Analyze a notebook's cells in order; findings carry `cell` and cell-relative ranges. */
export function analyzeNotebook(path: string, cells: NotebookCellInput[], ctx: AnalysisContext, options: AnalyzeOptions = {}): Finding[] {
  const layout = layoutNotebook(cells);
  const out: Finding[] = [];
  for (const f of analyzeSource(path, layout.text, ctx, notebookKey(path), options)) {
    if (f.code === 'LOAD000') { out.push({ ...f, cell: Math.max(0, layout.cellStartLine.findIndex((s) => s >= 0)) }); continue; }
    const mapped = mapFindingToCell(layout, f);
    if (mapped) out.push(mapped);
  }
  for (const pip of layout.pipLines) {
    try {
      for (const f of analyzePipInstall(path, pip.lineText, pip.line, pip.argsStart, ctx)) out.push({ ...f, cell: pip.cell });
    } catch {
      // The dependency rules own their errors; a failing pip line must not hide the code findings.
    }
  }
  return out;
}

export interface HubReference {
  repoId: string;
  revision?: string;
  kind: 'model' | 'dataset';
  /** The repo-id string literal (including quotes). */
  range: Range;
  /** The revision value (the `revision=` argument's value, or the part after `@` for timm). */
  revisionRange?: Range;
  callRange: Range;
}

/** Every Hub reference with a string-literal repo id (pinned or not), for the Hub integration. */
export function findHubReferences(path: string, text: string): HubReference[] {
  if (!isParserReady()) return [];
  let parsed;
  try { parsed = parsePython(text); } catch { return []; }
  if ('incomplete' in parsed) return [];
  const lines = new LineIndex(text);
  const out: HubReference[] = [];
  try {
    const model = buildModel(parsed.tree, text);
    for (const { node, scope } of model.callsNamed(new Set([...HUB_CALLEES, ...model.importedNames]))) {
      const fn = node.childForFieldName('function');
      if (!fn) continue;
      const hub = hubCall(fn, qualifiedName(fn, scope), callArgs(node), scope);
      if (!hub) continue;
      const ref: HubReference = { repoId: hub.repoId, kind: hub.kind, range: lines.rangeOf(hub.repoNode.startIndex, hub.repoNode.endIndex), callRange: lines.rangeOf(node.startIndex, node.endIndex) };
      if (hub.revision !== undefined) ref.revision = hub.revision;
      if (hub.revisionNode) ref.revisionRange = lines.rangeOf(hub.revisionNode.startIndex, hub.revisionNode.endIndex);
      else if (hub.revisionInString && hub.revision !== undefined) {
        const end = hub.repoNode.endIndex - 1;
        ref.revisionRange = lines.rangeOf(end - hub.revision.length, end);
      }
      out.push(ref);
    }
  } catch {
    // Partial results are fine for hovers and pinning.
  } finally {
    parsed.tree.delete();
  }
  void path;
  return out;
}
