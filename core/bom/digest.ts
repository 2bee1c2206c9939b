/**
 * The files of a model folder and their whole-file SHA-256 digests — the same bytes and the same
 * digest the OMS (OpenSSF Model Signing) file serialization records, so a BOM and a signature name
 * the same files. Hashing is I/O-bound: one large reusable buffer, synchronous reads (page-cache
 * speed), Node's OpenSSL SHA-256.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

/** Files listed per folder walk; more make the result `truncated` (never silently complete). */
export const MAX_BOM_FILES = 100_000;
/** Folder depth followed. */
export const MAX_BOM_DEPTH = 32;
/** Read size for hashing. */
export const HASH_BUFFER_BYTES = 4 * 1024 * 1024;

/** Names never part of a model's file set (as OMS ignores them): VCS metadata and the signature itself. */
export const IGNORED_NAMES = new Set(['.git', '.gitattributes', '.gitignore', '.github', '.DS_Store']);
export function isSignatureFile(name: string): boolean {
  return name === 'model.sig' || name.endsWith('.sig') || name.endsWith('.sigstore') || name.endsWith('.sigstore.json');
}

export interface FileDigest {
  /** Path relative to the root, with `/` separators. */
  rel: string;
  abs: string;
  size: number;
  sha256: string;
}

export interface FolderListing { files: Array<{ rel: string; abs: string }>; signatures: string[]; truncated: boolean; errors: string[] }

/** Regular files under `root` (file symlinks followed, as in a Hugging Face cache snapshot; folder symlinks not), sorted by path. */
export function listModelFiles(root: string): FolderListing {
  const out: FolderListing = { files: [], signatures: [], truncated: false, errors: [] };
  const walk = (dir: string, rel: string, depth: number) => {
    let names: string[];
    try { names = readdirSync(dir); } catch (e) { out.errors.push(`${dir}: ${(e as Error).message}`); return; }
    for (const name of names.sort()) {
      if (IGNORED_NAMES.has(name)) continue;
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      let st;
      try { st = lstatSync(abs); } catch { continue; }
      if (st.isSymbolicLink()) {
        try { st = statSync(abs); } catch { out.errors.push(`${r}: broken symlink`); continue; }
        if (st.isDirectory()) continue;
      }
      if (st.isDirectory()) {
        if (depth < MAX_BOM_DEPTH) walk(abs, r, depth + 1); else out.truncated = true;
      } else if (st.isFile()) {
        if (isSignatureFile(name)) { out.signatures.push(r); continue; }
        if (out.files.length >= MAX_BOM_FILES) { out.truncated = true; return; }
        out.files.push({ rel: r, abs });
      }
    }
  };
  walk(root, '', 0);
  out.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}

let shared: Buffer | undefined;

/** Whole-file SHA-256 (hex) and size. Throws on I/O errors (the caller reports them). */
export function sha256File(file: string): { sha256: string; size: number } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = (shared ??= Buffer.allocUnsafe(HASH_BUFFER_BYTES));
    const h = createHash('sha256');
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
    }
    return { sha256: h.digest('hex'), size: pos || size };
  } finally { closeSync(fd); }
}

/** Digests of every listed file; unreadable files go to `errors`. */
export function digestFiles(list: Array<{ rel: string; abs: string }>): { digests: FileDigest[]; errors: string[] } {
  const digests: FileDigest[] = [];
  const errors: string[] = [];
  for (const f of list) {
    try { digests.push({ rel: f.rel, abs: f.abs, ...sha256File(f.abs) }); } catch (e) { errors.push(`${f.rel}: ${(e as Error).message}`); }
  }
  return { digests, errors };
}
