/** Which analyzer a file goes to, decided by its name (manifests) — the same globs the client registers. */
import type { FileKind } from './analysis';

const LOCKFILES = new Set(['uv.lock', 'poetry.lock', 'pipfile.lock', 'pylock.toml', 'pdm.lock']);

export function fileKind(filePath: string): FileKind | undefined {
  const norm = filePath.replace(/\\/g, '/');
  const base = norm.slice(norm.lastIndexOf('/') + 1);
  const lower = base.toLowerCase();
  const parent = norm.slice(0, norm.lastIndexOf('/')).split('/').pop()?.toLowerCase() ?? '';
  if (lower.endsWith('.py') || lower.endsWith('.pyi')) return 'python';
  if (lower.endsWith('.ipynb')) return 'notebook';
  if (lower === 'pyproject.toml') return 'pyproject';
  // A model card: analyzed only when its folder holds a model (core/cards).
  if (lower === 'readme.md') return 'modelcard';
  if (lower === 'pipfile') return 'pipfile';
  if (LOCKFILES.has(lower) || /^pylock\.[^/]+\.toml$/.test(lower)) return 'lockfile';
  if (/^(environment|env|conda[-_.]?env(ironment)?)[^/]*\.ya?ml$/.test(lower)) return 'conda';
  if (lower.endsWith('.txt') && (lower.includes('requirements') || lower.includes('constraints') || parent === 'requirements')) return 'requirements';
  if (lower.endsWith('.in') && lower !== 'manifest.in' && (lower.includes('requirements') || lower.includes('constraints') || parent === 'requirements' || /^[\w.-]+\.in$/.test(lower))) return 'requirements';
  return undefined;
}

/** Folders never descended into when looking for manifests and Python files. */
export const IGNORED_DIRS = new Set([
  '.git', '.hg', '.svn', 'node_modules', '.venv', 'venv', 'env', '.env', '.tox', '.nox', '__pycache__',
  '.mypy_cache', '.pytest_cache', '.ruff_cache', 'site-packages', 'dist', 'build', '.ipynb_checkpoints',
]);
