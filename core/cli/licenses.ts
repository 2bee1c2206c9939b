/** `modelvet licenses [PATH]`: the license table of a project (dependencies, models, datasets) and the LIC findings. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { defaultConfig, mergeConfig } from '../config';
import { readProjectConfig, refusedKeysMessage } from '../projectConfig';
import { diskFileAccess } from '../workspace';
import { buildLicenseTable, projectIsLibrary, resolveEnvPath, type LicenseRow } from '../licenses/table';
import os from 'node:os';
import { applyIndexLicenses, licenseFindings } from '../licenses/rules';
import { createOnlineLookup } from '../licenses/online';
import { resolveIndexUrl } from '../deps/indexClient';
import { compareFindings, SEVERITY_ORDER, type Finding, type Severity } from '../types';
import { oneOf, parseArgs, UsageError, type CliIO } from './args';
import { SigningError } from '../signing/errors';
import { writeFileAtomic } from '../signing/sign';

export const LICENSES_USAGE = `usage: modelvet licenses [PATH] [options]

Print the license of every dependency (installed site-packages METADATA: License-Expression, trove
classifiers, License; lockfiles), model (model-card front matter) and dataset of a project (default
PATH: .), normalized to SPDX where possible, with where each fact came from, and check the license
policy ([tool.modelvet] licenses = { allow = [...], deny = [...] }). Offline unless --online.

options:
  --env PATH                  site-packages folder or virtual environment (repeatable; default: the
                              project's .venv / venv)
  --format text|json|csv      output format (default: text)
  --allow ID / --deny ID      add to the policy's allow / deny list (repeatable; SPDX ids or Hub ids)
  --fail-on error|warning|information
                              lowest finding severity that makes the exit code 1 (default: error)
  --online                    also ask the package index (PEP 691 JSON + PEP 658/714 METADATA files):
                              licenses unknown locally, and LIC005 when the newest release changed license
  --index-url URL             the index for --online (default: PIP_INDEX_URL, else pip.conf)
  --cache-dir DIR             cache for --online answers (default: $XDG_CACHE_HOME/modelvet or ~/.cache/modelvet)
  -o, --output FILE           write the report to FILE (an existing FILE needs --force)
  -f, --force                 replace an existing FILE

exit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage or I/O error`;

export async function runLicensesCommand(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    '--env': 'multi', '--format': 'string', '--allow': 'multi', '--deny': 'multi', '--fail-on': 'string',
    '--output': 'string', '--force': 'bool', '--help': 'bool', '--online': 'bool', '--index-url': 'string', '--cache-dir': 'string',
  }, { '-o': '--output', '-f': '--force', '-h': '--help' });
  if (flags['--help']) { io.stdout(LICENSES_USAGE + '\n'); return 0; }
  if ((flags['--index-url'] || flags['--cache-dir']) && !flags['--online']) throw new UsageError('--index-url and --cache-dir need --online');
  if (positionals.length > 1) throw new UsageError('one PATH is expected');
  const format = oneOf('--format', flags['--format'], ['text', 'json', 'csv'] as const, 'text');
  const failOn = oneOf('--fail-on', flags['--fail-on'], ['error', 'warning', 'information'] as const, 'error');
  const root = path.resolve(positionals[0] ?? '.');
  let isDir = false;
  try { isDir = statSync(root).isDirectory(); } catch { throw new UsageError(`${positionals[0]}: no such folder`); }
  if (!isDir) throw new UsageError(`${positionals[0]} is not a folder`);
  const envs = (flags['--env'] as string[] | undefined) ?? [];
  const sitePackages = envs.length ? envs.flatMap((e) => {
    if (!existsSync(e)) throw new UsageError(`--env ${e}: no such folder`);
    const sp = resolveEnvPath(e);
    if (!sp.length) throw new UsageError(`--env ${e}: no site-packages folder found (pass a virtual environment or its site-packages)`);
    return sp;
  }) : undefined;
  const output = typeof flags['--output'] === 'string' ? flags['--output'] : undefined;
  if (output && existsSync(output) && !flags['--force']) throw new UsageError(`${output} already exists (pass --force to replace it)`);

  const project = readProjectConfig(root, diskFileAccess());
  const refused = project && refusedKeysMessage(project);
  if (refused) io.stderr(`modelvet: ${refused}\n`);
  const config = mergeConfig(defaultConfig(), project?.table, { allowRestricted: false });
  const policy = {
    allow: [...config.licenses.allow, ...((flags['--allow'] as string[] | undefined) ?? [])],
    deny: [...config.licenses.deny, ...((flags['--deny'] as string[] | undefined) ?? [])],
  };
  const table = buildLicenseTable(root, { sitePackages });
  for (const e of table.errors) io.stderr(`modelvet licenses: ${e}\n`);
  if (table.truncated) io.stderr('modelvet licenses: a limit was reached; the table is incomplete\n');
  if (!table.sitePackages.length && !envs.length) io.stderr('modelvet licenses: no virtual environment found in the project (pass --env PATH for installed licenses)\n');
  const online: Finding[] = [];
  if (flags['--online']) {
    // The user asked for the network on the command line; the index comes from the flag or their own pip configuration.
    const indexUrl = typeof flags['--index-url'] === 'string' ? flags['--index-url'] : resolveIndexUrl(defaultConfig(), process.env, os.homedir());
    if (!indexUrl || !/^https?:\/\//i.test(indexUrl)) throw new UsageError('--online needs a package index: pass --index-url URL or set PIP_INDEX_URL (or index-url in pip.conf)');
    const cacheDir = typeof flags['--cache-dir'] === 'string' ? flags['--cache-dir'] : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'modelvet', 'index-licenses');
    const lookup = createOnlineLookup({ indexUrl, cacheDir, log: (m) => io.stderr(`modelvet licenses: ${m}\n`) });
    const r = await applyIndexLicenses(table.rows, lookup);
    if (r.skipped) io.stderr(`modelvet licenses: ${r.skipped} packages were not looked up (limit ${r.looked})\n`);
    online.push(...r.findings);
  }
  const findings = [...licenseFindings(table.rows, { policy, projectKind: config.projectKind, isLibrary: projectIsLibrary(root, config.projectKind) }), ...online].sort(compareFindings);
  // Per-rule settings ([tool.modelvet] rules = { LIC002 = "off" }) apply as in `check`.
  const shown = findings.filter((f) => config.rules[f.code] !== 'off').map((f) => {
    const s = config.rules[f.code];
    return s && s !== 'off' ? { ...f, severity: s } : f;
  });

  const out = render(format, table.rows, shown, table.sitePackages);
  if (output) {
    // Atomic like `modelvet bom -o`: a failed write never leaves a half-written report in place of the old one.
    try { writeFileAtomic(path.resolve(output), out, { force: flags['--force'] === true }); } catch (e) {
      if (e instanceof SigningError) throw new UsageError(e.message);
      throw new UsageError(`cannot write ${output}: ${(e as Error).message}`);
    }
  } else io.stdout(out);
  return shown.some((f) => SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[failOn as Severity]) ? 1 : 0;
}

function rel(p: string | undefined): string {
  if (!p) return '';
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

function csvCell(s: string): string { return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; }

export function render(format: 'text' | 'json' | 'csv', rows: LicenseRow[], findings: Finding[], sitePackages: string[]): string {
  if (format === 'json') {
    return JSON.stringify({
      version: 1,
      sitePackages,
      packages: rows.map((r) => ({
        kind: r.kind, name: r.name, version: r.version ?? null, license: r.license.display, spdx: r.license.spdx ?? null,
        hubLicense: r.license.hub ?? null, normalization: r.license.how, category: r.license.category, declared: r.license.raw,
        source: r.source, file: rel(r.file),
      })),
      findings: findings.map((f) => ({ path: rel(f.path), range: f.range, code: f.code, severity: f.severity, message: f.message })),
    }, null, 2) + '\n';
  }
  if (format === 'csv') {
    const head = ['kind', 'name', 'version', 'license', 'spdx', 'category', 'declared', 'source', 'file'];
    const lines = rows.map((r) => [r.kind, r.name, r.version ?? '', r.license.display, r.license.spdx ?? '', r.license.category, r.license.raw, r.source, rel(r.file)].map(csvCell).join(','));
    return [head.join(','), ...lines].join('\r\n') + '\r\n';
  }
  const cols = rows.map((r) => [r.kind, r.name, r.version ?? '', r.license.display, r.license.category, r.source]);
  const head = ['kind', 'name', 'version', 'license', 'category', 'source'];
  const w = head.map((h, i) => Math.min(60, Math.max(h.length, ...cols.map((c) => c[i].length))));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.slice(0, w[i]).padEnd(w[i]))).join('  ').trimEnd();
  const text = [line(head), ...cols.map(line)];
  if (findings.length) {
    text.push('');
    for (const f of findings) text.push(`${rel(f.path)}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${f.code} [${f.severity}] ${f.message}`);
  }
  const kinds = (k: LicenseRow['kind']) => rows.filter((r) => r.kind === k).length;
  text.push('', `${kinds('library')} dependencies, ${kinds('model')} models, ${kinds('dataset')} datasets; ${findings.length} license finding${findings.length === 1 ? '' : 's'}.`);
  return text.join('\n') + '\n';
}
