/** `modelvet audit-data PATH...`: dataset poisoning indicators, label problems and drift, for CI and terminals. */
import path from 'node:path';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import '../rules/all';
import { auditPaths } from '../datasets/index';
import type { AuditReport, DatasetSettings } from '../datasets/types';
import { datasetSettingsFrom } from '../datasets/config';
export { datasetSettingsFrom };
import { defaultConfig, effectiveSeverity, mergeConfig } from '../config';
import { readProjectConfig, refusedKeysMessage } from '../projectConfig';
import { diskFileAccess } from '../workspace';
import { findingsToSarif } from '../report/sarif';
import { compareFindings, SEVERITY_ORDER, type Finding, type Severity } from '../types';
import { oneOf, parseArgs, UsageError, type CliIO } from './args';

export const AUDIT_DATA_USAGE = `usage: modelvet audit-data PATH... [options]

Audit datasets for poisoning indicators (trigger tokens, conflicting labels, duplicates
across splits, invisible Unicode, injected instructions and commands), label problems,
integrity and drift. Reads CSV/TSV, JSON Lines, JSON arrays, Parquet and Hugging Face
dataset folders; streamed with bounded memory. Nothing is executed or sent anywhere.

options:
  --reference PATH              compare against this file or folder (drift, leakage) (repeatable)
  --format text|json|sarif      output format (default: text)
  --fail-on error|warning|information
                                lowest severity that makes the exit code 1 (default: warning)
  --allow-incomplete            do not fail the run for files that could only be partly audited
  --sample N                    audit at most N rows per file
  --text-column NAME            input text column (repeatable; default: inferred)
  --label-column NAME           label column (default: inferred)
  --id-column NAME              id column (default: inferred)
  --messages-column NAME        chat column with {role, content} turns (default: inferred)
  --select CODE[,CODE]          only these rules
  --ignore CODE[,CODE]          turn these rules off
  -o, --output FILE             write the report to FILE instead of stdout

[tool.modelvet.datasets] in pyproject.toml sets text-column, label-column, id-column,
messages-column, allowed-hosts and sample; rule severities come from [tool.modelvet] rules.

exit codes: 0 nothing at or above --fail-on, 1 findings (or an incomplete audit unless
--allow-incomplete), 2 usage or internal error`;

export async function runAuditDataCommand(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    '--reference': 'multi', '--format': 'string', '--fail-on': 'string', '--allow-incomplete': 'bool', '--sample': 'string',
    '--text-column': 'multi', '--label-column': 'string', '--id-column': 'string', '--messages-column': 'string',
    '--select': 'multi', '--ignore': 'multi', '--output': 'string', '--help': 'bool',
  }, { '-o': '--output', '-h': '--help' });
  if (flags['--help']) { io.stdout(AUDIT_DATA_USAGE + '\n'); return 0; }
  const format = oneOf('--format', flags['--format'], ['text', 'json', 'sarif'] as const, 'text');
  const failOn = oneOf('--fail-on', flags['--fail-on'], ['error', 'warning', 'information', 'hint'] as const, 'warning');
  if (!positionals.length) throw new UsageError('give at least one dataset file or folder');
  const refs = (flags['--reference'] as string[] | undefined) ?? [];
  for (const p of [...positionals, ...refs]) if (!existsSync(p)) throw new UsageError(`${p}: no such file or folder`);
  let sample: number | undefined;
  if (flags['--sample'] !== undefined) {
    sample = Number(flags['--sample']);
    if (!Number.isInteger(sample) || sample < 1) throw new UsageError('--sample must be a positive integer');
  }
  const out = flags['--output'];
  if (typeof out === 'string' && [...positionals, ...refs].some((p) => path.resolve(p) === path.resolve(out))) throw new UsageError(`--output ${out} would overwrite an input file`);

  const first = path.resolve(positionals[0]);
  const root = statSync(first).isDirectory() ? first : path.dirname(first);
  const project = readProjectConfig(findProjectRoot(root), diskFileAccess());
  const refused = project && refusedKeysMessage(project);
  if (refused) io.stderr(`modelvet: ${refused}\n`);
  const config = mergeConfig(defaultConfig(), project?.table, { allowRestricted: false });
  const fromProject = datasetSettingsFrom((project?.table as Record<string, unknown> | undefined)?.datasets);
  const settings: DatasetSettings & { sample?: number } = {
    ...fromProject,
    ...(flags['--text-column'] ? { textColumns: (flags['--text-column'] as string[]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean) } : {}),
    ...(typeof flags['--label-column'] === 'string' ? { labelColumn: flags['--label-column'] } : {}),
    ...(typeof flags['--id-column'] === 'string' ? { idColumn: flags['--id-column'] } : {}),
    ...(typeof flags['--messages-column'] === 'string' ? { messagesColumn: flags['--messages-column'] } : {}),
  };
  if (sample !== undefined) settings.sample = sample;

  const progress = io.isTTY && format === 'text' && !out ? makeProgress(io) : undefined;
  const result = await auditPaths({ paths: positionals, reference: refs }, { ...settings, onProgress: progress });
  if (progress) io.stderr('\r\x1b[K');

  const split = (xs?: string[]) => (xs ?? []).flatMap((x) => x.split(',')).map((x) => x.trim().toUpperCase()).filter(Boolean);
  const sel = split(flags['--select'] as string[] | undefined), ign = split(flags['--ignore'] as string[] | undefined);
  const findings: Finding[] = [];
  for (const f of result.findings) {
    if (sel.length && !sel.some((s) => f.code.startsWith(s))) continue;
    if (ign.some((s) => f.code.startsWith(s))) continue;
    const sev = config.rules[f.code] ? effectiveSeverity(config, f.code, f.severity) : f.severity;
    if (!sev) continue;
    findings.push(sev === f.severity ? f : { ...f, severity: sev });
  }
  findings.sort(compareFindings);
  const text = format === 'json' ? JSON.stringify({ version: 1, findings: findings.map((f) => ({ path: rel(f.path), range: f.range, code: f.code, severity: f.severity, message: f.message, ...(f.detail ? { detail: f.detail } : {}), ...(f.data && Object.keys(f.data).length ? { data: f.data } : {}) })), report: relReport(result.report) }, null, 2) + '\n'
    : format === 'sarif' ? JSON.stringify(findingsToSarif(findings, process.cwd()), null, 2) + '\n'
    : renderText(findings, result.report);
  if (typeof out === 'string') writeFileSync(out, text); else io.stdout(text);
  const incomplete = result.report.sources.some((s) => s.incomplete.some((r) => !r.startsWith('sampled')));
  if (incomplete && !flags['--allow-incomplete']) return 1;
  return findings.some((f) => SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[failOn as Severity]) ? 1 : 0;
}

