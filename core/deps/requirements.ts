/**
 * pip requirements files: a line parser that keeps offsets (cached per line text so an
 * edit re-parses one line), include following with cycle/missing/outside reporting, and DEP003.
 */
import path from 'node:path';
import type { AnalysisContext, AnalysisResult } from '../analysis';
import { LineIndex } from '../text';
import type { Finding, Fix, Range, TextEdit } from '../types';
import { isSuppressed, suppressedCodes } from '../suppress';
import { entryPinned, FindingSink, type DepEntry, type EntryContext } from './model';
import { normalizeName } from './pep440';
import { parseRequirement, type ParsedRequirement, type Span } from './pep508';
import { checkDuplicatePair, checkEntry, checkIndexOption } from './rules';
import { checkSizeAndBinary, MAX_LINE_LENGTH } from './limits';

/** Deepest chain of -r/-c includes followed. */
export const MAX_INCLUDE_DEPTH = 10;
/** Files read while following includes for one analysis. */
export const MAX_INCLUDED_FILES = 100;
/** Parsed lines kept in the per-line cache before it is cleared. */
export const LINE_CACHE_LIMIT = 100_000;

export interface OptionUse { name: string; span: Span; value?: string; valueSpan?: Span }
export interface DirectRef { url: string; span: Span; name?: string; editable: boolean; local: boolean }
export interface LineParse {
  req?: ParsedRequirement;
  direct?: DirectRef;
  hashes: Span[];
  options: OptionUse[];
  /** Parse errors (DEP008), and hash values that are not a digest at all (`code: 'DEP003'`). */
  errors: Array<{ message: string; span: Span; code?: 'DEP003' }>;
}

const VALUE_OPTIONS: Record<string, string> = {
  '-r': '--requirement', '--requirement': '--requirement', '-c': '--constraint', '--constraint': '--constraint',
  '-e': '--editable', '--editable': '--editable', '-i': '--index-url', '--index-url': '--index-url',
  '--extra-index-url': '--extra-index-url', '--trusted-host': '--trusted-host', '-f': '--find-links', '--find-links': '--find-links',
  '--no-binary': '--no-binary', '--only-binary': '--only-binary', '--use-feature': '--use-feature',
  '--hash': '--hash', '--config-settings': '--config-settings', '-C': '--config-settings', '--global-option': '--global-option', '--install-option': '--install-option',
};
const FLAG_OPTIONS = new Set(['--pre', '--no-index', '--prefer-binary', '--require-hashes', '--no-deps', '--upgrade', '-U', '--user', '-q', '--quiet', '-v', '--verbose', '--no-cache-dir', '--force-reinstall', '--ignore-installed', '-I', '--upgrade-strategy', '--break-system-packages']);
/** Options allowed after a requirement on the same line. */
const PER_REQUIREMENT = new Set(['--hash', '--config-settings', '--global-option', '--install-option']);

const lineCache = new Map<string, LineParse>();

/** Parse one logical line (continuations already replaced by spaces); offsets are relative to `line`. */
export function parseRequirementsLine(line: string): LineParse {
  const hit = lineCache.get(line);
  if (hit) return hit;
  const parsed = compact(parseLineUncached(line));
  if (lineCache.size >= LINE_CACHE_LIMIT) lineCache.clear();
  lineCache.set(line, parsed);
  return parsed;
}

/** Shared empty list for cached parses: most lines have no options, hashes or errors, and retained memory is GC time. */
const NONE: never[] = Object.freeze([]) as unknown as never[];
function compact(p: LineParse): LineParse {
  if (!p.hashes.length) p.hashes = NONE;
  if (!p.options.length) p.options = NONE;
  if (!p.errors.length) p.errors = NONE;
  if (p.req && !p.req.extras.length) p.req.extras = NONE;
  return p;
}

interface Token { text: string; start: number; end: number }

function tokenize(s: string, from: number, to: number): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  re.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) && m.index < to) out.push({ text: m[0], start: m.index, end: Math.min(to, m.index + m[0].length) });
  return out;
}

/** End of the non-comment part: `#` at the start or after whitespace begins a comment. */
function contentEnd(line: string): number {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) return i;
  }
  return line.length;
}

