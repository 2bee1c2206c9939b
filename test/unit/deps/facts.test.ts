import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildProjectFacts } from '../../../core/deps/index';
import { diskFileAccess } from '../../../core/workspace';

function write(root: string, rel: string, text: string) {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
}

test('buildProjectFacts: lockfiles, venv METADATA, version floors across manifests', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mv-facts-'));
  write(root, 'uv.lock', 'version = 1\n[[package]]\nname = "torch"\nversion = "2.6.0+cu124"\n');
  write(root, 'sub/poetry.lock', '[[package]]\nname = "Pandas"\nversion = "2.2.2"\n');
  write(root, '.venv/lib/python3.12/site-packages/numpy-2.0.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: numpy\nVersion: 2.0.0\n\nlong description\n');
  write(root, '.venv/lib/python3.12/site-packages/Scikit_Learn-1.5.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: scikit_learn\nVersion: 1.5.0\n');
  write(root, '.venv/lib/python3.12/site-packages/bad-0.dist-info/METADATA', 'garbage');
  write(root, 'requirements.txt', 'transformers>=4.30,<5\ntorch>=2.1\n');
  write(root, 'app/requirements-dev.txt', 'transformers==4.28.1\n');
  write(root, 'pyproject.toml', '[project]\nname = "x"\ndependencies = ["keras~=3.9", "joblib"]\n[tool.poetry.dependencies]\nonnx = "^1.16"\n');
  write(root, 'node_modules/requirements.txt', 'transformers==1.0\n');
  const facts = buildProjectFacts(root, diskFileAccess());
  assert.equal(facts.lockedVersions.get('torch'), '2.6.0+cu124');
  assert.equal(facts.lockedVersions.get('pandas'), '2.2.2');
  assert.equal(facts.installedVersions.get('numpy'), '2.0.0');
  assert.equal(facts.installedVersions.get('scikit-learn'), '1.5.0');
  assert.equal(facts.installedVersions.size, 2);
  assert.equal(facts.versionFloor('transformers'), '4.28.1', 'lowest across manifests; ignored dirs skipped');
  assert.equal(facts.versionFloor('Torch'), '2.1', 'declared floor below the lock');
  assert.equal(facts.versionFloor('keras'), '3.9');
  assert.equal(facts.versionFloor('onnx'), '1.16');
  assert.equal(facts.versionFloor('pandas'), '2.2.2');
  assert.equal(facts.versionFloor('joblib'), undefined);
});

test('buildProjectFacts on a missing folder returns empty facts', () => {
  const facts = buildProjectFacts(path.join(tmpdir(), 'mv-does-not-exist-xyz'), diskFileAccess());
  assert.equal(facts.lockedVersions.size, 0);
  assert.equal(facts.versionFloor('torch'), undefined);
});
