/**
 * Declared dependencies for the license table and the AI-BOM's library components: every manifest
 * kind the dependency rules read (requirements with `--hash`, pyproject [project] / optional /
 * dependency-groups / Poetry, Pipfile, conda `pip:`), pins across files, and the example project.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLicenseTable, declaredDependencies, readTextFile } from '../../../core/licenses/table';
import { buildBom } from '../../../core/bom/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');
// Real digests (of 'torch-a' / 'torch-b'): a made-up pattern would be reported as fake and dropped.
const [H1, H2] = ['torch-a', 'torch-b'].map((x) => createHash('sha256').update(x).digest('hex')).sort();

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-declared-'));
  for (const [rel, text] of Object.entries(files)) { mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true }); writeFileSync(path.join(dir, rel), text); }
  return dir;
}

test('every manifest kind: names, pins and requirement hashes; a later pin fills an unpinned first declaration', () => {
  const dir = project({
    'pyproject.toml': '[project]\nname = "app"\ndependencies = ["torch>=1.12", "numpy[extra] (==1.26.4) ; python_version > \'3.8\'", "pkg @ https://h.invalid/p.whl"]\n'
      + '[project.optional-dependencies]\nserve = ["vllm==0.6.0"]\n[dependency-groups]\ndev = ["pytest==8.0.0"]\n'
      + '[tool.poetry.dependencies]\npython = "^3.10"\nrich = "13.7.1"\nhttpx = { version = "^0.27" }\nlocal = { path = "../local" }\n[tool.poetry.group.docs.dependencies]\nmkdocs = "==1.6.0"\n',
    'requirements.txt': `torch==2.1.0 \\\n    --hash=sha256:${H2} \\\n    --hash=sha256:${H1}\nfake==1.0 --hash=sha256:${'0'.repeat(63)}1\n-e ./local\n`,
    'Pipfile': '[packages]\njoblib = "==1.1.0"\ntensorflow = "*"\nlocalpkg = { path = "." }\n[dev-packages]\nblack = { version = "==24.1.0" }\n',
    'environment.yml': 'name: x\ndependencies:\n  - numpy\n  - pip\n  - pip:\n      - onnx==1.12.0\n      - torchtriton\n',
  });
  try {
    const files = ['pyproject.toml', 'requirements.txt', 'Pipfile', 'environment.yml'].map((f) => path.join(dir, f));
    const got = new Map(declaredDependencies(files, readTextFile).map((d) => [d.norm, d]));
    const pins = Object.fromEntries([...got].map(([n, d]) => [n, d.version ?? null]));
    assert.deepEqual(pins, {
      torch: '2.1.0', numpy: '1.26.4', vllm: '0.6.0', pytest: '8.0.0', rich: '13.7.1', httpx: null, mkdocs: '1.6.0',
      fake: '1.0', joblib: '1.1.0', tensorflow: null, black: '24.1.0', onnx: '1.12.0', torchtriton: null,
    });
    assert.deepEqual(got.get('torch')!.hashes, [H1, H2], 'the pin and its --hash digests come from requirements.txt');
    assert.equal(path.basename(got.get('torch')!.file), 'requirements.txt');
    assert.deepEqual(got.get('fake')!.hashes, [], 'a digest that cannot be real is not recorded');
    assert.ok(!got.has('pkg') && !got.has('local') && !got.has('localpkg') && !got.has('python'), 'direct URLs, local paths and python are not libraries');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('broken manifests are skipped, never a crash', () => {
  const dir = project({ 'pyproject.toml': '[project\n', 'Pipfile': '[packages]\nx = ', 'environment.yml': 'dependencies: [pip: {', 'requirements.txt': 'ok==1\n' });
  try {
    const files = ['pyproject.toml', 'requirements.txt', 'Pipfile', 'environment.yml'].map((f) => path.join(dir, f));
    assert.deepEqual(declaredDependencies(files, readTextFile).map((d) => d.norm), ['ok']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('the example project: Pipfile, environment.yml and optional dependencies are libraries of its BOM and license table', async () => {
  const ex = path.join(ROOT, 'examples', 'ml-project');
  const table = buildLicenseTable(ex, { sitePackages: [] });
  const names = table.rows.filter((r) => r.kind === 'library').map((r) => `${r.name}@${r.version ?? ''}`);
  for (const n of ['joblib@1.1.0', 'tensorflow@', 'onnx@1.12.0', 'torchtriton@', 'vllm@0.6.0', 'llama-cpp-python@0.2.60', 'torch@2.1.0', 'requests@2.31.0']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
  const bom = await buildBom(ex, { reproducible: true, scan: false, sitePackages: [] });
  const purls = bom.document.components.filter((c: any) => c.type === 'library').map((c: any) => c.purl);
  assert.ok(purls.includes('pkg:pypi/joblib@1.1.0') && purls.includes('pkg:pypi/onnx@1.12.0') && purls.includes('pkg:pypi/torch@2.1.0'), purls.join(' '));
});
