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
import { buildModel, callArgs, qualifiedName } from './model';
import { layoutNotebook, mapFindingToCell } from './notebook';
import { forgetTree, initParser, isParserReady, MAX_PYTHON_CHARS, parsePython } from './parser';
import { RELEVANT_TEXT, runRules } from './rules';

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

/** Analyse Python source; `cacheKey` enables incremental re-parsing of the same document. */
function analyzeSource(path: string, text: string, ctx: AnalysisContext, cacheKey: string | undefined): Finding[] {
  if (!isParserReady()) return [incomplete(path, 'the Python parser is not initialised')];
  // Most modules mention none of the APIs the rules look for: skip parsing them entirely.
  if (text.length <= MAX_PYTHON_CHARS && !RELEVANT_TEXT.test(text)) return [];
  let parsed;
  const lines = new LineIndex(text);
  try {
    parsed = parsePython(text, cacheKey, lines);
  } catch (e) {
    if (cacheKey !== undefined) forgetTree(cacheKey);
    return [incomplete(path, `parser failure (${(e as Error).message})`)];
  }
  if ('incomplete' in parsed) return [incomplete(path, parsed.incomplete)];
  try {
    const model = buildModel(parsed.tree, text, ctx.isCancelled);
    return runRules({ path, model, lines, ctx });
  } catch (e) {
    return [incomplete(path, `internal error (${(e as Error).message})`)];
  } finally {
    if (parsed.owned) parsed.tree.delete();
  }
}

/**
 * Analyze a Python module. Requires initPythonParser() to have resolved.
 * The last tree per path is kept, so re-analysing an edited document re-parses incrementally.
 */
export function analyzePython(path: string, text: string, ctx: AnalysisContext): AnalysisResult {
  return { findings: analyzeSource(path, text, ctx, path), dependsOn: [] };
}

/** Free the cached syntax tree of a closed document (the server calls this on didClose). */
export function forgetPython(path: string): void {
  forgetTree(path);
  forgetTree(notebookKey(path));
}

const notebookKey = (path: string) => `${path}#notebook`;

/** Analyze a notebook's cells in order; findings carry `cell` and cell-relative ranges. */
export function analyzeNotebook(path: string, cells: NotebookCellInput[], ctx: AnalysisContext): Finding[] {
  const layout = layoutNotebook(cells);
  const out: Finding[] = [];
  for (const f of analyzeSource(path, layout.text, ctx, notebookKey(path))) {
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
