/**
 * Hovers and the findings code actions are computed from — kept out of server.ts so the rules for
 * "what the editor shows" are testable without a connection.
 *
 * Hovers add to the diagnostic VS Code already shows above them, never repeat it: one line per
 * finding with what to do, a link to the rule page, and facts that are not in the message (the
 * popular package a name resembles and its downloads, advisory ids with links, the fixed version).
 */
import { formatCount, popularity } from '../../core/deps/popularity';
import { getRule } from '../../core/rules/registry';
import type { Finding, Range } from '../../core/types';
import type { AlsoFact } from '../../core/merge';

/** Where an advisory id's record is (reference links only; nothing is fetched). */
export function advisoryHref(id: string): string {
  if (/^CVE-\d{4}-\d+$/i.test(id)) return `https://www.cve.org/CVERecord?id=${encodeURIComponent(id.toUpperCase())}`;
  return `https://osv.dev/vulnerability/${encodeURIComponent(id)}`;
}

/** A hover line is capped: the Problems panel has the full message. */
export const HOVER_LINE_CHARS = 300;

function firstSentence(md: string): string {
  const para = md.trim().split(/\n\s*\n/)[0] ?? '';
  // A sentence ends at . ! ? before a capital (or the end), so "e.g. `pip-compile`" does not cut it.
  const m = /^(.+?[.!?])(?=\s+[A-Z*]|\s*$)/s.exec(para);
  const s = (m ? m[1] : para).replace(/\s+/g, ' ');
  return s.length > 160 ? `${s.slice(0, 159)}…` : s;
}

function escapeMd(s: string): string {
  return s.replace(/([\\`*_[\]<])/g, '\\$1');
}

/**
 * What to do about a finding, as markdown: its preferred (else first) fix, else the advice the
 * finding carries (`data.todo`, e.g. why no pin could be offered), else the rule page's first fix sentence.
 */
export function whatToDo(f: Finding): string | undefined {
  const fix = f.fixes.find((x) => x.isPreferred) ?? f.fixes[0];
  if (fix) return `${escapeMd(fix.title)}${f.fixes.length > 1 ? ` (quick-fix; ${f.fixes.length - 1} more)` : ' (quick-fix)'}`;
  const todo = (f.data as { todo?: unknown } | undefined)?.todo;
  if (typeof todo === 'string' && todo) return escapeMd(todo);
  const meta = getRule(f.code);
  return meta?.fix ? firstSentence(meta.fix) : undefined;
}

/** Facts the finding's data knows that its message does not say. */
export function extraFacts(f: Finding): string[] {
  const d = (f.data ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  if (f.code === 'DEP001' && typeof d.intended === 'string') {
    const p = popularity(d.intended);
    if (p) out.push(`'${escapeMd(d.intended)}' is #${p.rank.toLocaleString('en-US')} by downloads${p.downloads30d ? ` (${formatCount(p.downloads30d)} in 30 days, ${p.date})` : ''}`);
  }
  if (Array.isArray(d.advisories) && d.advisories.length) {
    out.push(`advisories: ${(d.advisories as unknown[]).filter((x): x is string => typeof x === 'string').map((id) => `[${escapeMd(id)}](${advisoryHref(id)})`).join(', ')}`);
  }
  if (typeof d.fixed === 'string' && !f.message.includes(d.fixed)) out.push(`fixed in ${escapeMd(d.fixed)}`);
  // Dataset rows: why the row is flagged (a trigger's purity and p-values, the conflicting twin's link).
  if (f.code.startsWith('DATA') && f.detail) out.push(f.detail);
  if (f.related?.length) out.push(`${f.related.length} related location${f.related.length > 1 ? 's' : ''} (listed under the problem)`);
  return out;
}

/** One markdown line per finding (merged findings name the rules folded into them). */
export function hoverLine(f: Finding, ruleHref: (code: string) => string | undefined): string {
  const codeLink = (code: string) => {
    const href = ruleHref(code);
    const name = getRule(code)?.name;
    return href ? `[${code}${name ? ` ${name}` : ''}](${href})` : `${code}${name ? ` ${name}` : ''}`;
  };
  const also = ((f.data as { also?: AlsoFact[] } | undefined)?.also ?? []).map((a) => codeLink(a.code));
  const todo = whatToDo(f);
  const facts = extraFacts(f);
  let line = `**${codeLink(f.code)}**${also.length ? ` + ${also.join(' + ')}` : ''}${todo ? ` — ${todo}` : ''}`;
  if (facts.length) line += ` · ${facts.join(' · ')}`;
  return line.length > HOVER_LINE_CHARS * 3 ? `${line.slice(0, HOVER_LINE_CHARS * 3 - 1)}…` : line;
}

export function hoverMarkdown(findings: Finding[], ruleHref: (code: string) => string | undefined): string {
  // Markdown needs a blank line (or two trailing spaces) between lines; a list keeps them compact.
  return findings.length === 1 ? hoverLine(findings[0], ruleHref) : findings.map((f) => `- ${hoverLine(f, ruleHref)}`).join('\n');
}

export function rangesIntersect(a: Range, b: Range): boolean {
  const before = (p: { line: number; character: number }, q: { line: number; character: number }) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

export function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

export interface ContextDiagnostic { code?: string | number; range: Range; source?: string; data?: unknown }

/**
 * The findings a code-action request is about, decided by the document's current findings and the
 * requested range alone — never by whether the client's diagnostics are from this version.
 *
 * The race this removes: right after an edit (or an open) the editor still holds the diagnostics of
 * the previous pull and sends them in the request; their ranges no longer equal the new findings',
 * so matching only by (code, range) answered "No code actions" while the light bulb showed. Now a
 * finding is picked when the client's diagnostic for it matches (its own diagnostic object is sent
 * back), or when it intersects the requested range (the server's diagnostic is sent back).
 */
export function findingsForActions<D extends ContextDiagnostic>(findings: Finding[], range: Range, context: D[]): Array<{ finding: Finding; index: number; diagnostic?: D }> {
  const out: Array<{ finding: Finding; index: number; diagnostic?: D }> = [];
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i];
    const d = context.find((x) => x.code === f.code && sameRange(x.range, f.range));
    if (d || rangesIntersect(f.range, range)) out.push({ finding: f, index: i, diagnostic: d });
  }
  return out;
}

/** All codes a (possibly merged) finding stands for, lead first. */
export function codesOf(f: Finding): string[] {
  return [f.code, ...((f.data as { also?: AlsoFact[] } | undefined)?.also ?? []).map((a) => a.code)];
}
