/** Disk access for the CLI: a size-capped FileAccess and the walk that finds analyzable files. */
import { readdirSync, readFileSync, statSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import type { FileAccess } from './analysis';
import { fileKind, IGNORED_DIRS } from './fileKinds';

/** Text files larger than this are not read (a diagnostic says so instead). */
export const MAX_TEXT_FILE_BYTES = 32 * 1024 * 1024;
/** Files visited by one walk before it stops and says so. */
export const MAX_WALK_FILES = 200_000;

export function diskFileAccess(): FileAccess {
  return {
    readText(p) {
      try {
        const st = statSync(p);
        if (!st.isFile() || st.size > MAX_TEXT_FILE_BYTES) return undefined;
        return readFileSync(p, 'utf8');
      } catch { return undefined; }
    },
    exists(p) { try { return existsSync(p); } catch { return false; } },
  };
}

export interface WalkResult { files: string[]; truncated: boolean; errors: string[] }

/** Every analyzable file under `roots` (files are taken as given, folders walked without following links). */
export function findAnalyzableFiles(roots: string[], limit = MAX_WALK_FILES): WalkResult {
  const files: string[] = [];
  const errors: string[] = [];
  let visited = 0;
  let truncated = false;
  const stack: string[] = [];
  for (const r of roots) {
    const abs = path.resolve(r);
    let st;
    try { st = statSync(abs); } catch { errors.push(`${r}: no such file or folder`); continue; }
    if (st.isDirectory()) stack.push(abs);
    else files.push(abs);
  }
  while (stack.length) {
    const dir = stack.pop()!;
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch (e) { errors.push(`${dir}: ${(e as Error).message}`); continue; }
    entries.sort((a, b) => (a.name < b.name ? 1 : -1));
    for (const e of entries) {
      if (++visited > limit) { truncated = true; stack.length = 0; break; }
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (!IGNORED_DIRS.has(e.name)) stack.push(p); }
      else if (e.isFile() && fileKind(p)) files.push(p);
      else if (e.isSymbolicLink()) {
        try { if (lstatSync(p) && statSync(p).isFile() && fileKind(p)) files.push(p); } catch { /* dangling link */ }
      }
    }
  }
  files.sort();
  return { files, truncated, errors };
}
