/**
 * License strings → SPDX expressions. The strings come from package METADATA (`License-Expression`,
 * `License`, trove classifiers), lockfiles and model-card front matter, and are messy: "BSD",
 * "Apache 2.0", "MIT License", "GNU Lesser General Public License v3 (LGPLv3)", whole license texts,
 * Hugging Face Hub ids that are not SPDX (`llama3`, `openrail++`, `gemma`). SPDX parsing and
 * correction are `spdx-expression-parse` and `spdx-correct`; what is ours is the order of attempts,
 * the guards against the corrector's wrong guesses, the Hub's own ids, and a license's category.
 */
import type { SpdxNode } from 'spdx-expression-parse';
import type parseFn from 'spdx-expression-parse';
import type correctFn from 'spdx-correct';

// Both are loaded on first use: their module set-up (license-id lists, sorted correction tables)
// cost every `modelvet check` ~7 ms of start-up, license or not.
let parseImpl: typeof parseFn | undefined;
let correctImpl: typeof correctFn | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parse: typeof parseFn = (expression) => (parseImpl ??= require('spdx-expression-parse') as typeof parseFn)(expression);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const correct: typeof correctFn = (identifier, options) => (correctImpl ??= require('spdx-correct') as typeof correctFn)(identifier, options);

/** Longest license string normalized; longer values (whole license texts) are judged by their first line. */
export const MAX_LICENSE_STRING = 512;

export type LicenseCategory =
  | 'permissive' | 'weak-copyleft' | 'copyleft' | 'noncommercial' | 'restricted' | 'proprietary' | 'unknown';

export interface NormalizedLicense {
  /** The string as found (trimmed, capped). */
  raw: string;
  /** SPDX expression, when the string is one or names one unambiguously. */
  spdx?: string;
  /** A Hugging Face Hub license id that is not SPDX (`llama3`, `openrail++`, `gemma`, …). */
  hub?: string;
  /**
   * exact: already a valid SPDX expression; corrected: mapped to one (spdx-correct or a trove classifier);
   * hub: a Hub id; ambiguous: a family without a version ("BSD License", "GPL"); unknown: nothing usable.
   */
  how: 'exact' | 'corrected' | 'hub' | 'ambiguous' | 'unknown';
  category: LicenseCategory;
  /** What a table shows: the SPDX expression, else the Hub id, else the raw string. */
  display: string;
}

/**
 * Hugging Face Hub license ids (model-card `license:`) that are not SPDX ids, with their category.
 * The SPDX ones on the Hub's list (apache-2.0, mit, cc-by-nc-4.0, …) are SPDX ids in lower case and
 * go through the SPDX path.
 */
export const HUB_LICENSES: Readonly<Record<string, LicenseCategory>> = {
  'llama2': 'restricted', 'llama3': 'restricted', 'llama3.1': 'restricted', 'llama3.2': 'restricted',
  'llama3.3': 'restricted', 'llama4': 'restricted', 'gemma': 'restricted',
  'openrail': 'restricted', 'openrail++': 'restricted', 'bigscience-openrail-m': 'restricted',
  'creativeml-openrail-m': 'restricted', 'bigscience-bloom-rail-1.0': 'restricted', 'bigcode-openrail-m': 'restricted',
  'deepfloyd-if-license': 'noncommercial', 'fair-noncommercial-research-license': 'noncommercial',
  'h-research': 'noncommercial', 'intel-research': 'noncommercial', 'apple-amlr': 'noncommercial', 'c-uda': 'noncommercial',
  'apple-ascl': 'permissive', 'openmdw-1.0': 'permissive', 'etalab-2.0': 'permissive', 'odc-by': 'permissive',
  'pddl': 'permissive', 'cdla-permissive-1.0': 'permissive', 'cdla-permissive-2.0': 'permissive',
  'cdla-sharing-1.0': 'copyleft', 'odbl': 'copyleft', 'lgpl-lr': 'weak-copyleft', 'lppl-1.3c': 'weak-copyleft',
  'other': 'unknown',
};

/**
 * Trove classifiers (`License :: OSI Approved :: …`) that spdx-correct maps wrongly or not at all.
 * The classifier vocabulary is fixed (pypa/trove-classifiers), so these are exact, not guesses.
 */
