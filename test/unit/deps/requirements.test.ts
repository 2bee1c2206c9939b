import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { analyzeManifest } from '../../../core/deps/index';
import { applyEdits, codes, ctxOf, ROOT, run, spanText } from './helpers';

/** A real-looking digest (the sha256 of `c`): typed ones like 'aaaa…' are flagged as fake. */
const H = (c: string) => `sha256:${createHash('sha256').update(c).digest('hex')}`;

test('DEP001: placeholder, typosquat and malicious names with a name-only fix', () => {
  const text = 'pytorch[extra]==2.5.1 ; python_version >= "3.9"\nreqeusts>=2.31\ntorchtriton\nrequests==2.31.0\nmy-internal-tool==1.0\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP001');
  assert.deepEqual(f.map((x) => spanText(text, x)), ['pytorch', 'reqeusts', 'torchtriton']);
  assert.equal(f[0].data?.intended, 'torch');
  assert.equal(f[0].data?.package, 'pytorch');
  assert.match(f[0].message, /placeholder.*'torch'/);
  assert.match(f[1].message, /typosquat.*'requests'/);
  assert.equal(f[2].severity, 'error');
  const fixed = applyEdits(text, f[0].fixes[0].edits);
  assert.equal(fixed.split('\n')[0], 'torch[extra]==2.5.1 ; python_version >= "3.9"');
});

test('DEP002: unpinned and loose requirements; pin fix from lockfile, then installed env, never guessed', () => {
  const text = 'numpy\npandas>=2.0\nscipy==1.13.1\ntorch~=2.6\nflask===3.0.0\nrich[jupyter]\n';
  const plain = codes(run('requirements', 'requirements.txt', text), 'DEP002');
  assert.deepEqual(plain.map((x) => spanText(text, x)), ['numpy', '>=2.0', '~=2.6', 'rich']);
  assert.ok(plain.every((x) => x.fixes.length === 0), 'no version known offline: no fix');
  const ctx = ctxOf({ locked: { numpy: '1.26.4', pandas: '2.2.2', rich: '13.7.1' }, installed: { torch: '2.6.0+cu121', numpy: '2.0.0' } });
  const withFacts = codes(run('requirements', 'requirements.txt', text, ctx), 'DEP002');
  const edits = withFacts.flatMap((x) => x.fixes.flatMap((fx) => fx.edits));
  assert.equal(applyEdits(text, edits), 'numpy==1.26.4\npandas==2.2.2\nscipy==1.13.1\ntorch==2.6.0+cu121\nflask===3.0.0\nrich[jupyter]==13.7.1\n');
  assert.match(withFacts[0].fixes[0].title, /lockfile/);
});

test('DEP002: a locked version outside the range is not offered', () => {
  const ctx = ctxOf({ locked: { pandas: '1.5.0' } });
  const f = codes(run('requirements', 'requirements.txt', 'pandas>=2.0\n', ctx), 'DEP002');
  assert.equal(f.length, 1);
  assert.equal(f[0].fixes.length, 0);
});

test('DEP003: hash-checking mode is one finding on the line that turned it on, unhashed lines as related information', () => {
  const text = `numpy==1.26.4 \\\n    --hash=${H('a')} \\\n    --hash=${H('b')}\npandas==2.2.2\n-e ./local\ntorch==2.6.0  # modelvet: ignore[DEP003]\nscipy==1.13.1\n`;
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP003');
  assert.equal(f.length, 1, JSON.stringify(f));
  assert.equal(f[0].range.start.line, 0, 'on the hashed line');
  assert.equal(f[0].severity, 'error');
  assert.match(f[0].message, /hash-checking mode \(line 1 has --hash\).*2 requirements have no --hash \(pandas, scipy\)/);
  assert.deepEqual(f[0].related?.map((r) => spanText(text, r)), ['pandas==2.2.2', 'scipy==1.13.1'], 'the suppressed and the editable line are left out');
  assert.equal(codes(run('requirements', 'requirements.txt', 'numpy==1.26.4\npandas==2.2.2\n'), 'DEP003').length, 0);
  // Without known digests the only fix leaves hash-checking mode.
  assert.deepEqual(f[0].fixes.map((x) => x.title), ['Remove the --hash options (leave hash-checking mode)']);
  assert.equal(applyEdits(text, f[0].fixes[0].edits).split('\n')[0], 'numpy==1.26.4', 'the hashes and their line continuations are gone');
});

