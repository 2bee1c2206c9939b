import path from 'node:path';
import type { AnalysisContext, FileAccess, ProjectFacts } from '../../../core/analysis';
import { defaultConfig, type ModelVetConfig } from '../../../core/config';
import { analyzeManifest } from '../../../core/deps/index';
import type { FileKind } from '../../../core/analysis';
import type { Finding, TextEdit } from '../../../core/types';
import { LineIndex } from '../../../core/text';

export const ROOT = path.resolve('/ws');

/** An in-memory workspace: paths are relative to ROOT. */
export function memFs(files: Record<string, string>): FileAccess {
  const abs = new Map(Object.entries(files).map(([k, v]) => [path.resolve(ROOT, k), v]));
  return { readText: (p) => abs.get(path.resolve(p)), exists: (p) => abs.has(path.resolve(p)) };
}

export function ctxOf(opts: { files?: Record<string, string>; config?: Partial<ModelVetConfig>; locked?: Record<string, string>; installed?: Record<string, string> } = {}): AnalysisContext {
  const project: ProjectFacts = {
    lockedVersions: new Map(Object.entries(opts.locked ?? {})),
    installedVersions: new Map(Object.entries(opts.installed ?? {})),
    versionFloor: () => undefined,
  };
  return { config: { ...defaultConfig(), ...opts.config }, workspaceRoot: ROOT, fs: memFs(opts.files ?? {}), project };
}

export function run(kind: FileKind, file: string, text: string, ctx = ctxOf()): Finding[] {
  return analyzeManifest(kind, path.resolve(ROOT, file), text, ctx).findings;
}

export function codes(fs: Finding[], code: string): Finding[] {
  return fs.filter((f) => f.code === code);
}

/** The text a finding's range covers. */
export function spanText(text: string, f: { range: Finding['range'] }): string {
  const li = new LineIndex(text);
  return text.slice(li.offsetAt(f.range.start), li.offsetAt(f.range.end));
}

export function applyEdits(text: string, edits: TextEdit[]): string {
  const li = new LineIndex(text);
  const sorted = [...edits].sort((a, b) => li.offsetAt(b.range.start) - li.offsetAt(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, li.offsetAt(e.range.start)) + e.newText + out.slice(li.offsetAt(e.range.end));
  return out;
}
