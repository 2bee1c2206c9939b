/**
 * What the machine already knows, offline, about a dependency: release-file digests in a local
 * wheelhouse, versions in the local pip / uv caches, and the commit a git ref points to in a local
 * clone. Every walk and read is capped; nothing is executed (git refs are read as files).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { compareVersions, isValidVersion, normalizeName } from './pep440';

/** Folders (relative to the workspace root) read as a local wheelhouse (`pip download -d wheels`). */
export const WHEELHOUSE_DIRS = ['wheels', 'wheelhouse', 'vendor/wheels'];
/** Archives listed per wheelhouse folder. */
export const MAX_WHEELHOUSE_FILES = 2_000;
/** Archives larger than this are not hashed (the digest would cost seconds). */
export const MAX_HASHED_ARCHIVE_BYTES = 512 * 1024 * 1024;
/** Directory entries visited per cache (pip's wheel cache is a deep hash-sharded tree). */
export const MAX_CACHE_ENTRIES = 50_000;
/** Depth of the pip wheel-cache walk (wheels/ab/cd/ef/<rest>/file.whl). */
const MAX_CACHE_DEPTH = 8;
/** Folders checked for a local clone of a git dependency. */
export const MAX_CLONE_CANDIDATES = 500;
/** Bytes read from a git config / ref / packed-refs / loose tag object. */
export const MAX_GIT_FILE_BYTES = 1024 * 1024;

