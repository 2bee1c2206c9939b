// `modelvet scan`: output contract (JSON shape, SARIF), exit codes, --jobs (tsx worker and bundled worker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runScanCommand } from '../../../core/cli/scan';
import { writeSlowSafetensors } from './containers';

const fixtures = path.join(__dirname, '../../fixtures/models');
async function cli(args: string[]) {
  let out = '', err = '';
  const code = await runScanCommand(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, isTTY: false });
  return { code, out, err };
}

test('JSON output follows the contract exactly', async () => {
  const r = await cli([path.join(fixtures, 'benign/torch_linear_state_dict.pt'), path.join(fixtures, 'malicious/reduce_os_system_p2.pkl'), '--format', 'json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.deepEqual(Object.keys(j), ['version', 'files', 'summary']);
  assert.equal(j.version, 1);
  assert.deepEqual(Object.keys(j.summary).sort(), ['files', 'malicious', 'safe', 'seconds', 'suspicious', 'unscannable']);
  const bad = j.files.find((f: { path: string }) => f.path.endsWith('reduce_os_system_p2.pkl'));
  assert.equal(bad.verdict, 'malicious');
  assert.ok(bad.findings.some((f: { code: string; message: string; location: object }) => f.code === 'PKL001' && f.message.includes('posix.system') && 'opcodeIndex' in f.location));
  assert.ok(bad.globals.some((g: { module: string; name: string; status: string }) => g.module === 'posix' && g.status === 'dangerous'));
  for (const f of j.files) for (const k of ['path', 'format', 'verdict', 'findings', 'globals', 'sha256']) assert.ok(k in f, k);
});

test('exit codes: fail-on, unscannable, usage errors', async () => {
  const benign = path.join(fixtures, 'benign/numpy_float.npy');
  assert.equal((await cli([benign])).code, 0);
  const custom = path.join(fixtures, 'malicious/custom_class.pkl');
  assert.equal((await cli([custom])).code, 1);
  assert.equal((await cli([custom, '--fail-on', 'malicious'])).code, 0);
  const sevenZ = path.join(fixtures, 'unscannable/model.7z');
  assert.equal((await cli([sevenZ, '--fail-on', 'malicious'])).code, 1);
  assert.equal((await cli([sevenZ, '--fail-on', 'malicious', '--allow-unscannable'])).code, 0);
  assert.equal((await cli(['--format', 'xml', benign])).code, 2);
  assert.equal((await cli(['--bogus'])).code, 2);
  assert.equal((await cli([path.join(fixtures, 'does-not-exist')])).code, 2);
});

test('text output: one line per file with verdict and reason, details, summary', async () => {
  const r = await cli([path.join(fixtures, 'malicious/stack_global_memo.pkl')]);
  assert.match(r.out, /malicious\s+\S+stack_global_memo\.pkl\s+\[pickle\]\s+PKL001 dangerous global posix\.system/);
  assert.match(r.out, /call: posix\.system\("touch \/tmp\/modelvet_pwned_x"\)/);
  assert.match(r.out, /1 file\(s\) scanned .*1 malicious/);
});

test('SARIF 2.1.0 with rules from the registry and relative artifact URIs', async () => {
  const r = await cli([path.join(fixtures, 'malicious'), '--format', 'sarif', '--jobs', '1']);
  const s = JSON.parse(r.out);
  assert.equal(s.version, '2.1.0');
  const run = s.runs[0];
  const ids = new Set(run.tool.driver.rules.map((x: { id: string }) => x.id));
  assert.ok(ids.has('PKL001'));
  for (const res of run.results) {
    assert.ok(ids.has(res.ruleId), res.ruleId);
    assert.ok(['error', 'warning', 'note'].includes(res.level));
    const uri = res.locations[0].physicalLocation.artifactLocation.uri as string;
    assert.ok(!uri.startsWith('/') && !uri.includes('..'), uri);
  }
});

test('--jobs 2 gives the same verdicts as a sequential scan (tsx worker)', async () => {
  const { scanPaths } = await import('../../../core/scan/engine');
  const a = scanPaths([path.join(fixtures, 'malicious')]); // in this thread
  const b = JSON.parse((await cli([path.join(fixtures, 'malicious'), '--format', 'json', '--jobs', '2'])).out);
  const v = (j: { files: { path: string; verdict: string }[] }) => j.files.map((f) => `${f.path}:${f.verdict}`).sort();
  assert.deepEqual(v(b), v(a));
  assert.equal(b.summary.files, a.summary.files);
});

test('--jobs 2 works from an esbuild bundle (the bundle re-launches itself as the worker)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-bundle-'));
  const entry = path.join(tmp, 'entry.ts');
  fs.writeFileSync(entry, `import { runScanCommand } from ${JSON.stringify(path.resolve(__dirname, '../../../core/cli/scan'))};
if (require.main === module) runScanCommand(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), isTTY: false }).then((c) => { process.exitCode = c; });\n`);
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: path.join(tmp, 'cli.js'), logLevel: 'silent' });
  const r = spawnSync(process.execPath, [path.join(tmp, 'cli.js'), path.join(fixtures, 'benign'), '--jobs', '2', '--format', 'json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.summary.files, fs.readdirSync(path.join(fixtures, 'benign')).length);
  assert.equal(j.summary.safe, j.summary.files);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('--timeout: a file that takes longer is stopped and reported unscannable (SCAN005); the other files are scanned', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-timeout-'));
  try {
    // Hashing it takes seconds, far past a 0.3 s limit.
    const big = writeSlowSafetensors(tmp);
    const small = fs.readdirSync(path.join(fixtures, 'benign')).filter((f) => f.endsWith('.pkl') || f.endsWith('.pt'))[0];
    fs.copyFileSync(path.join(fixtures, 'benign', small), path.join(tmp, small));
    const t0 = Date.now();
    const r = await cli([tmp, '--format', 'json', '--timeout', '0.3']);
    const ms = Date.now() - t0;
    const j = JSON.parse(r.out);
    const byName = new Map(j.files.map((f: { path: string }) => [path.basename(f.path), f]));
    const bigReport = byName.get('big.safetensors') as { verdict: string; findings: Array<{ code: string; message: string }> };
    assert.equal(bigReport.verdict, 'unscannable');
    assert.deepEqual(bigReport.findings.map((f) => f.code), ['SCAN005']);
    assert.match(bigReport.findings[0].message, /0\.3 s/);
    assert.equal((byName.get(small) as { verdict: string }).verdict, 'safe');
    assert.equal(r.code, 1, 'an unscannable file fails the run');
    assert.ok(ms < 15_000, `took ${ms} ms`);
    // With the default limit the same file is scanned completely.
    const full = JSON.parse((await cli([big, '--format', 'json'])).out);
    assert.equal(full.files[0].verdict, 'safe');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('--timeout must be a positive number of seconds', async () => {
  for (const bad of ['0', '-1', 'abc', '1e9']) {
    const r = await cli([fixtures, '--timeout', bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, /--timeout must be/);
  }
});

test('the CLI process ends right after the report, with the whole report and the exit code (slow pipe reader)', { skip: !fs.existsSync(path.resolve(__dirname, '../../../dist/cli-scan.js')) && 'dist not built' }, async () => {
  const { spawn } = await import('node:child_process');
  const scanner = path.join(__dirname, '../../fixtures/scanner');
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/modelvet.js'), 'scan', '--format', 'json', scanner], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // Read slowly: the report (~200 KB) fills the pipe, so the CLI's writes wait for this reader.
  child.stdout.on('data', (d: Buffer) => { chunks.push(d); child.stdout.pause(); setTimeout(() => child.stdout.resume(), 5); });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(stderr, '');
  const j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  assert.ok(Buffer.concat(chunks).length > 128 * 1024, 'a report bigger than a pipe buffer');
  const inProcess = JSON.parse((await cli(['--format', 'json', scanner])).out);
  assert.equal(j.files.length, inProcess.files.length);
  assert.deepEqual(j.files.map((f: { verdict: string }) => f.verdict), inProcess.files.map((f: { verdict: string }) => f.verdict));
  assert.equal(code, 1, 'the malicious fixtures make the exit code 1');
});