const TROVE: Readonly<Record<string, string>> = {
  'python software foundation license': 'PSF-2.0',
  'isc license (iscl)': 'ISC',
  'historical permission notice and disclaimer (hpnd)': 'HPND',
  'gnu free documentation license (fdl)': 'GFDL-1.3-or-later',
  'gnu lesser general public license v2 (lgplv2)': 'LGPL-2.0-only',
  'gnu lesser general public license v2 or later (lgplv2+)': 'LGPL-2.0-or-later',
  'gnu general public license v2 or later (gplv2+)': 'GPL-2.0-or-later',
  'gnu general public license v3 (gplv3)': 'GPL-3.0-only',
  'gnu lesser general public license v3 (lgplv3)': 'LGPL-3.0-only',
  'gnu affero general public license v3': 'AGPL-3.0-only',
  'python license (cnri python license)': 'CNRI-Python',
  'university of illinois/ncsa open source license': 'NCSA',
  'w3c license': 'W3C',
  'zope public license': 'ZPL-2.1',
  'academic free license (afl)': 'AFL-3.0',
  'ibm public license': 'IPL-1.0',
  'common public license': 'CPL-1.0',
  'sun public license': 'SPL-1.0',
  'apple public source license': 'APSL-2.0',
  'attribution assurance license': 'AAL',
  'eclipse public license 2.0 (epl-2.0)': 'EPL-2.0',
  'mozilla public license 1.1 (mpl 1.1)': 'MPL-1.1',
  'zero-clause bsd (0bsd)': '0BSD',
  'mit no attribution license (mit-0)': 'MIT-0',
  'european union public licence 1.2 (eupl 1.2)': 'EUPL-1.2',
  'european union public licence 1.1 (eupl 1.1)': 'EUPL-1.1',
  'common development and distribution license 1.0 (cddl-1.0)': 'CDDL-1.0',
};

/** Families named without a version: the category is clear, the SPDX id is not ("BSD" is 2- or 3-clause). */
const AMBIGUOUS: Array<[RegExp, LicenseCategory]> = [
  [/^(the\s+)?bsd(\s+licen[sc]e)?$/i, 'permissive'],
  [/^(gnu\s+)?(general public license|gpl)(\s*\(gpl\))?(\s+licen[sc]e)?$/i, 'copyleft'],
  [/^(gnu\s+)?(library or lesser|lesser|library)\s+general public license(\s*\(lgpl\))?$|^lgpl$/i, 'weak-copyleft'],
  [/^(gnu\s+)?(free documentation license|fdl|gfdl)$/i, 'copyleft'],
  [/^artistic(\s+licen[sc]e)?$/i, 'permissive'],
  [/^cc$|^creative commons$/i, 'unknown'],
  [/^public domain$/i, 'permissive'],
  [/^(other\/)?proprietary(\s+licen[sc]e)?$|^commercial$|^all rights reserved$/i, 'proprietary'],
];

const NOT_A_LICENSE = /^(unknown|none|null|n\/?a|tbd|todo|see license( file)?|license|licen[cs]e\.(txt|md)|dual licen[sc]e|other|-)$/i;

/** Distinct license strings remembered (spdx-correct tries many spellings per call: ~0.15 ms). */
export const NORMALIZE_CACHE_ENTRIES = 10_000;
const cache = new Map<string, NormalizedLicense>();

/** Normalize one license string. Never throws. */
export function normalizeLicense(input: string | undefined | null): NormalizedLicense {
  const key = typeof input === 'string' ? input : '';
  const hit = cache.get(key);
  if (hit) return { ...hit };
  const r = normalizeUncached(key);
  if (cache.size >= NORMALIZE_CACHE_ENTRIES) cache.clear();
  cache.set(key, r);
  return { ...r };
}

function normalizeUncached(input: string): NormalizedLicense {
  let raw = typeof input === 'string' ? input.trim() : '';
  if (raw.length > MAX_LICENSE_STRING || raw.includes('\n')) raw = firstMeaningfulLine(raw);
  raw = raw.slice(0, MAX_LICENSE_STRING);
  const unknown: NormalizedLicense = { raw, how: 'unknown', category: 'unknown', display: raw || 'UNKNOWN' };
  if (!raw) return unknown;
  const lower = raw.toLowerCase();
  if (lower in HUB_LICENSES && lower !== 'other') return { raw, hub: lower, how: 'hub', category: HUB_LICENSES[lower], display: lower };
  if (NOT_A_LICENSE.test(raw)) return unknown;

  const exact = validExpression(raw);
  if (exact) return withSpdx(raw, exact, 'exact');
  const trove = TROVE[lower];
  if (trove) return withSpdx(raw, trove, 'corrected');
  for (const [re, category] of AMBIGUOUS) if (re.test(raw)) return { raw, how: 'ambiguous', category, display: raw };

  // "Name (ABBREV)": the abbreviation is usually the better key ("Mozilla Public License 2.0 (MPL 2.0)").
  const paren = /\(([^()]{2,40})\)\s*$/.exec(raw)?.[1];
  for (const cand of [paren, raw, raw.replace(/\([^()]*\)/g, '').replace(/\blicen[sc]e\b/gi, '').trim()]) {
    if (!cand) continue;
    const c = safeCorrect(cand);
    if (c && plausible(raw, c)) return withSpdx(raw, c, 'corrected');
  }
  return unknown;
}

function firstMeaningfulLine(text: string): string {
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim().replace(/^#+\s*/, '');
    if (t && !/^copyright\b|^\(c\)/i.test(t)) return t.slice(0, MAX_LICENSE_STRING);
  }
  return '';
}