function findProjectRoot(start: string): string {
  let d = start;
  for (let i = 0; i < 20; i++) {
    if (existsSync(path.join(d, 'pyproject.toml'))) return d;
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return start;
}

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

function relReport(r: AuditReport): AuditReport {
  return { ...r, sources: r.sources.map((s) => ({ ...s, path: rel(s.path) })), drift: r.drift.map((d) => ({ ...d, source: rel(d.source), reference: rel(d.reference) })) };
}

export function renderText(findings: Finding[], report: AuditReport): string {
  const lines = findings.map((f) => `${rel(f.path)}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${f.code} [${f.severity}] ${f.message}`);
  lines.push('');
  for (const s of report.sources) {
    const labels = Object.entries(s.labels);
    const roles = [s.roles.text.length ? `text=${s.roles.text.join('+')}` : '', s.roles.label ? `label=${s.roles.label}` : '', s.roles.messages ? `messages=${s.roles.messages}` : '', s.roles.response.length ? `response=${s.roles.response.join('+')}` : ''].filter(Boolean).join(' ');
    lines.push(`${s.reference ? 'ref ' : ''}${rel(s.path)}${s.split ? ` [${s.split}]` : ''}: ${s.rows} rows, ${s.format}${roles ? `, ${roles}` : ''}${labels.length ? `, labels ${labels.slice(0, 6).map(([k, v]) => `${k}:${v}`).join(' ')}${labels.length > 6 ? ' …' : ''}` : ''}${s.sha256 ? `, sha256 ${s.sha256.slice(0, 16)}…` : ''}`);
    for (const r of s.incomplete) lines.push(`    ${r.startsWith('sampled') ? '' : 'INCOMPLETE: '}${r}`);
  }
  const flagged = report.triggers.filter((t) => t.flagged);
  if (flagged.length) lines.push(`trigger candidates: ${flagged.map((t) => `"${t.token}"→${t.label} (purity ${t.purity.toFixed(2)}, ${t.carriers} rows)`).join(', ')}`);
  const clean = report.triggers.filter((t) => t.cleanLabel?.flagged);
  if (clean.length) lines.push(`clean-label trigger candidates: ${clean.map((t) => `"${t.token}"→${t.label} (${(t.cleanLabel!.share * 100).toFixed(1)}% of its label's rows in ${t.cleanLabel!.group} vs ${(t.cleanLabel!.comparisonShare * 100).toFixed(2)}% elsewhere)`).join(', ')}`);
  const counts = new Map<Severity, number>();
  for (const f of findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const n = report.sources.length;
  lines.push(findings.length
    ? `Found ${findings.length} problem${findings.length === 1 ? '' : 's'} (${(['error', 'warning', 'information', 'hint'] as Severity[]).filter((s) => counts.get(s)).map((s) => `${counts.get(s)} ${s}`).join(', ')}) in ${report.summary.rows} rows of ${n} file${n === 1 ? '' : 's'} (${report.summary.seconds.toFixed(1)}s).`
    : `No problems found in ${report.summary.rows} rows of ${n} file${n === 1 ? '' : 's'} (${report.summary.seconds.toFixed(1)}s).`);
  return lines.join('\n') + '\n';
}

function makeProgress(io: CliIO): (done: number, total: number, current: string) => void {
  let last = 0;
  return (done, total, current) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    const width = 24;
    const filled = total ? Math.min(width, Math.round((done / total) * width)) : 0;
    const name = current.length > 40 ? '…' + current.slice(-39) : current;
    io.stderr(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done / 1048576).toFixed(0)}/${(total / 1048576).toFixed(0)} MB ${name}`);
  };
}