function parseLineUncached(line: string): LineParse {
  const out: LineParse = { hashes: [], options: [], errors: [] };
  let end = contentEnd(line);
  while (end > 0 && /\s/.test(line[end - 1])) end--;
  let start = 0;
  while (start < end && /\s/.test(line[start])) start++;
  if (start >= end) return out;
  if (line[start] === '-') {
    parseOptions(line, tokenize(line, start, end), out, false);
    return out;
  }
  // The requirement ends where the first per-requirement option (` --hash …`) begins.
  let reqEnd = end;
  let inQuote: string | undefined;
  for (let i = start; i < end; i++) {
    const c = line[i];
    if (inQuote) { if (c === inQuote) inQuote = undefined; continue; }
    if (c === '"' || c === "'") { inQuote = c; continue; }
    if (c === '-' && (line[i - 1] === ' ' || line[i - 1] === '\t') && /[A-Za-z-]/.test(line[i + 1] ?? '')) { reqEnd = i; break; }
  }
  let rEnd = reqEnd;
  while (rEnd > start && /\s/.test(line[rEnd - 1])) rEnd--;
  parseRequirementText(line, start, rEnd, out, false);
  if (reqEnd < end) parseOptions(line, tokenize(line, reqEnd, end), out, true);
  // pip expands ${VAR} before parsing: a line built from variables cannot be judged statically.
  if (out.errors.length && ENV_VAR.test(line)) { out.errors = []; out.req = undefined; }
  return out;
}

const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;
const ENV_VAR = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;
function looksLikePathOrUrl(s: string): boolean {
  return URL_START.test(s) || /^(\.{1,2}([\\/]|$)|[\\/~]|[A-Za-z]:[\\/])/.test(s) || (/[\\/]/.test(s) && !/[<>=!~;]/.test(s.split('@')[0])) || /\.(whl|zip|tar\.gz|tgz|tar\.bz2)$/i.test(s);
}