test('DEP003: --require-hashes is the reported line; the fix adds digests known offline and says where from', () => {
  const text = '--require-hashes\nnumpy==1.26.4\npandas==2.2.2  # data\nrich\n';
  const none = codes(run('requirements', 'requirements.txt', text), 'DEP003');
  assert.equal(none.length, 1);
  assert.equal(spanText(text, none[0]), '--require-hashes');
  assert.equal(none[0].fixes.length, 0, 'nothing known, and the option is not a --hash to remove');
  const ctx = ctxOf();
  ctx.project!.knownHashes = (name, version) => ({ numpy: { v: '1.26.4', h: [H('n1'), H('n2')] }, pandas: { v: '2.2.2', h: [H('p')] } } as Record<string, { v: string; h: string[] }>)[name]?.v === version
    ? { hashes: ({ numpy: [H('n1'), H('n2')], pandas: [H('p')] } as Record<string, string[]>)[name], source: 'uv.lock' } : undefined;
  const f = codes(run('requirements', 'requirements.txt', text, ctx), 'DEP003');
  assert.equal(f.length, 1);
  const add = f[0].fixes[0];
  assert.equal(add.title, 'Add --hash to 2 of the 3 unhashed requirements (from uv.lock)', 'rich is not pinned: no digest can be known');
  assert.equal(add.isPreferred, false);
  assert.equal(applyEdits(text, add.edits), `--require-hashes\nnumpy==1.26.4 --hash=${H('n1')} --hash=${H('n2')}\npandas==2.2.2 --hash=${H('p')}  # data\nrich\n`);
  const all = codes(run('requirements', 'requirements.txt', text.replace('rich\n', ''), ctx), 'DEP003');
  assert.equal(all[0].fixes[0].title, 'Add --hash to all 2 unhashed requirements (from uv.lock)');
  assert.equal(all[0].fixes[0].isPreferred, true);
});

test('DEP003: digests that cannot be real (length, hex, typed patterns) are flagged; real ones are not', () => {
  const text = [
    `a==1.0 --hash=sha256:${'0'.repeat(63)}1`,
    `b==1.0 --hash=sha256:${'0123456789abcdef'.repeat(4)}`,
    `c==1.0 --hash=sha256:${'1234567'.repeat(10).slice(0, 64)}`,
    `d==1.0 --hash=sha256:${H('d').slice(7, 70)}`,
    `e==1.0 --hash=sha256:${H('e').slice(7, 70)}z`,
    `f==1.0 --hash=md5:${'1'.repeat(32)}`,
    `g==1.0 --hash=${H('g')}`,
  ].join('\n') + '\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP003').filter((x) => !x.related);
  assert.deepEqual(f.map((x) => x.range.start.line), [0, 1, 2, 3, 4, 5]);
  assert.match(f[0].message, /63 of its 64 digits are '0'/);
  assert.match(f[1].message, /pattern '0123456789abcdef' repeated/);
  assert.match(f[2].message, /only 7 distinct digits/);
  assert.match(f[3].message, /63 hex digits instead of 64/);
  assert.match(f[4].message, /not hex digits/);
  assert.match(f[5].message, /'md5' is not a hash pip accepts/);
  assert.ok(f.every((x) => x.severity === 'error'));
});

test('DEP003: requireHashes reports every unhashed line; hashed but unpinned is an error', () => {
  const ctx = ctxOf({ config: { requireHashes: true } });
  const f = codes(run('requirements', 'requirements.txt', 'numpy==1.26.4\npandas==2.2.2\n', ctx), 'DEP003');
  assert.equal(f.length, 2);
  assert.ok(f.every((x) => x.severity === 'warning'));
  const withLock = ctxOf({ config: { requireHashes: true } });
  withLock.project!.knownHashes = (n, v) => (n === 'pandas' && v === '2.2.2' ? { hashes: [H('pd')], source: 'poetry.lock' } : undefined);
  const g0 = codes(run('requirements', 'requirements.txt', 'numpy==1.26.4\npandas==2.2.2  # x\n', withLock), 'DEP003');
  assert.deepEqual(g0.map((x) => x.fixes.map((fx) => fx.title)), [[], ['Add --hash for pandas==2.2.2 (from poetry.lock)']]);
  assert.equal(applyEdits('numpy==1.26.4\npandas==2.2.2  # x\n', g0[1].fixes[0].edits), `numpy==1.26.4\npandas==2.2.2 --hash=${H('pd')}  # x\n`, 'the per-line cache moved the edit to line 2');
  const g = codes(run('requirements', 'requirements.txt', `numpy>=1 --hash=${H('c')}\n`), 'DEP003');
  assert.equal(g.length, 1, JSON.stringify(g));
  assert.match(g[0].message, /no == pin/);
});

test('DEP003: hash mode inherited from an included file', () => {
  const ctx = ctxOf({ files: { 'base.txt': `six==1.16.0 --hash=${H('d')}\n` } });
  const f = codes(run('requirements', 'requirements.txt', '-r base.txt\nrequests==2.31.0\n', ctx), 'DEP003');
  assert.equal(f.length, 1);
  assert.match(f[0].message, /included 'base.txt'/);
});

