/**
 * One entry point for every analyzable text file: routes by file kind, then
 * applies the user's per-rule configuration and suppression comments. The CLI
 * and the language server both call this, so they report the same findings.
 */
import type { AnalysisContext, AnalysisResult, NotebookCellInput } from './analysis';
import { effectiveSeverity } from './config';
import { analyzeManifest } from './deps/index';
import { analyzeNotebook, analyzePython } from './code/index';
import { analyzeCard } from './cards/rules';
import { manifestLicenseFindings } from './licenses/manifest';
import { fileKind } from './fileKinds';
import { mergeSameRange } from './merge';
import { getRule } from './rules/registry';
import { fileSuppressedCodes, suppressedCodes, isSuppressed } from './suppress';
import { LineIndex } from './text';
import type { Finding } from './types';
import './rules/all';

export function analyzeText(path: string, text: string, ctx: AnalysisContext): AnalysisResult {
  const kind = fileKind(path);
  if (!kind) return { findings: [], dependsOn: [] };
  let result: AnalysisResult;
  if (kind === 'python') result = analyzePython(path, text, ctx);
  else if (kind === 'notebook') return analyzeNotebookText(path, text, ctx);
  else if (kind === 'modelcard') result = analyzeCard(path, text, ctx);
  else {
    result = analyzeManifest(kind, path, text, ctx);
    if (kind === 'requirements' || kind === 'pyproject' || kind === 'pipfile' || kind === 'conda') {
      result.findings.push(...manifestLicenseFindings(path, text, ctx));
    }
  }
  const lines = new LineIndex(text);
  return { findings: finalize(result.findings, ctx, (f) => lines.lineText(f.range.start.line), fileSuppressedCodes(text)), dependsOn: result.dependsOn };
}

/** A notebook given as cells (the server's notebook sync). */
export function analyzeCells(path: string, cells: NotebookCellInput[], ctx: AnalysisContext): Finding[] {
  const lineTables = cells.map((c) => new LineIndex(c.text));
  let fileCodes: ReturnType<typeof fileSuppressedCodes>;
  for (const c of cells) {
    const codes = c.kind === 'code' ? fileSuppressedCodes(c.text) : undefined;
    if (codes === '*') { fileCodes = '*'; break; }
    if (codes) fileCodes = new Set([...((fileCodes as Set<string> | undefined) ?? []), ...codes]);
  }
  return finalize(analyzeNotebook(path, cells, ctx), ctx, (f) => f.cell === undefined ? undefined : lineTables[f.cell]?.lineText(f.range.start.line), fileCodes);
}

/** A notebook given as .ipynb JSON (the CLI). Invalid JSON yields one NB001 finding. */
export function analyzeNotebookText(path: string, text: string, ctx: AnalysisContext): AnalysisResult {
  const cells = parseNotebookCells(text);
  if ('error' in cells) {
    return { findings: [{ path, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, code: 'DEP008', severity: 'warning', message: `Notebook could not be read: ${cells.error}`, fixes: [] }], dependsOn: [] };
  }
  return { findings: analyzeCells(path, cells.cells, ctx), dependsOn: [] };
}

export function parseNotebookCells(text: string): { cells: NotebookCellInput[] } | { error: string } {
  let nb: any;
  try { nb = JSON.parse(text); } catch (e) { return { error: `invalid JSON (${(e as Error).message})` }; }
  if (!nb || typeof nb !== 'object' || !Array.isArray(nb.cells)) return { error: 'no "cells" array' };
  const lang = nb.metadata?.kernelspec?.language ?? nb.metadata?.language_info?.name ?? 'python';
  const cells: NotebookCellInput[] = nb.cells.map((c: any) => {
    const src = Array.isArray(c?.source) ? c.source.filter((s: unknown) => typeof s === 'string').join('') : typeof c?.source === 'string' ? c.source : '';
    return { kind: c?.cell_type === 'code' ? 'code' : 'markup', text: src, languageId: typeof lang === 'string' ? lang : 'python' };
  });
  return { cells };
}

/** Apply configured severities / disabled rules, then suppression comments, then merge findings on one range. */
function finalize(findings: Finding[], ctx: AnalysisContext, lineText: (f: Finding) => string | undefined, fileCodes?: Set<string> | '*'): Finding[] {
  const out: Finding[] = [];
  for (const f of findings) {
    const meta = getRule(f.code);
    const configured = ctx.config.rules[f.code];
    if (configured === 'off') continue;
    if (meta?.optIn && !configured) continue;
    const sev = configured ? effectiveSeverity(ctx.config, f.code, f.severity) : f.severity;
    if (!sev) continue;
    if (isSuppressed(f.code, fileCodes) || isSuppressed(f.code, suppressedCodes(lineText(f) ?? ''))) continue;
    out.push(sev === f.severity ? f : { ...f, severity: sev });
  }
  return mergeSameRange(out);
}
