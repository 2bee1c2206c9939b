/** `%pip install …` / `!pip install …` lines in notebooks: shell-like tokens, each requirement checked on its exact span. */
import type { AnalysisContext } from '../analysis';
import type { Finding, Range } from '../types';
import { FindingSink } from './model';
import { entryFromLine, parseRequirementsLine, type LogicalLine } from './requirements';
import { checkEntry, checkIndexOption, type IndexOption } from './rules';
import type { Span } from './pep508';

/** Longest `pip install` line analyzed. */
export const MAX_PIP_LINE = 20_000;

const VALUE_OPTIONS = new Set(['-i', '--index-url', '--extra-index-url', '--trusted-host', '-f', '--find-links', '-r', '--requirement', '-c', '--constraint', '-e', '--editable', '-t', '--target', '--prefix', '--root', '--python-version', '--platform', '--implementation', '--abi', '--no-binary', '--only-binary', '--upgrade-strategy', '--progress-bar', '--log', '--cache-dir', '--src', '--config-settings', '-C', '--global-option', '--proxy', '--retries', '--timeout', '--exists-action', '--cert', '--client-cert', '--report', '--python']);
const CANONICAL: Record<string, string> = { '-i': '--index-url', '-f': '--find-links', '-e': '--editable' };

export interface ShellToken { value: string; start: number; end: number; contentStart: number; quoted: boolean }

/** Split like a POSIX shell (quotes group, backslash escapes); stops at a comment or a shell operator. */
export function shellTokens(line: string, from: number): ShellToken[] {
  const out: ShellToken[] = [];
  let i = from;
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length || line[i] === '#' || /[;&|<>]/.test(line[i])) break;
    const start = i;
    let value = '';
    let quoted = false;
    let contentStart = i;
    while (i < line.length && !/[\s;&|<>]/.test(line[i])) {
      const c = line[i];
      if (c === '"' || c === "'") {
        quoted = true;
        if (i === start) contentStart = i + 1;
        const close = line.indexOf(c, i + 1);
        const stop = close < 0 ? line.length : close;
        value += line.slice(i + 1, stop);
        i = close < 0 ? line.length : close + 1;
      } else if (c === '\\' && i + 1 < line.length) { value += line[i + 1]; i += 2; }
      else { value += c; i++; }
    }
    out.push({ value, start, end: i, contentStart, quoted });
  }
  return out;
}

export function analyzePipInstallLine(filePath: string, lineText: string, line: number, argsStart: number, ctx: AnalysisContext): Finding[] {
  const sink = new FindingSink(filePath);
  if (lineText.length > MAX_PIP_LINE) return [];
  const tokens = shellTokens(lineText, argsStart);
  const at = (s: number, e: number): Range => ({ start: { line, character: s }, end: { line, character: e } });
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.value.startsWith('-')) {
      let name = t.value;
      let value: string | undefined;
      let end = t.end;
      const eq = name.indexOf('=');
      if (name.startsWith('--') && eq > 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
      else if (VALUE_OPTIONS.has(name)) { const next = tokens[++i]; value = next?.value; end = next?.end ?? end; }
      const canonical = CANONICAL[name] ?? name;
      if (value !== undefined && ['--index-url', '--extra-index-url', '--trusted-host', '--find-links'].includes(canonical)) {
        checkIndexOption(canonical as IndexOption, value, at(t.start, end), sink);
      }
      if (canonical === '--editable' && value !== undefined) analyzeToken(tokens[i], lineText, sink, at, ctx);
      continue;
    }
    analyzeToken(t, lineText, sink, at, ctx);
  }
  return sink.findings;
}

function analyzeToken(t: ShellToken, lineText: string, sink: FindingSink, at: (s: number, e: number) => Range, ctx: AnalysisContext): void {
  // Python / shell variables are filled in at run time: nothing to check statically.
  if (/[{}$]/.test(t.value) || !t.value) return;
  const p = parseRequirementsLine(t.value);
  // Offsets map 1:1 only when the token has no escapes or inner quotes.
  const base = t.quoted ? t.contentStart : t.start;
  const exact = lineText.slice(base, base + t.value.length) === t.value;
  const toRange = (_ll: LogicalLine, s: Span): Range => (exact ? at(base + s.start, base + s.end) : at(t.start, t.end));
  const ll: LogicalLine = { text: t.value, start: 0, firstLine: 0, multiline: false };
  for (const err of p.errors) sink.add('DEP008', 'warning', toRange(ll, err.span), `cannot parse: ${err.message}`);
  const entry = entryFromLine(ll, p, toRange);
  if (!entry || entry.localPath) return;
  if (!exact) { entry.specRange = undefined; entry.specInsertAt = undefined; }
  checkEntry(entry, sink, ctx);
}
