// The extension manifest (package.json contributions) against the client and the server's contracts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { documentSelector, isExcludedFromAnalysis, watchedFileGlobs, MODEL_FILE_EXTENSIONS } from '../../../client/src/selectors';
import { fileKind } from '../../../core/fileKinds';
import { settingsFromRaw } from '../../../server/src/settings';

const root = path.resolve(import.meta.dirname, '../../..');
// The glob matcher vscode-languageclient itself uses for URI-only document filters (CommonJS, untyped).
const minimatch = createRequire(path.join(root, 'node_modules/vscode-languageclient/package.json'))('minimatch') as
  (p: string, pattern: string, options?: { dot?: boolean }) => boolean;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const extensionSource = readFileSync(path.join(root, 'client/src/extension.ts'), 'utf8');

test('activation never uses "*" and covers manifests, Python, requirements and notebooks', () => {
  const events: string[] = pkg.activationEvents;
  assert.ok(!events.includes('*'));
  for (const e of ['onLanguage:python', 'onLanguage:pip-requirements', 'onNotebook:jupyter-notebook', 'workspaceContains:**/pyproject.toml', 'workspaceContains:**/*.ipynb']) {
    assert.ok(events.includes(e), e);
  }
  // Limited: the extension runs in Restricted Mode, but VS Code withholds the restricted settings' workspace values.
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('every contributed command is registered by the client and every registered command is contributed', () => {
  const contributed = new Set<string>(pkg.contributes.commands.map((c: { command: string }) => c.command));
  const registered = new Set([...extensionSource.matchAll(/command\('(modelvet\.[A-Za-z]+)'/g)].map((m) => m[1]));
  assert.deepEqual([...registered].sort(), [...contributed].sort());
  for (const id of ['modelvet.scanModel', 'modelvet.scanWorkspace', 'modelvet.scanWithModelVet', 'modelvet.convertToSafetensors', 'modelvet.showOutput', 'modelvet.restartServer']) {
    assert.ok(contributed.has(id), id);
  }
});

test('settings are exactly the names the server reads, with descriptions and defaults', () => {
  const props: Record<string, { default?: unknown; description?: string; markdownDescription?: string }> = pkg.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).sort(), [
    'modelvet.licenses.allow', 'modelvet.licenses.deny',
    'modelvet.online.enabled', 'modelvet.online.hubUrl', 'modelvet.online.indexUrl', 'modelvet.osvDbPaths', 'modelvet.projectKind',
    'modelvet.requireHashes', 'modelvet.rules', 'modelvet.scan.autoScan', 'modelvet.scan.weights', 'modelvet.scan.workers',
    'modelvet.signing.certificateChain', 'modelvet.signing.publicKey', 'modelvet.signing.requireSignature', 'modelvet.trace.server',
  ]);
  for (const [name, p] of Object.entries(props)) {
    assert.ok('default' in p, `${name} has a default`);
    assert.ok((p.description ?? p.markdownDescription ?? '').length > 20, `${name} is described`);
  }
  assert.equal(props['modelvet.online.enabled'].default, false);
  assert.match(props['modelvet.online.enabled'].markdownDescription ?? '', /master switch/i);
  // What VS Code's getConfiguration('modelvet') returns for the defaults, nested the way the server expects.
  const raw: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(props)) {
    const keys = name.split('.').slice(1);
    let node = raw;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]] = p.default;
  }
  const s = settingsFromRaw({ ...raw, scan: { ...(raw.scan as object), workers: 3, autoScan: false } });
  assert.equal(s.scanWorkers, 3, 'scan.workers reaches the server');
  assert.equal(s.autoScan, false, 'scan.autoScan reaches the server');
  const lic = settingsFromRaw({ ...raw, licenses: { allow: ['MIT'], deny: ['AGPL-3.0-only'] } });
  assert.deepEqual(lic.config.licenses, { allow: ['MIT'], deny: ['AGPL-3.0-only'] }, 'the license policy reaches the server');
});

test('the pip-requirements language, grammar and language configuration are wired', () => {
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'pip-requirements');
  assert.ok(lang);
  const conf = JSON.parse(readFileSync(path.join(root, lang.configuration), 'utf8'));
  assert.equal(conf.comments.lineComment, '#');
  const grammar = pkg.contributes.grammars.find((g: { language: string }) => g.language === 'pip-requirements');
  assert.equal(grammar.scopeName, 'source.pip-requirements');
  assert.equal(grammar.path, './syntaxes/pip-requirements.tmLanguage.json');
});

const matchesSelector = (p: string) => documentSelector().some((f) => f.pattern !== undefined && minimatch(p, f.pattern, { dot: true }));

