import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expressionCategory, normalizeLicense } from '../../../core/licenses/spdx';
import { licenseFromHeaders, parseMetadataHeaders, readInstalledLicenses, MAX_METADATA_HEADER_BYTES } from '../../../core/licenses/installed';
import { evaluatePolicy } from '../../../core/licenses/policy';
import { buildLicenseTable, projectIsLibrary } from '../../../core/licenses/table';
import { licenseFindings } from '../../../core/licenses/rules';
import { parseLockedPackages } from '../../../core/licenses/lockfiles';
import { main } from '../../../core/cli/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEBIAN = path.join(ROOT, 'test', 'fixtures', 'licenses', 'debian');
const expected: Record<string, { entry: string; version: string; license: string | null; license_expression: string | null; classifiers: string[] }> =
  JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'licenses', 'expected.json'), 'utf8'));

test('SPDX normalization of messy strings', () => {
  const cases: Array<[string, string | undefined, string]> = [
    // [input, SPDX expression or undefined, how]
    ['MIT', 'MIT', 'exact'], ['mit', 'MIT', 'exact'], ['apache-2.0', 'Apache-2.0', 'exact'], ['Apache-2.0 OR MIT', 'Apache-2.0 OR MIT', 'exact'],
    ['MIT License', 'MIT', 'corrected'], ['Apache 2.0', 'Apache-2.0', 'corrected'], ['Apache License, Version 2.0', 'Apache-2.0', 'corrected'],
    ['Apache Software License', 'Apache-2.0', 'corrected'], ['BSD 3-Clause', 'BSD-3-Clause', 'corrected'], ['new BSD', 'BSD-3-Clause', 'corrected'],
    ['BSD-3', 'BSD-3-Clause', 'corrected'], ['MPL 2.0', 'MPL-2.0', 'corrected'], ['Mozilla Public License 2.0 (MPL 2.0)', 'MPL-2.0', 'corrected'],
    ['Python Software Foundation License', 'PSF-2.0', 'corrected'], ['ISC License (ISCL)', 'ISC', 'corrected'],
    ['Historical Permission Notice and Disclaimer (HPND)', 'HPND', 'corrected'], // spdx-correct alone says CAL-1.0
    ['GNU Lesser General Public License v2 or later (LGPLv2+)', 'LGPL-2.0-or-later', 'corrected'], // spdx-correct alone says GPL-2.0-only
    ['GNU General Public License v3 (GPLv3)', 'GPL-3.0-only', 'corrected'], ['Eclipse Public License 2.0 (EPL-2.0)', 'EPL-2.0', 'corrected'],
    ['Zero-Clause BSD (0BSD)', '0BSD', 'corrected'], ['gpl-3.0', 'GPL-3.0', 'exact'], ['cc-by-nc-4.0', 'CC-BY-NC-4.0', 'exact'],
    ['BSD', undefined, 'ambiguous'], ['BSD License', undefined, 'ambiguous'], ['LGPL', undefined, 'ambiguous'], ['GNU General Public License (GPL)', undefined, 'ambiguous'],
    ['UNKNOWN', undefined, 'unknown'], ['', undefined, 'unknown'], ['Dual License', undefined, 'unknown'], ['see LICENSE file', undefined, 'unknown'],
  ];
  for (const [input, spdx, how] of cases) {
    const n = normalizeLicense(input);
    assert.equal(n.spdx, spdx, `${input} → ${n.spdx}`);
    assert.equal(n.how, how, `${input}: ${n.how}`);
  }
  // Whole license texts are judged by their first meaningful line, never crash.
  assert.equal(normalizeLicense('Apache License\n  Version 2.0, January 2004\n' + 'x'.repeat(100_000)).spdx, 'Apache-2.0');
  assert.equal(normalizeLicense('\u0000\u0001garbage'.repeat(1000)).how, 'unknown');
});

test('Hub licenses that are not SPDX: ids and categories', () => {
  for (const [id, cat] of [['llama3', 'restricted'], ['llama3.1', 'restricted'], ['llama2', 'restricted'], ['gemma', 'restricted'], ['openrail', 'restricted'], ['openrail++', 'restricted'],
    ['creativeml-openrail-m', 'restricted'], ['deepfloyd-if-license', 'noncommercial'], ['fair-noncommercial-research-license', 'noncommercial']] as const) {
    const n = normalizeLicense(id);
    assert.equal(n.hub, id);
    assert.equal(n.how, 'hub');
    assert.equal(n.category, cat, id);
  }
  assert.equal(normalizeLicense('cc-by-nc-sa-4.0').category, 'noncommercial');
  assert.equal(normalizeLicense('other').how, 'unknown');
});