/** The project name encoded in a URL: `#egg=name`, or a wheel / sdist file name. */
export function nameFromUrl(url: string): string | undefined {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(url);
  if (egg) return egg[1];
  const file = url.replace(/[#?].*$/, '').split(/[\\/]/).pop() ?? '';
  const whl = /^([A-Za-z0-9][A-Za-z0-9._]*?)-\d[^-]*(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/i.exec(file);
  if (whl) return whl[1];
  const sdist = /^([A-Za-z0-9][A-Za-z0-9._-]*?)-\d[A-Za-z0-9.+!_-]*\.(tar\.gz|zip|tgz|tar\.bz2)$/i.exec(file);
  return sdist?.[1];
}

function parseRequirementText(line: string, start: number, end: number, out: LineParse, editable: boolean): void {
  let wordEnd = start;
  while (wordEnd < end && line.charCodeAt(wordEnd) !== 32 && line.charCodeAt(wordEnd) !== 9) wordEnd++;
  const firstWord = line.slice(start, wordEnd);
  // Cheap pre-check: plain `name==1.0` lines (the common case) skip the path/URL regexes.
  const maybePath = /[\/\\:~]/.test(firstWord) || firstWord.charCodeAt(0) === 46 || /\.(whl|zip|gz|tgz|bz2)$/i.test(firstWord);
  if (maybePath && looksLikePathOrUrl(firstWord) && !/^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@/.test(line.slice(start, end))) {
    const urlEnd = start + firstWord.length;
    const url = line.slice(start, urlEnd);
    const local = !URL_START.test(url) || /^file:/i.test(url);
    out.direct = { url, span: { start, end: urlEnd }, name: nameFromUrl(url), editable, local };
    const rest = line.slice(urlEnd, end).trim();
    if (rest && !rest.startsWith(';')) out.errors.push({ message: `unexpected text after the URL: '${rest.slice(0, 40)}'`, span: { start: line.indexOf(rest, urlEnd), end } });
    return;
  }
  const r = parseRequirement(line, start, end);
  if (r.ok) out.req = r.req;
  else out.errors.push({ message: r.error, span: r.span });
}

function parseOptions(line: string, tokens: Token[], out: LineParse, afterRequirement: boolean): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    let name = t.text;
    let value: string | undefined;
    let valueSpan: Span | undefined;
    const eq = name.indexOf('=');
    if (name.startsWith('--') && eq > 0) {
      value = name.slice(eq + 1);
      valueSpan = { start: t.start + eq + 1, end: t.end };
      name = name.slice(0, eq);
    } else if (!name.startsWith('--') && name.length > 2 && VALUE_OPTIONS[name.slice(0, 2)]) {
      value = name.slice(2);
      valueSpan = { start: t.start + 2, end: t.end };
      name = name.slice(0, 2);
    }
    const canonical = VALUE_OPTIONS[name];
    if (!canonical) {
      if (FLAG_OPTIONS.has(name)) { out.options.push({ name, span: { start: t.start, end: t.end } }); continue; }
      out.errors.push({ message: name.startsWith('-') ? `unknown pip option '${name}'` : `unexpected '${t.text}' (only one requirement per line)`, span: { start: t.start, end: t.end } });
      continue;
    }
    if (afterRequirement && !PER_REQUIREMENT.has(canonical)) {
      out.errors.push({ message: `option '${name}' is not allowed after a requirement`, span: { start: t.start, end: t.end } });
      continue;
    }
    if (value === undefined) {
      const next = tokens[i + 1];
      if (!next) { out.errors.push({ message: `option '${name}' needs a value`, span: { start: t.start, end: t.end } }); continue; }
      value = next.text;
      valueSpan = { start: next.start, end: next.end };
      i++;
    }
    if (canonical === '--hash') {
      const bad = hashProblem(value);
      if (bad) out.errors.push({ message: bad, span: valueSpan!, code: 'DEP003' });
      // pip accepts any `algo:value` with a known algorithm (a wrong digest fails only at download): hash-checking mode is on.
      if (!bad || /^(sha256|sha384|sha512):/i.test(value)) out.hashes.push(valueSpan!);
      continue;
    }
    if (canonical === '--editable') {
      // The editable target may be followed by per-requirement options.
      parseRequirementText(line, valueSpan!.start, valueSpan!.end, out, true);
      if (out.direct) out.direct.editable = true;
      out.options.push({ name: canonical, span: { start: t.start, end: valueSpan!.end }, value, valueSpan });
      afterRequirement = true;
      continue;
    }
    out.options.push({ name: canonical, span: { start: t.start, end: valueSpan!.end }, value, valueSpan });
  }
}

const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Why a `--hash` value cannot be a real digest (wrong algorithm, length or digits), or undefined when it can. */
export function hashProblem(value: string): string | undefined {
  const m = /^([A-Za-z0-9]+):(.*)$/.exec(value);
  const shown = value.length > 30 ? `${value.slice(0, 27)}…` : value;
  if (!m) return `'${shown}' is not a hash: pip expects --hash=sha256:<64 hex digits>`;
  const algo = m[1].toLowerCase();
  const want = DIGEST_HEX[algo];
  if (!want) return `'${algo}' is not a hash pip accepts in --hash (use sha256)`;
  const hex = m[2];
  if (/[^0-9a-fA-F]/.test(hex)) return `the ${algo} digest '${shown}' has characters that are not hex digits: pip will reject every download as a hash mismatch`;
  if (hex.length !== want) return `the ${algo} digest has ${hex.length} hex digits instead of ${want}: pip will reject every download as a hash mismatch`;
  const fake = fakeDigestReason(hex.toLowerCase());
  return fake ? `the ${algo} digest ${hex.slice(0, 8)}… cannot be a real file's digest (${fake}): pip will reject the download as a hash mismatch; use the file's real digest` : undefined;
}

/**
 * A sign that hex digits were typed, not computed: one digit fills half the digest, fewer than 8
 * distinct digits, or a short pattern repeated. For a real (uniform) digest each is below 1e-12.
 */
export function fakeDigestReason(hex: string): string | undefined {
  const counts = new Map<string, number>();
  for (const c of hex) counts.set(c, (counts.get(c) ?? 0) + 1);
  let top = '';
  let most = 0;
  for (const [c, n] of counts) if (n > most) { most = n; top = c; }
  if (most * 2 >= hex.length) return `${most} of its ${hex.length} digits are '${top}'`;
  if (counts.size < 8) return `only ${counts.size} distinct digits`;
  for (let k = 1; k <= 16 && k * 2 <= hex.length; k++) {
    if (hex.length % k === 0 && hex.slice(0, k).repeat(hex.length / k) === hex) return `the pattern '${hex.slice(0, k)}' repeated`;
  }
  return undefined;
}

/** Logical lines: physical lines joined at a trailing backslash (replaced by spaces so offsets stay valid). */
export interface LogicalLine { text: string; start: number; firstLine: number; multiline: boolean }
export function logicalLines(text: string, lines: LineIndex): LogicalLine[] {
  const out: LogicalLine[] = [];
  for (let l = 0; l < lines.lineCount; l++) {
    const start = lines.starts[l];
    let end = lines.lineEnd(l);
    const first = l;
    while (text.charCodeAt(end - 1) === 92 /* \ */ && l + 1 < lines.lineCount) {
      l++;
      end = lines.lineEnd(l);
    }
    if (l === first) out.push({ text: text.slice(start, end), start, firstLine: first, multiline: false });
    else out.push({ text: text.slice(start, end).replace(/\\(\r\n|\r|\n)/g, (m) => ' '.repeat(m.length)), start, firstLine: first, multiline: true });
  }
  return out;
}

interface IncludeInfo { hashed: boolean; files: string[]; cycle?: string[] }

function isInside(root: string | undefined, p: string): boolean {
  if (!root) return true;
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Follow `file`'s -r/-c includes (depth-first) to learn whether any has hashes, and find cycles back to `stack`. */
function followIncludes(file: string, stack: string[], ctx: AnalysisContext, seen: Set<string>, depth: number): IncludeInfo {
  const info: IncludeInfo = { hashed: false, files: [] };
  if (depth > MAX_INCLUDE_DEPTH || seen.size > MAX_INCLUDED_FILES) return info;
  const text = ctx.fs.readText(file);
  if (text === undefined || checkSizeAndBinary(text)) return info;
  seen.add(file);
  for (const ll of logicalLines(text, new LineIndex(text))) {
    if (ll.text.length > MAX_LINE_LENGTH) continue;
    const p = parseRequirementsLine(ll.text);
    if (p.hashes.length || p.options.some((o) => o.name === '--require-hashes')) info.hashed = true;
    for (const o of p.options) {
      if ((o.name !== '--requirement' && o.name !== '--constraint') || !o.value || URL_START.test(o.value)) continue;
      const target = path.resolve(path.dirname(file), o.value);
      if (!isInside(ctx.workspaceRoot, target)) continue;
      const at = stack.indexOf(target);
      if (at >= 0) { info.cycle ??= [...stack.slice(at), file, target]; continue; }
      if (seen.has(target) || !ctx.fs.exists(target)) continue;
      info.files.push(target);
      const sub = followIncludes(target, [...stack, file], ctx, seen, depth + 1);
      if (o.name === '--requirement' && sub.hashed) info.hashed = true;
      info.files.push(...sub.files);
      info.cycle ??= sub.cycle;
    }
  }
  return info;
}

export function analyzeRequirements(filePath: string, text: string, ctx: AnalysisContext): AnalysisResult {
  const sink = new FindingSink(filePath);
  const problem = checkSizeAndBinary(text);
  if (problem) {
    sink.add('DEP008', 'warning', { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, `${problem}; the file was not analyzed`);
    return { findings: sink.findings, dependsOn: [] };
  }
  const lines = new LineIndex(text);
  const logical = logicalLines(text, lines);
  const toRange = (ll: LogicalLine, s: Span): Range => ll.multiline
    ? lines.rangeOf(ll.start + s.start, ll.start + s.end)
    : { start: { line: ll.firstLine, character: s.start }, end: { line: ll.firstLine, character: s.end } };

  const parsed: Array<LineParse | undefined> = logical.map((ll) => (ll.text.length > MAX_LINE_LENGTH ? undefined : parseRequirementsLine(ll.text)));
  let hashMode: HashMode | undefined;
  const dependsOn: string[] = [];
  const absPath = path.resolve(filePath);
  const seen = new Set<string>([absPath]);

  for (let i = 0; i < logical.length; i++) {
    const ll = logical[i];
    const p = parsed[i];
    if (!p) {
      sink.add('DEP008', 'warning', { start: { line: ll.firstLine, character: 0 }, end: { line: ll.firstLine, character: 0 } }, `line longer than ${MAX_LINE_LENGTH} characters; skipped`);
      continue;
    }
    if (!hashMode && p.hashes.length) {
      const entry = entryFromLine(ll, p, toRange, 'application');
      hashMode = { reason: `line ${ll.firstLine + 1} has --hash`, range: entry?.range ?? toRange(ll, p.hashes[0]), line: i };
    }
    const rh = hashMode ? undefined : p.options.find((o) => o.name === '--require-hashes');
    if (rh) hashMode = { reason: `line ${ll.firstLine + 1} sets --require-hashes`, range: toRange(ll, rh.span), line: i };
    for (const o of p.options) {
      if (o.name !== '--requirement' && o.name !== '--constraint') continue;
      const value = o.value ?? '';
      const range = toRange(ll, o.valueSpan ?? o.span);
      if (URL_START.test(value)) { sink.add('DEP008', 'information', range, `remote include ${value} is not followed (ModelVet stays offline); its requirements were not analyzed`); continue; }
      if (/\$\{[^}]*\}/.test(value)) { sink.add('DEP008', 'information', range, `include '${value}' uses an environment variable; not followed`); continue; }
      const target = path.resolve(path.dirname(absPath), value);
      if (!isInside(ctx.workspaceRoot, target)) { sink.add('DEP008', 'information', range, `include '${value}' is outside the workspace; not followed (its requirements were not analyzed)`); continue; }
      if (target === absPath) { sink.add('DEP008', 'warning', range, `'${value}' includes itself`); continue; }
      if (!ctx.fs.exists(target)) { sink.add('DEP008', 'warning', range, `included file '${value}' does not exist`); continue; }
      dependsOn.push(target);
      const info = followIncludes(target, [absPath], ctx, seen, 1);
      dependsOn.push(...info.files);
      if (info.cycle) sink.add('DEP008', 'warning', range, `include cycle: ${info.cycle.map((f) => path.relative(path.dirname(absPath), f) || path.basename(f)).join(' → ')}`);
      if (o.name === '--requirement' && info.hashed && !hashMode) hashMode = { reason: `included '${value}' uses --hash`, range, line: i };
    }
  }

  // Per-line findings are cached by line text while the inputs they depend on stay the same
  // (path, config, project facts, hash mode), so an edit re-checks only the edited line.
  const context: EntryContext = /\.in$/i.test(filePath) ? 'compile-input' : 'application';
  const cacheKey = { path: filePath, config: ctx.config, project: ctx.project, hash: hashMode?.reason };
  const cache = ruleCacheFor(cacheKey);
  const lineSink = new FindingSink(filePath);
  for (let i = 0; i < logical.length; i++) {
    if ((i & 1023) === 1023 && ctx.isCancelled?.()) break;
    const ll = logical[i];
    const p = parsed[i];
    if (!p) continue;
    if (ll.multiline) { checkLine(ll, p, toRange, sink, ctx, hashMode, context); continue; }
    let atLineZero = cache.get(p);
    if (!atLineZero) {
      const before = lineSink.findings.length;
      checkLine({ text: ll.text, start: ll.start, firstLine: 0, multiline: false }, p, toRange, lineSink, ctx, hashMode, context);
      atLineZero = lineSink.findings.length === before ? NO_FINDINGS : lineSink.findings.slice(before);
      cache.set(p, atLineZero);
    }
    for (let k = 0; k < atLineZero.length; k++) sink.findings.push(moveToLine(atLineZero[k], ll.firstLine));
  }
  fileLevelChecks(text, lines, logical, parsed, toRange, sink, ctx, hashMode, context);
  return { findings: sink.findings, dependsOn: [...new Set(dependsOn)] };
}

/** What put the file in pip's hash-checking mode: the line (logical index) and the range to report on. */
interface HashMode { reason: string; range: Range; line: number }

/** Requirement lines of a file; the DepEntry is built only for lines a file-level check reports on. */
interface FileEntry { line: number; ll: LogicalLine; p: LineParse; norm: string; entry: DepEntry }

/** PEP 503 names per cached parse (one per distinct line text), so a keystroke does not re-normalize 5,000 names. */
const normCache = new WeakMap<LineParse, string>();
function normOf(p: LineParse): string {
  let n = normCache.get(p);
  if (n === undefined) { n = normalizeName(p.req?.name ?? p.direct?.name ?? p.direct?.url ?? ''); normCache.set(p, n); }
  return n;
}

/** The edit that deletes logical line `ll` (all its physical lines, with the line break). */
function removeLineEdit(lines: LineIndex, ll: LogicalLine, text: string): TextEdit {
  let last = ll.firstLine;
  while (text.charCodeAt(lines.lineEnd(last) - 1) === 92 && last + 1 < lines.lineCount) last++;
  if (last + 1 < lines.lineCount) return { range: { start: { line: ll.firstLine, character: 0 }, end: { line: last + 1, character: 0 } }, newText: '' };
  if (ll.firstLine === 0) return { range: lines.rangeOf(0, text.length), newText: '' };
  const prev = ll.firstLine - 1;
  return { range: { start: { line: prev, character: lines.lineEnd(prev) - lines.starts[prev] }, end: lines.positionAt(text.length) }, newText: '' };
}

/**
 * Checks that need the whole file: DEP003 in hash-checking mode (one finding on the line that turned
 * it on, listing the unhashed requirements), DEP009 (one project required twice), and DEP001 fixes
 * that would create such a duplicate (offer removing the placeholder line instead).
 */
function fileLevelChecks(text: string, lines: LineIndex, logical: LogicalLine[], parsed: Array<LineParse | undefined>, toRange: (ll: LogicalLine, s: Span) => Range, sink: FindingSink, ctx: AnalysisContext, hashMode: HashMode | undefined, context: EntryContext): void {
  if (ctx.isCancelled?.()) return;
  // One pass over the cached parses with plain maps (this runs on every keystroke of a 5,000-line file);
  // DepEntry objects are built only for the lines a finding is about.
  const entryAt = (i: number): FileEntry => ({ line: i, ll: logical[i], p: parsed[i]!, norm: normOf(parsed[i]!), entry: entryFromLine(logical[i], parsed[i]!, toRange, context)! });
  const firstByKey = new Map<string, number>();
  const dups: Array<[number, number]> = [];
  const missing: number[] = [];
  const hashed: number[] = [];
  for (let i = 0; i < logical.length; i++) {
    const p = parsed[i];
    if (!p || (!p.req && !p.direct) || p.direct?.local) continue;
    if (hashMode && !p.hashes.length && !p.direct?.editable) missing.push(i);
    if (hashMode && p.hashes.length) hashed.push(i);
    if (!p.req && !p.direct?.name) continue;
    const norm = normOf(p);
    const key = p.req?.marker ? `${norm};${p.req.marker.replace(/\s+/g, '')}` : norm;
    const prev = firstByKey.get(key);
    if (prev === undefined) firstByKey.set(key, i);
    else dups.push([prev, i]);
  }
  if (hashMode && missing.length) checkHashMode(lines, missing.map(entryAt), hashed.map(entryAt), hashMode, toRange, sink, ctx);
  // DEP001's placeholder check asks for the first line of a name; lines without a marker are keyed by the bare name.
  checkDuplicates(text, lines, dups.map(([a, b]) => [entryAt(a), entryAt(b)]), firstByKey, entryAt, sink);
}

function checkHashMode(lines: LineIndex, entries: FileEntry[], hashed: FileEntry[], mode: HashMode, toRange: (ll: LogicalLine, s: Span) => Range, sink: FindingSink, ctx: AnalysisContext): void {
  const missing = entries.filter((fe) => !isSuppressed('DEP003', suppressedCodes(lines.lineText(fe.ll.firstLine))));
  if (!missing.length) return;
  const names = missing.map((fe) => fe.entry.name);
  const shown = names.length > 4 ? `${names.slice(0, 4).join(', ')}, …` : names.join(', ');
  const fixes: Fix[] = [];
  // Add hashes from what is known offline (lockfile, local wheelhouse) for every pinned requirement.
  const known: Array<{ fe: FileEntry; hashes: string[]; source: string }> = [];
  for (const fe of missing) {
    const v = entryPinned(fe.entry);
    const h = v && !fe.entry.url ? ctx.project?.knownHashes?.(fe.entry.norm, v) : undefined;
    if (h?.hashes.length) known.push({ fe, hashes: h.hashes, source: h.source });
  }
  if (known.length) {
    const edits: TextEdit[] = known.map(({ fe, hashes }) => {
      const end = contentEndTrimmed(fe.ll.text);
      const at = toRange(fe.ll, { start: end, end }).end;
      return { range: { start: at, end: at }, newText: hashes.map((h) => ` --hash=${h}`).join('') };
    });
    const sources = [...new Set(known.map((k) => k.source))].join(', ');
    const all = known.length === missing.length;
    fixes.push({ title: all ? `Add --hash to all ${missing.length} unhashed requirements (from ${sources})` : `Add --hash to ${known.length} of the ${missing.length} unhashed requirements (from ${sources})`, edits, isPreferred: all });
  }
  // Online only: the rest from the package index, asked when the fix is picked (server/src/indexPin.ts).
  const unknown = missing.filter((fe) => !known.some((k) => k.fe === fe) && entryPinned(fe.entry) && !fe.entry.url);
  if (unknown.length && ctx.config.online.enabled) {
    const ready = fixes[0]?.edits ?? [];
    const items = unknown.map((fe) => {
      const end = contentEndTrimmed(fe.ll.text);
      return { package: fe.entry.norm, version: entryPinned(fe.entry)!, at: toRange(fe.ll, { start: end, end }).end };
    });
    const all = known.length + unknown.length === missing.length;
    fixes.push({ title: `Add --hash to ${all ? 'all ' : ''}${known.length + unknown.length}${all ? '' : ` of the ${missing.length}`} unhashed requirements (digests from the package index)`, edits: [], resolve: { kind: 'index-hashes', data: { items, ready } } });
  }
  // Or leave hash-checking mode: remove the hashes of this file (only when they are what turned it on).
  if (hashed.length && /has --hash$/.test(mode.reason) && hashed.length <= 3) {
    const edits: TextEdit[] = [];
    for (const fe of hashed) {
      for (const h of fe.p.hashes) {
        let start = fe.ll.text.lastIndexOf('--hash', h.start);
        if (start < 0) continue;
        while (start > 0 && /[ \t]/.test(fe.ll.text[start - 1])) start--;
        edits.push({ range: toRange(fe.ll, { start, end: h.end }), newText: '' });
      }
    }
    if (edits.length) fixes.push({ title: `Remove the --hash option${edits.length > 1 ? 's' : ''} (leave hash-checking mode)`, edits });
  }
  const count = missing.length === 1 ? `'${names[0]}' has no --hash` : `${missing.length} requirements have no --hash (${shown})`;
  sink.add('DEP003', 'error', mode.range,
    `this file is in pip's hash-checking mode (${mode.reason}), so pip will refuse to install it: ${count}`,
    { fixes, related: missing.map((fe) => ({ range: fe.entry.range, message: `'${fe.entry.name}' has no --hash` })), data: { packages: missing.map((fe) => fe.entry.norm) } });
}

function checkDuplicates(text: string, lines: LineIndex, dups: Array<[FileEntry, FileEntry]>, firstByName: Map<string, number>, entryAt: (i: number) => FileEntry, sink: FindingSink): void {
  for (const [prev, fe] of dups) {
    checkDuplicatePair(prev.entry, fe.entry, `line ${prev.ll.firstLine + 1}`, sink, { title: `Remove this duplicate of line ${prev.ll.firstLine + 1}`, edits: [removeLineEdit(lines, fe.ll, text)] }, { firstLine: prev.ll.firstLine });
  }
  // A DEP001 replacement that would require a project the file already requires: remove the placeholder line instead.
  for (const f of sink.findings) {
    if (f.code !== 'DEP001' || typeof f.data?.intended !== 'string') continue;
    const otherAt = firstByName.get(normalizeName(f.data.intended));
    const ownAt = typeof f.data.package === 'string' ? firstByName.get(f.data.package) : undefined;
    if (otherAt === undefined || ownAt === undefined) continue;
    const own = entryAt(ownAt);
    const other = entryAt(otherAt);
    if (own.ll.firstLine !== f.range.start.line) continue;
    f.fixes = [{ title: `Remove '${own.entry.name}' ('${other.entry.name}' is already required on line ${other.ll.firstLine + 1})`, edits: [removeLineEdit(lines, own.ll, text)], isPreferred: true }];
    f.message += `; '${other.entry.name}' is already required on line ${other.ll.firstLine + 1}, so remove this line`;
  }
}

/** Drop the per-line parse and rule caches (tests compare cached and fresh results). */
export function clearRequirementsCaches(): void {
  lineCache.clear();
  ruleCaches.clear();
}

/** Findings of one logical line (everything except includes, which depend on other files). */
function checkLine(ll: LogicalLine, p: LineParse, toRange: (ll: LogicalLine, s: Span) => Range, sink: FindingSink, ctx: AnalysisContext, hashMode: HashMode | undefined, context: EntryContext): void {
  for (const err of p.errors) {
    if (err.code === 'DEP003') sink.add('DEP003', 'error', toRange(ll, err.span), err.message, { data: { todo: "Replace it with the real file's digest (pip hash FILE, or pip-compile / uv pip compile --generate-hashes)" } });
    else sink.add('DEP008', 'warning', toRange(ll, err.span), `cannot parse: ${err.message}`);
  }
  for (const o of p.options) {
    if (o.value !== undefined && (o.name === '--index-url' || o.name === '--extra-index-url' || o.name === '--trusted-host' || o.name === '--find-links')) {
      checkIndexOption(o.name, o.value, toRange(ll, o.span), sink);
    }
  }
  const entry = entryFromLine(ll, p, toRange, context);
  if (!entry || entry.localPath) return;
  checkEntry(entry, sink, ctx);
  if (!entry.hashed && !p.direct?.editable) {
    // In hash-checking mode the file gets one DEP003 for all unhashed lines (fileLevelChecks).
    if (!hashMode && ctx.config.requireHashes) {
      const v = entry.url ? undefined : entryPinned(entry);
      const known = v ? ctx.project?.knownHashes?.(entry.norm, v) : undefined;
      const end = contentEndTrimmed(ll.text);
      const at = toRange(ll, { start: end, end }).end;
      const fixes: Fix[] = known ? [{ title: `Add --hash for ${entry.name}==${v} (from ${known.source})`, edits: [{ range: { start: at, end: at }, newText: known.hashes.map((h) => ` --hash=${h}`).join('') }], isPreferred: true }] : [];
      sink.add('DEP003', 'warning', entry.range, `'${entry.name}' has no --hash (the project requires hashes): a replaced file on the index would go unnoticed`, { fixes, data: { package: entry.norm } });
    }
  } else if (entry.hashed && !entry.url && !entryPinned(entry)) {
    sink.add('DEP003', 'error', entry.range, `'${entry.name}' has --hash but no == pin: pip refuses unpinned requirements in hash-checking mode`, { data: { package: entry.norm } });
  }
}

const NO_FINDINGS: Finding[] = [];
/**
 * Per-line findings for the most recent analysis inputs, keyed by the cached parse object
 * (one per distinct line text), so a lookup costs no string hashing; entries die with the parse cache.
 */
interface RuleCacheKey { path: string; config: unknown; project: unknown; hash: string | undefined }
/** Files whose per-line findings are kept (least recently analyzed dropped first). */
export const RULE_CACHE_FILES = 64;
const ruleCaches = new Map<string, { key: RuleCacheKey; lines: WeakMap<LineParse, Finding[]> }>();
function ruleCacheFor(key: RuleCacheKey): WeakMap<LineParse, Finding[]> {
  let entry = ruleCaches.get(key.path);
  ruleCaches.delete(key.path);
  const k = entry?.key;
  if (!entry || !k || k.config !== key.config || k.project !== key.project || k.hash !== key.hash) entry = { key, lines: new WeakMap() };
  ruleCaches.set(key.path, entry);
  if (ruleCaches.size > RULE_CACHE_FILES) ruleCaches.delete(ruleCaches.keys().next().value!);
  return entry.lines;
}

function moveRange(r: Range, line: number): Range {
  return { start: { line: r.start.line + line, character: r.start.character }, end: { line: r.end.line + line, character: r.end.character } };
}
/** A lazily resolved fix's edit template (index-pin, vcs-commit) moves with its line too. */
function moveResolve(r: { kind: string; data: unknown }, line: number): { kind: string; data: unknown } {
  const d = r.data as { editTemplate?: unknown } | undefined;
  if (!d || !Array.isArray(d.editTemplate)) return r;
  return { kind: r.kind, data: { ...d, editTemplate: (d.editTemplate as TextEdit[]).map((e) => ({ range: moveRange(e.range, line), newText: e.newText })) } };
}

/** A copy of a line-0 finding placed on `line` (fix edits move with it). */
function moveToLine(f: Finding, line: number): Finding {
  return {
    ...f,
    range: moveRange(f.range, line),
    fixes: f.fixes.map((fx) => ({ ...fx, edits: fx.edits.map((e) => ({ range: moveRange(e.range, line), newText: e.newText })), ...(fx.resolve ? { resolve: moveResolve(fx.resolve, line) } : {}) })),
    data: f.data ? { ...f.data } : undefined,
  };
}

/** The dependency a parsed line declares (requirement or direct reference), in file coordinates. */
export function entryFromLine(ll: LogicalLine, p: LineParse, toRange: (ll: LogicalLine, s: Span) => Range, context: EntryContext = 'application'): DepEntry | undefined {
  const hashed = p.hashes.length > 0;
  const lineRange = toRange(ll, { start: 0, end: ll.text.length });
  if (p.req) {
    const r = p.req;
    const afterName = r.extrasSpan?.end ?? r.nameSpan.end;
    const eq = r.clauses.find((c) => (c.op === '==' && !c.version.endsWith('.*')) || c.op === '===');
    return {
      name: r.name, norm: normalizeName(r.name), nameRange: toRange(ll, r.nameSpan), nameExplicit: true,
      spec: r.specifier, pinned: eq ? eq.version : null, specRange: r.specSpan ? toRange(ll, r.specSpan) : undefined,
      specInsertAt: r.specSpan || r.url ? undefined : toRange(ll, { start: afterName, end: afterName }).start,
      specFormat: 'pep508', url: r.url && r.urlSpan ? { url: r.url, range: toRange(ll, r.urlSpan) } : undefined,
      hashed, context, range: trimRange(lineRange, ll, toRange),
    };
  }
  if (p.direct) {
    const d = p.direct;
    const range = toRange(ll, d.span);
    const name = d.name ?? d.url;
    return { name, norm: normalizeName(name), nameRange: range, nameExplicit: false, spec: '', specFormat: 'pep508', url: { url: d.url, range }, localPath: d.local, hashed, context, range };
  }
  return undefined;
}

function trimRange(r: Range, ll: LogicalLine, toRange: (ll: LogicalLine, s: Span) => Range): Range {
  const end = contentEndTrimmed(ll.text);
  return end === ll.text.length ? r : { start: r.start, end: toRange(ll, { start: end, end }).end };
}
function contentEndTrimmed(line: string): number {
  let e = contentEnd(line);
  while (e > 0 && /\s/.test(line[e - 1])) e--;
  return e;
}