const FULL_SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** `name-version-…` of a wheel or sdist file name (names normalized, versions validated). */
export function archiveNameVersion(file: string): { norm: string; version: string } | undefined {
  const whl = /^([A-Za-z0-9][A-Za-z0-9._]*?)-([^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/i.exec(file);
  const sdist = whl ? undefined : /^([A-Za-z0-9][A-Za-z0-9._-]*?)-(\d[A-Za-z0-9.+!_]*)\.(?:tar\.gz|zip|tgz|tar\.bz2)$/i.exec(file);
  const m = whl ?? sdist;
  if (!m || !isValidVersion(m[2])) return undefined;
  return { norm: normalizeName(m[1]), version: m[2] };
}

function listDir(dir: string): Dirent[] {
  try { return readdirSync(dir, { withFileTypes: true }); } catch { return []; }
}

function readCapped(file: string, max = MAX_GIT_FILE_BYTES): Buffer | undefined {
  let fd: number | undefined;
  try {
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size > max) return undefined;
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  } catch { return undefined; } finally { if (fd !== undefined) closeSync(fd); }
}

function sha256File(file: string): string | undefined {
  let fd: number | undefined;
  try {
    const h = createHash('sha256');
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest('hex');
  } catch { return undefined; } finally { if (fd !== undefined) closeSync(fd); }
}

// ------------------------------------------------------------------ wheelhouse digests

interface Archive { file: string; size: number; mtimeMs: number; digest?: string }

/** Digests survive facts rebuilds (every manifest edit rebuilds them): keyed by path, size and mtime. */
const digestMemo = new Map<string, string>();
const DIGEST_MEMO_MAX = 10_000;
function memoDigest(a: Archive): string | undefined {
  const key = `${a.file}\0${a.size}\0${a.mtimeMs}`;
  let d = digestMemo.get(key);
  if (d === undefined) {
    d = sha256File(a.file);
    if (d === undefined) return undefined;
    if (digestMemo.size >= DIGEST_MEMO_MAX) digestMemo.clear();
    digestMemo.set(key, d);
  }
  return d;
}

/** Release files in the workspace's wheelhouse folders, hashed on first use (cached by size and mtime). */
export class Wheelhouse {
  private archives?: Map<string, Archive[]>;
  constructor(private readonly root: string) {}

  private index(): Map<string, Archive[]> {
    if (this.archives) return this.archives;
    const out = new Map<string, Archive[]>();
    for (const rel of WHEELHOUSE_DIRS) {
      const dir = path.join(this.root, rel);
      let n = 0;
      for (const e of listDir(dir)) {
        if (!e.isFile() || ++n > MAX_WHEELHOUSE_FILES) continue;
        const nv = archiveNameVersion(e.name);
        if (!nv) continue;
        const file = path.join(dir, e.name);
        const st = statSync(file, { throwIfNoEntry: false });
        if (!st) continue;
        const key = `${nv.norm}==${nv.version}`;
        const list = out.get(key) ?? [];
        list.push({ file, size: st.size, mtimeMs: st.mtimeMs });
        out.set(key, list);
      }
    }
    this.archives = out;
    return out;
  }

  /** `sha256:<hex>` of every archive of name==version (none when one of them is too large to hash). */
  hashes(norm: string, version: string): { hashes: string[]; source: string } | undefined {
    const list = this.index().get(`${norm}==${version}`);
    if (!list?.length) return undefined;
    const out: string[] = [];
    for (const a of list) {
      if (a.size > MAX_HASHED_ARCHIVE_BYTES) return undefined;
      a.digest ??= memoDigest(a);
      if (!a.digest) return undefined;
      out.push(`sha256:${a.digest}`);
    }
    const dirs = [...new Set(list.map((a) => path.relative(this.root, path.dirname(a.file)) || '.'))];
    return { hashes: [...new Set(out)].sort(), source: `the local wheelhouse ${dirs.join(', ')}/` };
  }
}

// ------------------------------------------------------------------ pip / uv caches

export interface CacheDirs { pip?: string; uv?: string }

/** pip's and uv's cache folders as they would pick them (PIP_CACHE_DIR / UV_CACHE_DIR, XDG_CACHE_HOME, ~/.cache). */
export function defaultCacheDirs(env: Record<string, string | undefined>, home: string): CacheDirs {
  const xdg = env.XDG_CACHE_HOME || path.join(home, '.cache');
  const pip = env.PIP_CACHE_DIR || (process.platform === 'win32' && env.LOCALAPPDATA ? path.join(env.LOCALAPPDATA, 'pip', 'Cache') : path.join(xdg, 'pip'));
  const uv = env.UV_CACHE_DIR || (process.platform === 'win32' && env.LOCALAPPDATA ? path.join(env.LOCALAPPDATA, 'uv', 'cache') : path.join(xdg, 'uv'));
  return { pip: env.PIP_NO_CACHE_DIR ? undefined : pip, uv: env.UV_NO_CACHE ? undefined : uv };
}

/** How long a walk of the caches is reused across facts rebuilds (they change only when something installs). */
export const CACHE_INDEX_TTL_MS = 5 * 60 * 1000;
const cacheIndexMemo = new Map<string, { at: number; versions: Map<string, { versions: Set<string>; source: string }> }>();

/** Versions per package found in the local caches (walked on first use, reused for CACHE_INDEX_TTL_MS). */
export class PackageCaches {
  private versions?: Map<string, { versions: Set<string>; source: string }>;
  constructor(private readonly dirs: CacheDirs, private readonly now: () => number = Date.now) {}

  private add(out: Map<string, { versions: Set<string>; source: string }>, norm: string, version: string, source: string): void {
    let e = out.get(norm);
    if (!e) { e = { versions: new Set(), source }; out.set(norm, e); }
    e.versions.add(version);
  }

  private index(): Map<string, { versions: Set<string>; source: string }> {
    if (this.versions) return this.versions;
    const memoKey = `${this.dirs.uv ?? ''}\0${this.dirs.pip ?? ''}`;
    const memo = cacheIndexMemo.get(memoKey);
    if (memo && this.now() - memo.at >= 0 && this.now() - memo.at < CACHE_INDEX_TTL_MS) return (this.versions = memo.versions);
    const out = new Map<string, { versions: Set<string>; source: string }>();
    // uv first: its layout names the package folder (wheels-vN/pypi/<name>/<wheel stem>[.msgpack|.http]).
    if (this.dirs.uv) {
      let seen = 0;
      for (const top of listDir(this.dirs.uv)) {
        if (!top.isDirectory() || !/^(wheels|built-wheels)-v\d+$/.test(top.name)) continue;
        for (const idx of listDir(path.join(this.dirs.uv, top.name))) {
          if (!idx.isDirectory()) continue;
          for (const pkg of listDir(path.join(this.dirs.uv, top.name, idx.name))) {
            if (!pkg.isDirectory()) continue;
            for (const f of listDir(path.join(this.dirs.uv, top.name, idx.name, pkg.name))) {
              if (++seen > MAX_CACHE_ENTRIES) break;
              const stem = f.name.replace(/\.(msgpack|http|rkyv)$/, '');
              const nv = archiveNameVersion(/\.whl$/.test(stem) ? stem : `${stem}.whl`);
              if (nv && nv.norm === normalizeName(pkg.name)) this.add(out, nv.norm, nv.version, 'the local uv cache');
            }
          }
        }
      }
    }
    // pip: wheels it built, anywhere below wheels/ (sharded by a hash of the link).
    if (this.dirs.pip) {
      let seen = 0;
      const stack: Array<[string, number]> = [[path.join(this.dirs.pip, 'wheels'), 0]];
      while (stack.length && seen <= MAX_CACHE_ENTRIES) {
        const [dir, depth] = stack.pop()!;
        for (const e of listDir(dir)) {
          if (++seen > MAX_CACHE_ENTRIES) break;
          if (e.isDirectory()) { if (depth < MAX_CACHE_DEPTH) stack.push([path.join(dir, e.name), depth + 1]); continue; }
          const nv = e.isFile() && e.name.endsWith('.whl') ? archiveNameVersion(e.name) : undefined;
          if (nv) this.add(out, nv.norm, nv.version, 'the local pip cache');
        }
      }
    }
    this.versions = out;
    if (cacheIndexMemo.size > 16) cacheIndexMemo.clear();
    cacheIndexMemo.set(memoKey, { at: this.now(), versions: out });
    return out;
  }

  /** Cached versions of a package, newest first, and which cache they came from. */
  cachedVersions(norm: string): { versions: string[]; source: string } | undefined {
    const e = this.index().get(norm);
    if (!e) return undefined;
    return { versions: [...e.versions].sort((a, b) => compareVersions(b, a)), source: e.source };
  }
}

// ------------------------------------------------------------------ git: local clones

/** A git URL reduced to what identifies the repository (scheme, credentials, `.git`, trailing `/` and case of the host dropped). */
export function normalizeGitUrl(url: string): string {
  let u = url.trim().replace(/^git\+/i, '').replace(/#.*$/, '');
  const scp = /^([^@/:]+@)?([^/:]+):(?!\/)(.*)$/.exec(u); // git@host:org/repo
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = `ssh://${scp[2]}/${scp[3]}`;
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:]+)(?::\d+)?(\/.*)?$/i.exec(u);
  if (!m) return u.replace(/\.git\/?$/i, '').replace(/\/+$/, '');
  return `${m[1].toLowerCase()}${(m[2] ?? '').replace(/\/+$/, '').replace(/\.git$/i, '')}`;
}

