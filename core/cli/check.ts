/** `modelvet check [PATH...]`: the editor's rules over a project, for CI. */
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { analyzeText } from '../analyze';
import type { AnalysisContext } from '../analysis';
import { defaultConfig, mergeConfig, type ModelVetConfig } from '../config';
import { buildProjectFacts } from '../deps/index';
import { initPythonParser } from '../code/index';
import { findingsToSarif } from '../report/sarif';
import { allRules } from '../rules/registry';
import { compareFindings, SEVERITY_ORDER, type Finding, type Severity } from '../types';
import { diskFileAccess, findAnalyzableFiles } from '../workspace';
import { readProjectConfig, refusedKeysMessage } from '../projectConfig';
import { oneOf, parseArgs, UsageError, type CliIO } from './args';

export const CHECK_USAGE = `usage: modelvet check [PATH...] [options]

Analyze dependency manifests, Python files and notebooks (default PATH: .).

options:
  --format text|json|sarif      output format (default: text)
  --fail-on error|warning|information
                                lowest severity that makes the exit code 1 (default: error)
  --osv-db PATH                 read OSV advisories offline from an all.zip dump or a folder (repeatable)
  --require-hashes              report every requirement without --hash (DEP003)
  --select CODE[,CODE]          only these rules
  --ignore CODE[,CODE]          turn these rules off
  -o, --output FILE             write the report to FILE instead of stdout

exit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage or internal error`;


export async function wasmDirForBundle(): Promise<string | undefined> {
  // In dist/cli.js the grammar files sit next to the bundle; under tsx they resolve from node_modules.
  return existsSync(path.join(__dirname, 'tree-sitter-python.wasm')) ? __dirname : undefined;
}

export async function runCheckCommand(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    '--format': 'string', '--fail-on': 'string', '--osv-db': 'multi', '--require-hashes': 'bool',
    '--select': 'multi', '--ignore': 'multi', '--output': 'string', '--help': 'bool',
  }, { '-o': '--output', '-h': '--help' });
  if (flags['--help']) { io.stdout(CHECK_USAGE + '\n'); return 0; }
  const format = oneOf('--format', flags['--format'], ['text', 'json', 'sarif'] as const, 'text');
  const failOn = oneOf('--fail-on', flags['--fail-on'], ['error', 'warning', 'information', 'hint'] as const, 'error');
  const roots = positionals.length ? positionals : ['.'];
  for (const r of roots) if (!existsSync(r)) throw new UsageError(`${r}: no such file or folder`);

  const first = path.resolve(roots[0]);
  const root = statSync(first).isDirectory() ? first : path.dirname(first);
  const fs = diskFileAccess();
  const project = readProjectConfig(root, fs);
  const refused = project && refusedKeysMessage(project);
  if (refused) io.stderr(`modelvet: ${refused}\n`);
  // A repository's own file may tune rules, never reach the network or name files to read.
  let config: ModelVetConfig = mergeConfig(defaultConfig(), project?.table, { allowRestricted: false });
  const osv = (flags['--osv-db'] as string[] | undefined) ?? [];
  if (osv.length) config.osvDbPaths = [...config.osvDbPaths, ...osv.map((p) => path.resolve(p))];
  if (flags['--require-hashes']) config.requireHashes = true;
  config = applySelectIgnore(config, flags['--select'] as string[] | undefined, flags['--ignore'] as string[] | undefined);

  const walk = findAnalyzableFiles(roots);
  for (const e of walk.errors) io.stderr(`modelvet: ${e}\n`);
  if (walk.truncated) io.stderr('modelvet: too many files; the walk stopped early (results are incomplete)\n');
  if (walk.files.some((f) => f.endsWith('.py') || f.endsWith('.ipynb'))) await initPythonParser(await wasmDirForBundle());

  const ctx: AnalysisContext = { config, workspaceRoot: root, fs, project: buildProjectFacts(root, fs) };
  const findings: Finding[] = [];
  for (const file of walk.files) {
    const text = fs.readText(file);
    if (text === undefined) { io.stderr(`modelvet: ${rel(file)}: unreadable or larger than the size limit; skipped\n`); continue; }
    findings.push(...analyzeText(file, text, ctx).findings);
  }
  findings.sort(compareFindings);

  const out = render(format, findings, root, walk.files.length);
  if (flags['--output']) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(String(flags['--output']), out);
  } else io.stdout(out);
  return findings.some((f) => SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[failOn as Severity]) ? 1 : 0;
}

function applySelectIgnore(config: ModelVetConfig, select?: string[], ignore?: string[]): ModelVetConfig {
  const split = (xs?: string[]) => (xs ?? []).flatMap((x) => x.split(',')).map((x) => x.trim().toUpperCase()).filter(Boolean);
  const sel = split(select);
  const ign = split(ignore);
  if (!sel.length && !ign.length) return config;
  const out = structuredClone(config);
  if (sel.length) for (const r of allRules()) if (!sel.some((s) => r.code.startsWith(s))) out.rules[r.code] = 'off';
  for (const r of allRules()) if (ign.some((s) => r.code.startsWith(s))) out.rules[r.code] = 'off';
  return out;
}

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

function render(format: 'text' | 'json' | 'sarif', findings: Finding[], root: string, fileCount: number): string {
  if (format === 'json') {
    return JSON.stringify({
      version: 1,
      findings: findings.map((f) => ({
        path: rel(f.path), range: f.range, ...(f.cell !== undefined ? { cell: f.cell } : {}),
        code: f.code, severity: f.severity, message: f.message,
        fixes: f.fixes.map((x) => ({ title: x.title, edits: x.edits, ...(x.isPreferred ? { isPreferred: true } : {}) })),
        ...(f.related?.length ? { related: f.related.map((r) => ({ path: rel(r.path ?? f.path), range: r.range, message: r.message })) } : {}),
      })),
    }, null, 2) + '\n';
  }
  if (format === 'sarif') return JSON.stringify(findingsToSarif(findings, root), null, 2) + '\n';
  const lines = findings.map((f) => {
    const where = f.cell !== undefined ? `cell ${f.cell + 1}:${f.range.start.line + 1}:${f.range.start.character + 1}` : `${f.range.start.line + 1}:${f.range.start.character + 1}`;
    const fix = f.fixes.some((x) => x.edits.length) ? ' [fix available]' : '';
    // The other places of one cause (e.g. DEP003's unhashed lines), indented under it.
    const related = (f.related ?? []).map((r) => `\n    ${r.path && r.path !== f.path ? `${rel(r.path)}:` : ''}${r.range.start.line + 1}:${r.range.start.character + 1}: ${r.message}`).join('');
    return `${rel(f.path)}:${where}: ${f.code} [${f.severity}] ${f.message}${fix}${related}`;
  });
  const counts = new Map<Severity, number>();
  for (const f of findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const summary = findings.length
    ? `Found ${findings.length} problem${findings.length === 1 ? '' : 's'} (${(['error', 'warning', 'information', 'hint'] as Severity[]).filter((s) => counts.get(s)).map((s) => `${counts.get(s)} ${s}`).join(', ')}) in ${fileCount} file${fileCount === 1 ? '' : 's'}.`
    : `No problems found in ${fileCount} file${fileCount === 1 ? '' : 's'}.`;
  return [...lines, summary].join('\n') + '\n';
}
