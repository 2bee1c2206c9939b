/**
 * LIC rules on the manifests themselves (editor and `modelvet check`): each declared dependency that is
 * installed in the project's environment is checked with its METADATA license against the license
 * policy (LIC001) and, in a library, for strong copyleft (LIC004), on the line that declares it.
 * Unknown licenses (LIC002) stay in `modelvet licenses`: in the editor they would flag most lines.
 * With index answers at hand (`ctx.indexLicenses`: the editor with online features on, looked up in the
 * background), a pinned or locked dependency whose newest release changed license gets LIC005 there too.
 */
import path from 'node:path';
import type { AnalysisContext } from '../analysis';
import type { Finding, Range } from '../types';
import { LineIndex } from '../text';
import { licenseChangeFinding, licenseFindings } from './rules';
import { MAX_ONLINE_PROJECTS } from './online';
import { normalizeLicense } from './spdx';
import { declaredDependencies, projectIsLibrary, type LicenseRow } from './table';

/** Lines searched for a dependency's name. */
export const MAX_LOCATE_LINES = 50_000;

function escapeRe(s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

/** The first non-comment occurrence of a package name (any of `-`, `_`, `.` spellings) as a whole word. */
function locate(text: string, lines: LineIndex, name: string): Range | undefined {
  const parts = name.split(/[-_.]+/).map(escapeRe);
  const re = new RegExp(`(?<![A-Za-z0-9._-])${parts.join('[-_.]+')}(?![A-Za-z0-9_-]|\\.[A-Za-z0-9])`, 'i');
  const n = Math.min(lines.lineCount, MAX_LOCATE_LINES);
  for (let l = 0; l < n; l++) {
    const t = lines.lineText(l);
    const m = re.exec(t);
    if (!m) continue;
    const hash = t.indexOf('#');
    if (hash >= 0 && hash < m.index) continue;
    return { start: { line: l, character: m.index }, end: { line: l, character: m.index + m[0].length } };
  }
  return undefined;
}

export function manifestLicenseFindings(filePath: string, text: string, ctx: AnalysisContext): Finding[] {
  return [...policyFindings(filePath, text, ctx), ...licenseChangeFindings(filePath, text, ctx)];
}

function policyFindings(filePath: string, text: string, ctx: AnalysisContext): Finding[] {
  const installed = ctx.project?.installedLicense;
  if (!installed) return [];
  const policy = ctx.config.licenses;
  const root = ctx.workspaceRoot ?? path.dirname(filePath);
  const isLibrary = projectIsLibrary(root, ctx.config.projectKind, (p) => (path.resolve(p) === path.resolve(filePath) ? text : ctx.fs.readText(p)));
  if (!policy.allow.length && !policy.deny.length && !isLibrary) return [];
  const self = path.resolve(filePath);
  const declared = declaredDependencies([filePath], (p) => (path.resolve(p) === self ? text : undefined));
  if (!declared.length) return [];
  const lines = new LineIndex(text);
  const rows: LicenseRow[] = [];
  for (const d of declared) {
    const inst = installed.call(ctx.project, d.name);
    if (!inst || inst.license.category === 'unknown') continue;
    rows.push({ kind: 'library', name: d.name, version: inst.version, license: inst.license, source: 'License', file: filePath, range: locate(text, lines, d.name) });
  }
  return licenseFindings(rows, { policy, projectKind: ctx.config.projectKind, isLibrary })
    .filter((f) => f.code === 'LIC001' || f.code === 'LIC004');
}

/**
 * LIC005 from the index answers known so far: each declared dependency with a version (the manifest's
 * `==` pin, else the lockfile's, else the installed one) whose newest release has another license.
 */
function licenseChangeFindings(filePath: string, text: string, ctx: AnalysisContext): Finding[] {
  const source = ctx.indexLicenses;
  if (!source) return [];
  const self = path.resolve(filePath);
  const declared = declaredDependencies([filePath], (p) => (path.resolve(p) === self ? text : undefined));
  if (!declared.length) return [];
  const lines = new LineIndex(text);
  const out: Finding[] = [];
  for (const d of declared.slice(0, MAX_ONLINE_PROJECTS)) {
    if (ctx.isCancelled?.()) break;
    const version = d.version ?? ctx.project?.lockedVersions.get(d.norm) ?? ctx.project?.installedVersions.get(d.norm);
    if (!version) continue;
    const answer = source.known(d.name, version);
    if (!answer) continue;
    const inst = ctx.project?.installedLicense?.(d.name);
    const license = inst && inst.version === version ? inst.license : normalizeLicense(undefined);
    const f = licenseChangeFinding({ kind: 'library', name: d.name, version, license, source: 'License', file: filePath, range: locate(text, lines, d.name) }, answer);
    if (f) out.push(f);
  }
  return out;
}