/** Remote URLs in a git config file, by remote name. */
export function parseGitRemotes(configText: string): Map<string, string> {
  const out = new Map<string, string>();
  let remote: string | undefined;
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.trim();
    const sec = /^\[\s*remote\s+"([^"]+)"\s*\]$/.exec(line);
    if (sec) { remote = sec[1]; continue; }
    if (line.startsWith('[')) { remote = undefined; continue; }
    const kv = /^url\s*=\s*(.+)$/.exec(line);
    if (remote && kv && !out.has(remote)) out.set(remote, kv[1].trim());
  }
  return out;
}

function readText(file: string): string | undefined {
  return readCapped(file)?.toString('utf8');
}

/** Peel a loose annotated tag object to the commit it names (zlib-inflated, capped). */
function peelLooseTag(gitDir: string, sha: string): string {
  const buf = readCapped(path.join(gitDir, 'objects', sha.slice(0, 2), sha.slice(2)));
  if (!buf) return sha;
  try {
    const obj = inflateSync(buf, { maxOutputLength: MAX_GIT_FILE_BYTES }).toString('latin1');
    if (!obj.startsWith('tag ')) return sha;
    const m = /\nobject ([0-9a-f]{40,64})\n/.exec(obj.slice(0, 4096)) ?? /\0object ([0-9a-f]{40,64})\n/.exec(obj.slice(0, 4096));
    return m ? m[1] : sha;
  } catch { return sha; }
}

