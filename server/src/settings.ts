/**
 * Maps the editor's `modelvet.*` settings onto ModelVetConfig (core) plus the
 * server-only scan knobs. The setting names are a contract with client/package.json.
 *
 * Trust: settings that reach the network or name files to read (TRUST_RESTRICTED_SETTINGS) are taken
 * from the workspace's configuration only when the client says the workspace is trusted. Otherwise
 * they come from the user's own scope: what the ModelVet VS Code client reports as user-level values
 * (`$userScope`, which it always overwrites), or the `settings` of the initialize request (the launching
 * editor's own configuration), or the defaults (offline). The server does not rely on the client's
 * Restricted Mode alone: another editor's `workspace/configuration` may well carry a repository's
 * project-local settings.
 */
import { defaultConfig, mergeConfig, TRUST_RESTRICTED_SETTINGS, type ModelVetConfig } from '../../core/config';
import { USER_SCOPE_FIELD, EXPLICIT_KEYS_FIELD } from '../../core/protocol';
import { getDotted, setDotted, deleteDotted } from '../../core/dotted';

/** Upper bound on scan worker threads, whatever the setting says (2-core machines are common). */
export const MAX_SCAN_WORKERS = 8;

export interface ServerSettings {
  /** Defaults ← settings (the configuration when no pyproject.toml applies). */
  config: ModelVetConfig;
  /**
   * The layer the settings put over `[tool.modelvet]`: only keys the user actually set (VS Code settings
   * override pyproject.toml, as Ruff's extension does over ruff.toml), restricted keys already resolved.
   */
  patch: Record<string, unknown>;
  autoScan: boolean;
  scanWorkers: number;
}

export interface TrustState {
  /** The client said the workspace is trusted (initializationOptions.workspaceTrust / modelvet/workspaceTrust). */
  trusted: boolean;
  /** The client reports user-scope values in `$userScope` of each configuration reply. */
  userScopeInConfiguration: boolean;
  /** initializationOptions.settings: the launching editor's own configuration (user scope). */
  initSettings?: unknown;
}

export function defaultServerSettings(): ServerSettings {
  return { config: defaultConfig(), patch: {}, autoScan: true, scanWorkers: 1 };
}

const untrusted: TrustState = { trusted: false, userScopeInConfiguration: false };

/**
 * `raw` is what `workspace/configuration` returns for section `modelvet`:
 * { rules, requireHashes, projectKind, licenses: {allow, deny}, online: {enabled, indexUrl, hubUrl}, osvDbPaths, scan: {weights, autoScan, workers} }
 * (+ `$userScope` and `$explicit` from the ModelVet client). Unknown or ill-typed values fall back to defaults.
 */
export function settingsFromRaw(raw: unknown, trust: TrustState = untrusted): ServerSettings {
  const out = defaultServerSettings();
  const r = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const patch = explicitLayer(r);
  // Restricted keys: from the workspace's reply only when trusted, else from the user's own scope.
  const userScope = trust.userScopeInConfiguration && r[USER_SCOPE_FIELD] && typeof r[USER_SCOPE_FIELD] === 'object'
    ? r[USER_SCOPE_FIELD]
    : trust.initSettings;
  const restrictedFrom = trust.trusted ? r : userScope;
  for (const k of TRUST_RESTRICTED_SETTINGS) deleteDotted(patch, k);
  for (const k of TRUST_RESTRICTED_SETTINGS) {
    const v = getDotted(restrictedFrom, k);
    if (v !== undefined) setDotted(patch, k, v);
  }
  out.patch = patch;
  out.config = mergeConfig(out.config, patch);
  const scan = r.scan;
  if (scan && typeof scan === 'object') {
    const s = scan as { autoScan?: unknown; workers?: unknown };
    if (typeof s.autoScan === 'boolean') out.autoScan = s.autoScan;
    if (typeof s.workers === 'number' && Number.isFinite(s.workers)) {
      out.scanWorkers = Math.max(1, Math.min(MAX_SCAN_WORKERS, Math.floor(s.workers)));
    }
  }
  return out;
}

/** The configuration for one workspace root: defaults ← `[tool.modelvet]` (never restricted keys) ← settings the user set. */
export function layeredConfig(settings: ServerSettings, projectTable: unknown): ModelVetConfig {
  if (!projectTable) return settings.config;
  const fromProject = mergeConfig(defaultConfig(), projectTable, { allowRestricted: false });
  return mergeConfig(fromProject, settings.patch);
}

/** Config keys whose value counts as "set by the user" when it differs from the default (clients without `$explicit`). */
const LAYERED_KEYS = ['rules', 'requireHashes', 'projectKind', 'licenses.allow', 'licenses.deny', 'scan.weights', 'scan.weightsMaxBytes'];

/**
 * The keys of `raw` that should override a pyproject.toml: those the ModelVet client lists in `$explicit`
 * (set at some scope), or, for other clients, those whose value differs from the default.
 */
function explicitLayer(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const listed = Array.isArray(raw[EXPLICIT_KEYS_FIELD]) ? new Set((raw[EXPLICIT_KEYS_FIELD] as unknown[]).filter((x) => typeof x === 'string')) : undefined;
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  for (const k of LAYERED_KEYS) {
    const v = getDotted(raw, k);
    if (v === undefined) continue;
    if (k === 'rules') {
      if (v && typeof v === 'object' && Object.keys(v).length) out.rules = v; // per-code merge over the project's rules
      continue;
    }
    const set = listed ? listed.has(k) : JSON.stringify(v) !== JSON.stringify(getDotted(defaults, k));
    if (set) setDotted(out, k, v);
  }
  for (const k of TRUST_RESTRICTED_SETTINGS) {
    const v = getDotted(raw, k);
    if (v !== undefined) setDotted(out, k, v);
  }
  return out;
}

