/**
 * A PEP 508 requirement parser that keeps offsets (relative to the parsed string),
 * so diagnostics and quick-fixes land on the exact name, specifier or URL.
 */
import { isValidClauseVersion } from './pep440';

export interface Span { start: number; end: number }
export interface SpecClauseSpan { op: string; version: string; span: Span }

export interface ParsedRequirement {
  name: string;
  nameSpan: Span;
  extras: string[];
  extrasSpan?: Span;
  /** Clauses joined with ',' without spaces ('' when there is none). */
  specifier: string;
  clauses: SpecClauseSpan[];
  specSpan?: Span;
  url?: string;
  urlSpan?: Span;
  marker?: string;
  markerSpan?: Span;
}

export type RequirementParse = { ok: true; req: ParsedRequirement } | { ok: false; error: string; span: Span };

const NAME = /[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/y;
const CLAUSE = /(~=|===|==|!=|<=|>=|<|>)\s*([^\s,;()]+)/y;

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** Parse `text.slice(start, end)` as one PEP 508 requirement; spans are offsets into `text`. */
export function parseRequirement(text: string, start = 0, end = text.length): RequirementParse {
  if (start === 0 && end === text.length) return parseWhole(text);
  const r = parseWhole(text.slice(start, end));
  const shift = (s: Span | undefined) => (s ? { start: s.start + start, end: s.end + start } : undefined);
  if (!r.ok) return { ok: false, error: r.error, span: shift(r.span)! };
  const q = r.req;
  return { ok: true, req: { ...q, nameSpan: shift(q.nameSpan)!, extrasSpan: shift(q.extrasSpan), specSpan: shift(q.specSpan), urlSpan: shift(q.urlSpan), markerSpan: shift(q.markerSpan), clauses: q.clauses.map((c) => ({ ...c, span: shift(c.span)! })) } };
}

function parseWhole(text: string): RequirementParse {
  const start = 0, end = text.length;
  let i = skipWs(text, start);
  NAME.lastIndex = i;
  const nm = NAME.exec(text);
  if (!nm || nm.index !== i || i + nm[0].length > end) return failAt(end, 'expected a package name', i, wordEnd(text, i, end));
  const req: ParsedRequirement = { name: nm[0], nameSpan: { start: i, end: i + nm[0].length }, extras: [], specifier: '', clauses: [] };
  i = skipWs(text, req.nameSpan.end);
  if (i < end && /[^\s\[\]()~=!<>@;,]/.test(text[i]) && i === req.nameSpan.end) {
    return failAt(end, `invalid character '${text[i]}' in package name`, i, i + 1);
  }
  if (text[i] === '[') {
    const close = text.indexOf(']', i);
    if (close < 0 || close >= end) return failAt(end, 'unclosed extras bracket', i, end);
    const inner = text.slice(i + 1, close);
    req.extras = inner.split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of req.extras) if (!/^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(x)) return failAt(end, `invalid extra name '${x}'`, i, close + 1);
    req.extrasSpan = { start: i, end: close + 1 };
    i = skipWs(text, close + 1);
  }
  if (text[i] === '@') {
    i = skipWs(text, i + 1);
    let j = i;
    while (j < end && !/\s/.test(text[j])) j++;
    if (j === i) return failAt(end, 'expected a URL after @', i, i + 1);
    req.url = text.slice(i, j);
    req.urlSpan = { start: i, end: j };
    i = skipWs(text, j);
    if (i < end && text[i] !== ';') return failAt(end, 'expected ";" before the environment marker', i, end);
  } else if (i < end && text[i] !== ';') {
    let paren = false;
    if (text[i] === '(') { paren = true; i = skipWs(text, i + 1); }
    const specStart = i;
    for (;;) {
      CLAUSE.lastIndex = i;
      const m = CLAUSE.exec(text);
      if (!m || m.index !== i || i + m[0].length > end) return failAt(end, 'expected a version specifier such as ==1.0 or >=1.0', i, wordEnd(text, i, end));
      const vStart = i + m[0].length - m[2].length;
      if (!isValidClauseVersion(m[1], m[2])) return failAt(end, `invalid version '${m[2]}' for '${m[1]}'`, vStart, vStart + m[2].length);
      req.clauses.push({ op: m[1], version: m[2], span: { start: i, end: i + m[0].length } });
      i = skipWs(text, i + m[0].length);
      if (text[i] === ',') { i = skipWs(text, i + 1); continue; }
      break;
    }
    const last = req.clauses[req.clauses.length - 1];
    req.specSpan = { start: specStart, end: last.span.end };
    req.specifier = req.clauses.map((c) => `${c.op}${c.version}`).join(',');
    if (paren) {
      if (text[i] !== ')') return failAt(end, 'expected ")"', i, i + 1);
      i = skipWs(text, i + 1);
    }
    if (i < end && text[i] !== ';') return failAt(end, `unexpected text '${text.slice(i, Math.min(end, i + 20))}'`, i, end);
  }
  if (i < end && text[i] === ';') {
    const mStart = skipWs(text, i + 1);
    let mEnd = end;
    while (mEnd > mStart && /\s/.test(text[mEnd - 1])) mEnd--;
    const marker = text.slice(mStart, mEnd);
    const problem = markerProblem(marker);
    if (problem) return failAt(end, problem, mStart, Math.max(mEnd, mStart + 1));
    req.marker = marker;
    req.markerSpan = { start: mStart, end: mEnd };
  }
  return { ok: true, req };
}

function failAt(end: number, error: string, s: number, e = Math.max(s + 1, end)): RequirementParse {
  return { ok: false, error, span: { start: Math.min(s, end), end: Math.min(Math.max(e, s), end) } };
}

function wordEnd(text: string, i: number, end: number): number {
  let j = i;
  while (j < end && !/\s/.test(text[j])) j++;
  return Math.max(j, i + 1);
}

const MARKER_VARS = new Set(['python_version', 'python_full_version', 'os_name', 'sys_platform', 'platform_release', 'platform_system', 'platform_version', 'platform_machine', 'platform_python_implementation', 'implementation_name', 'implementation_version', 'extra', 'dependency_groups', 'os.name', 'sys.platform', 'platform.version', 'platform.machine', 'platform.python_implementation', 'python_implementation']);

/** A light check of an environment marker: balanced quotes/parentheses and known variable names. */
function markerProblem(marker: string): string | undefined {
  if (!marker) return 'empty environment marker after ";"';
  let depth = 0;
  const stripped = marker.replace(/'[^']*'|"[^"]*"/g, '""');
  if (/['"]/.test(stripped.replace(/""/g, ''))) return 'unterminated string in environment marker';
  for (const ch of stripped) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return 'unbalanced ")" in environment marker';
  }
  if (depth !== 0) return 'unbalanced "(" in environment marker';
  for (const m of stripped.matchAll(/[A-Za-z_][A-Za-z_.]*/g)) {
    const w = m[0];
    if (['and', 'or', 'in', 'not'].includes(w)) continue;
    if (!MARKER_VARS.has(w)) return `unknown environment marker variable '${w}'`;
  }
  return undefined;
}
