/**
 * Python and notebook analysis (unsafe model loading, remote code, unpinned Hub revisions).
 * Parsing is tree-sitter (web-tree-sitter + the Python grammar .wasm); see
 * parser.ts (runtime, incremental cache), model.ts (scopes and name resolution),
 * rules.ts (LOAD001–LOAD008), notebook.ts (IPython masking, cell mapping).
 */
import type { AnalysisContext, AnalysisResult, NotebookCellInput } from '../analysis';
import { analyzePipInstall } from '../deps/index';
import { LineIndex } from '../text';
import { compareFindings, type Finding, type Range } from '../types';
import type { Node } from 'web-tree-sitter';
import type { RuleMeta } from '../rules/registry';
import { HUB_CALLEES, hubCall } from './hub';
import { codeRuleMeta } from './meta';
import { buildModel, callArgs, mayBindAt, qualifiedName, type Coverage, type ModuleModel } from './model';
import { layoutNotebook, mapFindingToCell } from './notebook';
import { deleteParsed, diffSpan, forgetTree, type ParsedModule, type TextChange, initParser, isParserReady, MAX_PYTHON_CHARS, parsePython, TREE_CACHE_SIZE, type TextChangeFrom } from './parser';
import { DOWNLOAD_CALLEES, RELEVANT_TEXT, runRules, SEED_TEXT, type HubCall } from './rules';
import { carryFlags, rangesOf, segmentAt, segmentEnd, segmentPython, updateSegments, type Segments } from './segments';

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

/** Rounds of "parse the statements the analysis asked for" before falling back to a full parse. */
export const MAX_PARTIAL_ROUNDS = 4;

/** Does this segment mention a rule's API, an import or a download (see SEED_TEXT)? */
function seedOf(text: string, segs: Segments, index: number): number {
  return SEED_TEXT.test(text.slice(segs.starts[index], segmentEnd(segs, index))) ? 1 : 0;
}

/** Seeds of every segment in one scan of the text (a first analysis). */
function allSeeds(text: string, segs: Segments): Uint8Array {
  const seeds = new Uint8Array(segs.starts.length);
  const re = new RegExp(SEED_TEXT.source, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const seg = segmentAt(segs, m.index);
    seeds[seg] = 1;
    re.lastIndex = Math.max(re.lastIndex, segmentEnd(segs, seg)); // one hit per statement is enough
  }
  return seeds;
}

/**
 * The statements worth parsing before the analysis asks for more: the seeded ones, those earlier
 * analyses of this document asked for, and the leading docstring/`__future__` statements (where a
 * fix adds an import).
 */
/**
 * Index of the last leading statement: the module's docstring, comments and `__future__` imports, up to
 * and including the first other statement (a fix that adds an import places it by these).
 */
