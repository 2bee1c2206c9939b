/**
 * Dependency analysis entry points (requirements files, pyproject.toml, Pipfile,
 * conda environment files, lockfiles, and pip commands in notebooks).
 */
import type { AnalysisContext, AnalysisResult, FileKind, FileAccess, ProjectFacts } from '../analysis';
import type { Finding } from '../types';
import type { RuleMeta } from '../rules/registry';
import { LineIndex } from '../text';
import { analyzeConda } from './conda';
import { clampedRange } from './model';
import { buildFacts, type FactsOptions } from './facts';
import { dependencyRuleMeta } from './meta';
import { analyzePipInstallLine } from './pipinstall';
import { analyzeRequirements } from './requirements';
import { analyzeTomlManifest, parseLockfile } from './toml';

export { readToolConfig } from './toml';
export { checkPackageName, warmTyposquatIndex } from './typosquat';

/** Rule metadata for DEP001–DEP009. */
export const dependencyRules: RuleMeta[] = dependencyRuleMeta;

function internalError(path: string, e: unknown): AnalysisResult {
  const f: Finding = { path, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, code: 'DEP008', severity: 'warning', message: `internal error while analyzing this file: ${(e as Error)?.message ?? String(e)}`, fixes: [] };
  return { findings: [f], dependsOn: [] };
}

/** Analyze one manifest of the given kind. Never throws: unparsable input yields DEP008. */
export function analyzeManifest(kind: FileKind, path: string, text: string, ctx: AnalysisContext): AnalysisResult {
  try {
    switch (kind) {
      case 'requirements': return analyzeRequirements(path, text, ctx);
      case 'pyproject': case 'pipfile': return analyzeTomlManifest(kind, path, text, ctx);
      case 'conda': return analyzeConda(path, text, ctx);
      case 'lockfile': {
        const r = parseLockfile(path, text);
        if ('error' in r) {
          const lines = new LineIndex(text);
          const range = clampedRange(lines, r.offset, Math.min(text.length, r.offset + 1));
          return { findings: [{ path, range, code: 'DEP008', severity: 'warning', message: `lockfile cannot be read: ${r.error}`, fixes: [] }], dependsOn: [] };
        }
        return { findings: [], dependsOn: [] };
      }
      default: return { findings: [], dependsOn: [] };
    }
  } catch (e) {
    return internalError(path, e);
  }
}

/**
 * Analyze a `pip install …` command found in a notebook cell or shell line.
 * `lineText` is the whole line, `line` its line number in the cell, `argsStart`
 * the character where the arguments after `install` begin. Ranges are in the
 * caller's (cell) coordinates.
 */
export function analyzePipInstall(path: string, lineText: string, line: number, argsStart: number, ctx: AnalysisContext): Finding[] {
  try { return analyzePipInstallLine(path, lineText, line, argsStart, ctx); } catch { return []; }
}

/** Gather lockfile pins, installed versions and declared bounds under `root`. */
export function buildProjectFacts(root: string, fs: FileAccess, opts?: FactsOptions): ProjectFacts {
  try { return buildFacts(root, fs, opts); } catch {
    return { lockedVersions: new Map(), installedVersions: new Map(), versionFloor: () => undefined };
  }
}