/** The commit `ref` names in a clone's git folder (remote-tracking branch, tag, or the remote's HEAD), read from files. */
export function resolveGitRef(gitDir: string, remote: string, ref: string | undefined): string | undefined {
  const packed = new Map<string, string>();
  const peeled = new Map<string, string>();
  const packedText = readText(path.join(gitDir, 'packed-refs'));
  if (packedText) {
    let last: string | undefined;
    for (const line of packedText.split(/\r?\n/)) {
      const m = /^([0-9a-f]{40,64}) (\S+)$/.exec(line);
      if (m) { packed.set(m[2], m[1]); last = m[2]; continue; }
      const p = /^\^([0-9a-f]{40,64})$/.exec(line);
      if (p && last) peeled.set(last, p[1]);
    }
  }
  const lookup = (name: string, depth = 0): string | undefined => {
    if (depth > 5) return undefined;
    const loose = readText(path.join(gitDir, ...name.split('/')))?.trim();
    if (loose) {
      const sym = /^ref:\s*(\S+)$/.exec(loose);
      if (sym) return lookup(sym[1], depth + 1);
      if (FULL_SHA.test(loose)) return name.startsWith('refs/tags/') ? peelLooseTag(gitDir, loose) : loose;
    }
    return peeled.get(name) ?? packed.get(name);
  };
  const names = ref === undefined ? [`refs/remotes/${remote}/HEAD`] : [`refs/remotes/${remote}/${ref}`, `refs/tags/${ref}`];
  for (const n of names) {
    const sha = lookup(n);
    if (sha && FULL_SHA.test(sha)) return sha;
  }
  return undefined;
}

/** Folders that may hold a clone of a dependency: the workspace's top folders, its `src/`, and pip's editable-VCS `src/` of venvs. */
export function cloneCandidates(root: string, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const push = (d: string) => { if (out.length < MAX_CLONE_CANDIDATES) out.push(d); };
  const childrenOf = (d: string) => { for (const e of listDir(d)) if (e.isDirectory() && e.name !== '.git' && e.name !== 'node_modules') push(path.join(d, e.name)); };
  childrenOf(root);
  for (const d of ['src', '.venv/src', 'venv/src', 'env/src']) childrenOf(path.join(root, d));
  if (env.VIRTUAL_ENV) childrenOf(path.join(env.VIRTUAL_ENV, 'src'));
  return out;
}

/** Local clones by normalized remote URL (found once, on first use). */
export class LocalClones {
  private byUrl?: Map<string, Array<{ dir: string; remote: string }>>;
  constructor(private readonly root: string, private readonly env: Record<string, string | undefined>) {}

  private index(): Map<string, Array<{ dir: string; remote: string }>> {
    if (this.byUrl) return this.byUrl;
    const out = new Map<string, Array<{ dir: string; remote: string }>>();
    for (const dir of cloneCandidates(this.root, this.env)) {
      const config = readText(path.join(dir, '.git', 'config'));
      if (!config) continue;
      for (const [remote, url] of parseGitRemotes(config)) {
        const key = normalizeGitUrl(url);
        const list = out.get(key) ?? [];
        list.push({ dir, remote });
        out.set(key, list);
      }
    }
    this.byUrl = out;
    return out;
  }

  /** The commit `ref` of the repository at `url` points to in a local clone, and which clone. */
  commit(url: string, ref: string | undefined): { commit: string; source: string } | undefined {
    for (const c of this.index().get(normalizeGitUrl(url)) ?? []) {
      const sha = resolveGitRef(path.join(c.dir, '.git'), c.remote, ref);
      if (sha) {
        const rel = path.relative(this.root, c.dir);
        return { commit: sha, source: `the local clone ${rel && !rel.startsWith('..') ? rel : c.dir}` };
      }
    }
    return undefined;
  }
}

export function homeDir(): string {
  try { return os.homedir(); } catch { return ''; }
}