function lastLeadingSegment(text: string, segs: Segments): number {
  for (let i = 0; i < segs.starts.length; i++) {
    const head = text.slice(segs.starts[i], Math.min(segmentEnd(segs, i), segs.starts[i] + 32)).trimStart();
    if (!/^(?:[rRuUbBfF]{0,2}["']|#|from\s+__future__\b)/.test(head) && head !== '') return i;
  }
  return segs.starts.length - 1;
}

function initialSelection(text: string, state: SourceState): Uint8Array {
  const { segs } = state;
  const selected = new Uint8Array(segs.starts.length);
  for (let i = 0; i < selected.length; i++) selected[i] = state.seeds[i] | state.demanded[i];
  selected.fill(1, 0, lastLeadingSegment(text, segs) + 1);
  return selected;
}

/** Per document: the last text with its line table and segments, updated by edit instead of rebuilt. */
interface SourceState {
  text: string;
  lines: LineIndex;
  segs: Segments;
  /** Per segment: 1 when it matches SEED_TEXT. */
  seeds: Uint8Array;
  /** Per segment: 1 when an earlier analysis needed it parsed (typing then needs one round, not two). */
  demanded: Uint8Array;
  /**
   * The last complete analysis of this document: reused, shifted, when an edit cannot change it
   * (see reuseAfterEdit). `text` is the text it belongs to.
   */
  result?: LastResult;
  /** The last model built for this text: the Hub references right after an analysis reuse it (and its name lookups). */
  last?: { parsed: ParsedModule; model: ModuleModel; coverage?: Coverage };
}
const sources = new Map<string, SourceState>();

/** How many analyses reused the last result after an edit (tests and benchmarks read it). */
export const reuseCounter = { count: 0 };
/** How many analyses judged only the edited statement again (tests and benchmarks read it). */
export const localCounter = { count: 0 };

function unionWatched(a: ModuleModel['watched'], b: ModuleModel['watched']): ModuleModel['watched'] {
  return { words: new Set([...a.words, ...b.words]), calls: new Set([...a.calls, ...b.calls]), bindings: new Set([...a.bindings, ...b.bindings]) };
}

/** Findings (and Hub references) outside the edited statement, shifted, merged with the statement's new ones. */
function mergeLocal(previous: SourceState, state: SourceState, change: TextChange, local: { oldSpan: [number, number]; newSpan: [number, number] },
  fresh: Finding[], hubCalls: ModuleModel['hubCalls']): { findings: Finding[]; hubRefs?: HubReference[] } | undefined {
  const last = previous.result!;
  const outside = (r: Range) => { const o = previous.lines.offsetAt(r.start); return o < local.oldSpan[0] || o >= local.oldSpan[1]; };
  try {
    const kept = shiftPositions(last.findings.filter((f) => outside(f.range)), previous.lines, state.lines, change);
    const findings = [...kept, ...fresh].sort(compareFindings);
    let hubRefs: HubReference[] | undefined;
    if (last.hubRefs && hubCalls) {
      const keptRefs = shiftPositions(last.hubRefs.filter((h) => outside(h.callRange)), previous.lines, state.lines, change);
      const freshRefs = hubCalls.map(({ call, hub }) => hubReference(call, hub, state.lines));
      hubRefs = [...keptRefs, ...freshRefs].sort((a, b) => a.callRange.start.line - b.callRange.start.line || a.callRange.start.character - b.callRange.start.character);
    }
    return { findings, hubRefs };
  } catch (e) {
    if (e instanceof NotShiftable) return undefined;
    throw e;
  }
}

interface LastResult {
  text: string;
  findings: Finding[];
  hubRefs?: HubReference[];
  /** What the analysis scanned the text for (model.watched). */
  watched: ModuleModel['watched'];
  /** The context it ran with: another configuration, project or file access means another result. */
  ctxKey: unknown[];
  /**
   * Whether the findings can be updated statement by statement: a complete partial-parse analysis
   * whose trees have no syntax errors (error recovery can reach from one statement into its neighbours).
   */
  local: boolean;
}

const parsedCleanly = (m: ModuleModel) => m.parsed.trees.every((t) => !t.rootNode.hasError);

const ctxKeyOf = (ctx: AnalysisContext): unknown[] => [ctx.config, ctx.project, ctx.fs, ctx.workspaceRoot];

const isAsciiWord = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;

/** Would any of the model's text scans find something in text[from, to)? (Conservative: true when unsure.) */
function scansFind(text: string, from: number, to: number, watched: ModuleModel['watched'], calls: Iterable<string> = watched.calls): boolean {
  const slice = text.slice(from, to);
  for (const w of watched.words) if (slice.includes(w)) return true;
  for (const name of calls) {
    for (let at = slice.indexOf(name); at >= 0; at = slice.indexOf(name, at + 1)) {
      if (at > 0 && isAsciiWord(slice.charCodeAt(at - 1))) continue;
      let j = at + name.length;
      while (slice.charCodeAt(j) === 32 || slice.charCodeAt(j) === 9) j++;
      if (slice.charCodeAt(j) === 40) return true; // `name(` (also `name (`), as the call scan matches it
    }
  }
  for (const name of watched.bindings) {
    for (let at = text.indexOf(name, from); at >= 0 && at < to; at = text.indexOf(name, at + 1)) {
      const before = at > 0 ? text.charCodeAt(at - 1) : 32;
      if (isAsciiWord(before) || before === 46 || isAsciiWord(text.charCodeAt(at + name.length))) continue;
      if (mayBindAt(text, at, name.length)) return true;
    }
  }
  return false;
}

/** Thrown inside shifting when a position falls inside the edit: the reuse is abandoned. */
class NotShiftable extends Error {}

/** A deep copy of `value` with every {line, character} after the edit moved to the new text. */
function shiftPositions<T>(value: T, oldLines: LineIndex, newLines: LineIndex, change: TextChange): T {
  const delta = change.newEnd - change.oldEnd;
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.line === 'number' && typeof o.character === 'number' && Object.keys(o).length === 2) {
      const offset = oldLines.offsetAt({ line: o.line, character: o.character });
      if (offset < change.start) return { line: o.line, character: o.character };
      if (offset < change.oldEnd) throw new NotShiftable();
      return newLines.positionAt(offset + delta);
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = visit(o[k]);
    return out;
  };
  return visit(value) as T;
}

/**
 * Typing in code the rules never parsed — the statement stays unparsed, no statement boundary moves,
 * and the edited lines (before and after) contain none of the words the last analysis scanned the
 * text for — cannot change any scan result, node or finding: the last result is reused, with
 * positions after the edit shifted. Anything else (or any doubt) returns undefined: analyze again.
 */
/**
 * The statement an edit stayed inside, when the last result is for the previous text and this context,
 * every statement boundary is kept (shifted), and the statement is not a leading one. Both shortcuts
 * below start from it.
 */
function editedStatement(previous: SourceState, state: SourceState, change: TextChange, ctx: AnalysisContext): { last: LastResult; seg: number } | undefined {
  const last = previous.result;
  if (!last || last.text !== previous.text) return undefined;
  const key = ctxKeyOf(ctx);
  if (key.some((k, i) => k !== last.ctxKey[i])) return undefined;
  const old = previous.segs, now = state.segs;
  if (old.starts.length !== now.starts.length) return undefined;
  const delta = change.newEnd - change.oldEnd;
  const seg = segmentAt(old, change.start);
  if (segmentAt(old, Math.max(change.start, change.oldEnd - 1)) !== seg) return undefined;
  for (let i = 0; i < old.starts.length; i++) if (now.starts[i] !== (i <= seg ? old.starts[i] : old.starts[i] + delta)) return undefined;
  // Leading statements are always parsed (where fixes add imports).
  if (seg <= lastLeadingSegment(previous.text, old)) return undefined;
  return { last, seg };
}

function reuseAfterEdit(previous: SourceState, state: SourceState, change: TextChange, ctx: AnalysisContext): LastResult | undefined {
  const edited = editedStatement(previous, state, change, ctx);
  if (!edited) return undefined;
  const { last, seg } = edited;
  if (state.seeds[seg] || state.demanded[seg] || previous.seeds[seg] || previous.demanded[seg]) return undefined;
  // The first line of a statement decides what it is (definition, decorator, clause): not reused.
  const firstLineEnd = previous.text.indexOf('\n', previous.segs.starts[seg]);
  if (firstLineEnd < 0 || change.start <= firstLineEnd) return undefined;
  // The edited lines, before and after: no scan may find anything there (scans never cross a line
  // except the keyword ones, which are watched as words).
  const editedSpan = (lines: LineIndex, start: number, end: number): [number, number] =>
    [lines.starts[lines.positionAt(start).line], lines.lineEnd(lines.positionAt(end).line)];
  const [b0, b1] = editedSpan(previous.lines, change.start, change.oldEnd);
  const [a0, a1] = editedSpan(state.lines, change.start, change.newEnd);
  if (scansFind(previous.text, b0, b1, last.watched) || scansFind(state.text, a0, a1, last.watched)) return undefined;
  try {
    return {
      text: state.text, watched: last.watched, ctxKey: last.ctxKey, local: last.local,
      findings: shiftPositions(last.findings, previous.lines, state.lines, change),
      hubRefs: last.hubRefs && shiftPositions(last.hubRefs, previous.lines, state.lines, change),
    };
  } catch (e) {
    if (e instanceof NotShiftable) return undefined;
    throw e;
  }
}

/**
 * An edit inside one selected statement S that keeps every statement boundary: the findings outside S
 * are kept (shifted) and only S's calls are judged again — provided nothing in S (before or after the
 * edit) can reach other statements: no watched keyword, no occurrence that may bind a name the last
 * analysis resolved, no download call (taint facts), and S is not a leading statement. Returns the
 * old span of S and its new span, or undefined.
 */
function localEdit(previous: SourceState, state: SourceState, change: TextChange, ctx: AnalysisContext): { oldSpan: [number, number]; newSpan: [number, number] } | undefined {
  const edited = editedStatement(previous, state, change, ctx);
  if (!edited || !edited.last.local) return undefined;
  const { last, seg } = edited;
  const old = previous.segs, now = state.segs;
  const oldSpan: [number, number] = [old.starts[seg], segmentEnd(old, seg)];
  const newSpan: [number, number] = [now.starts[seg], segmentEnd(now, seg)];
  if (scansFind(previous.text, oldSpan[0], oldSpan[1], last.watched, DOWNLOAD_CALLEES)) return undefined;
  if (scansFind(state.text, newSpan[0], newSpan[1], last.watched, DOWNLOAD_CALLEES)) return undefined;
  return { oldSpan, newSpan };
}

function sourceState(cacheKey: string | undefined, text: string): { state: SourceState; change?: TextChangeFrom; previous?: SourceState } {
  const previous = cacheKey !== undefined ? sources.get(cacheKey) : undefined;
  let state: SourceState;
  let change: TextChangeFrom | undefined;
  if (previous && previous.text === text) state = previous;
  else if (previous) {
    const span = diffSpan(previous.text, text);
    change = { ...span, from: previous.text };
    const segs = updateSegments(previous.segs, text, span.start, span.oldEnd, span.newEnd);
    state = {
      text, segs,
      lines: LineIndex.edited(previous.lines, text, span.start, span.oldEnd, span.newEnd),
      seeds: carryFlags(previous.seeds, segs, (i) => seedOf(text, segs, i)),
      demanded: carryFlags(previous.demanded, segs, () => 0),
      result: previous.result, // still for previous.text: reuseAfterEdit decides
    };
  } else {
    const segs = segmentPython(text);
    state = { text, lines: new LineIndex(text), segs, seeds: allSeeds(text, segs), demanded: new Uint8Array(segs.starts.length) };
  }
  if (cacheKey !== undefined) {
    sources.delete(cacheKey);
    sources.set(cacheKey, state);
    while (sources.size > TREE_CACHE_SIZE) sources.delete(sources.keys().next().value as string);
  }
  return { state, change, previous: change ? previous : undefined };
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
  if (options.stats) Object.assign(options.stats, { rounds: 0, parsedChars: 0, totalChars: text.length });
  if (!isParserReady()) return [incomplete(path, 'the Python parser is not initialised')];
  // Most modules mention none of the APIs the rules look for: skip parsing them entirely.
  if (text.length > MAX_PYTHON_CHARS) return [incomplete(path, `file is larger than ${MAX_PYTHON_CHARS} characters`)];
  if (!RELEVANT_TEXT.test(text)) return [];
  const source = sourceState(cacheKey, text);
  const { state, change, previous } = source;
  if (previous && change && !options.fullParse && !options.stats) {
    const reused = reuseAfterEdit(previous, state, change, ctx);
    if (reused) { state.result = reused; reuseCounter.count++; return reused.findings; }
  }
  // An edit inside one statement that cannot reach the others: judge that statement's calls again, keep the rest.
  const local = previous && change && !options.fullParse && !options.stats ? localEdit(previous, state, change, ctx) : undefined;
  let watched: ModuleModel['watched'] | undefined;
  let hubCalls: ModuleModel['hubCalls'];
  let clean = false;
  const r = withModel(source, cacheKey, options, ctx.isCancelled, (model, lines) => {
    watched = model.watched;
    clean = parsedCleanly(model);
    const found = runRules({ path, model, lines, ctx, within: local?.newSpan });
    hubCalls = local ? model.hubCallsWithin : model.hubCalls;
    return found;
  });
  if ('incomplete' in r) { state.result = undefined; return [incomplete(path, r.incomplete)]; }
  const complete = Boolean(watched) && !options.fullParse && !ctx.isCancelled?.();
  if (local) {
    const merged = complete && clean && previous?.result ? mergeLocal(previous, state, change!, local, r.value, hubCalls) : undefined;
    if (merged) {
      state.result = { text, findings: merged.findings, hubRefs: merged.hubRefs, ctxKey: ctxKeyOf(ctx), local: true,
        watched: unionWatched(previous!.result!.watched, watched!) };
      localCounter.count++;
      return merged.findings;
    }
    // Not mergeable (a syntax error now, a position that cannot be shifted, a cancelled pass): the whole module.
    // Same text: the parse and the model are the ones just built (withModel reuses them).
    const whole = withModel({ state }, cacheKey, options, ctx.isCancelled, (model, lines) => { watched = model.watched; clean = parsedCleanly(model); return runRules({ path, model, lines, ctx }); });
    if ('incomplete' in whole) { state.result = undefined; return [incomplete(path, whole.incomplete)]; }
    state.result = complete && !ctx.isCancelled?.() ? { text, findings: whole.value, watched: watched!, ctxKey: ctxKeyOf(ctx), local: clean } : undefined;
    return whole.value;
  }
  // Only a complete partial analysis is reusable (a cancelled one is partial; a full parse has no "unparsed" code).
  state.result = complete ? { text, findings: r.value, watched: watched!, ctxKey: ctxKeyOf(ctx), local: clean } : undefined;
  return r.value;
}

/**
 * Run `body` over the module's model, parsing only what it needs: the seeded statements first,
 * then — when the body looked at text that was not parsed — those statements too, and again.
 * `body` must be a pure function of the model (it may run more than once).
 */
function withModel<T>(source: { state: SourceState; change?: TextChangeFrom }, cacheKey: string | undefined, options: AnalyzeOptions, isCancelled: (() => boolean) | undefined,
  body: (model: ModuleModel, lines: LineIndex) => T): { value: T } | { incomplete: string } {
  const { fullParse = false, stats } = options;
  const { state, change } = source;
  const { text } = state;
  const lines = state.lines;
  const segs = fullParse ? undefined : state.segs;
  const selected = segs ? initialSelection(text, state) : undefined;
  for (let round = 0; ; round++) {
    // Even a fully selected module is parsed as chunks of statements (a keystroke re-parses one chunk);
    // a single whole-text tree is only the fallback after MAX_PARTIAL_ROUNDS.
    const partial = segs && selected && round < MAX_PARTIAL_ROUNDS;
    let coverage: Coverage | undefined = partial ? { segments: segs, ranges: rangesOf(segs, selected), misses: [] } : undefined;
    if (stats) { stats.rounds = round + 1; stats.parsedChars = coverage ? coverage.ranges.reduce((n, r) => n + r.endIndex - r.startIndex, 0) : text.length; }
    let parsed;
    try {
      parsed = parsePython(text, cacheKey, lines, coverage?.ranges, round === 0 ? change : undefined);
    } catch (e) {
      if (cacheKey !== undefined) forgetTree(cacheKey);
      return { incomplete: `parser failure (${(e as Error).message})` };
    }
    if ('incomplete' in parsed) return parsed;
    try {
      let model: ModuleModel;
      const last = state.last;
      if (!parsed.owned && last && last.parsed === parsed.parsed && !last.coverage === !coverage) {
        model = last.model; // same text, same parsed ranges, same (cached) tree
        if (last.coverage && coverage) { last.coverage.misses.length = 0; coverage = last.coverage; }
      } else {
        model = buildModel(parsed.parsed, text, isCancelled, coverage);
        state.last = parsed.owned ? undefined : { parsed: parsed.parsed, model, coverage };
      }
      const value = body(model, lines);
      if (!coverage || !coverage.misses.length || isCancelled?.()) return { value };
      for (const offset of coverage.misses) selected![segmentAt(segs!, offset)] = state.demanded[segmentAt(segs!, offset)] = 1;
    } catch (e) {
      return { incomplete: `internal error (${(e as Error).message})` };
    } finally {
      if (parsed.owned) deleteParsed(parsed.parsed);
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

function hubReference(node: Node, hub: HubCall, lines: LineIndex): HubReference {
  const ref: HubReference = { repoId: hub.repoId, kind: hub.kind, range: lines.rangeOf(hub.repoNode.startIndex, hub.repoNode.endIndex), callRange: lines.rangeOf(node.startIndex, node.endIndex) };
  if (hub.revision !== undefined) ref.revision = hub.revision;
  if (hub.revisionNode) ref.revisionRange = lines.rangeOf(hub.revisionNode.startIndex, hub.revisionNode.endIndex);
  else if (hub.revisionInString && hub.revision !== undefined) {
    const end = hub.repoNode.endIndex - 1;
    ref.revisionRange = lines.rangeOf(end - hub.revision.length, end);
  }
  return ref;
}

/**
 * Every Hub reference with a string-literal repo id (pinned or not), for the Hub integration.
 * Shares the analysis's parse cache for `path`: right after an analysis of the same text it parses nothing.
 */
export function findHubReferences(path: string, text: string, options: AnalyzeOptions = {}): HubReference[] {
  if (!isParserReady() || text.length > MAX_PYTHON_CHARS) return [];
  const cached = options.fullParse ? undefined : sources.get(path)?.result;
  if (cached && cached.text === text && cached.hubRefs) return cached.hubRefs;
  const r = withModel(sourceState(path, text), path, options, undefined, (model, lines) => {
    const out: HubReference[] = [];
    // Right after an analysis of the same text, its rule pass has already found every Hub call.
    const calls = model.hubCalls ?? model.callsNamed(new Set([...HUB_CALLEES, ...model.importedNames])).flatMap(({ node, scope }) => {
      const fn = node.childForFieldName('function');
      const hub = fn ? hubCall(fn, qualifiedName(fn, scope), callArgs(node), scope) : undefined;
      return hub ? [{ call: node, hub }] : [];
    });
    for (const { call: node, hub } of calls) out.push(hubReference(node, hub, lines));
    return out;
  });
  // Partial results are fine for hovers and pinning; an unparseable file has none.
  if (!('value' in r)) return [];
  const result = sources.get(path)?.result;
  if (result && result.text === text && !options.fullParse) result.hubRefs = r.value;
  return r.value;
}
