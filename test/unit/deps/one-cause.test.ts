/**
 * One cause, one diagnostic (issue #15): merged findings on one range, DEP009 duplicates, fixes
 * that do not create duplicates, offline pins with their source, DEP005 commit pins, whole-file
 * suppression, findings in each manifest's own words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { analyzeText } from '../../../core/analyze';
import { joinSentences, mergeSameRange } from '../../../core/merge';
import { fileSuppressedCodes, fileSuppressionEdit, suppressedCodes } from '../../../core/suppress';
import type { Finding } from '../../../core/types';
import { applyEdits, codes, ctxOf, ROOT, run, spanText } from './helpers';

const at = (file: string) => path.resolve(ROOT, file);

test('a loose pin that allows a vulnerable release is one diagnostic led by the advisory; fixes of both kept', () => {
  const text = 'transformers>=4.30\n';
  const f = analyzeText(at('requirements.txt'), text, ctxOf({ installed: { transformers: '4.48.1' } })).findings;
  assert.equal(f.length, 1, JSON.stringify(f.map((x) => x.code)));
  assert.equal(f[0].code, 'DEP007');
  assert.match(f[0].message, /^'transformers>=4\.30' allows versions affected by .*\. Also \(DEP002\): 'transformers>=4\.30' is loosely pinned/);
  assert.deepEqual((f[0].data?.also as Array<{ code: string }>).map((a) => a.code), ['DEP002']);
  assert.deepEqual(f[0].fixes.map((x) => x.title), ['Raise the lower bound: transformers>=4.48.0', "Pin 'transformers' to ==4.48.1 (from the installed environment)"]);
  // Turning one rule off (or suppressing it) leaves the other unchanged.
  const off = analyzeText(at('requirements.txt'), text, ctxOf({ config: { rules: { DEP007: 'off' } } })).findings;
  assert.deepEqual(off.map((x) => [x.code, x.message.includes('Also')]), [['DEP002', false]]);
  const sup = analyzeText(at('requirements.txt'), 'transformers>=4.30  # modelvet: ignore[DEP002]\n', ctxOf()).findings;
  assert.deepEqual(sup.map((x) => x.code), ['DEP007']);
  assert.equal(sup[0].data?.also, undefined);
});

test('mergeSameRange: severity leads, then rule order; other ranges and same-code pairs untouched', () => {
  const r = (l: number, a: number, b: number) => ({ start: { line: l, character: a }, end: { line: l, character: b } });
  const mk = (code: string, severity: Finding['severity'], range = r(0, 0, 5), message = `${code} says.`): Finding => ({ path: '/x', range, code, severity, message, fixes: [] });
  const out = mergeSameRange([mk('DEP002', 'warning'), mk('DEP006', 'error'), mk('DEP001', 'warning', r(0, 0, 4)), mk('DEP008', 'warning', r(1, 0, 1)), mk('DEP008', 'warning', r(1, 0, 1))]);
  assert.deepEqual(out.map((f) => f.code), ['DEP006', 'DEP001', 'DEP008', 'DEP008']);
  assert.equal(out[0].message, 'DEP006 says. Also (DEP002): DEP002 says.');
  assert.equal(joinSentences('can run arbitrary code.', 'it loads a downloaded file'), 'can run arbitrary code. It loads a downloaded file');
  assert.equal(joinSentences('no period', 'next'), 'no period. Next');
});

test('DEP009: duplicates (removable), different constraints (warning) and conflicts (error); markers are alternatives', () => {
  const text = 'numpy==1.26.4\nNumPy==1.26.4\nnumpy>=1.20\nnumpy==2.0.0\ntorch==2.6.0 ; python_version >= "3.9"\ntorch==2.5.1 ; python_version < "3.9"\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP009');
  assert.deepEqual(f.map((x) => [x.range.start.line, x.severity]), [[1, 'warning'], [2, 'warning'], [3, 'error']]);
  assert.match(f[0].message, /'NumPy==1\.26\.4' is already required on line 1; remove the duplicate/);
  assert.match(f[1].message, /required twice .*pip combines both/);
  assert.match(f[2].message, /'numpy==2\.0\.0' conflicts with 'numpy==1\.26\.4' on line 1: no version satisfies both/);
  assert.equal(f[2].fixes.length, 0, 'a conflict needs a decision');
  assert.deepEqual(f[0].related?.map((x) => spanText(text, x)), ['numpy==1.26.4']);
  assert.equal(applyEdits(text, f[0].fixes[0].edits), text.replace('NumPy==1.26.4\n', ''));
  assert.equal(applyEdits('a==1\na==1', codes(run('requirements', 'requirements.txt', 'a==1\na==1'), 'DEP009')[0].fixes[0].edits), 'a==1', 'last line without a newline');
});

test('DEP001: replacing a placeholder with a project the file already requires offers removing the line instead', () => {
  const text = 'sklearn\nscikit-learn==1.3.2\npytorch==2.5.1\n';
  const f = codes(run('requirements', 'requirements.txt', text), 'DEP001');
  assert.equal(f.length, 2);
  assert.equal(f[0].fixes.length, 1);
  assert.equal(f[0].fixes[0].title, "Remove 'sklearn' ('scikit-learn' is already required on line 2)");
  assert.equal(applyEdits(text, f[0].fixes[0].edits), 'scikit-learn==1.3.2\npytorch==2.5.1\n');
  assert.match(f[0].message, /already required on line 2, so remove this line/);
  assert.equal(applyEdits(text, f[1].fixes[0].edits), 'sklearn\nscikit-learn==1.3.2\ntorch==2.5.1\n', 'torch is not in the file: replace as before');
  assert.equal(codes(run('requirements', 'requirements.txt', text), 'DEP009').length, 0, 'a placeholder is another project, not a duplicate');
});

test('DEP002: offline pins in order lockfile → installed → pip/uv cache (newest final release in range), each naming its source', () => {
  const text = 'pandas\nrich>=13\nnumpy<2\n';
  const ctx = ctxOf({ installed: { rich: '13.7.1' } });
  ctx.project!.cachedVersions = (n) => (n === 'pandas' ? { versions: ['3.0.0rc1', '2.2.2', '2.1.0'], source: 'the local uv cache' } : n === 'numpy' ? { versions: ['2.1.0', '1.26.4'], source: 'the local pip cache' } : n === 'rich' ? { versions: ['14.0.0'], source: 'the local pip cache' } : undefined);
  const f = codes(run('requirements', 'requirements.txt', text, ctx), 'DEP002');
  assert.deepEqual(f.map((x) => x.fixes[0]?.title), [
    "Pin 'pandas' to ==2.2.2 (from the local uv cache)",
    "Pin 'rich' to ==13.7.1 (from the installed environment)",
    "Pin 'numpy' to ==1.26.4 (from the local pip cache)",
  ]);
  assert.equal(applyEdits(text, f.flatMap((x) => x.fixes[0].edits)), 'pandas==2.2.2\nrich==13.7.1\nnumpy==1.26.4\n');
  const locked = ctxOf({ locked: { pandas: '2.0.3' } });
  locked.project!.cachedVersions = ctx.project!.cachedVersions;
  assert.match(codes(run('requirements', 'requirements.txt', 'pandas\n', locked), 'DEP002')[0].fixes[0].title, /==2\.0\.3 \(from the lockfile\)/);
});

test('DEP005: pin to the commit known offline (lockfile or clone), replacing or inserting the ref; online only via git ls-remote', () => {
  const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
  const text = 'git+https://git.example.invalid/acme/tok.git@main#egg=tok\ntok2 @ git+https://git.example.invalid/acme/tok2.git\n';
  const ctx = ctxOf();
  const asked: Array<[string, string | undefined]> = [];
  ctx.project!.vcsCommit = (url, ref) => { asked.push([url, ref]); return { commit: sha, source: 'uv.lock' }; };
  const f = codes(run('requirements', 'requirements.txt', text, ctx), 'DEP005');
  assert.deepEqual(asked, [['git+https://git.example.invalid/acme/tok.git', 'main'], ['git+https://git.example.invalid/acme/tok2.git', undefined]]);
  assert.equal(f[0].fixes[0].title, `Pin to commit ${sha.slice(0, 12)} ('main' in uv.lock)`);
  assert.equal(applyEdits(text, [...f[0].fixes[0].edits, ...f[1].fixes[0].edits]), `git+https://git.example.invalid/acme/tok.git@${sha}#egg=tok\ntok2 @ git+https://git.example.invalid/acme/tok2.git@${sha}\n`);
  const offline = codes(run('requirements', 'requirements.txt', text), 'DEP005');
  assert.ok(offline.every((x) => x.fixes.length === 0), 'nothing known, online off: no fix');
  const online = codes(run('requirements', 'requirements.txt', text, ctxOf({ config: { online: { enabled: true, indexUrl: '', hubUrl: '' } } })), 'DEP005');
  assert.equal(online[0].fixes[0].resolve?.kind, 'vcs-commit');
  assert.deepEqual((online[0].fixes[0].resolve?.data as { url: string; ref: string }).url, 'https://git.example.invalid/acme/tok.git');
  assert.equal(online[0].fixes[0].edits.length, 0, 'the commit is asked only when the fix is picked');
  const tpl = (i: number) => (online[i].fixes[0].resolve?.data as { editTemplate: Array<{ range: { start: { line: number } } }> }).editTemplate[0].range.start.line;
  assert.deepEqual([tpl(0), tpl(1)], [0, 1], 'the edit template moves with its line (per-line cache)');
});

test('whole-file suppression: # modelvet: ignore-file[CODE] anywhere; the edit extends a list or adds a top line after a shebang/encoding', () => {
  const text = 'numpy\n# modelvet: ignore-file[DEP002]\npandas\nreqeusts==2.0\n';
  const f = analyzeText(at('requirements.txt'), text, ctxOf()).findings;
  assert.deepEqual(f.map((x) => x.code), ['DEP001']);
  assert.deepEqual([...(fileSuppressedCodes(text) as Set<string>)], ['DEP002']);
  assert.equal(suppressedCodes('# modelvet: ignore-file[DEP002]'), undefined, 'not a line suppression of everything');
  const e1 = fileSuppressionEdit(text, 'DEP001');
  assert.deepEqual(e1, { line: 1, character: 30, newText: ', DEP001' });
  assert.deepEqual(fileSuppressionEdit('#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport torch\n', 'LOAD001'), { line: 2, character: 0, newText: '# modelvet: ignore-file[LOAD001]\n' });
  assert.deepEqual(fileSuppressionEdit('numpy\r\n', 'DEP002'), { line: 0, character: 0, newText: '# modelvet: ignore-file[DEP002]\r\n' });
});

test('Pipfile and uv findings use their own words, not pip options', () => {
  const pip = run('pipfile', 'Pipfile', '[[source]]\nurl = "http://mirror.example.invalid/simple"\nverify_ssl = false\nname = "m"\n\n[packages]\nnumpy = "==1.26.4"\n');
  assert.deepEqual(pip.map((x) => x.message.split(' ').slice(0, 2).join(' ')), ['[[source]] url', "[[source]] 'm'"]);
  assert.ok(pip.every((x) => !/--index-url|--trusted-host/.test(x.message)));
  const uv = run('pyproject', 'pyproject.toml', '[project]\nname = "a"\nversion = "1"\n[[tool.uv.index]]\nname = "x"\nurl = "http://127.0.0.1/simple"\n');
  assert.match(codes(uv, 'DEP004')[0].message, /^\[\[tool\.uv\.index\]\] url uses plain http/);
});

test('pyproject: DEP009 within one dependency list (extras may repeat a project), item removal keeps the array valid', () => {
  const text = '[project]\nname = "a"\nversion = "1"\ndependencies = [\n  "numpy==1.26.4",\n  "pytorch",\n  "torch==2.6.0",\n  "numpy==2.0.0",\n  "rich", "rich",\n]\n[project.optional-dependencies]\ngpu = ["numpy==1.26.4"]\n';
  const f = run('pyproject', 'pyproject.toml', text, ctxOf({ config: { projectKind: 'application' } }));
  const d9 = codes(f, 'DEP009');
  assert.deepEqual(d9.map((x) => [x.range.start.line, x.severity]), [[7, 'error'], [8, 'warning']], 'the optional group is another list');
  assert.match(d9[0].message, /'numpy==2\.0\.0' conflicts with 'numpy==1\.26\.4' on line 5/);
  const removed = applyEdits(text, d9[1].fixes[0].edits);
  assert.match(removed, /"numpy==2\.0\.0",\n  "rich",\n\]/);
  const squat = codes(f, 'DEP001')[0];
  assert.equal(squat.fixes[0].title, "Remove 'pytorch' ('torch' is already listed on line 7)");
  assert.equal(applyEdits(text, squat.fixes[0].edits).split('\n').slice(4, 7).join('|'), '  "numpy==1.26.4",|  "torch==2.6.0",|  "numpy==2.0.0",');
});

test('conda environment: DEP009 per list (conda and pip names are separate namespaces)', () => {
  const text = 'name: x\ndependencies:\n  - numpy==1.26.4\n  - numpy==2.0.0\n  - pip\n  - pip:\n    - numpy==1.26.4\n    - rich==13.7.1\n    - rich==13.7.1\n';
  const d9 = codes(run('conda', 'environment.yml', text), 'DEP009');
  assert.deepEqual(d9.map((x) => [x.range.start.line, x.severity]), [[3, 'error'], [8, 'warning']]);
  assert.equal(applyEdits(text, d9[1].fixes[0].edits), text.replace('    - rich==13.7.1\n    - rich==13.7.1\n', '    - rich==13.7.1\n'));
});
