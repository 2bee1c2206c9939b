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
import { hashProblem, logicalLines, parseRequirementsLine } from '../deps/requirements';
import { poetryToPep440 } from '../deps/toml';
import { parseDocument } from 'yaml';
import { MAX_YAML_ALIASES } from '../cards/frontmatter';
import { MAX_HASHES_PER_PACKAGE } from './lockfiles';
import { checkSizeAndBinary, MAX_LINE_LENGTH } from '../deps/limits';
import { fileKind } from '../fileKinds';
import { LineIndex } from '../text';
import { findModelFolders } from '../cards/find';
import { readModelFacts, type ReadText } from '../cards/model';
import { parseCard, stringList } from '../cards/frontmatter';
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
      const had = byName.get(d.norm);
      if (had) {
        // Installed or locked already; `--hash` pins of the same version still name its artifacts.
        if (!had.hashes?.length && d.hashes.length && had.version === d.version) had.hashes = d.hashes;
        continue;
      }
      const r: LicenseRow = { kind: 'library', name: d.name, version: d.version, license: normalizeLicense(''), source: 'manifest', file: d.file, hashes: d.hashes.length ? d.hashes : undefined };
      byName.set(d.norm, r);
      rows.push(r);
    }
  }

  let truncated = installed.truncated;
  if (opts.models !== false && isDir) {
    const found = findModelFolders(root, read);
    truncated ||= found.truncated;
    const datasets = new Map<string, LicenseRow>();
    const datasetModel = new Map<string, string>();
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
        if (!datasets.has(ds)) { datasets.set(ds, { kind: 'dataset', name: ds, license: normalizeLicense(''), source: 'none', file: f.cardFile }); datasetModel.set(ds, dir); }
      }
    }
    for (const r of datasets.values()) {
      const found = localDatasetLicense(root, r.name, read, datasetModel.get(r.name));
      if (found) { r.license = found.license; r.source = 'card'; r.file = found.file; }
    }
    rows.push(...datasets.values());
  }
  const order = { library: 0, model: 1, dataset: 2 };
  rows.sort((a, b) => order[a.kind] - order[b.kind] || (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0));
  return { rows, sitePackages, truncated, errors, locked };
}

/** A PEP 508 string from pyproject / conda `pip:` lists → name and specifier (no direct URL references). */
function pep508NameSpec(d: unknown): { name: string; spec: string } | undefined {
  if (typeof d !== 'string' || d.includes('@') || d.length > MAX_LINE_LENGTH) return undefined;
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;]*)/.exec(d);
  return m ? { name: m[1], spec: m[2].replace(/[\s()]/g, '') } : undefined;
}

/** Pipfile / Poetry values: `"==1.2"`, `"*"`, `"^1.2"`, `{ version = "…", extras = […] }`. */
function tableSpec(v: unknown, poetry: boolean): string | undefined {
  const raw = typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as any).version === 'string' ? (v as any).version : undefined;
  if (raw === undefined) return v && typeof v === 'object' && ((v as any).git || (v as any).path || (v as any).url || (v as any).file) ? undefined : '';
  if (raw.trim() === '*') return '';
  return poetry ? poetryToPep440(raw) ?? '' : raw.trim();
}

export interface DeclaredDependency { name: string; norm: string; version?: string; file: string; hashes: string[] }

/**
 * Names, `==` pins and `--hash` digests declared in requirements files, pyproject.toml
 * (`[project]` dependencies and optional dependencies, PEP 735 `[dependency-groups]`, Poetry
 * dependencies and groups), Pipfile (`[packages]`, `[dev-packages]`) and the `pip:` list of conda
 * environment files (conda's own packages are another namespace and not PyPI libraries). A name
 * declared in several files keeps the first pin found.
 */
