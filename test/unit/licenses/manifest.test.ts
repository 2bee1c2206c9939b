/**
 * LIC001 / LIC004 on manifest lines (editor and `modelvet check`): a declared dependency installed in
 * the project's environment, checked with its METADATA license. Nothing without a policy or a library.
 * LIC005 with index answers at hand (the editor's background lookups, online features on).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeText } from '../../../core/analyze';
import { defaultConfig } from '../../../core/config';
import { diskFileAccess } from '../../../core/workspace';
import { buildProjectFacts } from '../../../core/deps/index';
import { main } from '../../../core/cli/main';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mv-licmanifest-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function project(name: string, pyproject: string): string {
  const root = path.join(tmp, name);
  const sp = path.join(root, '.venv', 'lib', 'python3.11', 'site-packages');
  for (const [dist, header] of [['agpl_pkg-2.0', 'License-Expression: AGPL-3.0-only'], ['gpl_pkg-1.0', 'Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)'], ['mit_pkg-3.0', 'License: MIT']]) {
    const [n, v] = dist.split('-');
    mkdirSync(path.join(sp, `${dist}.dist-info`), { recursive: true });
    writeFileSync(path.join(sp, `${dist}.dist-info`, 'METADATA'), `Metadata-Version: 2.4\nName: ${n.replace('_', '-')}\nVersion: ${v}\n${header}\n\n`);
  }
  writeFileSync(path.join(root, 'pyproject.toml'), pyproject);
  writeFileSync(path.join(root, 'requirements.txt'), '# agpl-pkg is reviewed\nmit-pkg==3.0\nAGPL_Pkg==2.0  # the denied one\ngpl-pkg==1.0\nnot-installed==1.0\n');
  return root;
}
function lic(root: string, file: string, licenses = { allow: [] as string[], deny: [] as string[] }, projectKind: 'auto' | 'library' | 'application' = 'auto') {
  const fs = diskFileAccess();
  const config = { ...defaultConfig(), licenses, projectKind };
  const p = path.join(root, file);
  const ctx = { config, workspaceRoot: root, fs, project: buildProjectFacts(root, fs) };
  return analyzeText(p, fs.readText(p)!, ctx).findings.filter((f) => f.code.startsWith('LIC'));
}

test('a denied installed dependency is LIC001 on the line that declares it (not in a comment); copyleft in a library is LIC004', () => {
  const root = project('app', '[project]\nname = "app"\ndependencies = ["gpl-pkg", "agpl-pkg>=2"]\n');
  const f = lic(root, 'requirements.txt', { allow: [], deny: ['AGPL-3.0-only'] });
  assert.deepEqual(f.map((x) => [x.code, x.range.start.line, x.range.start.character, x.range.end.character]), [['LIC001', 2, 0, 8]]);
  assert.match(f[0].message, /AGPL_Pkg 2\.0: license AGPL-3\.0-only is denied/);
  const p = lic(root, 'pyproject.toml', { allow: [], deny: ['AGPL-3.0-only'] });
  assert.deepEqual(p.map((x) => [x.code, x.range.start.line]), [['LIC001', 2]]);
  const allow = lic(root, 'requirements.txt', { allow: ['MIT'], deny: [] });
  assert.deepEqual(allow.map((x) => [x.code, x.range.start.line]).sort(), [['LIC001', 2], ['LIC001', 3]], 'not on the allow list: agpl and gpl; mit passes, uninstalled is not judged');
  const libFindings = lic(root, 'requirements.txt', { allow: [], deny: [] }, 'library');
  assert.deepEqual(libFindings.map((x) => [x.code, x.range.start.line]).sort(), [['LIC004', 2], ['LIC004', 3]]);
});

test('no policy and not a library: no license findings on manifests (and the environment is not read)', () => {
  const root = project('plain', '[project]\nname = "plain"\ndependencies = ["agpl-pkg"]\n');
  assert.deepEqual(lic(root, 'requirements.txt'), []);
  assert.deepEqual(lic(root, 'pyproject.toml'), []);
  // auto-detected library (build-system + name) reports copyleft without a policy.
  const libRoot = project('lib', '[build-system]\nrequires = ["hatchling"]\n[project]\nname = "lib"\ndependencies = ["gpl-pkg"]\n');
  assert.deepEqual(lic(libRoot, 'pyproject.toml').map((x) => [x.code, x.range.start.line]), [['LIC004', 4]]);
});

test('modelvet check reports it with [tool.modelvet] licenses and exits 1 on the error', async () => {
  const root = project('cli', '[project]\nname = "cli"\ndependencies = []\n[tool.modelvet]\nlicenses = { deny = ["AGPL-3.0-only"] }\n');
  const out: string[] = [];
  const io = { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { out.push(s); }, isTTY: false };
  const code = await main(['check', root], io);
  assert.match(out.join(''), /requirements\.txt:3:1: LIC001 \[error\] dependency AGPL_Pkg 2\.0/);
  assert.equal(code, 1);
});

test('LIC005 from the index answers at hand (ctx.indexLicenses): the line\'s pin, else the lock, else the installed version; nothing without answers', () => {
  const root = path.join(tmp, 'changed');
  const sp = path.join(root, '.venv', 'lib', 'python3.11', 'site-packages', 'inst_pkg-1.0.dist-info');
  mkdirSync(sp, { recursive: true });
  writeFileSync(path.join(sp, 'METADATA'), 'Metadata-Version: 2.4\nName: inst-pkg\nVersion: 1.0\nLicense-Expression: MIT\n\n');
  writeFileSync(path.join(root, 'pyproject.toml'), '[project]\nname = "app"\ndependencies = ["locked-pkg>=1", "inst-pkg", "same-pkg==3.0", "loose-pkg"]\n');
  writeFileSync(path.join(root, 'uv.lock'), 'version = 1\n\n[[package]]\nname = "locked-pkg"\nversion = "1.2.0"\n');
  const fs = diskFileAccess();
  const asked: string[] = [];
  const L = (spdx: string) => ({ raw: spdx, spdx, how: 'spdx', category: 'permissive', display: spdx }) as any;
  const answers: Record<string, any> = {
    'locked-pkg==1.2.0': { pinned: { version: '1.2.0', license: L('Apache-2.0') }, newest: { version: '2.0.0', license: L('BUSL-1.1') } },
    // The pinned version's METADATA is not on the index: the installed license of that version stands in.
    'inst-pkg==1.0': { newest: { version: '1.1', license: L('GPL-3.0-only') } },
    'same-pkg==3.0': { pinned: { version: '3.0', license: L('MIT') }, newest: { version: '3.1', license: L('MIT') } },
  };
  const p = path.join(root, 'pyproject.toml');
  const run = (withSource: boolean) => analyzeText(p, fs.readText(p)!, {
    config: defaultConfig(), workspaceRoot: root, fs, project: buildProjectFacts(root, fs),
    indexLicenses: withSource ? { known: (name: string, version: string) => { asked.push(`${name}==${version}`); return answers[`${name}==${version}`]; } } : undefined,
  }).findings.filter((f) => f.code === 'LIC005' || /LIC005/.test(f.message));
  assert.deepEqual(run(false), []);
  const f = run(true);
  assert.deepEqual(asked.sort(), ['inst-pkg==1.0', 'locked-pkg==1.2.0', 'same-pkg==3.0'], 'loose-pkg has no version to compare');
  const locked = f.find((x) => x.code === 'LIC005');
  assert.equal(locked?.message, 'dependency locked-pkg: 1.2.0 is Apache-2.0, the newest release 2.0.0 is BUSL-1.1');
  assert.deepEqual([locked?.range.start.line, locked?.range.start.character], [2, 17]);
  // One range, one diagnostic: on the unpinned inst-pkg it travels with DEP002 (merge.ts).
  const inst = f.filter((x) => x.code !== 'LIC005');
  assert.equal(inst.length, 1);
  assert.equal(inst[0].code, 'DEP002');
  assert.match(inst[0].message, /Also \(LIC005\): dependency inst-pkg: 1\.0 is MIT, the newest release 1\.1 is GPL-3\.0-only$/);
});