test('categories of expressions: OR takes the friendliest choice, AND the most demanding part', () => {
  assert.equal(expressionCategory('MIT'), 'permissive');
  assert.equal(expressionCategory('GPL-3.0-only'), 'copyleft');
  assert.equal(expressionCategory('AGPL-3.0-or-later'), 'copyleft');
  assert.equal(expressionCategory('LGPL-2.1-only'), 'weak-copyleft');
  assert.equal(expressionCategory('MIT OR GPL-3.0-only'), 'permissive');
  assert.equal(expressionCategory('MIT AND GPL-3.0-only'), 'copyleft');
  assert.equal(expressionCategory('CC-BY-NC-4.0'), 'noncommercial');
  assert.equal(expressionCategory('not an expression ((('), 'unknown');
});

test('real Debian dist-packages metadata: our header parser reads what importlib.metadata reads', () => {
  const scan = readInstalledLicenses([DEBIAN]);
  assert.deepEqual(scan.errors, []);
  assert.equal(scan.distributions.length, Object.keys(expected).length);
  for (const d of scan.distributions) {
    const e = expected[d.name];
    assert.ok(e, `${d.name} is in expected.json`);
    assert.equal(d.version, e.version, d.name);
    assert.equal(d.fields.license ?? null, e.license, `${d.name} License`);
    assert.equal(d.fields.licenseExpression ?? null, e.license_expression, `${d.name} License-Expression`);
    assert.deepEqual(d.fields.classifiers, e.classifiers, `${d.name} classifiers`);
  }
});

test('real Debian dist-packages: the licenses found for numpy, scikit-learn, torch, … match their METADATA', () => {
  const byName = new Map(readInstalledLicenses([DEBIAN]).distributions.map((d) => [d.name, d]));
  const want: Record<string, [string, string]> = {
    // name: [display, source]. Reviewed against each METADATA: the License field when it is exact, else the classifier.
    numpy: ['BSD-3-Clause', 'License'], 'scikit-learn': ['BSD-3-Clause', 'License'], torch: ['BSD-3-Clause', 'License'],
    joblib: ['BSD License', 'classifier'], scipy: ['BSD License', 'classifier'], cryptography: ['BSD-3-Clause OR Apache-2.0', 'License'],
    PyYAML: ['MIT', 'License'], six: ['MIT', 'License'], pip: ['MIT', 'License'], chardet: ['LGPL-2.0-or-later', 'classifier'], Pillow: ['HPND', 'License'],
  };
  for (const [name, [display, source]] of Object.entries(want)) {
    const d = byName.get(name);
    assert.ok(d, name);
    assert.equal(d.license.display, display, name);
    assert.equal(d.source, source, name);
  }
  assert.equal(byName.get('joblib')!.license.category, 'permissive', 'an ambiguous BSD is still permissive');
});

function distInfo(sp: string, name: string, version: string, headers: string[]): void {
  const d = path.join(sp, `${name.replace(/-/g, '_')}-${version}.dist-info`);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'METADATA'), ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, ...headers, '', '# README body', 'License: MIT (not a header: body text)'].join('\n'));
}

