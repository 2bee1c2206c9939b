/**
 * Fixture markers (fourslash-like):
 * - `[|` and `|]` surround an expected finding's range; they are stripped before analysis.
 * - A trailing comment `# expect: CODE[:severity] CODE[:severity] …` lists the codes of the
 *   marked ranges on that line, in order of their start column.
 * - Every finding in the file must be marked, and every marked range must be found: lines
 *   without markers are negatives.
 * Ranges are single-line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AnalysisContext, FileAccess, ProjectFacts } from '../../../core/analysis';
import { defaultConfig } from '../../../core/config';
import type { Finding } from '../../../core/types';

export const FIXTURES = path.resolve(__dirname, '../../fixtures/code');

export interface Expected { line: number; start: number; end: number; code: string; severity?: string }

export function parseMarkers(marked: string): { text: string; expected: Expected[] } {
  const lines = marked.split('\n');
  const expected: Expected[] = [];
  const clean: string[] = [];
  lines.forEach((raw, lineNo) => {
    const spans: Array<{ start: number; end: number }> = [];
    let out = '';
    let open = -1;
    for (let i = 0; i < raw.length; i++) {
      if (raw.startsWith('[|', i)) { open = out.length; i++; continue; }
      if (raw.startsWith('|]', i) && open >= 0) { spans.push({ start: open, end: out.length }); open = -1; i++; continue; }
      out += raw[i];
    }
    clean.push(out);
    const m = /#\s*expect:\s*(.*)$/.exec(out);
    const codes = m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
    if (codes.length !== spans.length) throw new Error(`fixture line ${lineNo + 1}: ${spans.length} ranges but ${codes.length} expected codes`);
    codes.forEach((c, i) => {
      const [code, severity] = c.split(':');
      expected.push({ line: lineNo, start: spans[i].start, end: spans[i].end, code, severity });
    });
  });
  return { text: clean.join('\n'), expected };
}

export function memoryFs(files: Record<string, string> = {}): FileAccess {
  return {
    readText: (p) => files[p],
    exists: (p) => p in files || Object.keys(files).some((f) => f.startsWith(p.endsWith('/') ? p : p + '/')),
  };
}

export function facts(floors: Record<string, string> = {}): ProjectFacts {
  return { lockedVersions: new Map(), installedVersions: new Map(), versionFloor: (n) => floors[n] };
}

export function makeCtx(opts: { files?: Record<string, string>; floors?: Record<string, string>; root?: string } = {}): AnalysisContext {
  return { config: defaultConfig(), fs: memoryFs(opts.files), project: facts(opts.floors), workspaceRoot: opts.root ?? '/ws' };
}

export function readFixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** Compare findings with the markers; returns a readable diff ('' when equal). */
export function diffFindings(findings: Finding[], expected: Expected[]): string {
  const key = (l: number, s: number, e: number, c: string) => `${l + 1}:${s}-${e} ${c}`;
  const got = new Map(findings.map((f) => [key(f.range.start.line, f.range.start.character, f.range.end.character, f.code), f]));
  const want = new Map(expected.map((x) => [key(x.line, x.start, x.end, x.code), x]));
  const problems: string[] = [];
  for (const [k, x] of want) {
    const f = got.get(k);
    if (!f) problems.push(`missing ${k}`);
    else if (x.severity && f.severity !== x.severity) problems.push(`severity ${k}: got ${f.severity}, want ${x.severity}`);
  }
  for (const [k, f] of got) if (!want.has(k)) problems.push(`unexpected ${k} (${f.severity}): ${f.message}`);
  return problems.join('\n');
}
