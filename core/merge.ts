/**
 * One cause, one diagnostic: findings of different rules on exactly the same range (a loose pin
 * that also allows a vulnerable release, a typosquat that is also unpinned) become one finding led
 * by the most severe fact; the others follow in its message, and their fixes are kept. Runs after
 * per-rule configuration and suppression comments, so turning one rule off or suppressing it
 * leaves the other as it was.
 */
import { SEVERITY_ORDER, type Finding } from './types';

/** Which rule leads when severities tie: the more specific danger first, pinning advice last. */
const LEAD_ORDER = ['DEP006', 'DEP001', 'DEP007', 'DEP003', 'DEP009', 'DEP005', 'DEP004', 'DEP002', 'DEP008'];
const rank = (code: string) => { const i = LEAD_ORDER.indexOf(code); return i < 0 ? LEAD_ORDER.length : i; };

/** What a merged finding carries in `data.also`: the rules folded into it. */
export interface AlsoFact { code: string; severity: Finding['severity']; message: string }

/** `a`, then `b` as the next sentence (no "…code. — it loads" joins). */
export function joinSentences(a: string, b: string): string {
  const head = a.trimEnd();
  const tail = b.trim();
  if (!tail) return head;
  const sentence = tail[0].toUpperCase() + tail.slice(1);
  return /[.!?]$/.test(head) ? `${head} ${sentence}` : `${head}. ${sentence}`;
}

function key(f: Finding): string {
  const r = f.range;
  return `${f.cell ?? -1}:${r.start.line}:${r.start.character}:${r.end.line}:${r.end.character}`;
}

export function mergeSameRange(findings: Finding[]): Finding[] {
  if (findings.length < 2) return findings;
  const groups = new Map<string, Finding[]>();
  let merged = false;
  for (const f of findings) {
    const k = key(f);
    const g = groups.get(k);
    if (g) { g.push(f); merged = true; } else groups.set(k, [f]);
  }
  if (!merged) return findings;
  const out: Finding[] = [];
  for (const f of findings) {
    const g = groups.get(key(f))!;
    if (g[0] !== f) continue; // emitted with its group
    if (g.length === 1 || new Set(g.map((x) => x.code)).size === 1) { out.push(...g); continue; }
    const sorted = [...g].sort((a, b) => SEVERITY_ORDER[b.severity] - SEVERITY_ORDER[a.severity] || rank(a.code) - rank(b.code));
    const lead = sorted[0];
    const rest = sorted.slice(1);
    let message = lead.message;
    for (const o of rest) message = joinSentences(message, `also (${o.code}): ${o.message}`);
    const also: AlsoFact[] = rest.map((o) => ({ code: o.code, severity: o.severity, message: o.message }));
    const related = [...(lead.related ?? []), ...rest.flatMap((o) => o.related ?? [])];
    const detail = [lead.detail, ...rest.map((o) => o.detail)].filter(Boolean).join('\n\n') || undefined;
    const m: Finding = { ...lead, message, fixes: [...lead.fixes, ...rest.flatMap((o) => o.fixes)], data: { ...(lead.data ?? {}), also } };
    if (detail) m.detail = detail;
    if (related.length) m.related = related;
    out.push(m);
  }
  return out;
}
