/**
 * Suppression comments. Our own syntax is `# modelvet: ignore[DEP002,LOAD001]`
 * (or bare `# modelvet: ignore`) on the line of the finding. Bandit's `# nosec`
 * and Ruff's `# noqa` are honoured for the rules that have an equivalent, so a
 * codebase already annotated for those tools needs no second annotation.
 */
import type { Finding } from './types';

/** Bandit test ids and Ruff codes that mean the same as a ModelVet rule. */
export const EQUIVALENT_CODES: Record<string, string[]> = {
  B614: ['LOAD001'], B301: ['LOAD002'], B302: ['LOAD002'], B403: ['LOAD002'], B506: ['LOAD008'], B615: ['LOAD005'],
  S301: ['LOAD002'], S302: ['LOAD002'], S403: ['LOAD002'], S506: ['LOAD008'], S307: ['LOAD008'], S102: ['LOAD008'],
};

const OWN = /#\s*modelvet:\s*ignore(?!-)(?:\[([A-Za-z0-9_,\s]*)\])?/i;
/** `# modelvet: ignore-file[DEP002]` anywhere in a file suppresses those codes in the whole file (bare = every code). */
const OWN_FILE = /#\s*modelvet:\s*ignore-file(?:\[([A-Za-z0-9_,\s]*)\])?/i;
const OWN_FILE_GLOBAL = new RegExp(OWN_FILE.source, 'gi');
const NOSEC = /#\s*nosec\b(?:[:\s]+((?:B\d{3}[\s,]*)+))?/i;
const NOQA = /#\s*noqa\b(?::\s*((?:[A-Z]+\d+[\s,]*)+))?/i;

/** The codes suppressed on one line: a set of codes, or '*' for all. */
export function suppressedCodes(line: string): Set<string> | '*' | undefined {
  if (!line.includes('#')) return undefined;
  const out = new Set<string>();
  const own = OWN.exec(line);
  if (own) {
    if (own[1] === undefined) return '*';
    for (const c of own[1].split(',')) if (c.trim()) out.add(c.trim().toUpperCase());
  }
  for (const [re, family] of [[NOSEC, 'LOAD'], [NOQA, 'LOAD']] as const) {
    const m = re.exec(line);
    if (!m) continue;
    if (m[1] === undefined) {
      // A bare nosec/noqa silences that tool entirely; we honour it for code rules only.
      out.add(`${family}*`);
      continue;
    }
    for (const c of m[1].split(/[\s,]+/)) for (const eq of EQUIVALENT_CODES[c.toUpperCase()] ?? []) out.add(eq);
  }
  return out.size ? out : undefined;
}

export function isSuppressed(code: string, codes: Set<string> | '*' | undefined): boolean {
  if (!codes) return false;
  if (codes === '*') return true;
  if (codes.has(code)) return true;
  for (const c of codes) if (c.endsWith('*') && code.startsWith(c.slice(0, -1))) return true;
  return false;
}

/** The codes a file suppresses everywhere (`# modelvet: ignore-file[…]` on any line), or undefined. */
export function fileSuppressedCodes(text: string): Set<string> | '*' | undefined {
  if (!text.includes('ignore-file')) return undefined;
  const out = new Set<string>();
  for (const m of text.matchAll(OWN_FILE_GLOBAL)) {
    if (m[1] === undefined) return '*';
    for (const c of m[1].split(',')) if (c.trim()) out.add(c.trim().toUpperCase());
  }
  return out.size ? out : undefined;
}

/**
 * The edit that suppresses `code` in a whole file: extend an existing `ignore-file[…]` list, else a
 * new comment line at the top (after a shebang and an encoding line, which must stay first).
 */
export function fileSuppressionEdit(text: string, code: string): { line: number; character: number; newText: string } {
  const lines = text.split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const m = OWN_FILE.exec(lines[i]);
    if (m && m[1] !== undefined) {
      const close = m.index + m[0].length - 1;
      return { line: i, character: close, newText: `${m[1].trim() ? ', ' : ''}${code}` };
    }
  }
  let line = 0;
  if (lines[0]?.startsWith('#!')) line = 1;
  if (line < 2 && /^[ \t\f]*#.*coding[:=]/.test(lines[line] ?? '')) line++;
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  return { line, character: 0, newText: `# modelvet: ignore-file[${code}]${eol}` };
}

/** Drop findings whose start line carries a matching suppression comment. */
export function applySuppressions(findings: Finding[], lineText: (f: Finding) => string | undefined): Finding[] {
  return findings.filter((f) => !isSuppressed(f.code, suppressedCodes(lineText(f) ?? '')));
}

/** The text to append to a line to suppress `code` there (used by the "Suppress" code action). */
export function suppressionEdit(line: string, code: string): { character: number; newText: string } {
  const own = OWN.exec(line);
  if (own && own[1] !== undefined) {
    // Extend an existing list: insert before the closing bracket.
    const close = own.index + own[0].length - 1;
    const sep = own[1].trim() ? ', ' : '';
    return { character: close, newText: `${sep}${code}` };
  }
  const trimmed = line.replace(/\s+$/, '');
  return { character: trimmed.length, newText: `${trimmed.length ? '  ' : ''}# modelvet: ignore[${code}]` };
}