export function declaredDependencies(files: string[], read: ReadText): DeclaredDependency[] {
  const out: DeclaredDependency[] = [];
  const byNorm = new Map<string, DeclaredDependency>();
  const add = (name: string, spec: string, file: string, hashes: string[] = []) => {
    const norm = normalizeName(name);
    const version = pinnedVersion(spec);
    const had = byNorm.get(norm);
    if (had) {
      // Another declaration of the same name: a pin (and its hashes) fills what the first one lacked.
      if (!had.version && version) { had.version = version; had.file = file; had.hashes = hashes; }
      else if (had.version === version && !had.hashes.length && hashes.length) had.hashes = hashes;
      return;
    }
    if (out.length >= MAX_DECLARED) return;
    const d: DeclaredDependency = { name, norm, version, file, hashes };
    byNorm.set(norm, d);
    out.push(d);
  };
  for (const f of files) {
    const kind = fileKind(f);
    const text = kind === 'requirements' || kind === 'pyproject' || kind === 'pipfile' || kind === 'conda' ? read(f) : undefined;
    if (text === undefined || checkSizeAndBinary(text)) continue;
    if (kind === 'requirements') {
      for (const ll of logicalLines(text, new LineIndex(text))) {
        if (ll.text.length > MAX_LINE_LENGTH) continue;
        const p = parseRequirementsLine(ll.text);
        if (!p.req || p.direct) continue;
        const hashes: string[] = [];
        for (const h of p.hashes) {
          const v = ll.text.slice(h.start, h.end);
          const m = /^sha256:([0-9a-f]{64})$/i.exec(v);
          if (m && !hashProblem(v) && hashes.length < MAX_HASHES_PER_PACKAGE) hashes.push(m[1].toLowerCase());
        }
        add(p.req.name, p.req.specifier ?? '', f, [...new Set(hashes)].sort());
      }
    } else if (kind === 'conda') {
      let data: any;
      try { data = parseDocument(text, { prettyErrors: false }).toJS({ maxAliasCount: MAX_YAML_ALIASES }); } catch { continue; }
      const deps = Array.isArray(data?.dependencies) ? data.dependencies : [];
      for (const item of deps.slice(0, MAX_DECLARED)) {
        const pip = item && typeof item === 'object' && Array.isArray(item.pip) ? item.pip : [];
        for (const r of pip.slice(0, MAX_DECLARED)) { const ns = pep508NameSpec(r); if (ns) add(ns.name, ns.spec, f); }
      }
    } else {
      let v: any;
      try { v = getStaticTOMLValue(parseTOML(text)); } catch { continue; }
      const lists: unknown[][] = [];
      if (kind === 'pyproject') {
        if (Array.isArray(v?.project?.dependencies)) lists.push(v.project.dependencies);
        for (const extra of Object.values(v?.project?.['optional-dependencies'] ?? {})) if (Array.isArray(extra)) lists.push(extra);
        for (const group of Object.values(v?.['dependency-groups'] ?? {})) if (Array.isArray(group)) lists.push(group);
      }
      for (const list of lists) for (const d of list.slice(0, MAX_DECLARED)) { const ns = pep508NameSpec(d); if (ns) add(ns.name, ns.spec, f); }
      const tables: Array<[unknown, boolean]> = kind === 'pipfile'
        ? [[v?.packages, false], [v?.['dev-packages'], false]]
        : [[v?.tool?.poetry?.dependencies, true], [v?.tool?.poetry?.['dev-dependencies'], true],
          ...Object.values(v?.tool?.poetry?.group ?? {}).map((g: any): [unknown, boolean] => [g?.dependencies, true])];
      for (const [t, poetry] of tables) {
        if (!t || typeof t !== 'object' || Array.isArray(t)) continue;
        for (const [name, val] of Object.entries(t as Record<string, unknown>).slice(0, MAX_DECLARED)) {
          if (name.toLowerCase() === 'python' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) continue;
          const spec = tableSpec(val, poetry);
          if (spec !== undefined) add(name, spec, f);
        }
      }
    }
  }
  return out;
}

/**
 * The dataset's card in the Hugging Face cache next to a cached model
 * (`<hub>/datasets--org--name/snapshots/<refs/main>/README.md`), when the model is a cache snapshot.
 */
export function hubCacheDatasetCard(modelDir: string, name: string, read: ReadText): string | undefined {
  const parts = path.resolve(modelDir).split(path.sep);
  const i = parts.lastIndexOf('snapshots');
  if (i < 1 || i !== parts.length - 2 || !/^models--/.test(parts[i - 1])) return undefined;
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(name) || name.split('/').some((s) => s === '.' || s === '..' || s.includes('--'))) return undefined;
  const repo = path.join(parts.slice(0, i - 1).join(path.sep) || path.sep, `datasets--${name.split('/').join('--')}`);
  const sha = read(path.join(repo, 'refs', 'main'))?.trim();
  return sha && /^[0-9a-f]{40}$/.test(sha) ? path.join(repo, 'snapshots', sha, 'README.md') : undefined;
}

/**
 * A dataset card and its license: in the project (`datasets/<name>/README.md`, name = the last part of
 * the Hub id), or, for a model in the Hugging Face cache, the cached dataset repository's card.
 */
export function localDatasetLicense(root: string, name: string, read: ReadText = readTextFile, modelDir?: string): { license: NormalizedLicense; file: string } | undefined {
  const files: string[] = [];
  const last = name.split('/').pop() ?? '';
  if (/^[\w.-]+$/.test(last) && last !== '.' && last !== '..') files.push(path.join(root, 'datasets', last, 'README.md'));
  const cached = modelDir ? hubCacheDatasetCard(modelDir, name, read) : undefined;
  if (cached) files.push(cached);
  for (const file of files) {
    const text = existsSync(file) ? read(file) : undefined;
    const lic = text !== undefined ? parseCard(text).data?.license : undefined;
    const raw = Array.isArray(lic) ? stringList(lic).join(' OR ') : typeof lic === 'string' ? lic.trim() : '';
    if (raw) return { license: normalizeLicense(raw), file };
  }
  return undefined;
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
