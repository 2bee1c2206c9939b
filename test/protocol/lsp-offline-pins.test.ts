/**
 * Issue #15 item 5, against the running server with real files: DEP002's offline pin comes from the
 * lockfile, then the installed environment (workspace .venv or $VIRTUAL_ENV outside the workspace), then
 * the local uv / pip cache — in that order, each source named in the fix — and nothing is pinned (the
 * hover says what was looked at) when no source knows the package. DEP003's "add --hash" takes digests from
 * the lockfile and from a local wheelhouse (real files hashed by the server); DEP005 pins a git ref to the
 * commit the lockfile resolved. Online features stay off throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient, applyEdits, editsFor, type DiagnosticLike } from '../helpers/lsp-client';

const TEXT = 'pandas\nrich>=13\nnumpy<2\n';
let root: string;

function write(rel: string, data = '') {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data);
}
const metadata = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'mv-pins-'));
  // The caches (outside every workspace): uv knows pandas 2.1.0 (and a pre-release that is never picked), pip knows rich and numpy.
  write('cache/uv/wheels-v5/pypi/pandas/pandas-2.1.0-cp311-cp311-manylinux_2_17_x86_64.msgpack');
  write('cache/uv/wheels-v5/pypi/pandas/pandas-3.0.0rc1-cp311-cp311-manylinux_2_17_x86_64.msgpack');
  write('cache/pip/wheels/ab/cd/ef/01/rich-13.9.4-py3-none-any.whl');
  write('cache/pip/wheels/ab/cd/ef/02/numpy-2.1.0-cp311-cp311-linux_x86_64.whl');
  write('cache/pip/wheels/ab/cd/ef/03/numpy-1.26.4-cp311-cp311-linux_x86_64.whl');
  // An active environment outside the workspaces.
  write('active-env/lib/python3.11/site-packages/pandas-2.2.1.dist-info/METADATA', metadata('pandas', '2.2.1'));
  for (const ws of ['locked', 'venv', 'cache-only', 'active', 'nothing']) {
    mkdirSync(path.join(root, ws), { recursive: true });
    write(`${ws}/requirements.txt`, TEXT);
  }
  // locked: all three sources know pandas; the lockfile wins.
  write('locked/uv.lock', 'version = 1\n[[package]]\nname = "pandas"\nversion = "2.0.3"\n');
  write('locked/.venv/lib/python3.11/site-packages/pandas-2.2.2.dist-info/METADATA', metadata('pandas', '2.2.2'));
  // venv: the workspace environment and the caches; the environment wins (also for rich, in range).
  write('venv/.venv/lib/python3.11/site-packages/pandas-2.2.2.dist-info/METADATA', metadata('pandas', '2.2.2'));
  write('venv/.venv/lib/python3.11/site-packages/rich-13.7.1.dist-info/METADATA', metadata('rich', '13.7.1'));
});
after(() => { rmSync(root, { recursive: true, force: true }); });

async function pinTitles(ws: string, env: Record<string, string> = {}): Promise<{ titles: Record<string, string | undefined>; client: LspTestClient; uri: string; diags: DiagnosticLike[] }> {
  const client = await LspTestClient.start({
    root: path.join(root, ws),
    env: { PIP_CACHE_DIR: path.join(root, 'cache/pip'), UV_CACHE_DIR: path.join(root, 'cache/uv'), XDG_CACHE_HOME: path.join(root, 'no-cache'), VIRTUAL_ENV: '', CONDA_PREFIX: '', ...env },
  });
  const uri = client.open('requirements.txt', TEXT, 'pip-requirements');
  const diags = (await client.pull(uri)).filter((d) => d.code === 'DEP002');
  assert.equal(diags.length, 3, diags.map((d) => d.message).join('\n'));
  const titles: Record<string, string | undefined> = {};
  for (const d of diags) {
    const name = TEXT.split('\n')[d.range.start.line].match(/^[a-z]+/)![0];
    titles[name] = (await client.codeActions(uri, [d])).find((a) => a.title.startsWith('Pin '))?.title;
  }
  return { titles, client, uri, diags };
}

test('lockfile first (the environment and the caches know other versions)', async () => {
  const { titles, client, uri, diags } = await pinTitles('locked');
  try {
    assert.equal(titles.pandas, "Pin 'pandas' to ==2.0.3 (from the lockfile)");
    assert.equal(titles.rich, "Pin 'rich' to ==13.9.4 (from the local pip cache)", 'not locked, not installed: the cache');
    assert.equal(titles.numpy, "Pin 'numpy' to ==1.26.4 (from the local pip cache)", 'the newest cached release inside <2');
    const pandas = diags.find((d) => d.range.start.line === 0)!;
    const pin = (await client.codeActions(uri, [pandas])).find((a) => a.title.startsWith('Pin '))!;
    assert.equal(applyEdits(TEXT, editsFor(pin, uri)).split('\n')[0], 'pandas==2.0.3');
  } finally { await client.stop(); }
});

test('then the installed environment (workspace .venv), before the caches', async () => {
  const { titles, client } = await pinTitles('venv');
  try {
    assert.equal(titles.pandas, "Pin 'pandas' to ==2.2.2 (from the environment .venv)");
    assert.equal(titles.rich, "Pin 'rich' to ==13.7.1 (from the environment .venv)");
    assert.equal(titles.numpy, "Pin 'numpy' to ==1.26.4 (from the local pip cache)");
  } finally { await client.stop(); }
});

test('$VIRTUAL_ENV outside the workspace counts as the installed environment', async () => {
  const { titles, client } = await pinTitles('active', { VIRTUAL_ENV: path.join(root, 'active-env') });
  try {
    assert.equal(titles.pandas, `Pin 'pandas' to ==2.2.1 (from the active environment ${path.join(root, 'active-env')})`);
  } finally { await client.stop(); }
});

test('then the local uv / pip cache (final releases only)', async () => {
  const { titles, client } = await pinTitles('cache-only');
  try {
    assert.equal(titles.pandas, "Pin 'pandas' to ==2.1.0 (from the local uv cache)", 'the rc is skipped');
    assert.equal(titles.rich, "Pin 'rich' to ==13.9.4 (from the local pip cache)");
  } finally { await client.stop(); }
});

test('no source: no pin fix offline, and the hover says what was looked at', async () => {
  const { titles, client, uri, diags } = await pinTitles('nothing', { PIP_CACHE_DIR: path.join(root, 'none/pip'), UV_CACHE_DIR: path.join(root, 'none/uv') });
  try {
    assert.deepEqual(titles, { pandas: undefined, rich: undefined, numpy: undefined });
    const hover = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: diags[0].range.start });
    assert.match(hover.contents.value, /no version of 'pandas' is known offline \(lockfile, active or workspace environment, pip\/uv cache\)/);
  } finally { await client.stop(); }
});

test('DEP003 offline: --hash values from the lockfile and the local wheelhouse, on the line that turns hash-checking on', async () => {
  const sha = (x: string) => createHash('sha256').update(x).digest('hex');
  const text = `numpy==1.26.4 --hash=sha256:${sha('numpy wheel')}\npandas==2.2.2\nrich==13.7.1\nattrs==23.2.0\n`;
  write('hashes/requirements.txt', text);
  write('hashes/uv.lock', `version = 1\n[[package]]\nname = "pandas"\nversion = "2.2.2"\nwheels = [{ url = "x", hash = "sha256:${sha('pandas wheel')}" }]\n`);
  write('hashes/wheels/rich-13.7.1-py3-none-any.whl', 'rich wheel bytes');
  const client = await LspTestClient.start({ root: path.join(root, 'hashes'), env: { PIP_CACHE_DIR: path.join(root, 'none/pip'), UV_CACHE_DIR: path.join(root, 'none/uv'), VIRTUAL_ENV: '', CONDA_PREFIX: '' } });
  try {
    const uri = client.open('requirements.txt', text, 'pip-requirements');
    const d3 = (await client.pull(uri)).filter((d) => d.code === 'DEP003');
    assert.equal(d3.length, 1, 'one diagnostic for hash-checking mode');
    assert.equal(d3[0].range.start.line, 0, 'on the line whose --hash turned the mode on');
    const add = (await client.codeActions(uri, d3)).find((a) => a.title.startsWith('Add --hash'))!;
    assert.equal(add?.title, 'Add --hash to 2 of the 3 unhashed requirements (from uv.lock, the local wheelhouse wheels/)');
    const lines = applyEdits(text, editsFor(add, uri)).split('\n');
    assert.equal(lines[1], `pandas==2.2.2 --hash=sha256:${sha('pandas wheel')}`);
    assert.equal(lines[2], `rich==13.7.1 --hash=sha256:${sha('rich wheel bytes')}`, 'the wheel file on disk, hashed');
    assert.equal(lines[3], 'attrs==23.2.0', 'nothing known offline: left alone');
  } finally { await client.stop(); }
});

test('DEP005 offline: the commit a lockfile resolved the git ref to', async () => {
  const commit = createHash('sha1').update('tok').digest('hex');
  const text = 'tok @ git+https://git.example.invalid/acme/tok.git@main\n';
  write('vcs/requirements.txt', text);
  write('vcs/uv.lock', `version = 1\n[[package]]\nname = "tok"\nversion = "0.1"\nsource = { git = "https://git.example.invalid/acme/tok.git?rev=main#${commit}" }\n`);
  const client = await LspTestClient.start({ root: path.join(root, 'vcs'), env: { VIRTUAL_ENV: '', CONDA_PREFIX: '' } });
  try {
    const uri = client.open('requirements.txt', text, 'pip-requirements');
    const d5 = (await client.pull(uri)).filter((d) => d.code === 'DEP005');
    assert.equal(d5.length, 1);
    const pin = (await client.codeActions(uri, d5)).find((a) => a.title.startsWith('Pin to commit'));
    assert.equal(pin?.title, `Pin to commit ${commit.slice(0, 12)} ('main' in uv.lock)`);
    assert.equal(applyEdits(text, editsFor(pin!, uri)), `tok @ git+https://git.example.invalid/acme/tok.git@${commit}\n`);
  } finally { await client.stop(); }
});
