/**
 * Python and notebook analysis (unsafe model loading, remote code, unpinned Hub revisions).
 * CONTRACT (implemented by the code module):
 */
import type { AnalysisContext, AnalysisResult, NotebookCellInput } from '../analysis';
import type { Finding } from '../types';
import type { RuleMeta } from '../rules/registry';

/** Rule metadata for LOAD001–LOAD008. */
export const codeRules: RuleMeta[] = [];

/** Load the tree-sitter runtime and Python grammar once. `wasmDir` holds the .wasm files (dist/ in bundles). */
export async function initPythonParser(_wasmDir?: string): Promise<void> {}

/** Analyze a Python module. Requires initPythonParser() to have resolved. */
export function analyzePython(_path: string, _text: string, _ctx: AnalysisContext): AnalysisResult {
  return { findings: [], dependsOn: [] };
}

/** Analyze a notebook's cells in order; findings carry `cell` and cell-relative ranges. */
export function analyzeNotebook(_path: string, _cells: NotebookCellInput[], _ctx: AnalysisContext): Finding[] {
  return [];
}
