/**
 * HUB004: does a repo owner look like a typo of a popular organization?
 * DEP001's index (core/deps/typosquat) is built over the PyPI corpus and is not
 * parameterizable, so we share its look-alike normalization (`ultraNormalize`:
 * case, separators, homoglyphs, l/i/1 and o/0) and add a small bounded
 * Damerau (OSA) edit distance over the ~90 curated org names.
 */
import orgsData from './orgs.json';
import { ultraNormalize } from '../deps/typosquat';

/** Names shorter than this are not compared fuzzily (too many innocent neighbours). */
export const MIN_FUZZY_LENGTH = 5;
/** Owner names longer than this are not compared (nothing popular is that long; bounds the work). */
export const MAX_OWNER_LENGTH = 96;

export const POPULAR_ORGS: readonly string[] = (orgsData as { orgs: string[] }).orgs;

/** Optimal-string-alignment distance, or `max + 1` as soon as it must exceed `max`. */
export function boundedEditDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prevPrev = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(n + 1);
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prevPrev[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prevPrev = prev;
    prev = cur;
  }
  return prev[n];
}

/** Folds what a reader does not notice: DEP001's folding (case, separators, homoglyphs, 0/o, 1/l/i) plus rn/m and vv/w. */
export function normalizeOwner(name: string): string {
  return ultraNormalize(name).replace(/rn/g, 'm').replace(/vv/g, 'w');
}

export interface OrgIndex {
  exact: Set<string>;
  normalized: Map<string, string>;
  byLength: Map<number, string[]>;
}

export function buildOrgIndex(orgs: readonly string[]): OrgIndex {
  const index: OrgIndex = { exact: new Set(), normalized: new Map(), byLength: new Map() };
  for (const o of orgs) {
    const lower = o.toLowerCase();
    index.exact.add(lower);
    index.normalized.set(normalizeOwner(o), o);
    const list = index.byLength.get(lower.length) ?? [];
    list.push(o);
    index.byLength.set(lower.length, list);
  }
  return index;
}

let defaultIndex: OrgIndex | undefined;

/** The popular org an owner name imitates, or undefined (also for the org itself). */
export function lookalikeOrg(owner: string, index: OrgIndex = (defaultIndex ??= buildOrgIndex(POPULAR_ORGS))): string | undefined {
  const lower = owner.toLowerCase();
  if (!lower || lower.length > MAX_OWNER_LENGTH || index.exact.has(lower)) return undefined;
  const norm = normalizeOwner(owner);
  const sameShape = index.normalized.get(norm);
  if (sameShape) return sameShape;
  if (lower.length < MIN_FUZZY_LENGTH) return undefined;
  const maxDistance = lower.length >= 9 ? 2 : 1;
  let best: { org: string; d: number } | undefined;
  for (let len = lower.length - maxDistance; len <= lower.length + maxDistance; len++) {
    for (const org of index.byLength.get(len) ?? []) {
      if (org.length < MIN_FUZZY_LENGTH) continue;
      const d = boundedEditDistance(lower, org.toLowerCase(), maxDistance);
      if (d <= maxDistance && (!best || d < best.d)) best = { org, d };
    }
  }
  return best?.org;
}
