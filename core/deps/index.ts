/**
 * Dependency analysis entry points (requirements files, pyproject.toml, Pipfile,
 * conda environment files, lockfiles, and pip commands in notebooks).
 * CONTRACT (implemented by the deps module):
 */
import type { AnalysisContext, AnalysisResult, FileKind, FileAccess, ProjectFacts } from '../analysis';
import type { Finding } from '../types';
import type { RuleMeta } from '../rules/registry';

/** Rule metadata for DEP001–DEP008. */
export const dependencyRules: RuleMeta[] = [];

/** Analyze one manifest of the given kind. Never throws: unparsable input yields DEP008. */
export function analyzeManifest(_kind: FileKind, _path: string, _text: string, _ctx: AnalysisContext): AnalysisResult {
  return { findings: [], dependsOn: [] };
}

/**
 * Analyze a `pip install …` command found in a notebook cell or shell line.
 * `lineText` is the whole line, `line` its line number in the cell, `argsStart`
 * the character where the arguments after `install` begin. Ranges are in the
 * caller's (cell) coordinates.
 */
export function analyzePipInstall(_path: string, _lineText: string, _line: number, _argsStart: number, _ctx: AnalysisContext): Finding[] {
  return [];
}

/** Gather lockfile pins, installed versions and declared bounds under `root`. */
export function buildProjectFacts(_root: string, _fs: FileAccess): ProjectFacts {
  return { lockedVersions: new Map(), installedVersions: new Map(), versionFloor: () => undefined };
}
