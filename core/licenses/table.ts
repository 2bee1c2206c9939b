/**
 * The license table of a project — every dependency, model and dataset with its license and where that
 * fact came from — the report `modelvet licenses` prints and the LIC rules check. Offline: installed
 * `site-packages` METADATA, lockfiles, model-card front matter.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { getStaticTOMLValue, parseTOML } from 'toml-eslint-parser';
import { findManifests, findSitePackages } from '../deps/facts';
import { normalizeName, pinnedVersion } from '../deps/pep440';
import { logicalLines, parseRequirementsLine } from '../deps/requirements';
import { checkSizeAndBinary, MAX_LINE_LENGTH } from '../deps/limits';
import { fileKind } from '../fileKinds';
import { LineIndex } from '../text';
import { findModelFolders } from '../cards/find';
import { readModelFacts, type ReadText } from '../cards/model';
import { parseCard } from '../cards/frontmatter';
import type { Range } from '../types';
import { readInstalledLicenses, type LicenseSource } from './installed';
import { parseLockedPackages, type LockedPackage } from './lockfiles';
import { normalizeLicense, type NormalizedLicense } from './spdx';

/** Text files (cards, configs, lockfiles) read for the table; larger ones are skipped. */
export const MAX_TABLE_TEXT_BYTES = 16 * 1024 * 1024;
/** Declared dependencies read from manifests. */
export const MAX_DECLARED = 10_000;

export interface LicenseRow {
  kind: 'library' | 'model' | 'dataset';
  name: string;
  version?: string;
  license: NormalizedLicense;
  source: LicenseSource;
  /** The file the fact came from (METADATA, lockfile, README.md). */
  file?: string;
  /** Where in that file (model cards: the `license` key). */
  range?: Range;
  /** Lockfile hashes (libraries). */
  hashes?: string[];
}

export interface LicenseTable { rows: LicenseRow[]; sitePackages: string[]; truncated: boolean; errors: string[]; locked: LockedPackage[] }

export const readTextFile: ReadText = (file) => {
  try { if (statSync(file).size > MAX_TABLE_TEXT_BYTES) return undefined; return readFileSync(file, 'utf8'); } catch { return undefined; }
};

/** `--env PATH`: a site-packages folder itself, or a virtual environment (its lib/pythonX.Y/site-packages). */
export function resolveEnvPath(p: string): string[] {
  const abs = path.resolve(p);
  let names: string[] = [];
  try { names = readdirSync(abs); } catch { return []; }
  if (names.some((n) => n.endsWith('.dist-info') || n.endsWith('.egg-info'))) return [abs];
  const out: string[] = [];
  if (existsSync(path.join(abs, 'Lib', 'site-packages'))) out.push(path.join(abs, 'Lib', 'site-packages'));
  try { for (const d of readdirSync(path.join(abs, 'lib')).sort()) if (/^python\d/.test(d)) out.push(path.join(abs, 'lib', d, 'site-packages'), path.join(abs, 'lib', d, 'dist-packages')); } catch { /* not a posix venv */ }
  return out.filter((d) => existsSync(d));
}

export interface TableOptions {
  /** site-packages folders; default: the project's virtual environments (.venv, venv, $VIRTUAL_ENV inside the project). */
  sitePackages?: string[];
  /** Include model folders (default true). */
  models?: boolean;
  read?: ReadText;
}