test('DEP004: extra index, trusted host, plain http index and find-links', () => {
  const text = '--extra-index-url https://example.invalid/simple\n--trusted-host example.invalid\n-i http://127.0.0.1/simple\n--index-url=https://127.0.0.1/simple\n-f http://127.0.0.1/wheels\n--find-links ./wheels\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP004');
  assert.deepEqual(f.map((x) => x.range.start.line), [0, 1, 2, 4]);
  assert.match(f[0].message, /dependency confusion/);
  assert.match(f[0].message, /example\.invalid/);
  assert.equal(f[2].severity, 'error');
  assert.match(f[3].message, /plain http \(127\.0\.0\.1\)/);
});

test('DEP005: VCS refs and archive URLs', () => {
  const sha = '0123456789abcdef0123456789abcdef01234567';
  const text = [
    'a @ git+https://example.invalid/o/a@main',
    `b @ git+https://example.invalid/o/b@${sha}`,
    '-e git+https://example.invalid/o/c.git#egg=c',
    'https://example.invalid/d-1.0.tar.gz',
    'https://example.invalid/e-1.0.tar.gz#sha256=' + 'f'.repeat(64),
    `f @ https://example.invalid/f-2.0-py3-none-any.whl --hash=${H('e')}`,
    'g @ http://127.0.0.1/g-1.0.zip',
    './vendor/h',
    '-e .',
  ].join('\n');
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP005');
  assert.deepEqual(f.map((x) => x.range.start.line), [0, 2, 3, 6]);
  assert.match(f[0].message, /ref 'main'/);
  assert.match(f[0].message, /example\.invalid/);
  assert.match(f[1].message, /no ref/);
  assert.match(f[2].message, /'d'.*no hash/);
  assert.equal(f[3].severity, 'error');
  assert.equal(f[3].data?.host, '127.0.0.1');
});

test('DEP006: compromised release pinned, allowed by a range, clean release, malicious package', () => {
  const text = 'ultralytics==8.3.41\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP006');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'error');
  assert.equal(spanText(text, f[0]), '==8.3.41');
  assert.equal(applyEdits(text, f[0].fixes[0].edits), 'ultralytics==8.3.47\n');
  const r = codes(run('requirements', 'requirements.txt', 'ultralytics>=8.3.40,<8.4\n'), 'DEP006');
  assert.equal(r.length, 1);
  assert.equal(r[0].severity, 'warning');
  assert.match(r[0].message, /8\.3\.41, 8\.3\.42, 8\.3\.45, 8\.3\.46/);
  assert.equal(codes(run('requirements', 'requirements.txt', 'ultralytics==8.3.47\nultralytics>=8.3.47\n'), 'DEP006').length, 0);
  const m = codes(run('requirements', 'requirements.txt', 'deepseeek==0.1\n'), 'DEP006');
  assert.equal(m.length, 1);
  assert.match(m[0].message, /malicious/);
  const locked = codes(run('requirements', 'requirements.txt', 'ultralytics\n', ctxOf({ locked: { ultralytics: '8.3.45' } })), 'DEP006');
  assert.match(locked[0].message, /locked at 8\.3\.45/);
});

test('DEP007: pins vs allows, PEP 440 ranges, fix raises the bound', () => {
  const text = 'torch==2.5.1\ntorch>=1.10,<3\ntorch>=2.6\ntransformers==4.48.0\nkeras>=3.11,<3.11.2\njoblib~=1.1.0\nonnx\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP007');
  assert.deepEqual(f.map((x) => x.range.start.line), [0, 1, 4, 5]);
  assert.equal(f[0].severity, 'error');
  assert.match(f[0].message, /pins 2\.5\.1.*CVE-2025-32434/);
  assert.equal(f[1].severity, 'warning');
  assert.match(f[1].message, /allows versions/);
  assert.match(f[2].message, /CVE-2025-49655/);
  const fixed = applyEdits(text, f.flatMap((x) => x.fixes[0].edits));
  assert.equal(fixed, 'torch==2.6.0\ntorch>=2.6.0,<3\ntorch>=2.6\ntransformers==4.48.0\nkeras>=3.11.3\njoblib>=1.2.0\nonnx\n');
});

