/** PEP 440 helpers over @renovatebot/pep440: validity, specifier checks and range intersection. */
import { valid, satisfies, compare, explain } from '@renovatebot/pep440';

/** PEP 503 name normalization: lowercase, runs of `-`, `_`, `.` become one `-`. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    // '_' or '.', or a '-' that starts a run of separators: needs the regex.
    if (c === 95 || c === 46 || (c === 45 && (lower.charCodeAt(i + 1) === 45 || lower.charCodeAt(i + 1) === 95 || lower.charCodeAt(i + 1) === 46))) return lower.replace(/[-_.]+/g, '-');
  }
  return lower;
}

/** The PEP 440 version grammar (as in `packaging`), anchored; much cheaper than a full parse. */
const PEP440 = /^v?(?:(?:\d+!)?\d+(?:\.\d+)*(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?(?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?)(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$/i;

export function isValidVersion(v: string): boolean {
  return v.length <= 256 && PEP440.test(v);
}

/** Cross-check with the full parser (used by tests to keep the fast grammar honest). */
export function isValidVersionStrict(v: string): boolean {
  try { return valid(v) !== null; } catch { return false; }
}

/** A clause version is valid for its operator (`==`/`!=` allow a trailing `.*`; `===` takes anything). */
export function isValidClauseVersion(op: string, v: string): boolean {
  if (op === '===') return v.length > 0;
  if ((op === '==' || op === '!=') && v.endsWith('.*')) {
    const base = v.slice(0, -2);
    return isValidVersion(base) && !/[+]/.test(base);
  }
  if (op === '~=') return isValidVersion(v) && !v.includes('+') && /^\s*v?(?:\d+!)?\d+\.\d+/.test(v);
  return isValidVersion(v);
}

function safeExplain(v: string) {
  try { return explain(v); } catch { return null; }
}

export function versionSatisfies(version: string, spec: string): boolean {
  if (!spec.trim()) return true;
  try { return satisfies(version, spec, { prereleases: true } as any); } catch { return false; }
}

/**
 * Advisory-range membership by version ORDER (OSV semantics): `<2.6.0` includes 2.6.0rc1,
 * unlike PEP 440 specifier matching, which hides pre-releases of the bound.
 */
export function inOrderedRange(version: string, range: string): boolean {
  if (!isValidVersion(version)) return false;
  for (const c of splitSpecifier(range)) {
    if (c.version.endsWith('.*') || c.op === '~=' || c.op === '===') { if (!versionSatisfies(version, `${c.op}${c.version}`)) return false; continue; }
    if (!isValidVersion(c.version)) return false;
    const cmp = compareVersions(version, c.version);
    const ok = c.op === '<' ? cmp < 0 : c.op === '<=' ? cmp <= 0 : c.op === '>' ? cmp > 0 : c.op === '>=' ? cmp >= 0 : c.op === '==' ? cmp === 0 : cmp !== 0;
    if (!ok) return false;
  }
  return true;
}

export function compareVersions(a: string, b: string): number {
  try { return compare(a, b); } catch { return a < b ? -1 : a > b ? 1 : 0; }
}

export interface Clause { op: string; version: string }

export function splitSpecifier(spec: string): Clause[] {
  const out: Clause[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(~=|===|==|!=|<=|>=|<|>)\s*(\S+)\s*$/.exec(part);
    if (m) out.push({ op: m[1], version: m[2] });
  }
  return out;
}

const pinnedCache = new Map<string, string | null>();
const PINNED_CACHE_LIMIT = 50_000;

/** The exact version a specifier pins (`==X` without wildcard, or `===X`), else undefined. */
export function pinnedVersion(spec: string): string | undefined {
  if (!spec) return undefined;
  const hit = pinnedCache.get(spec);
  if (hit !== undefined) return hit ?? undefined;
  const eq = splitSpecifier(spec).find((c) => (c.op === '==' && !c.version.endsWith('.*')) || c.op === '===');
  if (pinnedCache.size >= PINNED_CACHE_LIMIT) pinnedCache.clear();
  pinnedCache.set(spec, eq?.version ?? null);
  return eq?.version;
}

/**
 * Versions worth testing when asking "does specifier A allow any version that B matches?".
 * For single-interval specifiers the intersection's lowest point is a bound of one of them,
 * or just above an exclusive bound, so testing bounds and bound+epsilon is exact enough.
 */
function candidateVersions(specs: string[]): string[] {
  const out = new Set<string>(['0']);
  for (const s of specs) {
    for (const c of splitSpecifier(s)) {
      const base = c.version.endsWith('.*') ? c.version.slice(0, -2) : c.version;
      const e = safeExplain(base);
      if (!e) continue;
      const pub = (e.epoch ? `${e.epoch}!` : '') + e.release.join('.');
      out.add(pub);
      out.add(base);
      out.add(`${pub}.0.0.0.1`);
      if (e.is_prerelease || e.is_postrelease || e.is_devrelease) out.add(e.public);
    }
  }
  return [...out];
}

/** Whether some version satisfies both `spec` and any of `affected` (a list of specifier sets). */
export function specifierAllows(spec: string, affected: string[]): boolean {
  for (const a of affected) {
    for (const v of candidateVersions([spec, a])) if (versionSatisfies(v, spec) && inOrderedRange(v, a)) return true;
  }
  return false;
}

/** The lowest version a specifier allows, if it names a lower bound (`==`, `===`, `>=`, `>`, `~=`). */
export function lowerBound(spec: string): string | undefined {
  let best: string | undefined;
  for (const c of splitSpecifier(spec)) {
    if (!['==', '===', '>=', '>', '~='].includes(c.op)) continue;
    const v = c.version.endsWith('.*') ? c.version.slice(0, -2) : c.version;
    if (!isValidVersion(v)) continue;
    if (!best || compareVersions(v, best) > 0) best = v;
  }
  return best;
}

/**
 * A specifier that keeps the upper bounds of `spec` that still allow `floor`, and sets the lower bound
 * to `floor` (or pins it when the original was an exact pin). Version strings are copied, never rewritten.
 */
export function raiseFloor(spec: string, floor: string): string {
  const clauses = splitSpecifier(spec);
  if (pinnedVersion(spec)) return `==${floor}`;
  const kept = clauses.filter((c) => ['<', '<=', '!='].includes(c.op) && versionSatisfies(floor, `${c.op}${c.version}`));
  return [`>=${floor}`, ...kept.map((c) => `${c.op}${c.version}`)].join(',');
}
