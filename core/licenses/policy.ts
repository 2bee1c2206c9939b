/**
 * The license policy: `modelvet.licenses.allow` / `deny` (settings) or `[tool.modelvet] licenses =
 * { allow = [...], deny = [...] }`. Entries are SPDX ids (ranges like `GPL-2.0+` work, matched with
 * `spdx-satisfies`), SPDX expressions (their ids count), or Hub license ids (`llama3`, `openrail`).
 * An expression is denied when every way to comply uses a denied license (OR: both sides, AND: either
 * side); with an allow list it must be satisfiable with allowed licenses only.
 */
import parse, { type SpdxNode } from 'spdx-expression-parse';
import satisfies from 'spdx-satisfies';
import { expressionIds, normalizeLicense, type NormalizedLicense } from './spdx';

export interface LicensePolicy { allow: string[]; deny: string[] }

export type PolicyVerdict = { status: 'ok' } | { status: 'denied' | 'not-allowed'; matched?: string } | { status: 'unknown' };

interface Entries { ids: string[]; hub: Set<string>; families: Set<string>; raw: string[] }

function entriesOf(list: string[]): Entries {
  const out: Entries = { ids: [], hub: new Set(), families: new Set(), raw: list };
  for (const e of list) {
    const n = normalizeLicense(e);
    if (n.hub) out.hub.add(n.hub);
    else if (n.spdx) out.ids.push(...expressionIds(n.spdx));
    else out.hub.add(e.trim().toLowerCase());
  }
  for (const id of out.ids) out.families.add(familyOfId(id));
  return out;
}

/** `GPL-3.0-or-later` → `GPL`, `BSD-3-Clause` → `BSD`, `CC-BY-NC-4.0` → `CC-BY-NC`. */
function familyOfId(id: string): string {
  return id.toUpperCase().replace(/\+$/, '').replace(/-(ONLY|OR-LATER)$/, '').replace(/-?\d.*$/, '').replace(/-$/, '');
}

function baseId(id: string): string {
  return id.toUpperCase().replace(/\+$/, '').replace(/-(ONLY|OR-LATER)$/, '');
}

function leafMatches(leaf: { license: string; plus?: boolean; exception?: string }, e: Entries): string | undefined {
  const id = leaf.license + (leaf.plus ? '+' : '');
  for (const want of e.ids) {
    if (baseId(want) === baseId(leaf.license)) return want;
    try { if (satisfies(leaf.exception ? `${id} WITH ${leaf.exception}` : id, [want])) return want; } catch { /* ids spdx-satisfies does not know */ }
  }
  return undefined;
}

/** Does some way of complying with `tree` avoid every entry? (`pick`: 'avoid' for deny, 'within' for allow) */
function evalTree(n: SpdxNode, e: Entries, mode: 'deny' | 'allow'): { ok: boolean; matched?: string } {
  if ('license' in n) {
    const m = leafMatches(n, e);
    return mode === 'deny' ? { ok: !m, matched: m } : { ok: !!m, matched: m };
  }
  const a = evalTree(n.left, e, mode), b = evalTree(n.right, e, mode);
  if (n.conjunction === 'or') return a.ok || b.ok ? { ok: true } : { ok: false, matched: a.matched ?? b.matched };
  return a.ok && b.ok ? { ok: true } : { ok: false, matched: a.ok ? b.matched : a.matched };
}

const AMBIGUOUS_FAMILY: Array<[RegExp, string]> = [[/lesser|library|lgpl/i, 'LGPL'], [/affero|agpl/i, 'AGPL'], [/documentation|fdl/i, 'GFDL'], [/gpl|general public/i, 'GPL'], [/bsd/i, 'BSD'], [/artistic/i, 'ARTISTIC']];

export function evaluatePolicy(lic: NormalizedLicense, policy: LicensePolicy): PolicyVerdict {
  if (!policy.allow.length && !policy.deny.length) return { status: 'ok' };
  const deny = entriesOf(policy.deny);
  const allow = entriesOf(policy.allow);
  if (lic.hub) {
    if (deny.hub.has(lic.hub)) return { status: 'denied', matched: lic.hub };
    if (policy.allow.length && !allow.hub.has(lic.hub)) return { status: 'not-allowed' };
    return { status: 'ok' };
  }
  if (lic.spdx) {
    let tree: SpdxNode;
    try { tree = parse(lic.spdx); } catch { return { status: 'unknown' }; }
    if (policy.deny.length) { const r = evalTree(tree, deny, 'deny'); if (!r.ok) return { status: 'denied', matched: r.matched }; }
    if (policy.allow.length) { const r = evalTree(tree, allow, 'allow'); if (!r.ok) return { status: 'not-allowed' }; }
    return { status: 'ok' };
  }
  if (lic.how === 'ambiguous') {
    // "BSD License", "GPL": the family is known, the version is not; judge by family.
    const fam = AMBIGUOUS_FAMILY.find(([re]) => re.test(lic.raw))?.[1];
    if (!fam) return { status: 'unknown' };
    if (deny.families.has(fam)) return { status: 'denied', matched: [...deny.ids].find((i) => familyOfId(i) === fam) };
    if (policy.allow.length && !allow.families.has(fam)) return { status: 'not-allowed' };
    return { status: 'ok' };
  }
  return { status: 'unknown' };
}
