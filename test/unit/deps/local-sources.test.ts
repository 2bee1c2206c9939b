/**
 * What ModelVet knows offline: lockfile digests and VCS commits, wheelhouse digests, pip/uv cache
 * versions, and git refs of local clones (real repositories made with the git CLI; ModelVet itself
 * only reads their files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildProjectFacts } from '../../../core/deps/index';
import { archiveNameVersion, CACHE_INDEX_TTL_MS, normalizeGitUrl, parseGitRemotes, PackageCaches, resolveGitRef, Wheelhouse } from '../../../core/deps/localSources';
import { parseLockfile } from '../../../core/deps/toml';
import { diskFileAccess } from '../../../core/workspace';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const H = (s: string) => `sha256:${sha(s)}`;

function write(root: string, rel: string, data: string | Buffer) {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), data);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', '-c', 'tag.gpgSign=false', '-c', 'commit.gpgSign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

const NO_ENV = { env: {}, cacheDirs: {} };

test('lockfiles: sha256 digests per locked release and resolved git commits (uv, poetry, Pipfile.lock, pylock)', () => {
  const c1 = 'a'.repeat(40).replace(/a/g, (_, i) => '0123456789abcdef'[i % 16]);
  const uv = parseLockfile('uv.lock', [
    'version = 1', '[[package]]', 'name = "NumPy"', 'version = "1.26.4"',
    `sdist = { url = "x", hash = "${H('np-sdist')}", size = 1 }`,
    `wheels = [{ url = "y", hash = "${H('np-whl')}", size = 2 }, { url = "z", hash = "sha512:${'1'.repeat(128)}" }]`,
    '[[package]]', 'name = "tok"', 'version = "0.1"', `source = { git = "https://git.example.invalid/acme/tok.git?rev=main#${c1}" }`,
  ].join('\n'));
  assert.ok('hashes' in uv);
  assert.deepEqual(uv.hashes.get('numpy'), { version: '1.26.4', hashes: [H('np-sdist'), H('np-whl')] }, 'sha256 only (pip --hash), normalized name');
  assert.deepEqual(uv.vcs, [{ name: 'tok', url: 'https://git.example.invalid/acme/tok.git', ref: 'main', commit: c1 }]);
  const poetry = parseLockfile('poetry.lock', `[[package]]\nname = "pandas"\nversion = "2.2.2"\nfiles = [{file = "pandas-2.2.2.tar.gz", hash = "${H('pd')}"}]\n[[package]]\nname = "lib"\nversion = "1"\n[package.source]\ntype = "git"\nurl = "https://git.example.invalid/lib.git"\nreference = "v1"\nresolved_reference = "${c1}"\n`);
  assert.ok('hashes' in poetry);
  assert.deepEqual(poetry.hashes.get('pandas')?.hashes, [H('pd')]);
  assert.deepEqual(poetry.vcs[0], { name: 'lib', url: 'https://git.example.invalid/lib.git', ref: 'v1', commit: c1 });
  const pipenv = parseLockfile('Pipfile.lock', JSON.stringify({ default: { requests: { version: '==2.31.0', hashes: [H('rq1'), 'md5:abc', H('rq2')] }, lib: { git: 'https://git.example.invalid/lib.git', ref: c1 } } }));
  assert.ok('hashes' in pipenv);
  assert.deepEqual(pipenv.hashes.get('requests'), { version: '2.31.0', hashes: [H('rq1'), H('rq2')] });
  assert.equal(pipenv.vcs[0].commit, c1);
  const pylock = parseLockfile('pylock.toml', `lock-version = "1.0"\n[[packages]]\nname = "rich"\nversion = "13.7.1"\nwheels = [{ name = "rich-13.7.1-py3-none-any.whl", hashes = { sha256 = "${sha('rich')}" } }]\n[[packages]]\nname = "lib"\nvcs = { type = "git", url = "https://git.example.invalid/lib.git", requested-revision = "main", commit-id = "${c1}" }\n`);
  assert.ok('hashes' in pylock);
  assert.deepEqual(pylock.hashes.get('rich')?.hashes, [H('rich')]);
  assert.equal(pylock.vcs[0].ref, 'main');
});

test('wheelhouse: digests of the release files of name==version, hashed on first use; names from wheel/sdist file names', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mv-wh-'));
  try {
    const whl = Buffer.from('PK\u0003\u0004 pretend wheel bytes');
    write(root, 'wheels/torch_audio-2.1.0-cp311-cp311-manylinux1_x86_64.whl', whl);
    write(root, 'wheels/torch_audio-2.1.0.tar.gz', 'sdist bytes');
    write(root, 'wheelhouse/numpy-1.26.4-cp311-cp311-linux_x86_64.whl', 'np');
    write(root, 'wheels/README.txt', 'not an archive');
    const wh = new Wheelhouse(root);
    const t = wh.hashes('torch-audio', '2.1.0');
    assert.deepEqual(t?.hashes, [`sha256:${sha(whl)}`, `sha256:${sha('sdist bytes')}`].sort());
    assert.equal(t?.source, 'the local wheelhouse wheels/');
    assert.equal(wh.hashes('numpy', '1.26.4')?.source, 'the local wheelhouse wheelhouse/');
    assert.equal(wh.hashes('numpy', '2.0.0'), undefined);
    assert.deepEqual(archiveNameVersion('scikit_learn-1.5.0-1-cp312-cp312-win_amd64.whl'), { norm: 'scikit-learn', version: '1.5.0' });
    assert.equal(archiveNameVersion('notes-v2.txt'), undefined);
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('pip/uv caches: versions per package, newest first, with the cache named', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mv-cache-'));
  try {
    write(root, 'uv/wheels-v5/pypi/pandas/pandas-2.2.2-cp311-cp311-manylinux_2_17_x86_64.msgpack', '');
    write(root, 'uv/wheels-v5/pypi/pandas/pandas-2.1.0-cp311-cp311-manylinux_2_17_x86_64.http', '');
    write(root, 'uv/wheels-v5/pypi/pandas/numpy-9.9-py3-none-any.msgpack', '');
    write(root, 'pip/wheels/ab/cd/ef/0123/tokenizers-0.19.1-cp311-cp311-linux_x86_64.whl', '');
    const caches = new PackageCaches({ uv: path.join(root, 'uv'), pip: path.join(root, 'pip') });
    assert.deepEqual(caches.cachedVersions('pandas'), { versions: ['2.2.2', '2.1.0'], source: 'the local uv cache' });
    assert.equal(caches.cachedVersions('numpy'), undefined, 'a file in another package\'s folder is not that package');
    assert.deepEqual(caches.cachedVersions('tokenizers'), { versions: ['0.19.1'], source: 'the local pip cache' });
    assert.deepEqual(new PackageCaches({}).cachedVersions('pandas'), undefined);
    // Facts are rebuilt on every manifest edit: the walk is reused until the TTL passes.
    let t = 1_000;
    const dirs = { uv: path.join(root, 'uv2') };
    write(root, 'uv2/wheels-v5/pypi/rich/rich-13.7.1-py3-none-any.msgpack', '');
    assert.deepEqual(new PackageCaches(dirs, () => t).cachedVersions('rich')?.versions, ['13.7.1']);
    write(root, 'uv2/wheels-v5/pypi/rich/rich-14.0.0-py3-none-any.msgpack', '');
    assert.deepEqual(new PackageCaches(dirs, () => t).cachedVersions('rich')?.versions, ['13.7.1'], 'reused');
    t += CACHE_INDEX_TTL_MS;
    assert.deepEqual(new PackageCaches(dirs, () => t).cachedVersions('rich')?.versions, ['14.0.0', '13.7.1'], 'walked again after the TTL');
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('git URLs compare by repository; remotes are read from .git/config', () => {
  assert.equal(normalizeGitUrl('git+https://user@Git.Example.invalid/acme/tok.git@main#egg=tok'), 'git.example.invalid/acme/tok.git@main');
  assert.equal(normalizeGitUrl('https://git.example.invalid/acme/tok.git'), normalizeGitUrl('git@git.example.invalid:acme/tok'));
  assert.equal(normalizeGitUrl('ssh://git@git.example.invalid:2222/acme/tok/'), 'git.example.invalid/acme/tok');
  assert.deepEqual([...parseGitRemotes('[core]\n\tbare = false\n[remote "origin"]\n\turl = https://git.example.invalid/a.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[remote "up"]\nurl=git@x:y/z\n')], [['origin', 'https://git.example.invalid/a.git'], ['up', 'git@x:y/z']]);
});

test('local clone: remote-tracking branch, lightweight and annotated tags (loose and packed), default branch — from .git files', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mv-git-'));
  try {
    const upstream = path.join(root, 'upstream');
    mkdirSync(upstream);
    git(upstream, 'init', '-q');
    writeFileSync(path.join(upstream, 'a.txt'), '1');
    git(upstream, 'add', 'a.txt');
    git(upstream, 'commit', '-q', '-m', 'one');
    const first = git(upstream, 'rev-parse', 'HEAD');
    git(upstream, 'tag', '-a', 'v1', '-m', 'release 1');
    git(upstream, 'tag', 'light');
    writeFileSync(path.join(upstream, 'a.txt'), '2');
    git(upstream, 'commit', '-q', '-am', 'two');
    const second = git(upstream, 'rev-parse', 'HEAD');
    const ws = path.join(root, 'ws');
    mkdirSync(ws);
    git(ws, 'clone', '-q', upstream, 'tokenizer-utils');
    const clone = path.join(ws, 'tokenizer-utils');
    const gitDir = path.join(clone, '.git');
    // A local commit that was never pushed must not be offered: remote-tracking refs only.
    writeFileSync(path.join(clone, 'a.txt'), 'local');
    git(clone, 'commit', '-q', '-am', 'local only');
    assert.equal(resolveGitRef(gitDir, 'origin', 'main'), second);
    assert.equal(resolveGitRef(gitDir, 'origin', undefined), second, 'origin/HEAD → origin/main');
    assert.equal(resolveGitRef(gitDir, 'origin', 'light'), first);
    assert.equal(resolveGitRef(gitDir, 'origin', 'v1'), first, 'annotated tag peeled to its commit');
    assert.equal(resolveGitRef(gitDir, 'origin', 'nope'), undefined);
    git(clone, 'pack-refs', '--all');
    assert.equal(resolveGitRef(gitDir, 'origin', 'v1'), first, 'packed, peeled (^) line');
    assert.equal(resolveGitRef(gitDir, 'origin', 'main'), second);
    // The clone's remote is the URL the requirement names; facts find it among the workspace's folders.
    git(clone, 'remote', 'set-url', 'origin', 'https://git.example.invalid/acme/tokenizer-utils.git');
    const facts = buildProjectFacts(ws, diskFileAccess(), NO_ENV);
    assert.deepEqual(facts.vcsCommit?.('git+https://git.example.invalid/acme/tokenizer-utils.git', 'main'), { commit: second, source: 'the local clone tokenizer-utils' });
    assert.equal(facts.vcsCommit?.('git+https://git.example.invalid/acme/other.git', 'main'), undefined);
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('facts: lockfile digests before the wheelhouse; lockfile commits before clones', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mv-facts2-'));
  try {
    const c = '1234567890abcdef1234567890abcdef12345678';
    write(root, 'uv.lock', `version = 1\n[[package]]\nname = "numpy"\nversion = "1.26.4"\nwheels = [{ url = "x", hash = "${H('np')}" }]\n[[package]]\nname = "tok"\nversion = "0.1"\nsource = { git = "https://git.example.invalid/acme/tok.git?rev=main#${c}" }\n`);
    write(root, 'wheels/numpy-1.26.4-py3-none-any.whl', 'other');
    write(root, 'wheels/rich-13.7.1-py3-none-any.whl', 'rich');
    const facts = buildProjectFacts(root, diskFileAccess(), NO_ENV);
    assert.deepEqual(facts.knownHashes?.('numpy', '1.26.4'), { hashes: [H('np')], source: 'uv.lock' });
    assert.deepEqual(facts.knownHashes?.('rich', '13.7.1'), { hashes: [H('rich')], source: 'the local wheelhouse wheels/' });
    assert.equal(facts.knownHashes?.('numpy', '2.0.0'), undefined, 'another version: the lock says nothing');
    assert.deepEqual(facts.vcsCommit?.('git+https://git.example.invalid/acme/tok', 'main'), { commit: c, source: 'uv.lock' });
    assert.equal(facts.vcsCommit?.('git+https://git.example.invalid/acme/tok', 'dev'), undefined, 'another ref');
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('facts: the active environment ($VIRTUAL_ENV) is read even outside the workspace', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mv-venv-'));
  try {
    write(root, 'env/lib/python3.11/site-packages/pandas-2.2.2.dist-info/METADATA', 'Metadata-Version: 2.1\nName: pandas\nVersion: 2.2.2\n');
    mkdirSync(path.join(root, 'ws'));
    const facts = buildProjectFacts(path.join(root, 'ws'), diskFileAccess(), { env: { VIRTUAL_ENV: path.join(root, 'env') }, cacheDirs: {} });
    assert.equal(facts.installedVersions.get('pandas'), '2.2.2');
    assert.equal(buildProjectFacts(path.join(root, 'ws'), diskFileAccess(), NO_ENV).installedVersions.size, 0);
  } finally { rmSync(root, { recursive: true, force: true }); }
});
