// CLI start-up: one bundle per command (loaded only when it runs), errors across bundles, and the
// build's V8 code cache (bin/code-cache.js), which must never run code other than the bundle's own.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const codeCache = require(path.join(ROOT, 'bin', 'code-cache.js')) as { install(dir: string, write: boolean, minBytes?: number): { used: string[]; rejected: string[]; none: string[] } };

/** node -e in a child: install the cache hook for `dir` and print what `body` returns as JSON. */
function child(dir: string, write: boolean, body: string): unknown {
  const script = `const st = require(${JSON.stringify(path.join(ROOT, 'bin', 'code-cache.js'))}).install(${JSON.stringify(dir)}, ${write}, 0); const out = (() => { ${body} })(); process.stdout.write(JSON.stringify({ out, st }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('code cache: used for the bundle it was made from; a stale cache for a same-length edit is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-codecache-'));
  try {
    const mod = path.join(dir, 'a.js');
    fs.writeFileSync(mod, 'module.exports = function f(x) { return x + 1; };\n');
    assert.deepEqual(child(dir, true, `return require(${JSON.stringify(mod)})(1);`), { out: 2, st: { used: [], rejected: [], none: [] } });
    assert.ok(fs.existsSync(path.join(dir, 'a.v8cache')), 'written at exit');
    assert.deepEqual(child(dir, false, `return require(${JSON.stringify(mod)})(1);`), { out: 2, st: { used: ['a.js'], rejected: [], none: [] } });
    // Same length, other code: V8's own check (source length) would accept the old bytecode and return 2.
    fs.writeFileSync(mod, 'module.exports = function f(x) { return x + 7; };\n');
    assert.deepEqual(child(dir, false, `return require(${JSON.stringify(mod)})(1);`), { out: 8, st: { used: [], rejected: ['a.js'], none: [] } });
    // A file outside the directory, or without a cache, loads as usual.
    fs.rmSync(path.join(dir, 'a.v8cache'));
    assert.deepEqual(child(dir, false, `return require(${JSON.stringify(mod)})(1);`), { out: 8, st: { used: [], rejected: [], none: ['a.js'] } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('code cache: a bundle with a dynamic import() loads as usual (vm.Script has no ESM loader here)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-codecache-'));
  try {
    const mod = path.join(dir, 'c.js');
    fs.writeFileSync(mod, 'module.exports = () => import("node:path").then((m) => typeof m.join);\n');
    const r = spawnSync(process.execPath, ['-e', `const st = require(${JSON.stringify(path.join(ROOT, 'bin', 'code-cache.js'))}).install(${JSON.stringify(dir)}, true, 0); require(${JSON.stringify(mod)})().then((t) => process.stdout.write(JSON.stringify({ t, st })));`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { t: 'function', st: { used: [], rejected: [], none: ['c.js'] } });
    assert.ok(!fs.existsSync(path.join(dir, 'c.v8cache')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('code cache: a corrupt cache body is refused (V8 itself would abort the process) and the bundle still runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-codecache-'));
  try {
    const mod = path.join(dir, 'b.js');
    fs.writeFileSync(mod, 'module.exports = [1, 2, 3].map((x) => x * 2);\n');
    child(dir, true, `return require(${JSON.stringify(mod)});`);
    const cache = fs.readFileSync(path.join(dir, 'b.v8cache'));
    for (let i = cache.length - 64; i < cache.length; i++) cache[i] ^= 0xff;
    fs.writeFileSync(path.join(dir, 'b.v8cache'), cache);
    assert.deepEqual(child(dir, false, `return require(${JSON.stringify(mod)});`), { out: [2, 4, 6], st: { used: [], rejected: ['b.js'], none: [] } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(typeof codeCache.install, 'function');
});

/** One build of this checkout (scripts/build.mjs into a temp dist/, bin/ copied next to it) shared by the tests below. */
let built: string | undefined;
function buildOnce(): string {
  if (built) return built;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-clibuild-'));
  const b = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { env: { ...process.env, MODELVET_BUILD_OUT: path.join(tmp, 'dist') }, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  fs.mkdirSync(path.join(tmp, 'bin'));
  for (const f of ['modelvet.js', 'code-cache.js']) fs.copyFileSync(path.join(ROOT, 'bin', f), path.join(tmp, 'bin', f));
  return (built = tmp);
}
after(() => { if (built) fs.rmSync(built, { recursive: true, force: true }); });

test('the built CLI: one bundle per command, loaded only when it runs; usage errors from a command bundle exit 2', { timeout: 180_000 }, () => {
  const tmp = buildOnce();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-cliwork-'));
  try {
    const dist = path.join(tmp, 'dist');
    const names = fs.readdirSync(dist);
    for (const c of ['check', 'scan', 'convert', 'rules']) assert.ok(names.includes(`cli-${c}.js`), `cli-${c}.js built`);
    const dispatcher = fs.readFileSync(path.join(dist, 'cli.js'), 'utf8');
    assert.ok(dispatcher.length < 30_000, `dist/cli.js is the small dispatcher (${dispatcher.length} bytes)`);
    assert.ok(!dispatcher.includes('tree-sitter') && !dispatcher.includes('runPickle'), 'no engine code in the dispatcher');
    assert.ok(names.includes('cli-check.v8cache') && names.includes('cli-scan.v8cache'), 'the build made code caches');
    assert.ok(!names.includes('cli.v8cache'), 'none for the small dispatcher');

    // Which dist/ files a run loaded, printed at exit by a preloaded script.
    const probe = path.join(work, 'probe.js');
    fs.writeFileSync(probe, `process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(dist + path.sep)})).map((f) => f.slice(${dist.length + 1})).sort())));`);
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['--require', probe, path.join(tmp, 'bin', 'modelvet.js'), ...args], { cwd: work, encoding: 'utf8' });
      const m = /\nLOADED (.*)$/.exec(r.stderr);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/\nLOADED .*$/, ''), loaded: m ? JSON.parse(m[1]) as string[] : [] };
    };
    const v = run('--version');
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^modelvet \d+\.\d+\.\d+/);
    assert.deepEqual(v.loaded, ['cli.js']);
    const rules = run('rules', 'PKL001');
    assert.equal(rules.status, 0);
    assert.match(rules.stdout, /^# PKL001/);
    assert.deepEqual(rules.loaded, ['cli-rules.js', 'cli.js']);
    fs.writeFileSync(path.join(work, 'requirements.txt'), 'reqeusts==2.31.0\n');
    const check = run('check', 'requirements.txt', '--fail-on', 'warning');
    assert.equal(check.status, 1);
    assert.match(check.stdout, /DEP001/);
    assert.deepEqual(check.loaded, ['cli-check.js', 'cli.js']);
    const missing = run('check', 'no-such-file.txt');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^modelvet check: no-such-file\.txt: no such file or folder/);
    assert.doesNotMatch(missing.stderr, /internal error/);
    fs.writeFileSync(path.join(work, 'x.txt'), 'abc');
    const scan = run('scan', 'x.txt', '--format', 'json');
    assert.equal(scan.status, 0, scan.stderr);
    assert.equal(JSON.parse(scan.stdout).files[0].verdict, 'safe');
    assert.deepEqual(scan.loaded, ['cli-scan.js', 'cli.js']);
    // Python through the cached bundle: the grammar loads (a dynamic import left in a bundle broke it).
    fs.writeFileSync(path.join(work, 'train.py'), 'import torch\nm = torch.load("m.pt")\n');
    const py = run('check', 'train.py', '--format', 'json');
    const codes = (JSON.parse(py.stdout) as { findings: Array<{ code: string }> }).findings.map((f) => f.code);
    assert.ok(codes.includes('LOAD001') && !codes.includes('LOAD000'), JSON.stringify(codes));
    const off = spawnSync(process.execPath, [path.join(tmp, 'bin', 'modelvet.js'), 'scan', 'x.txt', '--format', 'json'], { cwd: work, encoding: 'utf8', env: { ...process.env, MODELVET_CODE_CACHE: 'off' } });
    assert.deepEqual(JSON.parse(off.stdout).files, JSON.parse(scan.stdout).files, 'same result without the code cache');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('modelvet lsp --stdio through bin/ (the server bundle from the code cache) gives complete Python results', { timeout: 180_000 }, async () => {
  const { LspTestClient } = await import('../../helpers/lsp-client');
  const tmp = buildOnce();
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-clilsp-'));
  try {
    assert.ok(fs.existsSync(path.join(tmp, 'dist', 'server.v8cache')), 'the build trained a language-server session');
    const client = await LspTestClient.start({ root: ws, args: [path.join(tmp, 'bin', 'modelvet.js'), 'lsp', '--stdio'] });
    try {
      const req = client.open('requirements.txt', 'reqeusts==2.31.0\n', 'pip-requirements');
      assert.ok((await client.pull(req)).some((d) => d.code === 'DEP001'));
      const py = client.open('train.py', 'import torch\nm = torch.load("m.pt")\n', 'python');
      const codes = (await client.pull(py)).map((d) => d.code);
      assert.ok(codes.includes('LOAD001') && !codes.includes('LOAD000'), JSON.stringify(codes));
    } finally {
      await client.stop();
    }
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
});