function syntheticProject(): { dir: string; sp: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-lic-'));
  const sp = path.join(dir, '.venv', 'lib', 'python3.11', 'site-packages');
  distInfo(sp, 'expr-pkg', '1.0', ['License-Expression: Apache-2.0 OR MIT', 'Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)']);
  distInfo(sp, 'classifier-only', '2.0', ['Classifier: License :: OSI Approved :: MIT License', 'Classifier: Programming Language :: Python']);
  distInfo(sp, 'gpl-lib', '3.0', ['License: GPLv3', 'Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)']);
  distInfo(sp, 'agpl-lib', '0.1', ['License-Expression: AGPL-3.0-only']);
  distInfo(sp, 'no-license', '0.0.1', ['License: UNKNOWN']);
  distInfo(sp, 'text-license', '1.1', ['License: Copyright (c) 2020 Someone', '        ', '        Permission is hereby granted, free of charge...']);
  // An old egg-info file (not a folder), as Debian ships some.
  writeFileSync(path.join(sp, 'oldegg-0.5.egg-info'), 'Metadata-Version: 1.1\nName: oldegg\nVersion: 0.5\nLicense: BSD-3-Clause\n');
  const model = path.join(dir, 'models', 'nc-model');
  mkdirSync(model, { recursive: true });
  writeFileSync(path.join(model, 'config.json'), JSON.stringify({ architectures: ['BertModel'], model_type: 'bert' }));
  writeFileSync(path.join(model, 'README.md'), '---\nlicense: cc-by-nc-4.0\ndatasets:\n- acme/reviews\n---\n# nc model\n');
  const llama = path.join(dir, 'models', 'llama-ft');
  mkdirSync(llama, { recursive: true });
  writeFileSync(path.join(llama, 'model.safetensors'), Buffer.alloc(16));
  writeFileSync(path.join(llama, 'README.md'), '---\nlicense: llama3.1\n---\n');
  const nolic = path.join(dir, 'models', 'nolicense');
  mkdirSync(nolic, { recursive: true });
  writeFileSync(path.join(nolic, 'weights.gguf'), Buffer.alloc(16));
  mkdirSync(path.join(dir, 'datasets', 'reviews'), { recursive: true });
  writeFileSync(path.join(dir, 'datasets', 'reviews', 'README.md'), '---\nlicense: cc-by-sa-4.0\n---\n');
  writeFileSync(path.join(dir, 'requirements.txt'), 'declared-only==1.2\nexpr-pkg>=1\ngit-dep @ git+https://example.invalid/g@main\n');
  return { dir, sp };
}