export function buildLicenseTable(root: string, opts: TableOptions = {}): LicenseTable {
  const read = opts.read ?? readTextFile;
  const sitePackages = opts.sitePackages ?? findSitePackages(root).filter((d) => existsSync(d));
  const installed = readInstalledLicenses(sitePackages);
  const errors = [...installed.errors];
  const rows: LicenseRow[] = installed.distributions.map((d) => ({ kind: 'library', name: d.name, version: d.version, license: d.license, source: d.source, file: d.file }));
  const byName = new Map(rows.map((r, i) => [installed.distributions[i].norm, r]));

  const locked: LockedPackage[] = [];
  const isDir = (() => { try { return statSync(root).isDirectory(); } catch { return false; } })();
  if (isDir) {
    for (const lf of findManifests(root).lockfiles) {
      const text = read(lf);
      if (text === undefined) continue;
      const r = parseLockedPackages(lf, text);
      if ('error' in r) { errors.push(`${lf}: ${r.error}`); continue; }
      locked.push(...r.packages);
    }
  }
  for (const p of locked) {
    const row = byName.get(p.norm);
    if (row) { if (!row.hashes && p.hashes.length) row.hashes = p.hashes; continue; }
    const r: LicenseRow = { kind: 'library', name: p.name, version: p.version, license: normalizeLicense(''), source: 'lockfile', file: p.file, hashes: p.hashes };
    byName.set(p.norm, r);
    rows.push(r);
  }

  // Declared but neither installed nor locked: requirements files and [project].dependencies (pinned version when `==`).
  if (isDir) {
    for (const d of declaredDependencies(findManifests(root).manifests, read)) {
      if (byName.has(d.norm)) continue;
      const r: LicenseRow = { kind: 'library', name: d.name, version: d.version, license: normalizeLicense(''), source: 'manifest', file: d.file };
      byName.set(d.norm, r);
      rows.push(r);
    }
  }

  let truncated = installed.truncated;
  if (opts.models !== false && isDir) {
    const found = findModelFolders(root, read);
    truncated ||= found.truncated;
    const datasets = new Map<string, LicenseRow>();
    for (const dir of found.folders) {
      const f = readModelFacts(dir, read);
      const name = f.hub ? [f.hub.org, f.hub.name].filter(Boolean).join('/') : path.relative(root, dir) || path.basename(dir);
      const keyRange = f.card?.keys.get('license');
      rows.push({
        kind: 'model', name, version: f.hub?.sha,
        license: f.license ?? normalizeLicense(''),
        source: f.license ? 'card' : 'none',
        file: f.cardFile ?? dir,
        range: keyRange ? { start: keyRange.key.start, end: keyRange.value?.end ?? keyRange.key.end } : undefined,
      });
      for (const ds of f.datasets) {
        if (!datasets.has(ds)) datasets.set(ds, { kind: 'dataset', name: ds, license: normalizeLicense(''), source: 'none', file: f.cardFile });
      }
    }
    for (const r of datasets.values()) {
      const found = localDatasetLicense(root, r.name, read);
      if (found) { r.license = found.license; r.source = 'card'; r.file = found.file; }
    }
    rows.push(...datasets.values());
  }
  const order = { library: 0, model: 1, dataset: 2 };
  rows.sort((a, b) => order[a.kind] - order[b.kind] || (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0));
  return { rows, sitePackages, truncated, errors, locked };
}

/** Names (and `==` pins) declared in requirements files and pyproject.toml `[project].dependencies`. */
export function declaredDependencies(files: string[], read: ReadText): Array<{ name: string; norm: string; version?: string; file: string }> {
  const out: Array<{ name: string; norm: string; version?: string; file: string }> = [];
  const seen = new Set<string>();
  const add = (name: string, spec: string, file: string) => {
    const norm = normalizeName(name);
    if (seen.has(norm) || out.length >= MAX_DECLARED) return;
    seen.add(norm);
    out.push({ name, norm, version: pinnedVersion(spec), file });
  };
  for (const f of files) {
    const kind = fileKind(f);
    const text = kind === 'requirements' || kind === 'pyproject' ? read(f) : undefined;
    if (text === undefined || checkSizeAndBinary(text)) continue;
    if (kind === 'requirements') {
      for (const ll of logicalLines(text, new LineIndex(text))) {
        if (ll.text.length > MAX_LINE_LENGTH) continue;
        const p = parseRequirementsLine(ll.text);
        if (p.req && !p.direct) add(p.req.name, p.req.specifier ?? '', f);
      }
    } else {
      let v: any;
      try { v = getStaticTOMLValue(parseTOML(text)); } catch { continue; }
      const deps = Array.isArray(v?.project?.dependencies) ? v.project.dependencies : [];
      for (const d of deps) {
        const m = typeof d === 'string' ? /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;@]*)/.exec(d) : null;
        if (m && !d.includes('@')) add(m[1], m[2].replace(/[\s()]/g, ''), f);
      }
    }
  }
  return out;
}

/** A dataset card in the project (`datasets/<name>/README.md`, name = the last part of the Hub id) and its license. */
export function localDatasetLicense(root: string, name: string, read: ReadText = readTextFile): { license: NormalizedLicense; file: string } | undefined {
  const last = name.split('/').pop() ?? '';
  if (!/^[\w.-]+$/.test(last) || last === '.' || last === '..') return undefined;
  const file = path.join(root, 'datasets', last, 'README.md');
  const text = existsSync(file) ? read(file) : undefined;
  const lic = text !== undefined ? parseCard(text).data?.license : undefined;
  return typeof lic === 'string' && lic.trim() ? { license: normalizeLicense(lic), file } : undefined;
}

/** Is the project at `root` a library (for LIC004)? Explicit kind wins; auto: `[build-system]` + `[project].name`. */
export function projectIsLibrary(root: string, kind: 'auto' | 'library' | 'application', read: ReadText = readTextFile): boolean {
  if (kind !== 'auto') return kind === 'library';
  const text = read(path.join(root, 'pyproject.toml'));
  if (!text) return false;
  try {
    const v: any = getStaticTOMLValue(parseTOML(text));
    if (v?.tool?.poetry?.['package-mode'] === false) return false;
    return !!v?.['build-system'] && (typeof v?.project?.name === 'string' || typeof v?.tool?.poetry?.name === 'string');
  } catch { return false; }
}
