/**
 * Protocol tests for issue #15 items 2, 3 and 5 on the bundled example and small workspaces:
 * one diagnostic per cause, short hovers, code actions that do not depend on how fresh the
 * client's diagnostics are, whole-file / workspace-settings suppression, and commit pins
 * (offline from a local clone; online through `git ls-remote` against a local http listener).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient, ROOT, applyEdits, editsFor, type CodeActionLike, type DiagnosticLike } from '../helpers/lsp-client';

const EXAMPLE = path.join(ROOT, 'examples', 'ml-project');
const byCode = (ds: DiagnosticLike[], code: string) => ds.filter((d) => d.code === code);
type Related = { location: { uri: string; range: DiagnosticLike['range'] }; message: string };
const relatedOf = (d: DiagnosticLike) => ((d as DiagnosticLike & { relatedInformation?: Related[] }).relatedInformation ?? []);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgSign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

let example: LspTestClient;
before(async () => { example = await LspTestClient.start({ root: EXAMPLE, initializationOptions: { clientCommands: ['modelvet.disableRuleInWorkspace'] } }); });
after(async () => { await example?.stop(); });

test('example requirements.txt: one diagnostic per cause (18 before issue #15, 12 now)', async () => {
  const text = readFileSync(path.join(EXAMPLE, 'requirements.txt'), 'utf8');
  const uri = example.open('requirements.txt', text, 'pip-requirements');
  const diags = await example.pull(uri);
  assert.equal(diags.length, 12, diags.map((d) => `${d.range.start.line + 1} ${d.code}`).join('\n'));
  const ranges = diags.map((d) => JSON.stringify(d.range));
  assert.equal(new Set(ranges).size, ranges.length, 'no two diagnostics on the same range');
  const d3 = byCode(diags, 'DEP003');
  const mode = d3.find((d) => relatedOf(d).length);
  assert.ok(mode, 'the hash-checking-mode diagnostic');
  assert.equal(mode.range.start.line, 5, 'on the line that turns hash-checking mode on');
  assert.match(mode.message, /7 requirements have no --hash/);
  assert.deepEqual(relatedOf(mode).map((r) => r.message), ['transformers', 'numpyy', 'sklearn', 'ultralytics', 'pandas', 'huggingface-hub', 'tokenizer-utils'].map((n) => `'${n}' has no --hash`), 'scikit-learn carries # modelvet: ignore[DEP003]');
  assert.ok(relatedOf(mode).every((r) => r.location.uri === uri));
  const fake = d3.find((d) => d !== mode)!;
  assert.match(fake.message, /cannot be a real file's digest/);
  const merged = diags.find((d) => d.range.start.line === 6)!;
  assert.equal(merged.code, 'DEP007', 'the vulnerable range leads, the loose pin follows');
  assert.match(merged.message, /Also \(DEP002\): 'transformers>=4\.30' is loosely pinned/);
  const mergedActions = (await example.codeActions(uri, [merged])).map((a) => a.title);
  assert.ok(mergedActions.includes('Raise the lower bound: transformers>=4.48.0'), mergedActions.join(' | '));
  assert.ok(mergedActions.includes('Suppress DEP007 and DEP002 on this line'));
  assert.ok(mergedActions.includes('Suppress DEP007 for this file') && mergedActions.includes('Suppress DEP002 for this file'));
  // The placeholder fix removes the line: scikit-learn is already required.
  const sk = diags.find((d) => d.code === 'DEP001' && d.range.start.line === 8)!;
  const acts = await example.codeActions(uri, [sk]);
  const remove = acts.find((a) => a.title.startsWith("Remove 'sklearn'"));
  assert.ok(remove, acts.map((a) => a.title).join(' | '));
  const fixed = applyEdits(text, editsFor(remove, uri));
  assert.equal(fixed.split('\n').filter((l) => /^(sklearn|scikit-learn)\b/.test(l)).length, 1, 'no duplicate requirement');
  example.close(uri);
});

test('example Pipfile: findings in Pipfile words', async () => {
  const uri = example.open('Pipfile', readFileSync(path.join(EXAMPLE, 'Pipfile'), 'utf8'), 'toml');
  const diags = await example.pull(uri);
  const d4 = byCode(diags, 'DEP004');
  assert.equal(d4.length, 2);
  assert.ok(d4.every((d) => d.message.startsWith('[[source]]') && !/--index-url|--trusted-host/.test(d.message)), d4.map((d) => d.message).join('\n'));
  const d2 = byCode(diags, 'DEP002');
  assert.equal(d2.length, 1);
  assert.match(d2[0].message, /pin it with tensorflow = "==<version>"$/, 'a Pipfile pin, not a requirements-file ==');
  example.close(uri);
});

test('hovers add to the message: one line per finding, rule link, facts the message lacks; small', async () => {
  const text = readFileSync(path.join(EXAMPLE, 'requirements.txt'), 'utf8');
  const uri = example.open('requirements.txt', text, 'pip-requirements');
  const diags = await example.pull(uri);
  const hover = async (d: DiagnosticLike) => (await example.request('textDocument/hover', { textDocument: { uri }, position: d.range.start }))?.contents?.value as string;
  const squat = diags.find((d) => d.code === 'DEP001' && d.range.start.line === 7)!;
  const h1 = await hover(squat);
  assert.match(h1, /\[DEP001 name-confusion\]\(file:.*DEP001\.md\)/);
  assert.match(h1, /'numpy' is #\d+ by downloads \(\d[\d.]* (million|billion) in 30 days, \d{4}-\d\d-\d\d\)/);
  assert.ok(!h1.includes(squat.message), 'the message is shown by the editor already');
  const merged = diags.find((d) => d.range.start.line === 6)!;
  const h2 = await hover(merged);
  assert.match(h2, /\[DEP007 vulnerable-version\]\(.*\)\*\* \+ \[DEP002 unpinned-dependency\]\(.*\)/);
  assert.match(h2, /\[CVE-2024-3568\]\(https:\/\/www\.cve\.org\/CVERecord\?id=CVE-2024-3568\)/);
  assert.match(h2, /Raise the lower bound: transformers>=4\.48\.0/);
  // Without a fix, the hover says why (what was looked at offline) instead of the rule page.
  const pandas = diags.find((d) => d.code === 'DEP002' && d.range.start.line === 10)!;
  assert.match(await hover(pandas), /Pin with ==: no version of 'pandas' is known offline \(lockfile, active or workspace environment, pip\/uv cache\)/);
  for (const d of diags) {
    const h = await hover(d);
    assert.ok(h.length < 700, `${d.code} hover is ${h.length} chars`);
    assert.ok(!/\\`/.test(h), 'rule-page markdown is not escaped twice');
  }
  example.close(uri);
});

test('code actions for a position do not depend on the client\'s diagnostics being fresh (open/edit, then ask at once)', async () => {
  const text = 'numpy==1.26.4\npandas\nreqeusts==2.31.0\n';
  const uri = example.open('requirements-race.txt', text, 'pip-requirements');
  // Right after open, before any pull: the light bulb's request carries no diagnostics yet.
  const pandasAt = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 6 } });
  const titles = (as: CodeActionLike[]) => as.map((a) => a.title);
  const first = await example.request<CodeActionLike[]>('textDocument/codeAction', { textDocument: { uri }, range: pandasAt(1), context: { diagnostics: [], only: ['quickfix'] } });
  const expected = titles(first);
  assert.ok(expected.includes('Suppress DEP002 on this line'), expected.join(' | '));
  assert.ok(expected.includes('Suppress DEP002 for this file'));
  assert.ok(expected.includes('Disable DEP002 in workspace settings'));
  const stale = byCode(await example.pull(uri), 'DEP002');
  let current = text;
  for (let v = 2; v < 12; v++) {
    // Insert a line above and ask immediately with the previous version's diagnostics (their ranges are now off by one).
    example.change(uri, v, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# x\n' }]);
    current = `# x\n${current}`;
    const line = current.split('\n').indexOf('pandas');
    const got = await example.request<CodeActionLike[]>('textDocument/codeAction', { textDocument: { uri }, range: pandasAt(line), context: { diagnostics: stale, only: ['quickfix'] } });
    assert.deepEqual(titles(got), expected, `version ${v}`);
    const suppress = got.find((a) => a.title === 'Suppress DEP002 on this line')!;
    assert.equal(applyEdits(current, editsFor(suppress, uri)).split('\n')[line], 'pandas  # modelvet: ignore[DEP002]', 'the edit is for the current text');
    assert.equal(suppress.diagnostics?.[0].range.start.line, line, 'the action names the current diagnostic');
  }
  example.close(uri);
});

test('suppress for this file and disable in workspace settings', async () => {
  const text = 'numpy\npandas\n';
  const uri = example.open('requirements-file.txt', text, 'pip-requirements');
  const d2 = byCode(await example.pull(uri), 'DEP002');
  assert.equal(d2.length, 2);
  const acts = await example.codeActions(uri, [d2[1]]);
  const file = acts.find((a) => a.title === 'Suppress DEP002 for this file')!;
  const edited = applyEdits(text, editsFor(file, uri));
  assert.equal(edited, '# modelvet: ignore-file[DEP002]\nnumpy\npandas\n');
  example.change(uri, 2, [{ text: edited }]);
  assert.deepEqual(byCode(await example.pull(uri), 'DEP002'), [], 'gone from the whole file');
  const disable = acts.find((a) => a.title === 'Disable DEP002 in workspace settings') as CodeActionLike & { command?: { command: string; arguments: unknown[] } };
  assert.deepEqual(disable.command, { title: 'Disable DEP002 in workspace settings', command: 'modelvet.disableRuleInWorkspace', arguments: ['DEP002'] });
  example.close(uri);
  // A client that did not announce the command (e.g. Neovim) is not offered it.
  const plain = await LspTestClient.start({ root: EXAMPLE });
  try {
    const u2 = plain.open('requirements-file.txt', text, 'pip-requirements');
    const a2 = await plain.codeActions(u2, byCode(await plain.pull(u2), 'DEP002'));
    assert.ok(!a2.some((a) => a.title.startsWith('Disable')), a2.map((a) => a.title).join(' | '));
    assert.ok(a2.some((a) => a.title === 'Suppress DEP002 for this file'));
  } finally { await plain.stop(); }
});

test('DEP005: commit pin offline from a local clone; online through git ls-remote (zero requests while online is off)', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mv-vcs-'));
  const requests: string[] = [];
  // A bare repository served over plain ("dumb") http by a local listener.
  const work = path.join(root, 'src-repo');
  mkdirSync(work);
  git(work, 'init', '-q');
  writeFileSync(path.join(work, 'a.txt'), '1');
  git(work, 'add', 'a.txt');
  git(work, 'commit', '-q', '-m', 'one');
  git(work, 'tag', '-a', 'v1', '-m', 'v1');
  const tagged = git(work, 'rev-parse', 'HEAD');
  writeFileSync(path.join(work, 'a.txt'), '2');
  git(work, 'commit', '-q', '-am', 'two');
  const head = git(work, 'rev-parse', 'HEAD');
  const bare = path.join(root, 'served', 'repo.git');
  mkdirSync(path.dirname(bare), { recursive: true });
  git(root, 'clone', '-q', '--bare', work, bare);
  git(bare, 'update-server-info');
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const p = path.join(root, 'served', decodeURIComponent((req.url ?? '/').replace(/\?.*$/, '')));
    if (!p.startsWith(path.join(root, 'served')) || !statSync(p, { throwIfNoEntry: false })?.isFile()) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(p).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const ws = path.join(root, 'ws');
  mkdirSync(ws);
  // A local clone of the example's tokenizer-utils, its origin the URL the requirement names.
  git(ws, 'clone', '-q', work, 'tokenizer-utils');
  git(path.join(ws, 'tokenizer-utils'), 'remote', 'set-url', 'origin', 'https://git.example.invalid/acme/tokenizer-utils.git');
  const text = `git+https://git.example.invalid/acme/tokenizer-utils.git@main#egg=tokenizer-utils\nlib @ git+http://127.0.0.1:${port}/repo.git@v1\n`;
  writeFileSync(path.join(ws, 'requirements.txt'), text);
  const client = await LspTestClient.start({ root: ws, settings: {}, initializationOptions: { workspaceTrust: { trusted: true } } });
  try {
    const uri = client.open('requirements.txt', text, 'pip-requirements');
    const d5 = byCode(await client.pull(uri), 'DEP005');
    assert.equal(d5.length, 2);
    const local = (await client.codeActions(uri, [d5[0]])).find((a) => a.title.startsWith('Pin to commit'))!;
    assert.equal(local?.title, `Pin to commit ${head.slice(0, 12)} ('main' in the local clone tokenizer-utils)`);
    assert.equal(applyEdits(text, editsFor(local, uri)).split('\n')[0], `git+https://git.example.invalid/acme/tokenizer-utils.git@${head}#egg=tokenizer-utils`);
    assert.ok(!(await client.codeActions(uri, [d5[1]])).some((a) => a.title.startsWith('Pin to')), 'offline: no network fix');
    assert.equal(requests.length, 0, 'nothing asked while online features are off');
    client.close(uri);
    // Online (trusted workspace): the fix asks the repository when it is resolved, not before.
    const m = client.mark();
    await client.setSettings({ online: { enabled: true } });
    await client.waitForRequest('workspace/configuration', m);
    const uri2 = client.open('requirements.txt', text, 'pip-requirements', 2);
    const online = byCode(await client.pull(uri2), 'DEP005');
    const pin = (await client.codeActions(uri2, [online[1]])).find((a) => a.title.startsWith('Pin to the commit'));
    assert.ok(pin, 'the online fix is offered');
    assert.equal(requests.length, 0, 'diagnostics and code actions never wait on the network');
    const resolved = await client.request<CodeActionLike>('codeAction/resolve', pin);
    assert.equal(applyEdits(text, editsFor(resolved, uri2)).split('\n')[1], `lib @ git+http://127.0.0.1:${port}/repo.git@${tagged}`, 'the annotated tag peeled to its commit');
    assert.ok(requests.some((r) => r.startsWith('/repo.git/info/refs')), requests.join(' '));
  } finally {
    await client.stop();
    server.close();
    rmSync(root, { recursive: true, force: true });
  }
});
