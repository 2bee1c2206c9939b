/**
 * The server's own building blocks, tested directly (no process): settings
 * mapping, the model-file walk, the persistent scan cache, report diagnostics,
 * and the fix-resolver registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { settingsFromRaw, MAX_SCAN_WORKERS } from '../../server/src/settings';
import { collectModelFiles, inIgnoredFolder, isModelPath } from '../../server/src/modelFiles';
import { ScanCache } from '../../server/src/scanCache';
import { reportDiagnostics, mainFinding } from '../../server/src/scanService';
import { getFixResolver, registerFixResolver } from '../../server/src/fixResolvers';
import type { FileReport } from '../../core/scan/types';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'modelvet-server-parts-'));

test('settings: VS Code modelvet.* values map onto ModelVetConfig and scan knobs', () => {
  const s = settingsFromRaw({
    rules: { dep001: 'off', LOAD001: 'error', DEP002: 'bogus' },
    requireHashes: true,
    projectKind: 'library',
    online: { enabled: true, indexUrl: 'http://127.0.0.1:9/simple', hubUrl: 'http://127.0.0.1:9' },
    osvDbPaths: ['/data/osv.zip', 3],
    scan: { weights: false, autoScan: false, workers: 99 },
    trace: { server: 'verbose' },
  }, { trusted: true, userScopeInConfiguration: false });
  assert.deepEqual(s.config.rules, { DEP001: 'off', LOAD001: 'error' });
  assert.equal(s.config.requireHashes, true);
  assert.equal(s.config.projectKind, 'library');
  assert.deepEqual(s.config.online, { enabled: true, indexUrl: 'http://127.0.0.1:9/simple', hubUrl: 'http://127.0.0.1:9' });
  assert.deepEqual(s.config.osvDbPaths, ['/data/osv.zip']);
  assert.equal(s.config.scan.weights, false);
  assert.equal(s.autoScan, false);
  assert.equal(s.scanWorkers, MAX_SCAN_WORKERS);
  const d = settingsFromRaw(undefined);
  assert.equal(d.config.online.enabled, false, 'offline by default');
  assert.equal(d.autoScan, true);
  assert.equal(d.scanWorkers, 1);
  assert.equal(settingsFromRaw({ scan: { workers: 0 } }).scanWorkers, 1);
});

test('model-file walk: extensions, sniffed renamed pickles, ignored folders, explicit files', async () => {
  const root = tmp();
  try {
    mkdirSync(path.join(root, 'ckpt'));
    mkdirSync(path.join(root, 'node_modules', 'x'), { recursive: true });
    writeFileSync(path.join(root, 'ckpt', 'model.safetensors'), 'x');
    writeFileSync(path.join(root, 'ckpt', 'renamed.dat'), Buffer.from([0x80, 0x04, 0x95]));
    writeFileSync(path.join(root, 'ckpt', 'notes.dat'), 'plain text');
    writeFileSync(path.join(root, 'ckpt', 'train.py'), 'print(1)');
    writeFileSync(path.join(root, 'node_modules', 'x', 'bad.pkl'), 'x');
    const explicit = path.join(root, 'ckpt', 'train.py');
    const walk = await collectModelFiles([root, explicit]);
    assert.deepEqual(walk.files.map((f) => path.relative(root, f)).sort(), ['ckpt/model.safetensors', 'ckpt/renamed.dat', 'ckpt/train.py']);
    assert.ok(walk.dirs.some(([d, names]) => d === path.join(root, 'ckpt') && names.includes('notes.dat')));
    assert.equal(walk.truncated, false);
    assert.equal((await collectModelFiles([path.join(root, 'missing')])).errors.length, 1);
    assert.equal(isModelPath('/a/b/pytorch_model.BIN'), true);
    assert.equal(isModelPath('/a/b/requirements.txt'), false);
    assert.equal(inIgnoredFolder('/proj/.venv/lib/python3.11/site-packages/x/model.bin'), true);
    assert.equal(inIgnoredFolder('/proj/node_modules/pkg/w.pt'), true);
    assert.equal(inIgnoredFolder('/proj/checkpoints/venvless/model.pt'), false);
    assert.equal(inIgnoredFolder('/proj/dist/model.pt'), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

function report(p: string, verdict: FileReport['verdict'], sha = 'a'.repeat(64)): FileReport {
  return {
    path: p, format: 'pickle', verdict, globals: [], sha256: sha, size: 3,
    findings: verdict === 'safe' ? [] : [
      { code: 'PKL002', severity: 'medium', message: 'unknown global', location: {} },
      { code: 'PKL001', severity: 'critical', message: 'calls os.system', location: {} },
    ],
  };
}

test('scan cache: stamp shortcut, sha256 lookup, persistence, engine-version invalidation', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'm.pkl');
    writeFileSync(file, 'abc');
    const c1 = new ScanCache('1', path.join(dir, 'store'));
    const st = { size: 3, mtimeMs: 0, sha256: 'f'.repeat(64) };
    st.mtimeMs = statSync(file).mtimeMs;
    c1.remember(file, st, report(file, 'malicious', st.sha256));
    assert.equal(c1.byStamp(file)?.verdict, 'malicious');
    assert.equal(c1.bySha(st.sha256, '/elsewhere.pkl')?.path, '/elsewhere.pkl');
    c1.save();

    const c2 = new ScanCache('1', path.join(dir, 'store'));
    c2.load();
    assert.equal(c2.byStamp(file)?.verdict, 'malicious', 'survives a reload');
    assert.deepEqual(c2.knownPaths(), [file]);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(c2.byStamp(file), undefined, 'a changed mtime defeats the shortcut');
    assert.equal(c2.bySha(st.sha256, file)?.verdict, 'malicious', 'content lookup still works');

    const c3 = new ScanCache('2', path.join(dir, 'store'));
    c3.load();
    assert.equal(c3.bySha(st.sha256, file), undefined, 'another engine version starts empty');

    writeFileSync(path.join(dir, 'store', 'scan-cache.json'), '{not json');
    const c4 = new ScanCache('1', path.join(dir, 'store'));
    c4.load();
    assert.deepEqual(c4.knownPaths(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report diagnostics: verdict severity, main reason, nothing for safe files', () => {
  const href = (code: string) => `file:///docs/${code}.md`;
  const bad = report('/m.pkl', 'malicious');
  assert.equal(mainFinding(bad)?.code, 'PKL001');
  const [d] = reportDiagnostics(bad, href);
  assert.equal(d.severity, 1);
  assert.equal(d.code, 'PKL001');
  assert.equal(d.message, 'Unsafe to load: calls os.system (+1 more finding in the scan report)', 'no dangerous global recorded: the finding, without scanner verdict words');
  const withGlobal = reportDiagnostics({ ...bad, globals: [{ module: 'posix', name: 'system', status: 'dangerous' }], findings: [{ code: 'PKL001', severity: 'critical', message: 'dangerous global posix.system (STACK_GLOBAL): runs code', location: {} }] }, href)[0];
  assert.equal(withGlobal.message, "Unsafe to load: unpickling this file (torch.load, pickle.load, joblib.load) would run a shell command — it calls posix.system. Do not load it; open it in ModelVet's report");
  assert.doesNotMatch(withGlobal.message, /GLOBAL|malicious:/);
  const sus = reportDiagnostics({ ...bad, verdict: 'suspicious', findings: [{ code: 'PKL002', severity: 'medium', message: 'global foo.bar is not on the allowlist (GLOBAL)', location: {} }] }, href)[0];
  assert.equal(sus.message, 'Review before loading: loading it imports foo.bar, which is not on the allowlist of known-safe classes and functions');
  assert.equal(d.codeDescription?.href, 'file:///docs/PKL001.md');
  assert.deepEqual(d.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
  assert.equal(reportDiagnostics({ ...bad, verdict: 'suspicious' }, href)[0].severity, 2);
  assert.equal(reportDiagnostics({ ...bad, verdict: 'unscannable' }, href)[0].severity, 2);
  assert.deepEqual(reportDiagnostics(report('/ok.pkl', 'safe'), href), []);
});

test('fix resolvers: register, look up, unregister', async () => {
  const off = registerFixResolver('test-kind', async (data) => [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: String(data) }]);
  const r = getFixResolver('test-kind');
  assert.ok(r);
  const edits = await r!('x', { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) });
  assert.equal(edits?.[0].newText, 'x');
  off();
  assert.equal(getFixResolver('test-kind'), undefined);
});
