/**
 * The default suites (unit, protocol) must pass on a machine with only Node: no test there may start
 * Python. Every Python run in tests goes through test/helpers/python.ts (MODELVET_PYTHON), and only the
 * extended suite (test/real, `npm run test:real`) uses it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const TEST_ROOT = path.resolve(__dirname, '../..');
const HELPER = path.join(TEST_ROOT, 'helpers', 'python.ts');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.(ts|mts|cts|js|mjs|cjs)$/.test(f)).map((f) => path.join(dir, f));
}

/** A spawn of a Python interpreter spelled out in code (a path, a bare name, or a PY-like constant). */
const SPAWNS_PYTHON = /(?:spawn|spawnSync|exec|execSync|execFile|execFileSync|fork)\(\s*(?:['"`][^'"`]*python[^'"`]*['"`]|PY(?:THON)?\b)/i;
/** An interpreter's path (a bare 'python3.11' is also a site-packages folder name, so only paths count; spawns are caught above). */
const NAMES_PYTHON = /['"`](?:\/usr(?:\/local)?\/bin\/|\/bin\/)python[\d.]*['"`]/;

test('no test outside the Python helper starts Python itself', () => {
  const offenders: string[] = [];
  for (const file of [...sources(path.join(TEST_ROOT, 'unit')), ...sources(path.join(TEST_ROOT, 'protocol')), ...sources(path.join(TEST_ROOT, 'real')), ...sources(path.join(TEST_ROOT, 'helpers'))]) {
    if (file === HELPER || file === __filename) continue;
    const text = fs.readFileSync(file, 'utf8');
    if (SPAWNS_PYTHON.test(text) || NAMES_PYTHON.test(text)) offenders.push(path.relative(TEST_ROOT, file));
  }
  assert.deepEqual(offenders, [], 'start Python only through test/helpers/python.ts (runPython), and only from test/real');
});

test('the default suites do not use the Python helper', () => {
  const users = [...sources(path.join(TEST_ROOT, 'unit')), ...sources(path.join(TEST_ROOT, 'protocol'))]
    .filter((f) => /from\s+['"][./]*(?:\.\.\/)*helpers\/python['"]/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(TEST_ROOT, f));
  assert.deepEqual(users, [], 'tests that need Python belong in test/real (npm run test:real)');
});

test('the checks above recognise the spellings they are meant to catch', () => {
  for (const s of ["spawnSync('/usr/bin/python3', ['-c', 'x'])", 'spawnSync(PY, [script])', "execFileSync(\"python3\", [])", "spawn('python', ['-c', 'x'])", "const PY = '/usr/bin/python3';", "const PY = '/usr/bin/python3.11';"]) {
    assert.ok(SPAWNS_PYTHON.test(s) || NAMES_PYTHON.test(s), s);
  }
  for (const s of ["spawnSync(process.execPath, ['--import', 'tsx'])", "languageId: 'python'", "'python'", "'.venv/lib/python3.12/site-packages/x'", "path.join(dir, 'lib', 'python3.11', 'site-packages')"]) {
    assert.ok(!SPAWNS_PYTHON.test(s) && !NAMES_PYTHON.test(s), s);
  }
});
