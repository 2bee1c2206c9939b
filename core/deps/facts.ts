/** ProjectFacts: lockfile pins, installed versions (dist-info METADATA) and declared version floors. */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import type { FileAccess, ProjectFacts } from '../analysis';
import { fileKind, IGNORED_DIRS } from '../fileKinds';
import { compareVersions, isValidVersion, lowerBound, normalizeName } from './pep440';
import { parseLockfile, parseTomlTree, poetryToPep440 } from './toml';
import { logicalLines, parseRequirementsLine } from './requirements';
import { LineIndex } from '../text';
import { MAX_LINE_LENGTH, checkSizeAndBinary } from './limits';
import { defaultCacheDirs, homeDir, LocalClones, normalizeGitUrl, PackageCaches, Wheelhouse, type CacheDirs } from './localSources';
import type { LockedHashes, LockedVcs } from './toml';
import { readInstalledLicenses, type InstalledDistribution } from '../licenses/installed';

/** Directory entries visited while looking for manifests before the walk stops. */
export const FACTS_MAX_ENTRIES = 50_000;
/** Folder depth of the manifest walk. */
export const FACTS_MAX_DEPTH = 12;
/** dist-info folders read per environment. */
export const MAX_DIST_INFOS = 5_000;
/** Bytes of METADATA read (Name and Version are in the first header lines). */
const METADATA_HEAD_BYTES = 4096;

export interface ManifestFiles { lockfiles: string[]; manifests: string[]; truncated: boolean }

export function findManifests(root: string): ManifestFiles {
  const out: ManifestFiles = { lockfiles: [], manifests: [], truncated: false };
  let visited = 0;
  const stack: Array<[string, number]> = [[root, 0]];
  while (stack.length) {
    const [dir, depth] = stack.pop()!;
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { continue; }
    for (const e of entries) {
      if (++visited > FACTS_MAX_ENTRIES) { out.truncated = true; return out; }
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (!IGNORED_DIRS.has(e.name) && depth < FACTS_MAX_DEPTH) stack.push([p, depth + 1]); continue; }
      if (!e.isFile()) continue;
      const k = fileKind(p);
      if (k === 'lockfile') out.lockfiles.push(p);
      else if (k === 'requirements' || k === 'pyproject' || k === 'pipfile' || k === 'conda') out.manifests.push(p);
    }
  }
  out.lockfiles.sort();
  out.manifests.sort();
  return out;
}

/**
 * site-packages folders of the active environment ($VIRTUAL_ENV, else $CONDA_PREFIX — the user's
 * shell picked them, not the repository) and of virtual environments in the workspace.
 */
export function findSitePackages(root: string, env: Record<string, string | undefined> = process.env): string[] {
  const envs = ['.venv', 'venv', 'env', '.env'].map((d) => path.join(root, d));
  const active = env.VIRTUAL_ENV || env.CONDA_PREFIX;
  if (active) envs.unshift(path.resolve(active));
  const out: string[] = [];
  for (const env of envs) {
    out.push(path.join(env, 'Lib', 'site-packages'));
    try {
      for (const d of readdirSync(path.join(env, 'lib'))) if (/^python\d/.test(d)) out.push(path.join(env, 'lib', d, 'site-packages'));
    } catch { /* not a posix venv */ }
  }
  return out;
}

function readHead(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(METADATA_HEAD_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, n);
  } catch { return undefined; } finally { if (fd !== undefined) closeSync(fd); }
}

/** Installed distributions: name → version from each `*.dist-info/METADATA` (never runs Python). */
export function readInstalledVersions(sitePackages: string[], from?: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const sp of sitePackages) {
    let entries: string[];
    try { entries = readdirSync(sp); } catch { continue; }
    let n = 0;
    for (const d of entries) {
      if (!d.endsWith('.dist-info') || ++n > MAX_DIST_INFOS) continue;
      const head = readHead(path.join(sp, d, 'METADATA'));
      const name = head && /^Name:\s*(\S+)\s*$/m.exec(head)?.[1];
      const version = head && /^Version:\s*(\S+)\s*$/m.exec(head)?.[1];
      if (name && version && isValidVersion(version) && !out.has(normalizeName(name))) {
        out.set(normalizeName(name), version);
        from?.set(normalizeName(name), sp);
      }
    }
  }
  return out;
}

function addFloor(floors: Map<string, string>, name: string, spec: string): void {
  const lb = lowerBound(spec);
  if (!lb) return;
  const key = normalizeName(name);
  const cur = floors.get(key);
  if (!cur || compareVersions(lb, cur) < 0) floors.set(key, lb);
}

/** Lowest declared lower bound per package across manifests (requirements, pyproject, Pipfile). */
export function declaredFloors(files: string[], fs: FileAccess): Map<string, string> {
  const floors = new Map<string, string>();
  for (const f of files) {
    const text = fs.readText(f);
    if (text === undefined || checkSizeAndBinary(text)) continue;
    const kind = fileKind(f);
    if (kind === 'requirements') {
      for (const ll of logicalLines(text, new LineIndex(text))) {
        if (ll.text.length > MAX_LINE_LENGTH) continue;
        const p = parseRequirementsLine(ll.text);
        if (p.req?.specifier) addFloor(floors, p.req.name, p.req.specifier);
      }
    } else if (kind === 'pyproject' || kind === 'pipfile') {
      const t = parseTomlTree(text);
      if ('error' in t) continue;
      collectTomlFloors(t.root, floors, kind);
    }
  }
  return floors;
}

