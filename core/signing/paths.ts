/**
 * Resource names and the model walk. Names are POSIX paths relative to the model root; anything that
 * could step outside it (`..`, absolute paths, backslashes, NUL, empty components) is refused on sign
 * and on verify — the reference verifier once had a path-traversal bug here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MAX_NAME_BYTES, MAX_RESOURCES, MAX_WALK_DEPTH } from './limits';
import { SigningError, usageError } from './errors';

/** Top-level paths never part of a manifest (as in model_signing's ignore_git_paths). */
export const GIT_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

/** Why `name` is not a safe resource name, or undefined when it is. */
export function unsafeNameReason(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  if (name === '') return 'empty name';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} bytes`;
  if (name.includes('\0')) return 'contains NUL';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'absolute path';
  const parts = name.split('/');
  if (parts.includes('..')) return "contains '..'";
  if (parts.some((p) => p === '' || p === '.')) return "empty or '.' path component";
  return undefined;
}

export function assertSafeName(name: string, what = 'resource name'): void {
  const r = unsafeNameReason(name);
  if (r) throw new SigningError('verify', `unsafe ${what} ${JSON.stringify(name)}: ${r}`, 'unsafe-name');
}

/** Compare strings by Unicode code point (= UTF-8 byte order), the spec's resource order. */
export function codePointCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface WalkedFile {
  name: string;
  abs: string;
  size: number;
  /** What identifies this version of the file for a digest cache: size, mtime, ctime, inode, device. */
  stamp: string;
}

export function statStamp(st: fs.Stats): string { return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.dev}`; }

export interface WalkOptions {
  /** Relative (POSIX) names of ignored files or folders (a folder ignores everything below it). */
  ignore: Set<string>;
  allowSymlinks: boolean;
  signal?: AbortSignal;
}

function ignored(name: string, ignore: Set<string>): boolean {
  if (ignore.has(name)) return true;
  for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) if (ignore.has(name.slice(0, i))) return true;
  return false;
}

/**
 * Every regular file below `root` (hidden ones included), minus ignored paths. Symlinks are an error
 * unless allowed; allowed symlinks are followed (loops and escapes through directory links refused).
 */
export function walkModel(root: string, opts: WalkOptions): WalkedFile[] {
  const out: WalkedFile[] = [];
  const rootReal = fs.realpathSync(root);
  const seenDirs = new Set<string>([rootReal]);
  const visit = (absDir: string, rel: string, depth: number) => {
    if (depth > MAX_WALK_DEPTH) throw new SigningError('limit', `${rel || '.'}: deeper than ${MAX_WALK_DEPTH} folders`, 'limit');
    if (opts.signal?.aborted) throw new SigningError('cancelled', 'cancelled', 'cancelled');
    const entries = fs.readdirSync(absDir, { withFileTypes: true }).map((d) => d.name).sort(codePointCompare);
    for (const entry of entries) {
      const name = rel ? `${rel}/${entry}` : entry;
      if (ignored(name, opts.ignore)) continue;
      const reason = unsafeNameReason(name);
      if (reason) throw usageError(`unsafe file name ${JSON.stringify(name)}: ${reason}`, 'unsafe-name');
      const abs = path.join(absDir, entry);
      let st = fs.lstatSync(abs);
      if (st.isSymbolicLink()) {
        if (!opts.allowSymlinks) throw usageError(`${name} is a symbolic link (pass --allow-symlinks to follow links)`, 'symlink');
        try { st = fs.statSync(abs); } catch { throw usageError(`${name} is a broken symbolic link`, 'symlink'); }
      }
      if (st.isDirectory()) {
        const real = fs.realpathSync(abs);
        if (seenDirs.has(real)) throw usageError(`${name}: folder reached twice through symbolic links (a link loop?)`, 'symlink');
        seenDirs.add(real);
        visit(abs, name, depth + 1);
      } else if (st.isFile()) {
        out.push({ name, abs, size: st.size, stamp: statStamp(st) });
        if (out.length > MAX_RESOURCES) throw new SigningError('limit', `more than ${MAX_RESOURCES} files`, 'limit');
      } else {
        throw usageError(`${name} is not a regular file or folder`, 'special-file');
      }
    }
  };
  visit(root, '', 0);
  return out;
}

/**
 * Turns a user's ignore path into a name relative to the model root: absolute paths must be inside it,
 * relative paths are relative to the root. Paths outside the root are dropped (they cannot match).
 */
export function relativeIgnore(root: string, p: string): string | undefined {
  const abs = path.resolve(root, p);
  const rel = path.relative(root, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}
