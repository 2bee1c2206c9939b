/**
 * Protocol tests for the language server's editor features: spawns
 * `node dist/server.js --stdio` (built by `npm test`) and talks LSP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { LspTestClient, ROOT, applyEdits, editsFor, type DiagnosticLike } from '../helpers/lsp-client';
import { converter } from '../../server/src/converter';

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const codes = (ds: DiagnosticLike[]) => ds.map((d) => d.code).sort();
const byCode = (ds: DiagnosticLike[], code: string) => ds.filter((d) => d.code === code);

const REQS = 'pytorch==2.3.0\nnumpy\n';
const LOCK = 'version = 1\n\n[[package]]\nname = "numpy"\nversion = "1.26.4"\n\n[[package]]\nname = "torch"\nversion = "2.3.0"\n';

let root: string;
let client: LspTestClient;

before(async () => {
  root = workspace({ 'uv.lock': LOCK, 'base.txt': 'requests==2.32.3\n', 'pyproject.toml': '[project]\nname = "demo"\nversion = "0.1"\n' });
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage') } });
});
after(async () => {
  await client?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('initialize advertises the negotiated capabilities', () => {
  const caps = client.initializeResult.capabilities;
  assert.equal(caps.textDocumentSync.change, 2, 'incremental sync');
  assert.equal(caps.textDocumentSync.openClose, true);
  assert.deepEqual(caps.diagnosticProvider, { identifier: 'modelvet', interFileDependencies: true, workspaceDiagnostics: false });
  assert.equal(caps.codeActionProvider.resolveProvider, true);
  assert.deepEqual(caps.codeActionProvider.codeActionKinds, ['quickfix']);
  assert.equal(caps.hoverProvider, true);
  assert.equal(caps.notebookDocumentSync.notebookSelector[0].notebook.notebookType, 'jupyter-notebook');
  assert.deepEqual(caps.notebookDocumentSync.notebookSelector[0].cells, [{ language: 'python' }]);
});

test('requirements.txt: typosquat + unpinned → diagnostics, quick-fixes applied to the text', async () => {
  const uri = client.open('requirements.txt', REQS, 'pip-requirements');
  const diags = await client.pull(uri);
  const squat = byCode(diags, 'DEP001');
  const unpinned = byCode(diags, 'DEP002');
  assert.equal(squat.length, 1, JSON.stringify(diags));
  assert.deepEqual(squat[0].range, { start: { line: 0, character: 0 }, end: { line: 0, character: 7 } });
  assert.equal(squat[0].source, 'modelvet');
  assert.ok(squat[0].codeDescription?.href.endsWith('DEP001.md'), 'codeDescription.href points at the rule page');
  assert.equal(unpinned.length, 1);
  assert.equal(unpinned[0].range.start.line, 1);

  const squatActions = await client.codeActions(uri, squat);
  const replace = squatActions.find((a) => /torch/.test(a.title) && !a.title.startsWith('Suppress'));
  assert.ok(replace, `a replace-with-torch action among ${squatActions.map((a) => a.title)}`);
  assert.equal(replace.kind, 'quickfix');
  assert.deepEqual(replace.diagnostics?.map((d) => d.code), ['DEP001']);
  assert.equal(applyEdits(REQS, editsFor(replace, uri)), 'torch==2.3.0\nnumpy\n');

  const pinActions = await client.codeActions(uri, unpinned);
  const pin = pinActions.find((a) => a.title.includes('1.26.4'));
  assert.ok(pin, `a pin-to-lockfile-version action among ${pinActions.map((a) => a.title)}`);
  assert.equal(applyEdits(REQS, editsFor(pin, uri)), 'pytorch==2.3.0\nnumpy==1.26.4\n');

  const suppress = pinActions.find((a) => a.title === 'Suppress DEP002 on this line');
  assert.ok(suppress);
  const suppressed = applyEdits(REQS, editsFor(suppress, uri));
  assert.equal(suppressed, 'pytorch==2.3.0\nnumpy  # modelvet: ignore[DEP002]\n');

  // The suppression comment really silences the rule once applied.
  client.change(uri, 2, [{ text: suppressed }]);
  assert.deepEqual(byCode(await client.pull(uri), 'DEP002'), []);
  client.close(uri);
});

test('suppress action extends an existing ignore list', async () => {
  const text = 'pytorch  # modelvet: ignore[DEP002]\n';
  const uri = client.open('requirements-dev.txt', text, 'pip-requirements');
  const squat = byCode(await client.pull(uri), 'DEP001');
  assert.equal(squat.length, 1);
  const actions = await client.codeActions(uri, squat);
  const suppress = actions.find((a) => a.title === 'Suppress DEP001 on this line');
  assert.ok(suppress);
  assert.equal(applyEdits(text, editsFor(suppress, uri)), 'pytorch  # modelvet: ignore[DEP002, DEP001]\n');
  client.close(uri);
});

test('no suppression comment is offered after a line continuation', async () => {
  const text = 'pytorch==2.3.0 \\\n    --hash=sha256:0123\n';
  const uri = client.open('requirements-cont.txt', text, 'pip-requirements');
  const squat = byCode(await client.pull(uri), 'DEP001');
  assert.equal(squat.length, 1);
  const actions = await client.codeActions(uri, squat);
  assert.equal(actions.filter((a) => /^Suppress .* on this line$/.test(a.title)).length, 0);
  assert.ok(actions.length > 0, 'the replace fix is still offered');
  assert.ok(actions.some((a) => a.title === 'Suppress DEP001 for this file'), 'a whole-file suppression goes on a line of its own');
  client.close(uri);
});

test('incremental didChange updates the diagnostics', async () => {
  const text = 'torch==2.3.0\n';
  const uri = client.open('requirements-ci.txt', text, 'pip-requirements');
  assert.deepEqual(byCode(await client.pull(uri), 'DEP001'), []);
  // Insert a typosquat on a new line with a ranged (incremental) change.
  client.change(uri, 2, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: 'reqeusts==2.32.3\n' }]);
  const after1 = await client.pull(uri);
  assert.deepEqual(byCode(after1, 'DEP001').map((d) => d.range.start.line), [1]);
  // Remove it again.
  client.change(uri, 3, [{ range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } }, text: '' }]);
  assert.deepEqual(byCode(await client.pull(uri), 'DEP001'), []);
  client.close(uri);
});

test('pull with previousResultId: unchanged results are not resent', async () => {
  const uri = client.open('requirements-rid.txt', 'pytorch==2.3.0\n', 'pip-requirements');
  const first = await client.pullReport(uri);
  assert.equal(first.kind, 'full');
  assert.ok(first.resultId);
  assert.equal((await client.pullReport(uri, first.resultId)).kind, 'unchanged');
  client.change(uri, 2, [{ text: 'torch==2.3.0\n' }]);
  const changed = await client.pullReport(uri, first.resultId);
  assert.equal(changed.kind, 'full');
  assert.notEqual(changed.resultId, first.resultId);
  assert.deepEqual(changed.items?.filter((d) => d.code === 'DEP001'), []);
  client.close(uri);
});

test('python: torch.load → LOAD001, "Add weights_only=True" applied', async () => {
  const src = 'import torch\n\nmodel = torch.load("model.pt")\n';
  const uri = client.open('train.py', src, 'python');
  const diags = await client.pull(uri);
  const load = byCode(diags, 'LOAD001');
  assert.equal(load.length, 1, JSON.stringify(diags));
  assert.equal(load[0].range.start.line, 2);
  const actions = await client.codeActions(uri, load);
  const fix = actions.find((a) => /weights_only=True/.test(a.title));
  assert.ok(fix, `actions: ${actions.map((a) => a.title)}`);
  assert.equal(fix.isPreferred, true);
  assert.equal(applyEdits(src, editsFor(fix, uri)), 'import torch\n\nmodel = torch.load("model.pt", weights_only=True)\n');
  client.close(uri);
});

test('hover on a finding explains it and links the rule page; quiet elsewhere', async () => {
  const src = 'import torch\nm = torch.load(p)\n';
  const uri = client.open('hover.py', src, 'python');
  const load = byCode(await client.pull(uri), 'LOAD001');
  assert.equal(load.length, 1);
  const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: load[0].range.start });
  assert.equal(hover.contents.kind, 'markdown');
  assert.match(hover.contents.value, /\[LOAD001 torch-load-unsafe\]\(.*LOAD001\.md\)/, 'the rule page is linked');
  assert.doesNotMatch(hover.contents.value, /unpickles the file/, 'the diagnostic message (shown above the hover) is not repeated');
  assert.ok(!hover.contents.value.includes('\n'), 'one finding, one line');
  const none = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 2 } });
  assert.equal(none, null);
  client.close(uri);
});

test('hover stays quiet on requirement names without findings', async () => {
  const uri = client.open('requirements-quiet.txt', 'torch==2.3.0\npytorch==2.3.0\n', 'pip-requirements');
  await client.pull(uri);
  assert.equal(await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 2 } }), null);
  const squat = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 2 } });
  assert.match(squat.contents.value, /DEP001/);
  client.close(uri);
});

test('a cancelled pull is answered (result or cancellation error) and the server carries on', async () => {
  const uri = client.open('requirements-cancel.txt', 'pytorch==2.3.0\n', 'pip-requirements');
  const source = new CancellationTokenSource();
  const pending = client.request('textDocument/diagnostic', { textDocument: { uri } }, source);
  source.cancel();
  await pending.then(
    (r: { kind: string }) => assert.equal(r.kind, 'full'),
    (e: { code?: number }) => assert.ok(e.code === -32800 || e.code === -32802, `code ${e.code}`),
  );
  assert.equal(byCode(await client.pull(uri), 'DEP001').length, 1);
  client.close(uri);
});

test('notebook: diagnostics on the cell URI, imports from earlier cells apply', async () => {
  const { cellUris } = client.openNotebook('analysis.ipynb', [
    { kind: 2, text: 'import torch\n' },
    { kind: 1, text: '# Load the checkpoint\n' },
    { kind: 2, text: 'state = torch.load("ckpt.pt")\n' },
  ]);
  const first = await client.pull(cellUris[0]);
  const third = await client.pull(cellUris[2]);
  assert.deepEqual(byCode(first, 'LOAD001'), []);
  const load = byCode(third, 'LOAD001');
  assert.equal(load.length, 1, JSON.stringify(third));
  assert.equal(load[0].range.start.line, 0, 'cell-relative range');
  const actions = await client.codeActions(cellUris[2], load);
  const fix = actions.find((a) => /weights_only=True/.test(a.title));
  assert.ok(fix);
  assert.ok(actions.some((a) => a.title === 'Suppress LOAD001 on this line'), 'suppression works in cells');
  assert.equal(applyEdits('state = torch.load("ckpt.pt")\n', editsFor(fix, cellUris[2])), 'state = torch.load("ckpt.pt", weights_only=True)\n');
});

test('an .ipynb opened as plain text: findings at the top with their cell and line', async () => {
  const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: ['import torch\n'] }, { cell_type: 'code', source: ['m = torch.load(p)\n'] }], metadata: {}, nbformat: 4, nbformat_minor: 5 });
  const uri = client.open('as-text.ipynb', nb, 'json');
  const load = byCode(await client.pull(uri), 'LOAD001');
  assert.equal(load.length, 1);
  assert.deepEqual(load[0].range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
  assert.match(load[0].message, /^cell 2, line 1: /);
  assert.deepEqual(await client.codeActions(uri, load), [], 'no comment edits inside notebook JSON');
  client.close(uri);
});

test('an included file changing on disk triggers a diagnostics refresh', async () => {
  const uri = client.open('requirements-prod.txt', '-r base.txt\nnumpy==1.26.4\n', 'pip-requirements');
  await client.pull(uri);
  const mark = client.mark();
  writeFileSync(path.join(root, 'base.txt'), 'reqeusts==2.32.3\n');
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: client.uri('base.txt'), type: 2 }] });
  await client.waitForRequest('workspace/diagnostic/refresh', mark);
  client.close(uri);
});

test('a lockfile change rebuilds project facts and refreshes', async () => {
  const text = 'numpy\n';
  const uri = client.open('requirements-lock.txt', text, 'pip-requirements');
  const pinTitle = async () => (await client.codeActions(uri, byCode(await client.pull(uri), 'DEP002'))).map((a) => a.title).join('|');
  assert.match(await pinTitle(), /1\.26\.4/);
  const mark = client.mark();
  writeFileSync(path.join(root, 'uv.lock'), LOCK.replace('1.26.4', '2.1.3'));
  client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: client.uri('uv.lock'), type: 2 }] });
  await client.waitForRequest('workspace/diagnostic/refresh', mark, 'refresh after lockfile change');
  assert.match(await pinTitle(), /2\.1\.3/);
  client.close(uri);
});

test('a 20 MB garbage document does not kill the server', async () => {
  const garbage = randomBytes(20 * 1024 * 1024).toString('latin1');
  const uri = client.open('requirements-garbage.txt', garbage, 'pip-requirements');
  const diags = await client.pull(uri);
  assert.ok(diags.length <= 1, `one diagnostic at most, got ${diags.length}`);
  client.close(uri);
  // Smaller garbage (no NULs) goes through the real parsers and must come back too.
  const printable = Array.from(randomBytes(200_000), (b) => String.fromCharCode(32 + (b % 95)) + (b % 17 === 0 ? '\n' : '')).join('');
  const uri2 = client.open('requirements-noise.txt', printable, 'pip-requirements');
  await client.pull(uri2);
  client.close(uri2);
  // Still answering.
  const ok = client.open('requirements-after.txt', 'pytorch\n', 'pip-requirements');
  assert.equal(byCode(await client.pull(ok), 'DEP001').length, 1);
  assert.ok(client.alive);
  client.close(ok);
});

test('a configuration change turning a rule off removes its diagnostics', async () => {
  const r = workspace({});
  const c = await LspTestClient.start({ root: r, settings: {} });
  try {
    const uri = c.open('requirements.txt', 'pytorch==2.3.0\n', 'pip-requirements');
    assert.equal(byCode(await c.pull(uri), 'DEP001').length, 1);
    let mark = c.mark();
    await c.setSettings({ rules: { DEP001: 'off' } });
    mark = await c.waitForRequest('workspace/configuration', mark);
    mark = await c.waitForRequest('workspace/diagnostic/refresh', mark, 'refresh after config change');
    assert.deepEqual(byCode(await c.pull(uri), 'DEP001'), []);
    // …and a severity override is honoured.
    await c.setSettings({ rules: { DEP001: 'hint' } });
    mark = await c.waitForRequest('workspace/configuration', mark);
    await c.waitForRequest('workspace/diagnostic/refresh', mark, 'second refresh');
    const d = byCode(await c.pull(uri), 'DEP001');
    assert.equal(d.length, 1);
    assert.equal(d[0].severity, 4);
  } finally {
    await c.stop();
    rmSync(r, { recursive: true, force: true });
  }
});

test('push fallback: a client without pull diagnostics gets publishDiagnostics', async () => {
  const r = workspace({});
  const c = await LspTestClient.start({ root: r, pull: false });
  try {
    assert.equal(c.initializeResult.capabilities.diagnosticProvider, undefined);
    const uri = c.open('requirements.txt', 'pytorch==2.3.0\n', 'pip-requirements');
    const diags = await c.waitFor(() => c.published(uri), 'publishDiagnostics');
    assert.deepEqual(codes(diags).filter((x) => x === 'DEP001'), ['DEP001']);
    c.change(uri, 2, [{ text: 'torch==2.3.0\n' }]);
    await c.waitFor(() => { const p = c.published(uri); return p && !p.some((d) => d.code === 'DEP001') ? p : undefined; }, 'cleared diagnostics');
    const nb = c.openNotebook('nb.ipynb', [{ kind: 2, text: 'import torch\ntorch.load(f)\n' }]);
    const cellDiags = await c.waitFor(() => c.published(nb.cellUris[0]), 'cell diagnostics');
    assert.deepEqual(codes(cellDiags), ['LOAD001']);
  } finally {
    await c.stop();
    rmSync(r, { recursive: true, force: true });
  }
});

test('bad requests are answered with errors or empty results, never fatal', async () => {
  const r0 = { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } };
  await assert.rejects(client.request('modelvet/scan', { paths: 'not-a-list' }), (e: { code?: number }) => e.code === -32602);
  await assert.rejects(client.request('modelvet/fileReport', {}), (e: { code?: number }) => e.code === -32602);
  const nowhere = client.uri('never-opened.txt');
  assert.deepEqual(await client.codeActions(nowhere, [{ range: r0, source: 'modelvet', code: 'DEP001', message: 'x' }]), []);
  assert.equal(await client.request('textDocument/hover', { textDocument: { uri: nowhere }, position: { line: 0, character: 0 } }), null);
  assert.deepEqual(await client.pull(nowhere), []);
  // A resolve for a kind nobody registered returns the action unchanged (no edit).
  const unresolved = await client.request('codeAction/resolve', { title: 'Pin revision', data: { uri: nowhere, kind: 'no-such-kind', data: {} } });
  assert.equal(unresolved.edit, undefined);
  assert.ok(client.alive);
  const uri = client.open('requirements-alive.txt', 'pytorch\n', 'pip-requirements');
  assert.equal(byCode(await client.pull(uri), 'DEP001').length, 1);
  client.close(uri);
});

test('project facts follow unsaved manifest edits: torch >= 2.6 in requirements downgrades LOAD001', async () => {
  const r = workspace({ 'requirements.txt': 'torch==2.3.0\n' });
  const c = await LspTestClient.start({ root: r });
  try {
    const py = c.open('load.py', 'import torch\nm = torch.load(p)\n', 'python');
    const before = byCode(await c.pull(py), 'LOAD001');
    assert.equal(before.length, 1);
    assert.equal(before[0].severity, 2, 'warning while torch < 2.6 is pinned');
    const mark = c.mark();
    const reqs = c.open('requirements.txt', 'torch==2.3.0\n', 'pip-requirements');
    c.change(reqs, 2, [{ range: { start: { line: 0, character: 7 }, end: { line: 0, character: 12 } }, text: '2.6.0' }]);
    // Re-pull on each refresh, as an editor does, until the rebuilt facts show (or the wait times out).
    let next = mark;
    let after = byCode(await c.pull(py), 'LOAD001');
    for (let i = 0; i < 5 && after[0]?.severity !== 3; i++) {
      next = await c.waitForRequest('workspace/diagnostic/refresh', next, 'refresh after the facts rebuild');
      after = byCode(await c.pull(py), 'LOAD001');
    }
    assert.equal(after.length, 1);
    assert.equal(after[0].severity, 3, 'information once torch 2.6 is pinned (unsaved edit)');
  } finally {
    await c.stop();
    rmSync(r, { recursive: true, force: true });
  }
});

test('`modelvet lsp --stdio` (the CLI entry) serves the same protocol', async () => {
  const r = workspace({});
  const c = await LspTestClient.start({ root: r, args: [path.join(ROOT, 'dist', 'cli.js'), 'lsp', '--stdio'] });
  try {
    assert.equal(c.initializeResult.serverInfo.name, 'modelvet');
    const uri = c.open('requirements.txt', 'pytorch==2.3.0\n', 'pip-requirements');
    assert.equal(byCode(await c.pull(uri), 'DEP001').length, 1);
  } finally {
    await c.stop();
    rmSync(r, { recursive: true, force: true });
  }
});

test('LOAD001 on a workspace checkpoint: "convert, then switch" is offered exactly when a converter is built in', async () => {
  const r = workspace({ 'ckpt.pt': 'not really a checkpoint' });
  const c = await LspTestClient.start({ root: r });
  try {
    const src = 'import torch\nm = torch.load("ckpt.pt")\n';
    const uri = c.open('train.py', src, 'python');
    const load = byCode(await c.pull(uri), 'LOAD001');
    assert.equal(load.length, 1);
    const actions = await c.codeActions(uri, load);
    assert.ok(actions.some((a) => /^Switch to SafeTensors/.test(a.title)), actions.map((a) => a.title).join(', '));
    const convertFirst = actions.filter((a) => /^Convert ckpt\.pt to SafeTensors/.test(a.title)) as Array<{ command?: { command: string; arguments: unknown[] } }>;
    if (!converter) {
      assert.equal(convertFirst.length, 0, 'not offered while core/convert is not wired in');
    } else {
      assert.equal(convertFirst.length, 1);
      assert.equal(convertFirst[0].command?.command, 'modelvet.server.convertAndSwitch');
      assert.equal(convertFirst[0].command?.arguments[1], path.join(r, 'ckpt.pt'));
      // Not a checkpoint: the converter refuses, the code stays as it is (no workspace/applyEdit).
      const mark = c.mark();
      const result = await c.request('workspace/executeCommand', convertFirst[0].command);
      assert.equal(result.ok, false);
      assert.equal(c.serverRequests.slice(mark).filter((x) => x.method === 'workspace/applyEdit').length, 0);
    }
  } finally {
    await c.stop();
    rmSync(r, { recursive: true, force: true });
  }
});