test('every manifest the server analyzes is selected by a glob; MANIFEST.in is excluded', () => {
  const analyzed = [
    '/w/requirements.txt', '/w/dev-requirements.txt', '/w/requirements-gpu.txt', '/w/requirements/base.txt', '/w/constraints.txt',
    '/w/requirements.in', '/w/requirements/dev.in', '/w/pyproject.toml', '/w/sub/Pipfile', '/w/environment.yml', '/w/environment-cuda.yaml',
    '/w/uv.lock', '/w/poetry.lock', '/w/Pipfile.lock', '/w/pylock.toml',
  ];
  for (const p of analyzed) {
    assert.ok(fileKind(p), `core analyzes ${p}`);
    assert.ok(matchesSelector(p), `client selects ${p}`);
    assert.ok(!isExcludedFromAnalysis(p), `${p} reaches the server`);
  }
  assert.ok(isExcludedFromAnalysis('/w/MANIFEST.in'));
  assert.equal(fileKind('/w/MANIFEST.in'), undefined, 'core agrees MANIFEST.in is no requirements file');
  assert.ok(!isExcludedFromAnalysis('/w/requirements.in'));
  assert.ok(matchesSelector('/w/models/bert/README.md') && fileKind('/w/models/bert/README.md') === 'modelcard', 'model cards reach the server (which reports only those in model folders)');
  assert.ok(!matchesSelector('/w/notes.md'));
  assert.ok(!matchesSelector('/w/notes.txt'));
});

test('the selector includes Python files, notebook cells and the pip-requirements language', () => {
  const sel = documentSelector();
  assert.ok(sel.some((f) => f.language === 'python' && f.scheme === 'file'));
  assert.ok(sel.some((f) => f.notebook === 'jupyter-notebook' && f.language === 'python'));
  assert.ok(sel.some((f) => f.language === 'pip-requirements'));
});

test('file watchers cover lockfiles and every model extension', () => {
  const globs = watchedFileGlobs();
  const watched = (p: string) => globs.some((g) => minimatch(p, g, { dot: true }));
  for (const p of ['/w/uv.lock', '/w/poetry.lock', '/w/Pipfile.lock', '/w/pyproject.toml', '/w/requirements/base.txt', '/w/dev-requirements.txt']) assert.ok(watched(p), p);
  for (const ext of MODEL_FILE_EXTENSIONS) assert.ok(watched(`/w/models/m.${ext}`), ext);
  assert.ok(!watched('/w/src/main.py'));
});

test('every model format VS Code cannot show opens in ModelVet\'s view by default; anything else can be reopened with it', () => {
  const [byDefault, option] = pkg.contributes.customEditors;
  assert.equal(byDefault.priority, 'default');
  const patterns = byDefault.selector.map((s: { filenamePattern: string }) => s.filenamePattern);
  for (const ext of ['bin', 'pt', 'pth', 'ckpt', 'pkl', 'joblib', 'npy', 'npz', 'safetensors', 'gguf', 'onnx', 'h5', 'keras']) {
    assert.ok(patterns.includes(`*.${ext}`), ext);
  }
  assert.equal(option.priority, 'option');
  assert.ok(option.selector.some((s: { filenamePattern: string }) => s.filenamePattern === '*'), '"Reopen Editor With…" lists it for any file');
});

test('Convert to SafeTensors is hidden from the palette unless a model is open in ModelVet\'s view', () => {
  const entry = pkg.contributes.menus.commandPalette.find((m: { command: string }) => m.command === 'modelvet.convertToSafetensors');
  assert.ok(entry, 'a commandPalette when clause');
  assert.match(entry.when, /activeCustomEditorId == modelvet\.modelFile\b/);
  assert.match(entry.when, /activeCustomEditorId == modelvet\.modelFileOption/);
});

test('the settings that reach the network or name files are restricted in untrusted workspaces', () => {
  assert.deepEqual([...pkg.capabilities.untrustedWorkspaces.restrictedConfigurations].sort(),
    ['modelvet.online.enabled', 'modelvet.online.hubUrl', 'modelvet.online.indexUrl', 'modelvet.osvDbPaths', 'modelvet.signing.certificateChain', 'modelvet.signing.publicKey']);
});

test('the packaged extension (.vscodeignore) keeps every bundle scripts/build.mjs writes', () => {
  const build = readFileSync(path.join(root, 'scripts/build.mjs'), 'utf8');
  const bundles = [...build.matchAll(/\[\s*'[^']+\.ts',\s*'([\w.-]+\.js)'/g)].map((m) => m[1]);
  assert.ok(bundles.includes('server.js') && bundles.includes('dataset-worker.js'), JSON.stringify(bundles));
  bundles.push('cli-check.js'); // the per-command CLI chunks (`cli-${c}.js`)
  const kept = readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).trim());
  for (const b of bundles) assert.ok(kept.some((pattern) => minimatch(`dist/${b}`, pattern)), `dist/${b} is left out of the .vsix`);
});