test('synthetic venv + models: the license table (sources, normalization) and each LIC finding', () => {
  const { dir, sp } = syntheticProject();
  try {
    const t = buildLicenseTable(dir);
    assert.deepEqual(t.sitePackages, [sp]);
    const row = (n: string) => t.rows.find((r) => r.name === n)!;
    assert.equal(row('expr-pkg').license.spdx, 'Apache-2.0 OR MIT');
    assert.equal(row('expr-pkg').source, 'License-Expression');
    assert.equal(row('classifier-only').license.spdx, 'MIT');
    assert.equal(row('classifier-only').source, 'classifier');
    assert.equal(row('gpl-lib').license.spdx, 'GPL-3.0-only');
    assert.equal(row('no-license').license.how, 'unknown');
    assert.equal(row('text-license').license.how, 'unknown');
    assert.equal(row('oldegg').license.spdx, 'BSD-3-Clause');
    assert.deepEqual([row('declared-only').source, row('declared-only').version], ['manifest', '1.2'], 'declared, neither installed nor locked');
    assert.equal(row('expr-pkg').source, 'License-Expression', 'the installed facts win over the declaration');
    assert.equal(t.rows.filter((r) => r.name === 'expr-pkg').length, 1);
    assert.equal(row('models/nc-model').kind, 'model');
    assert.equal(row('models/nc-model').license.spdx, 'CC-BY-NC-4.0');
    assert.equal(row('models/nc-model').source, 'card');
    assert.equal(row('models/llama-ft').license.hub, 'llama3.1');
    assert.equal(row('models/nolicense').source, 'none');
    assert.equal(row('acme/reviews').kind, 'dataset');
    assert.equal(row('acme/reviews').license.spdx, 'CC-BY-SA-4.0', 'from the local dataset card');

    const codes = (fs: ReturnType<typeof licenseFindings>) => fs.map((f) => `${f.code}:${(f.data as any).name}`).sort();
    // An application (declared) with a deny list.
    let f = licenseFindings(t.rows, { policy: { allow: [], deny: ['AGPL-3.0-only', 'llama3.1'] }, projectKind: 'application', isLibrary: false });
    assert.deepEqual(codes(f), ['LIC001:agpl-lib', 'LIC001:models/llama-ft', 'LIC002:declared-only', 'LIC002:git-dep', 'LIC002:models/nolicense', 'LIC002:no-license', 'LIC002:text-license', 'LIC003:models/nc-model']);
    assert.equal(f.find((x) => x.code === 'LIC002' && (x.data as any).kind === 'library')!.severity, 'information');
    assert.equal(f.find((x) => x.code === 'LIC002' && (x.data as any).kind === 'model')!.severity, 'warning');
    const card = f.find((x) => x.code === 'LIC003')!;
    assert.equal(card.path, path.join(dir, 'models', 'nc-model', 'README.md'));
    assert.deepEqual(card.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 21 } }, 'on the card\'s license key');
    // A library: strong copyleft dependencies are reported, non-commercial models are not (kind is not "application").
    f = licenseFindings(t.rows, { policy: { allow: [], deny: [] }, projectKind: 'auto', isLibrary: true });
    assert.deepEqual(codes(f).filter((c) => c.startsWith('LIC004') || c.startsWith('LIC003')), ['LIC004:agpl-lib', 'LIC004:gpl-lib']);
    // An allow list: everything else is not allowed.
    f = licenseFindings(t.rows, { policy: { allow: ['MIT', 'BSD-3-Clause', 'Apache-2.0'], deny: [] }, projectKind: 'auto', isLibrary: false });
    assert.deepEqual(codes(f).filter((c) => c.startsWith('LIC001')), ['LIC001:acme/reviews', 'LIC001:agpl-lib', 'LIC001:gpl-lib', 'LIC001:models/llama-ft', 'LIC001:models/nc-model']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('policy: expressions, ranges, families, Hub ids', () => {
  const n = normalizeLicense;
  assert.equal(evaluatePolicy(n('MIT OR GPL-3.0-only'), { allow: [], deny: ['GPL-3.0-only'] }).status, 'ok', 'one can choose MIT');
  assert.equal(evaluatePolicy(n('MIT AND GPL-3.0-only'), { allow: [], deny: ['GPL-3.0-only'] }).status, 'denied');
  assert.equal(evaluatePolicy(n('GPL-3.0-or-later'), { allow: [], deny: ['GPL-3.0-only'] }).status, 'denied', 'same license, other version clause');
  assert.equal(evaluatePolicy(n('GPL-3.0-only'), { allow: [], deny: ['GPL-2.0+'] }).status, 'denied', 'a + range');
  assert.equal(evaluatePolicy(n('GPL-2.0-only'), { allow: [], deny: ['GPL-3.0-only'] }).status, 'ok');
  assert.equal(evaluatePolicy(n('Apache-2.0'), { allow: ['MIT OR Apache-2.0'], deny: [] }).status, 'ok', 'an expression in the allow list counts its ids');
  assert.equal(evaluatePolicy(n('llama3'), { allow: [], deny: ['llama3'] }).status, 'denied');
  assert.equal(evaluatePolicy(n('llama3'), { allow: ['apache-2.0'], deny: [] }).status, 'not-allowed');
  assert.equal(evaluatePolicy(n('BSD License'), { allow: ['BSD-3-Clause'], deny: [] }).status, 'ok', 'an ambiguous BSD matches a BSD allow entry by family');
  assert.equal(evaluatePolicy(n('GNU General Public License (GPL)'), { allow: [], deny: ['GPL-3.0-only'] }).status, 'denied');
  assert.equal(evaluatePolicy(n('UNKNOWN'), { allow: ['MIT'], deny: [] }).status, 'unknown', 'unknown is LIC002, not a policy verdict');
});

test('METADATA headers: continuation lines, body ignored, limits hold on hostile input', () => {
  const h = parseMetadataHeaders('Name: x\nLicense: line one\n        line two\nClassifier: A\nClassifier: B\n\nLicense: body\n');
  assert.deepEqual(h.get('license'), ['line one\nline two']);
  assert.deepEqual(h.get('classifier'), ['A', 'B']);
  assert.equal(licenseFromHeaders(new Map()).source, 'none');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-lic-'));
  try {
    const d = path.join(dir, 'huge-1.0.dist-info');
    mkdirSync(d);
    writeFileSync(path.join(d, 'METADATA'), 'Name: huge\nVersion: 1.0\nLicense: ' + 'A'.repeat(MAX_METADATA_HEADER_BYTES * 2));
    mkdirSync(path.join(dir, 'noname-1.0.dist-info'));
    writeFileSync(path.join(dir, 'noname-1.0.dist-info', 'METADATA'), Buffer.from([0, 1, 2, 255, 254]));
    mkdirSync(path.join(dir, 'missing-1.0.dist-info'));
    const r = readInstalledLicenses([dir]);
    assert.equal(r.distributions.length, 1);
    assert.equal(r.distributions[0].license.how, 'unknown');
    assert.equal(r.errors.length, 2, 'a METADATA without Name and a missing one are reported, not skipped silently');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('lockfile packages with hashes (uv.lock, poetry.lock, Pipfile.lock, pylock.toml)', () => {
  const h = (c: string) => c.repeat(64);
  const uv = parseLockedPackages('uv.lock', `version = 1\n[[package]]\nname = "A"\nversion = "1"\nsdist = { hash = "sha256:${h('a')}" }\nwheels = [{ hash = "sha256:${h('b')}" }]\n`);
  assert.deepEqual('packages' in uv && uv.packages.map((p) => [p.norm, p.version, p.hashes]), [['a', '1', [h('a'), h('b')]]]);
  const poetry = parseLockedPackages('poetry.lock', `[[package]]\nname = "b"\nversion = "2"\nfiles = [{file = "b.whl", hash = "sha256:${h('c')}"}]\n`);
  assert.deepEqual('packages' in poetry && poetry.packages[0].hashes, [h('c')]);
  const pipfile = parseLockedPackages('Pipfile.lock', JSON.stringify({ default: { c: { version: '==3', hashes: [`sha256:${h('d')}`] } } }));
  assert.deepEqual('packages' in pipfile && pipfile.packages.map((p) => [p.version, p.hashes]), [['3', [h('d')]]]);
  const pylock = parseLockedPackages('pylock.toml', `lock-version = "1.0"\n[[packages]]\nname = "d"\nversion = "4"\n[[packages.wheels]]\nname = "d.whl"\nhashes = {sha256 = "${h('e')}"}\n`);
  assert.deepEqual('packages' in pylock && pylock.packages[0].hashes, [h('e')]);
  assert.ok('error' in parseLockedPackages('uv.lock', '[[package]\nname='));
});

test('projectIsLibrary: explicit kind wins, auto reads [build-system] + [project].name', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mv-lic-'));
  try {
    assert.equal(projectIsLibrary(dir, 'auto'), false);
    writeFileSync(path.join(dir, 'pyproject.toml'), '[build-system]\nrequires = ["hatchling"]\n[project]\nname = "lib"\n');
    assert.equal(projectIsLibrary(dir, 'auto'), true);
    assert.equal(projectIsLibrary(dir, 'application'), false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

function io() {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { err.push(s); }, isTTY: false } };
}

test('modelvet licenses CLI: text/json/csv, [tool.modelvet] licenses policy, exit codes', async () => {
  const { dir } = syntheticProject();
  try {
    let t = io();
    assert.equal(await main(['licenses', dir], t.io), 0, 'no policy, no error-level finding');
    const text = t.out.join('');
    assert.match(text, /^kind +name +version +license +category +source/m);
    assert.match(text, /library +expr-pkg +1\.0 +Apache-2\.0 OR MIT +permissive +License-Expression/);
    t = io();
    assert.equal(await main(['licenses', dir, '--format', 'json', '--deny', 'AGPL-3.0-only'], t.io), 1);
    const j = JSON.parse(t.out.join(''));
    assert.equal(j.version, 1);
    assert.ok(j.packages.some((p: any) => p.name === 'gpl-lib' && p.spdx === 'GPL-3.0-only' && p.source === 'classifier'));
    assert.ok(j.findings.some((f: any) => f.code === 'LIC001' && /agpl-lib/.test(f.message)));
    t = io();
    assert.equal(await main(['licenses', dir, '--format', 'csv'], t.io), 0);
    const csv = t.out.join('').split('\r\n');
    assert.equal(csv[0], 'kind,name,version,license,spdx,category,declared,source,file');
    assert.ok(csv.some((l) => l.startsWith('library,text-license,1.1,') && l.includes('"Permission is hereby granted, free of charge..."')), 'cells with commas are quoted');
    // Policy from pyproject; the project declares itself an application.
    writeFileSync(path.join(dir, 'pyproject.toml'), '[tool.modelvet]\nproject-kind = "application"\nlicenses = { deny = ["llama3.1"] }\nrules = { LIC002 = "off" }\n');
    t = io();
    assert.equal(await main(['licenses', dir, '--format', 'json', '--fail-on', 'warning'], t.io), 1);
    const codes = JSON.parse(t.out.join('')).findings.map((f: any) => f.code).sort();
    assert.deepEqual([...new Set(codes)], ['LIC001', 'LIC003']);
    for (const bad of [['licenses', path.join(dir, 'nope')], ['licenses', dir, '--format', 'xml'], ['licenses', dir, '--env', path.join(dir, 'models')]]) {
      t = io();
      assert.equal(await main(bad, t.io), 2, bad.join(' '));
    }
    t = io();
    assert.equal(await main(['licenses', dir, '--env', path.join(dir, '.venv'), '--format', 'json'], t.io), 1, 'the pyproject deny list still applies');
    assert.equal(JSON.parse(t.out.join('')).sitePackages[0], path.join(dir, '.venv', 'lib', 'python3.11', 'site-packages'));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
