/**
 * Which files the editor treats as model files: the extensions of issue 6, plus
 * (inside scanned folders) files whose first bytes look like a serialization
 * format a model can hide in — a renamed pickle must not escape a folder scan.
 */
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { IGNORED_DIRS } from '../../core/fileKinds';

export const MODEL_EXTENSIONS = [
  '.pt', '.pth', '.bin', '.ckpt', '.pkl', '.pickle', '.joblib', '.npy', '.npz', '.safetensors',
  '.gguf', '.ggml', '.onnx', '.keras', '.h5', '.hdf5', '.pb', '.dill', '.sav', '.model', '.mar', '.tflite',
  '.p', '.jbl', '.nemo',
];
const MODEL_EXTENSION_SET = new Set(MODEL_EXTENSIONS);

/** Extensions that are certainly source/text and never sniffed. */
const NEVER_MODEL = new Set(['.py', '.pyi', '.ipynb', '.txt', '.md', '.toml', '.json', '.yml', '.yaml', '.cfg', '.ini', '.lock', '.in', '.js', '.ts', '.html', '.css', '.rst', '.csv', '.sh']);

/** Files examined by one folder walk (stat + optional 8-byte sniff) before stopping and saying so. */
export const MAX_WALK_ENTRIES = 200_000;
/** Entries visited between two yields to the event loop. */
const WALK_YIELD_EVERY = 256;
/** Files scanned by one request. */
export const MAX_SCAN_FILES = 100_000;

export function isModelPath(p: string): boolean {
  return MODEL_EXTENSION_SET.has(path.extname(p).toLowerCase());
}

/** Inside an installed-packages or tool folder (.venv, node_modules, site-packages, .git…): not the project's own models. */
export function inIgnoredFolder(p: string): boolean {
  return p.split(/[\\/]/).slice(0, -1).some((seg) => IGNORED_DIRS.has(seg) && seg !== 'dist' && seg !== 'build');
}

/** Magic numbers of formats the scanner understands (pickle protocol 2+, zip, numpy, gguf, hdf5, gzip, tar is too loose). */
function looksLikeModelBytes(head: Uint8Array): boolean {
  if (head.length < 2) return false;
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return true; // pickle PROTO
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return true; // zip
  if (head[0] === 0x93 && head[1] === 0x4e && head[2] === 0x55) return true; // \x93NUMPY
  if (head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return true; // GGUF
  if (head[0] === 0x89 && head[1] === 0x48 && head[2] === 0x44 && head[3] === 0x46) return true; // \x89HDF
  if (head[0] === 0x1f && head[1] === 0x8b) return true; // gzip
  return false;
}

function sniff(p: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(p, 'r');
    const head = new Uint8Array(8);
    const n = readSync(fd, head, 0, head.length, 0);
    return looksLikeModelBytes(head.subarray(0, n));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already closed */ }
  }
}

export interface ModelWalk {
  files: string[];
  truncated: boolean;
  errors: string[];
  /** Walked folders with their entry names (for the engine's folder-level checks). */
  dirs: Array<[string, string[]]>;
}

/**
 * Files to scan for the given paths: explicit files are always taken; folders
 * are walked (no symlinks followed, IGNORED_DIRS skipped except for model folders)
 * for model extensions and sniffed model-looking files.
 */
export async function collectModelFiles(paths: string[], isCancelled: () => boolean = () => false): Promise<ModelWalk> {
  const files: string[] = [];
  const errors: string[] = [];
  const dirs: Array<[string, string[]]> = [];
  const seen = new Set<string>();
  let visited = 0;
  let truncated = false;
  const add = (p: string) => {
    if (seen.has(p)) return;
    if (files.length >= MAX_SCAN_FILES) { truncated = true; return; }
    seen.add(p);
    files.push(p);
  };
  const stack: string[] = [];
  for (const raw of paths) {
    const abs = path.resolve(raw);
    try {
      const st = statSync(abs);
      if (st.isDirectory()) stack.push(abs);
      else if (st.isFile()) add(abs);
    } catch (e) {
      errors.push(`${raw}: ${(e as Error).message}`);
    }
  }
  while (stack.length && !truncated) {
    if (isCancelled()) break;
    const dir = stack.pop()!;
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch (e) { errors.push(`${dir}: ${(e as Error).message}`); continue; }
    entries.sort((a, b) => (a.name < b.name ? 1 : -1));
    dirs.push([dir, entries.map((e) => e.name).reverse()]);
    for (const e of entries) {
      if (++visited > MAX_WALK_ENTRIES) { truncated = true; break; }
      // The walk runs on the server's main thread: let pending diagnostics requests through regularly.
      if (visited % WALK_YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        // .venv/site-packages etc. hold installed packages, not the project's models.
        if (!IGNORED_DIRS.has(e.name) || e.name === 'dist' || e.name === 'build') stack.push(p);
      } else if (e.isFile()) {
        const ext = path.extname(e.name).toLowerCase();
        if (MODEL_EXTENSION_SET.has(ext)) add(p);
        else if (!NEVER_MODEL.has(ext) && sniff(p)) add(p);
      }
    }
  }
  files.sort();
  return { files, truncated, errors, dirs };
}
