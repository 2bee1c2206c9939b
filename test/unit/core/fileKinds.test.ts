import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileKind } from '../../../core/fileKinds';

test('fileKind routes manifests, code and notebooks by name', () => {
  const cases: Array<[string, string | undefined]> = [
    ['/p/requirements.txt', 'requirements'], ['/p/requirements-dev.txt', 'requirements'], ['/p/dev-requirements.txt', 'requirements'],
    ['/p/requirements/base.txt', 'requirements'], ['/p/constraints.txt', 'requirements'], ['/p/requirements.in', 'requirements'],
    ['/p/MANIFEST.in', undefined], ['/p/notes.txt', undefined], ['/p/pyproject.toml', 'pyproject'], ['/p/Pipfile', 'pipfile'],
    ['/p/Pipfile.lock', 'lockfile'], ['/p/uv.lock', 'lockfile'], ['/p/poetry.lock', 'lockfile'], ['/p/pylock.toml', 'lockfile'],
    ['/p/environment.yml', 'conda'], ['/p/environment-gpu.yaml', 'conda'], ['/p/train.py', 'python'], ['C:\\p\\nb.ipynb', 'notebook'],
    ['/p/config.yml', undefined],
  ];
  for (const [p, k] of cases) assert.equal(fileKind(p), k, p);
});