function collectTomlFloors(root: any, floors: Map<string, string>, kind: 'pyproject' | 'pipfile'): void {
  const get = (n: any, ...ks: string[]) => ks.reduce((c, k) => (c?.kind === 'table' ? c.entries.get(k) : undefined), n);
  const strings = (arr: any): string[] => (arr?.kind === 'array' ? arr.items.filter((i: any) => i.kind === 'value' && typeof i.value === 'string').map((i: any) => i.value) : []);
  const reqs: string[] = [...strings(get(root, 'project', 'dependencies'))];
  const opt = get(root, 'project', 'optional-dependencies');
  if (opt?.kind === 'table') for (const v of opt.entries.values()) reqs.push(...strings(v));
  for (const r of reqs) {
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;@]*)/.exec(r);
    if (m) addFloor(floors, m[1], m[2].replace(/[\s()]/g, ''));
  }
  const tables = kind === 'pipfile' ? [get(root, 'packages'), get(root, 'dev-packages')] : [get(root, 'tool', 'poetry', 'dependencies')];
  for (const t of tables) {
    if (t?.kind !== 'table') continue;
    for (const [name, v] of t.entries) {
      const raw = v.kind === 'value' ? v.value : get(v, 'version')?.value;
      if (typeof raw !== 'string') continue;
      const spec = kind === 'pipfile' ? raw.replace(/\s+/g, '') : poetryToPep440(raw);
      if (spec) addFloor(floors, name, spec);
    }
  }
}

/** Where buildFacts looks outside the workspace (tests pin these; the default is the real environment). */
export interface FactsOptions { env?: Record<string, string | undefined>; cacheDirs?: CacheDirs }

export function buildFacts(root: string, fs: FileAccess, opts: FactsOptions = {}): ProjectFacts {
  const env = opts.env ?? process.env;
  const found = findManifests(root);
  const lockedVersions = new Map<string, string>();
  const lockedHashes = new Map<string, LockedHashes & { file: string }>();
  const lockedVcs: Array<LockedVcs & { file: string }> = [];
  for (const lf of found.lockfiles) {
    const text = fs.readText(lf);
    if (text === undefined) continue;
    const r = parseLockfile(lf, text);
    if (!('versions' in r)) continue;
    for (const [k, v] of r.versions) if (!lockedVersions.has(k)) lockedVersions.set(k, v);
    for (const [k, v] of r.hashes) if (!lockedHashes.has(k)) lockedHashes.set(k, { ...v, file: lf });
    for (const v of r.vcs) lockedVcs.push({ ...v, file: lf });
  }
  const sitePackages = findSitePackages(root, env);
  const installedFrom = new Map<string, string>();
  const installedVersions = readInstalledVersions(sitePackages, installedFrom);
  let licenses: Map<string, InstalledDistribution> | undefined;
  const rel = (f: string) => path.relative(root, f) || path.basename(f);
  const wheelhouse = new Wheelhouse(root);
  const caches = new PackageCaches(opts.cacheDirs ?? defaultCacheDirs(env, homeDir()));
  const clones = new LocalClones(root, env);
  let floors: Map<string, string> | undefined;
  return {
    lockedVersions,
    installedVersions,
    knownHashes(name, version) {
      const key = normalizeName(name);
      const locked = lockedHashes.get(key);
      if (locked && locked.version === version) return { hashes: locked.hashes, source: rel(locked.file) };
      try { return wheelhouse.hashes(key, version); } catch { return undefined; }
    },
    installedSource(name) {
      const sp = installedFrom.get(normalizeName(name));
      if (!sp) return undefined;
      const envDir = sp.replace(/[\\/](lib[\\/]python[^\\/]*|Lib)[\\/]site-packages$/, '');
      const inside = path.relative(root, envDir);
      return inside && !inside.startsWith('..') && !path.isAbsolute(inside) ? `the environment ${inside}` : `the active environment ${envDir}`;
    },
    installedLicense(name) {
      // Read on first use (only the LIC rules ask): headers of every METADATA in the environment.
      licenses ??= new Map(readInstalledLicenses(sitePackages).distributions.map((d) => [d.norm, d]));
      const d = licenses.get(normalizeName(name));
      return d ? { version: d.version, license: d.license, file: d.file } : undefined;
    },
    cachedVersions(name) {
      try { return caches.cachedVersions(normalizeName(name)); } catch { return undefined; }
    },
    vcsCommit(url, ref) {
      const key = normalizeGitUrl(url);
      const hit = lockedVcs.find((v) => normalizeGitUrl(v.url) === key && (v.ref === ref || (ref === undefined && v.ref === undefined)));
      if (hit) return { commit: hit.commit, source: rel(hit.file) };
      try { return clones.commit(url, ref); } catch { return undefined; }
    },
    versionFloor(name: string) {
      floors ??= declaredFloors(found.manifests, fs);
      const key = normalizeName(name);
      const declared = floors.get(key);
      const locked = lockedVersions.get(key);
      if (declared && locked) return compareVersions(declared, locked) <= 0 ? declared : locked;
      return declared ?? locked;
    },
  };
}
