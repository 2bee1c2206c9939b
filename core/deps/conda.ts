/** conda environment files: channels, conda match specs and the `pip:` sub-list, with positions. */
import { parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import type { AnalysisContext, AnalysisResult } from '../analysis';
import { LineIndex } from '../text';
import type { Range } from '../types';
import { checkSizeAndBinary } from './limits';
import { clampedRange, FindingSink, type DepEntry } from './model';
import { isValidClauseVersion, normalizeName } from './pep440';
import { entryFromLine, parseRequirementsLine, type LogicalLine } from './requirements';
import { checkDuplicatePair, checkEntry, checkIndexOption, type IndexOption } from './rules';
import type { Span } from './pep508';

/** YAML aliases expanded at most this many times (billion-laughs guard). */
export const YAML_MAX_ALIAS_COUNT = 100;
/** conda packages that are tooling, not dependencies worth pinning. */
const CONDA_TOOLING = new Set(['python', 'pip']);

/** Convert a conda match-spec version part to a PEP 440 specifier set; undefined when it cannot. */
export function condaToPep440(rest: string): string | undefined {
  let s = rest.trim();
  if (!s) return '';
  if (s.startsWith('=') && !s.startsWith('==')) s = s.slice(1);
  // Strip a build string: `1.26=py310_0` or `1.26 py310_0`.
  s = s.replace(/[= ][A-Za-z0-9_*.]+$/, (m) => (/^[= ]\d/.test(m) && !/[A-Za-z_]/.test(m) ? m : ''));
  const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
  const out: string[] = [];
  for (const p of parts) {
    let m = /^(~=|===|==|!=|<=|>=|<|>)\s*(.+)$/.exec(p);
    if (!m) {
      if (!/^\d/.test(p)) return undefined;
      // A bare conda version is a fuzzy match: 1.26 means 1.26.*.
      m = ['', '==', p.endsWith('*') ? p.replace(/\.?\*$/, '.*') : `${p}.*`] as unknown as RegExpExecArray;
    }
    if (!isValidClauseVersion(m[1], m[2])) return undefined;
    out.push(`${m[1]}${m[2]}`);
  }
  return out.join(',');
}

export function analyzeConda(filePath: string, text: string, ctx: AnalysisContext): AnalysisResult {
  const sink = new FindingSink(filePath);
  const lines = new LineIndex(text);
  const problem = checkSizeAndBinary(text);
  if (problem) {
    sink.add('DEP008', 'warning', lines.rangeOf(0, 0), `${problem}; the file was not analyzed`);
    return { findings: sink.findings, dependsOn: [] };
  }
  const doc = parseDocument(text, { prettyErrors: false, maxAliasCount: YAML_MAX_ALIAS_COUNT } as any);
  if (doc.errors.length) {
    const e = doc.errors[0];
    sink.add('DEP008', 'warning', clampedRange(lines, e.pos[0], Math.max(e.pos[1], e.pos[0] + 1)), `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const contents = doc.contents;
  if (!isMap(contents)) return { findings: sink.findings, dependsOn: [] };
  const rangeOf = (n: YamlNode): Range => lines.rangeOf(n.range?.[0] ?? 0, n.range?.[1] ?? 0);
  const channels = contents.get('channels', true);
  if (isSeq(channels)) {
    for (const c of channels.items) {
      if (isScalar(c) && typeof c.value === 'string' && /^http:\/\//i.test(c.value)) {
        sink.add('DEP004', 'error', rangeOf(c), `conda channel ${c.value} uses plain http: packages can be swapped in transit; use https`);
      }
    }
  }
  const deps = contents.get('dependencies', true);
  if (!isSeq(deps)) return { findings: sink.findings, dependsOn: [] };
  const condaEntries: DepEntry[] = [];
  const pipEntries: DepEntry[] = [];
  for (const item of deps.items) {
    if (isScalar(item) && typeof item.value === 'string') { const e = condaSpec(item, text, lines, sink, ctx); if (e) condaEntries.push(e); }
    else if (isMap(item)) {
      const pip = item.get('pip', true);
      if (isSeq(pip)) for (const p of pip.items) if (isScalar(p) && typeof p.value === 'string') { const e = pipItem(p, text, lines, sink, ctx); if (e) pipEntries.push(e); }
    }
  }
  // DEP009 per list (conda packages and pip packages are different namespaces).
  for (const list of [condaEntries, pipEntries]) duplicatesIn(list, lines, sink);
  return { findings: sink.findings, dependsOn: [] };
}

function duplicatesIn(list: DepEntry[], lines: LineIndex, sink: FindingSink): void {
  const first = new Map<string, DepEntry>();
  for (const e of list) {
    const prev = first.get(e.norm);
    if (!prev) { first.set(e.norm, e); continue; }
    const line = e.range.start.line;
    // One item per line: removing the line keeps the YAML list valid.
    const edit = e.range.end.line === line && line + 1 < lines.lineCount ? { range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, newText: '' } : undefined;
    checkDuplicatePair(prev, e, `line ${prev.range.start.line + 1}`, sink, edit ? { title: `Remove this duplicate of line ${prev.range.start.line + 1}`, edits: [edit] } : undefined);
  }
}

/** Offset of a scalar's content when it is written 1:1 in the text (plain or simply quoted). */
function scalarContent(n: YamlNode, value: string, text: string): number | undefined {
  const [s, e] = n.range ?? [0, 0];
  const raw = text.slice(s, e);
  if (raw === value) return s;
  if ((raw.startsWith('"') || raw.startsWith("'")) && raw.slice(1, -1) === value) return s + 1;
  return undefined;
}

function condaSpec(n: YamlNode, text: string, lines: LineIndex, sink: FindingSink, ctx: AnalysisContext): DepEntry | undefined {
  const value = (n as { value: string }).value;
  const base = scalarContent(n, value, text);
  const whole = lines.rangeOf(n.range?.[0] ?? 0, n.range?.[1] ?? 0);
  const m = /^\s*(?:([\w./:-]+)::)?([A-Za-z0-9_][A-Za-z0-9_.-]*)(\[[^\]]*\])?\s*(.*)$/.exec(value);
  if (!m) { sink.add('DEP008', 'warning', whole, `cannot parse conda spec '${value.slice(0, 60)}'`); return undefined; }
  const name = m[2];
  if (CONDA_TOOLING.has(name.toLowerCase())) return undefined;
  const spec = condaToPep440(m[4]);
  if (spec === undefined) return undefined; // conda-only version syntax we do not model; never guess.
  const nameStart = value.indexOf(name, m[1] ? m[1].length + 2 : 0);
  const restStart = value.length - m[4].length;
  const at = (s: number, e: number) => (base === undefined ? whole : lines.rangeOf(base + s, base + e));
  const entry: DepEntry = {
    name, norm: normalizeName(name), nameRange: at(nameStart, nameStart + name.length), nameExplicit: true,
    spec, specFormat: 'conda',
    specRange: base !== undefined && m[4] ? at(restStart, value.length) : undefined,
    specInsertAt: base !== undefined && !m[4] ? lines.positionAt(base + nameStart + name.length) : undefined,
    hashed: false, context: 'application', range: whole, conda: true,
  };
  checkEntry(entry, sink, ctx);
  return entry;
}

function pipItem(n: YamlNode, text: string, lines: LineIndex, sink: FindingSink, ctx: AnalysisContext): DepEntry | undefined {
  const value = (n as { value: string }).value;
  const base = scalarContent(n, value, text);
  const whole = lines.rangeOf(n.range?.[0] ?? 0, n.range?.[1] ?? 0);
  const p = parseRequirementsLine(value);
  const ll: LogicalLine = { text: value, start: 0, firstLine: 0, multiline: false };
  const toRange = (_ll: LogicalLine, s: Span): Range => (base === undefined ? whole : lines.rangeOf(base + s.start, base + s.end));
  for (const err of p.errors) {
    if (err.code === 'DEP003') sink.add('DEP003', 'error', toRange(ll, err.span), err.message);
    else sink.add('DEP008', 'warning', toRange(ll, err.span), `cannot parse: ${err.message}`);
  }
  for (const o of p.options) {
    if (o.value !== undefined && ['--index-url', '--extra-index-url', '--trusted-host', '--find-links'].includes(o.name)) checkIndexOption(o.name as IndexOption, o.value, toRange(ll, o.span), sink);
  }
  const entry = entryFromLine(ll, p, toRange);
  if (entry && base === undefined) { entry.specRange = undefined; entry.specInsertAt = undefined; }
  if (!entry || entry.localPath) return undefined;
  checkEntry(entry, sink, ctx);
  return entry;
}
