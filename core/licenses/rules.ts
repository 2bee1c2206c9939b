/** LIC rules: their documentation and the findings computed from a license table. */
export { licenseRules } from './meta';
import type { Finding, Range, Severity } from '../types';
import { evaluatePolicy, type LicensePolicy } from './policy';
import type { LicenseRow } from './table';
import { MAX_ONLINE_PROJECTS, type IndexLicenses, type OnlineLookup } from './online';
import type { NormalizedLicense } from './spdx';


function at0(): Range { return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }; }

export interface LicenseCheckOptions {
  policy: LicensePolicy;
  /** Explicit or detected: 'application' only when declared; 'library' declared or detected. */
  projectKind: 'auto' | 'library' | 'application';
  isLibrary: boolean;
}

/** Findings for a license table (paths are the files the facts came from). */
export function licenseFindings(rows: LicenseRow[], opts: LicenseCheckOptions): Finding[] {
  const out: Finding[] = [];
  for (const r of rows) {
    const what = `${r.kind === 'library' ? 'dependency' : r.kind} ${r.name}${r.version ? ` ${r.version}` : ''}`;
    const file = r.file ?? '';
    const range = r.range ?? at0();
    const add = (code: string, severity: Severity, message: string) =>
      out.push({ path: file, range, code, severity, message, fixes: [], data: { name: r.name, version: r.version, kind: r.kind, license: r.license.display } });
    const v = evaluatePolicy(r.license, opts.policy);
    if (v.status === 'denied') add('LIC001', 'error', `${what}: license ${r.license.display} is denied by the license policy${v.matched ? ` (deny: ${v.matched})` : ''}`);
    else if (v.status === 'not-allowed') add('LIC001', 'error', `${what}: license ${r.license.display} is not on the license policy's allow list`);
    const custom = r.license.raw.toLowerCase() === 'other' && !!r.license.hub && r.license.hub !== 'other';
    // A custom license the allow list names has been reviewed: not "unknown" any more.
    if (r.license.category === 'unknown' && !(custom && opts.policy.allow.length && v.status === 'ok')) {
      const why = r.source === 'none' || !r.license.raw ? 'no license is recorded'
        : custom ? `the custom license "${r.license.display.slice(0, 80)}" (license: other, license_name) needs a review of its terms; allow or deny it by that name`
        : `the license "${r.license.raw.slice(0, 80)}" is not recognized`;
      add('LIC002', r.kind === 'library' ? 'information' : 'warning', `${what}: ${why}${r.kind === 'model' && !custom ? ' in the model card' : ''}`);
    }
    if (r.kind !== 'library' && r.license.category === 'noncommercial' && opts.projectKind === 'application') {
      add('LIC003', 'warning', `${what}: license ${r.license.display} does not allow commercial use, and this project is an application`);
    }
    if (r.kind === 'library' && r.license.category === 'copyleft' && opts.isLibrary) {
      add('LIC004', 'warning', `${what}: license ${r.license.display} is strong copyleft, and this project is a library`);
    }
  }
  return out;
}

/**
 * With online features on: fill licenses unknown locally from the index's METADATA of the same version
 * (source 'index'), and report LIC005 when the newest release's license differs from the locked one's.
 */
export async function applyIndexLicenses(rows: LicenseRow[], lookup: OnlineLookup, maxProjects = MAX_ONLINE_PROJECTS): Promise<{ findings: Finding[]; looked: number; skipped: number }> {
  const libs = rows.filter((r) => r.kind === 'library' && r.version);
  const todo = libs.slice(0, maxProjects);
  const findings: Finding[] = [];
  await Promise.all(todo.map(async (r) => {
    const res = await lookup.licensesOf(r.name, r.version);
    if (!res) return;
    if (res.pinned && r.license.category === 'unknown' && res.pinned.license.category !== 'unknown') {
      r.license = res.pinned.license;
      r.source = 'index';
    }
    const f = licenseChangeFinding(r, res);
    if (f) findings.push(f);
  }));
  return { findings, looked: todo.length, skipped: libs.length - todo.length };
}

/**
 * LIC005 for one library row and the index's answer: the newest final release's license differs from
 * the pinned version's (the index's METADATA of that version, else the row's own known license).
 * Shared by `modelvet licenses --online` and the editor's background lookups (server/src/indexLicenses.ts).
 */
export function licenseChangeFinding(r: LicenseRow, res: IndexLicenses): Finding | undefined {
  const was = res.pinned?.license ?? (r.license.category !== 'unknown' ? r.license : undefined);
  const now = res.newest;
  if (!was || !now || now.version === r.version || now.license.category === 'unknown' || was.category === 'unknown' || licenseKey(was) === licenseKey(now.license)) return undefined;
  return {
    path: r.file ?? '', range: r.range ?? at0(), code: 'LIC005', severity: 'warning', fixes: [],
    message: `dependency ${r.name}: ${r.version} is ${was.display}, the newest release ${now.version} is ${now.license.display}`,
    data: { name: r.name, version: r.version, kind: r.kind, license: was.display, newest: now.version, newestLicense: now.license.display },
  };
}

function licenseKey(l: NormalizedLicense): string { return (l.spdx ?? l.hub ?? l.raw).toLowerCase(); }
