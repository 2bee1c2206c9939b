/** Model folders under a path: the path itself when it holds a model, and any sub-folder that does. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { IGNORED_DIRS } from '../fileKinds';
import { isModelFolder, listNames, type ReadText } from './model';

/** Folders visited while looking for model folders. */
export const MAX_FOLDERS_VISITED = 20_000;
/** Depth of the search. */
export const MAX_FOLDER_DEPTH = 10;

export function findModelFolders(root: string, read: ReadText): { folders: string[]; truncated: boolean } {
  const folders: string[] = [];
  let visited = 0;
  let truncated = false;
  const stack: Array<[string, number]> = [[path.resolve(root), 0]];
  while (stack.length) {
    const [dir, depth] = stack.pop()!;
    if (++visited > MAX_FOLDERS_VISITED) { truncated = true; break; }
    const names = listNames(dir);
    if (isModelFolder(dir, names, read)) folders.push(dir);
    if (depth >= MAX_FOLDER_DEPTH) continue;
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { continue; }
    for (const e of entries) if (e.isDirectory() && !IGNORED_DIRS.has(e.name) && !e.name.startsWith('.')) stack.push([path.join(dir, e.name), depth + 1]);
  }
  folders.sort();
  return { folders, truncated };
}
