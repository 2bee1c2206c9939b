/**
 * Workspace Trust and project configuration (issue: an untrusted folder could switch network access on
 * and pick the server). The rule: settings that reach the network or name files to read come from the
 * user, or from the workspace only once it is trusted; `[tool.modelvet]` may tune rules, never those.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultConfig, mergeConfig, restrictedKeysIn, TRUST_RESTRICTED_SETTINGS } from '../../../core/config';
import { parseProjectConfig, refusedKeysMessage } from '../../../core/projectConfig';
import { layeredConfig, settingsFromRaw } from '../../../server/src/settings';
import { EXPLICIT_KEYS_FIELD, USER_SCOPE_FIELD } from '../../../core/protocol';

const ROOT = path.resolve(__dirname, '../../..');
const hostile = { online: { enabled: true, hubUrl: 'http://127.0.0.1:9/evil', indexUrl: 'http://127.0.0.1:9/simple' }, osvDbPaths: ['/etc'] };

test('package.json restricts exactly the trust-restricted settings (VS Code ignores their workspace values)', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
  for (const k of TRUST_RESTRICTED_SETTINGS) assert.ok(restricted.includes(`modelvet.${k}`), `modelvet.${k} is restricted`);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  const props = pkg.contributes.configuration.properties ?? Object.assign({}, ...pkg.contributes.configuration.map((c: any) => c.properties));
  for (const k of restricted) assert.ok(props[k], `${k} is a contributed setting`);
  // Every setting that reaches the network or names a path is on the list.
  for (const [k, v] of Object.entries<any>(props)) {
    const looksSensitive = /url|paths?$|endpoint|online\.enabled|key$|certificate/i.test(k) && v.type !== 'boolean' || k === 'modelvet.online.enabled';
    if (looksSensitive) assert.ok(restricted.includes(k), `${k} reaches the network or names files: it must be restricted`);
  }
});

test('untrusted: workspace values of restricted settings are ignored, the rest applies', () => {
  const s = settingsFromRaw({ ...hostile, requireHashes: true, rules: { DEP002: 'off' } }, { trusted: false, userScopeInConfiguration: false });
  assert.deepEqual(s.config.online, defaultConfig().online);
  assert.deepEqual(s.config.osvDbPaths, []);
  assert.equal(s.config.requireHashes, true, 'harmless settings still apply');
  assert.equal(s.config.rules.DEP002, 'off');
  // The default, with no trust state at all, is untrusted.
  assert.equal(settingsFromRaw(hostile).config.online.enabled, false);
});

test('trusted: workspace values apply', () => {
  const s = settingsFromRaw(hostile, { trusted: true, userScopeInConfiguration: false });
  assert.equal(s.config.online.enabled, true);
  assert.equal(s.config.online.hubUrl, 'http://127.0.0.1:9/evil');
  assert.deepEqual(s.config.osvDbPaths, ['/etc']);
});

test('untrusted: the user scope the ModelVet client reports applies; a forged one does not', () => {
  const user = { online: { enabled: true, hubUrl: 'http://127.0.0.1:7/mine' } };
  const viaClient = settingsFromRaw({ ...hostile, [USER_SCOPE_FIELD]: user }, { trusted: false, userScopeInConfiguration: true });
  assert.equal(viaClient.config.online.enabled, true);
  assert.equal(viaClient.config.online.hubUrl, 'http://127.0.0.1:7/mine');
  assert.equal(viaClient.config.online.indexUrl, '', 'workspace value not taken even when the user enabled online');
  assert.deepEqual(viaClient.config.osvDbPaths, []);
  // Another client (no opt-in): a `$userScope` in its configuration reply is just workspace data.
  const forged = settingsFromRaw({ ...hostile, [USER_SCOPE_FIELD]: hostile }, { trusted: false, userScopeInConfiguration: false });
  assert.equal(forged.config.online.enabled, false);
  // Another client: its initializationOptions.settings are the user's own editor configuration.
  const init = settingsFromRaw(hostile, { trusted: false, userScopeInConfiguration: false, initSettings: user });
  assert.equal(init.config.online.enabled, true);
  assert.equal(init.config.online.hubUrl, 'http://127.0.0.1:7/mine');
});

test('mergeConfig refuses restricted keys when asked, and says which', () => {
  const refused: string[] = [];
  const c = mergeConfig(defaultConfig(), { ...hostile, 'osv-db': ['/x'], rules: { DEP001: 'warning' } }, { allowRestricted: false, onRefused: (k) => refused.push(k) });
  assert.deepEqual(c.online, defaultConfig().online);
  assert.deepEqual(c.osvDbPaths, []);
  assert.equal(c.rules.DEP001, 'warning');
  assert.deepEqual(refused.sort(), ['online.enabled', 'online.hubUrl', 'online.indexUrl', 'osvDbPaths']);
  assert.deepEqual(restrictedKeysIn({ rules: {} }), []);
});

test('[tool.modelvet]: rules and knobs apply, network and paths never, with a message', () => {
  const text = `[project]\nname = "x"\n\n[tool.modelvet]\nrules = { DEP002 = "off", LOAD001 = "warning" }\nrequire-hashes = true\nosv-db = ["/etc"]\n\n[tool.modelvet.online]\nenabled = true\nhub-url = "http://127.0.0.1:9"\n`;
  const p = parseProjectConfig('/p/pyproject.toml', text)!;
  assert.ok(p);
  assert.deepEqual(p.refused.sort(), ['online.enabled', 'online.hubUrl', 'osvDbPaths']);
  assert.match(refusedKeysMessage(p)!, /may not set .*online\.enabled.*ignored/);
  // Even with a fully trusted workspace and online settings off, the project file cannot turn them on.
  const trusted = settingsFromRaw({}, { trusted: true, userScopeInConfiguration: false });
  const c = layeredConfig(trusted, p.table);
  assert.equal(c.online.enabled, false);
  assert.deepEqual(c.osvDbPaths, []);
  assert.equal(c.rules.DEP002, 'off');
  assert.equal(c.requireHashes, true);
  assert.equal(parseProjectConfig('/p/pyproject.toml', '[tool.modelvet\nbroken'), undefined, 'invalid TOML changes nothing');
  assert.equal(parseProjectConfig('/p/pyproject.toml', '[project]\nname="x"\n'), undefined);
});

test('settings override [tool.modelvet] where the user set them (per rule code; explicit keys)', () => {
  const table = { rules: { DEP002: 'off', DEP001: 'warning' }, 'require-hashes': true, 'project-kind': 'library' };
  // Client without $explicit: a value equal to the default does not override the project.
  const plain = settingsFromRaw({ rules: { DEP001: 'error' }, requireHashes: false, projectKind: 'auto' });
  const c1 = layeredConfig(plain, table);
  assert.equal(c1.rules.DEP001, 'error', 'the setting wins for that code');
  assert.equal(c1.rules.DEP002, 'off', 'the project keeps the others');
  assert.equal(c1.requireHashes, true);
  assert.equal(c1.projectKind, 'library');
  // The ModelVet client lists what the user set: an explicit false overrides the project's true.
  const explicit = settingsFromRaw({ rules: {}, requireHashes: false, projectKind: 'auto', [EXPLICIT_KEYS_FIELD]: ['requireHashes'] });
  const c2 = layeredConfig(explicit, table);
  assert.equal(c2.requireHashes, false);
  assert.equal(c2.projectKind, 'library');
});
