/** LIC rules: their documentation and the findings computed from a license table. */
export { licenseRules } from './meta';
import type { Finding, Range, Severity } from '../types';
import { evaluatePolicy, type LicensePolicy } from './policy';
import type { LicenseRow } from './table';


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
    if (r.license.category === 'unknown') {
      const why = r.source === 'none' || !r.license.raw ? 'no license is recorded' : `the license "${r.license.raw.slice(0, 80)}" is not recognized`;
      add('LIC002', r.kind === 'library' ? 'information' : 'warning', `${what}: ${why}${r.kind === 'model' ? ' in the model card' : ''}`);
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