test('DEP007: pre-release and local versions survive the fix untouched', () => {
  const text = 'torch==2.6.0rc1+cu121\nkeras==3.0.0b1\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP007');
  assert.equal(f.length, 1, 'torch 2.6.0rc1 orders below 2.6.0 (affected); keras 3.0.0b1 orders below 3.0.0 (outside >=3.0.0)');
  assert.equal(f[0].data?.version, '2.6.0rc1+cu121');
  assert.equal(applyEdits(text, f[0].fixes[0].edits), 'torch==2.6.0\nkeras==3.0.0b1\n');
  const g = run('requirements', 'requirements.txt', 'pkg==5.1b1\n', ctxOf());
  assert.equal(g.length, 0);
  const pin = codes(run('requirements', 'requirements.txt', 'pkg>=5\n', ctxOf({ locked: { pkg: '5.1b1' } })), 'DEP002');
  assert.equal(applyEdits('pkg>=5\n', pin[0].fixes[0].edits), 'pkg==5.1b1\n');
});

test('DEP008: one diagnostic at the error, rest analyzed', () => {
  const text = 'numpy==1.26.4\nfoo==1.0.\n--bogus-option\nbar ==1 extra\nreqeusts==2.0\n';
  const all = run('requirements', 'requirements.txt', text);
  const e = codes(all, 'DEP008');
  assert.deepEqual(e.map((x) => spanText(text, x)), ['1.0.', '--bogus-option', 'extra']);
  assert.equal(codes(all, 'DEP001').length, 1, 'lines after errors are still analyzed');
});

test('DEP008: binary, oversized and overlong input give one finding and no crash', () => {
  assert.match(run('requirements', 'requirements.txt', 'numpy\u0000\u0001garbage')[0].message, /binary/);
  const big = 'numpy==1.0\n'.repeat(800_000);
  const t0 = Date.now();
  const r = run('requirements', 'requirements.txt', big);
  assert.equal(r.length, 1);
  assert.match(r[0].message, /larger than/);
  assert.ok(Date.now() - t0 < 2000);
  const long = run('requirements', 'requirements.txt', 'a'.repeat(200_000) + '\nreqeusts\n');
  assert.ok(long.some((x) => /longer than/.test(x.message)));
  assert.ok(long.some((x) => x.code === 'DEP001'));
});

test('includes: dependsOn, missing, outside the workspace, cycles, self-include', () => {
  const files = {
    'requirements.txt': '-r base.txt\n-c constraints.txt\n-r missing.txt\n-r ../../outside.txt\n',
    'base.txt': '-r more/extra.txt\n',
    'more/extra.txt': '-r ../requirements.txt\n',
    'constraints.txt': 'numpy==1.26.4\n',
    'self.txt': '-r self.txt\n',
  };
  const ctx = ctxOf({ files });
  const res = analyzeManifest('requirements', path.join(ROOT, 'requirements.txt'), files['requirements.txt'], ctx);
  assert.deepEqual(res.dependsOn.map((p) => path.relative(ROOT, p)).sort(), ['base.txt', 'constraints.txt', 'more/extra.txt']);
  const msgs = codes(res.findings, 'DEP008').map((f) => `${f.range.start.line}:${f.message}`);
  assert.ok(msgs.some((m) => m.startsWith('0:include cycle: requirements.txt → base.txt → more/extra.txt → requirements.txt')), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.startsWith("2:included file 'missing.txt' does not exist")));
  assert.ok(msgs.some((m) => m.startsWith('3:') && /outside the workspace; not followed/.test(m)));
  const self = run('requirements', 'self.txt', files['self.txt'], ctx);
  assert.match(self[0].message, /includes itself/);
});

test('comments, env vars and options are not requirements', () => {
  const text = '# a comment\n--pre\n--index-url ${PIP_INDEX_URL}\nnumpy==1.26.4  # trailing comment\n${PKG}==${VERSION}\nurl#notacomment==1\n';
  const all = run('requirements', 'requirements.txt', text);
  assert.deepEqual(all.map((f) => f.code), ['DEP008']);
  assert.equal(spanText(text, all[0]), '#');
  assert.match(all[0].message, /invalid character '#'/);
});

test('cancellation stops a long analysis early', () => {
  const text = 'pandas\n'.repeat(3000);
  const full = codes(run('requirements', 'requirements.txt', text), 'DEP002').length;
  const ctx = { ...ctxOf(), isCancelled: () => true };
  const partial = run('requirements', 'requirements.txt', text, ctx).length;
  assert.equal(full, 3000);
  assert.ok(partial < full, `${partial} < ${full}`);
});

test('pip-compile inputs (.in): ranges are hints, other rules unchanged', () => {
  const text = 'pandas>=2\ntorch==2.5.1\nreqeusts\n';
  const f = run('requirements', 'requirements.in', text);
  const d2 = codes(f, 'DEP002');
  assert.deepEqual(d2.map((x) => x.severity), ['hint', 'hint']);
  assert.match(d2[0].message, /pip-compile input/);
  assert.equal(codes(f, 'DEP007').length, 1);
  assert.equal(codes(f, 'DEP001').length, 1);
});