function validExpression(s: string): string | undefined {
  try { parse(s); return s; } catch { /* not SPDX */ }
  // SPDX ids are case-insensitive ("apache-2.0", "mit"), and the Hub writes them in lower case.
  if (/^[A-Za-z0-9.+-]+$/.test(s)) {
    const c = safeCorrect(s, false);
    if (c && c.toLowerCase() === s.toLowerCase()) return c;
  }
  return undefined;
}

function safeCorrect(s: string, upgrade = true): string | undefined {
  try { return correct(s, { upgrade }) ?? undefined; } catch { return undefined; }
}

/** Reject corrector guesses that contradict the words of the string (a "Lesser" license is not GPL). */
function plausible(raw: string, spdx: string): boolean {
  const r = raw.toLowerCase();
  if (/lesser|library/.test(r) && !spdx.startsWith('LGPL')) return false;
  if (/affero/.test(r) !== spdx.startsWith('AGPL')) return false;
  if (/documentation/.test(r) && !spdx.startsWith('GFDL')) return false;
  const v = /\b(?:v|version\s*)?(\d+(?:\.\d+)?)\b/i.exec(r)?.[1];
  if (v && !spdx.includes(v.includes('.') ? v : `${v}.`) && !spdx.includes(`-${v}`)) return false;
  return true;
}

function withSpdx(raw: string, spdx: string, how: 'exact' | 'corrected'): NormalizedLicense {
  return { raw, spdx, how, category: expressionCategory(spdx), display: spdx };
}

/** Category of one SPDX license id. */
export function spdxIdCategory(id: string): LicenseCategory {
  const u = id.toUpperCase();
  if (u.startsWith('LICENSEREF-') || u.startsWith('DOCUMENTREF-')) return 'unknown';
  if (/-NC(-|$)/.test(u)) return 'noncommercial';
  if (/^(AGPL|GPL|SSPL|OSL|EUPL|CC-BY-SA|GFDL|CDLA-SHARING|ODBL|CECILL-2|RPL|QPL)/.test(u)) return 'copyleft';
  if (/^(LGPL|MPL|EPL|CDDL|CPL|CECILL-C|MS-RL|LPPL|IPL|APSL|SPL|ERPL)/.test(u)) return 'weak-copyleft';
  if (/^(BUSL|ELASTIC|POLYFORM|COMMONS-CLAUSE)|-ND(-|$)/.test(u)) return 'restricted';
  return 'permissive';
}

const RANK: Record<LicenseCategory, number> = { permissive: 0, 'weak-copyleft': 1, copyleft: 2, restricted: 3, noncommercial: 4, proprietary: 5, unknown: 6 };

/** Category of an expression: OR takes the friendliest choice, AND the most demanding part. */
export function expressionCategory(expr: string): LicenseCategory {
  let tree: SpdxNode;
  try { tree = parse(expr); } catch { return 'unknown'; }
  const walk = (n: SpdxNode): LicenseCategory => {
    if ('license' in n) return spdxIdCategory(n.license);
    const a = walk(n.left), b = walk(n.right);
    return n.conjunction === 'or' ? (RANK[a] <= RANK[b] ? a : b) : (RANK[a] >= RANK[b] ? a : b);
  };
  return walk(tree);
}

/** The license ids of an expression (leaves), e.g. for display or policy. */
export function expressionIds(expr: string): string[] {
  try {
    const out: string[] = [];
    const walk = (n: SpdxNode) => { if ('license' in n) out.push(n.license + (n.plus ? '+' : '')); else { walk(n.left); walk(n.right); } };
    walk(parse(expr));
    return out;
  } catch { return []; }
}

/** Combine several licenses of one package (e.g. two classifiers) as alternatives, like liccheck does. */
export function anyOf(list: NormalizedLicense[]): NormalizedLicense {
  const known = list.filter((l) => l.how !== 'unknown');
  if (!known.length) return list[0] ?? normalizeLicense('');
  if (known.length === 1) return known[0];
  if (known.every((l) => l.spdx)) {
    const uniq = [...new Set(known.map((l) => l.spdx!))];
    const expr = uniq.length === 1 ? uniq[0] : uniq.map((s) => (/\s/.test(s) ? `(${s})` : s)).join(' OR ');
    const raw = known.map((l) => l.raw).join('; ');
    return { raw, spdx: expr, how: known.every((l) => l.how === 'exact') ? 'exact' : 'corrected', category: expressionCategory(expr), display: expr };
  }
  // Some alternatives have no SPDX id ("BSD License"): no expression, the friendliest category.
  const best = [...known].sort((a, b) => RANK[a.category] - RANK[b.category])[0];
  return { raw: known.map((l) => l.raw).join('; '), how: 'ambiguous', category: best.category, display: known.map((l) => l.display).join(' OR ') };
}
