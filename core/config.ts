/**
 * User configuration. The editor maps VS Code settings (`modelvet.*`) onto this
 * shape; the CLI reads `[tool.modelvet]` from the project's pyproject.toml.
 */
import type { Severity } from './types';

export type RuleSetting = Severity | 'off';

export interface ModelVetConfig {
  /** Per-rule override: severity, or 'off'. Keys are rule codes. */
  rules: Record<string, RuleSetting>;
  /** DEP003: report requirements without --hash even when no line has one. */
  requireHashes: boolean;
  /**
   * How DEP002 treats ranges in pyproject.toml: 'library' (ranges are normal,
   * reported as hints), 'application' (like a requirements file), or 'auto'
   * (a [build-system] with a PEP 621 [project] is a library).
   */
  projectKind: 'auto' | 'library' | 'application';
  online: {
    /** Master switch for every network call. Off by default. */
    enabled: boolean;
    /** Package index (simple API) base; empty = pip's configuration / PIP_INDEX_URL. */
    indexUrl: string;
    /** Hugging Face endpoint; empty = HF_ENDPOINT or the library default. */
    hubUrl: string;
  };
  /** Extra advisory sources: paths to OSV dumps (all.zip or a folder of JSON). */
  osvDbPaths: string[];
  /** License policy (LIC001): SPDX ids / expressions or Hub license ids; empty = no policy. */
  licenses: { allow: string[]; deny: string[] };
  /** Model scanning. */
  scan: {
    /** Weight-level checks (hidden payloads, NaN/Inf, statistics). */
    weights: boolean;
    /** Files larger than this (bytes) skip weight-level checks. */
    weightsMaxBytes: number;
  };
}

export function defaultConfig(): ModelVetConfig {
  return {
    rules: {},
    requireHashes: false,
    projectKind: 'auto',
    online: { enabled: false, indexUrl: '', hubUrl: '' },
    osvDbPaths: [],
    licenses: { allow: [], deny: [] },
    scan: { weights: true, weightsMaxBytes: 4 * 1024 * 1024 * 1024 },
  };
}

/** The effective severity of a rule, or undefined when it is off. */
export function effectiveSeverity(config: ModelVetConfig, code: string, fallback: Severity, optIn = false): Severity | undefined {
  const s = config.rules[code] ?? config.rules[code.toUpperCase()];
  if (s === 'off') return undefined;
  if (s) return s;
  return optIn ? undefined : fallback;
}

/**
 * Settings that reach the network or name files to read. A workspace may not set them (VS Code's
 * Restricted Mode, a repository's `.vscode/settings.json`, `[tool.modelvet]` in its pyproject.toml):
 * only the user can, or the workspace once the user trusts it. package.json lists the same keys in
 * `capabilities.untrustedWorkspaces.restrictedConfigurations` (a unit test keeps the two in step).
 */
// signing.*: the key and CA decide what "verified" means, so a repository must not choose them.
export const TRUST_RESTRICTED_SETTINGS: readonly string[] = ['online.enabled', 'online.indexUrl', 'online.hubUrl', 'osvDbPaths', 'signing.publicKey', 'signing.certificateChain'];

export interface MergeOptions {
  /**
   * May the patch set TRUST_RESTRICTED_SETTINGS? True for the user's own settings and trusted
   * workspaces; false for an untrusted workspace's settings and for any project file.
   */
  allowRestricted?: boolean;
  /** Called with the dotted key of each restricted value the patch tried to set and was refused. */
  onRefused?: (key: string) => void;
}

/** The restricted keys a patch sets (dotted names, in TRUST_RESTRICTED_SETTINGS spelling). */
export function restrictedKeysIn(patch: unknown): string[] {
  if (!patch || typeof patch !== 'object') return [];
  const p = patch as Record<string, any>;
  const out: string[] = [];
  const online = p.online && typeof p.online === 'object' ? p.online : undefined;
  if (online?.enabled !== undefined) out.push('online.enabled');
  if (online?.indexUrl !== undefined || online?.['index-url'] !== undefined) out.push('online.indexUrl');
  if (online?.hubUrl !== undefined || online?.['hub-url'] !== undefined) out.push('online.hubUrl');
  if (p.osvDbPaths !== undefined || p['osv-db'] !== undefined) out.push('osvDbPaths');
  return out;
}

/** Deep-merge a partial config (from settings or pyproject) over a base. Unknown keys are ignored. */
export function mergeConfig(base: ModelVetConfig, patch: unknown, opts: MergeOptions = {}): ModelVetConfig {
  const allowRestricted = opts.allowRestricted ?? true;
  const out: ModelVetConfig = structuredClone(base);
  if (!patch || typeof patch !== 'object') return out;
  const p = patch as Record<string, any>;
  if (p.rules && typeof p.rules === 'object') {
    for (const [k, v] of Object.entries(p.rules)) {
      if (typeof v === 'string' && ['error', 'warning', 'information', 'hint', 'off'].includes(v)) out.rules[k.toUpperCase()] = v as RuleSetting;
      else if (v === false) out.rules[k.toUpperCase()] = 'off';
    }
  }
  // [tool.modelvet] spelling: select/ignore lists like Ruff.
  if (Array.isArray(p.ignore)) for (const c of p.ignore) if (typeof c === 'string') out.rules[c.toUpperCase()] = 'off';
  if (typeof p.requireHashes === 'boolean') out.requireHashes = p.requireHashes;
  if (typeof p['require-hashes'] === 'boolean') out.requireHashes = p['require-hashes'];
  const kind = p.projectKind ?? p['project-kind'];
  if (kind === 'auto' || kind === 'library' || kind === 'application') out.projectKind = kind;
  if (!allowRestricted) {
    for (const k of restrictedKeysIn(p)) opts.onRefused?.(k);
  } else {
    if (p.online && typeof p.online === 'object') {
      if (typeof p.online.enabled === 'boolean') out.online.enabled = p.online.enabled;
      if (typeof p.online.indexUrl === 'string') out.online.indexUrl = p.online.indexUrl;
      if (typeof p.online.hubUrl === 'string') out.online.hubUrl = p.online.hubUrl;
    }
    const osv = p.osvDbPaths ?? p['osv-db'];
    if (Array.isArray(osv)) out.osvDbPaths = osv.filter((x: unknown) => typeof x === 'string');
  }
  if (p.licenses && typeof p.licenses === 'object' && !Array.isArray(p.licenses)) {
    const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && !!x.trim()).map((x) => x.trim()) : undefined);
    out.licenses = { allow: list(p.licenses.allow) ?? out.licenses.allow, deny: list(p.licenses.deny) ?? out.licenses.deny };
  }
  if (p.scan && typeof p.scan === 'object') {
    if (typeof p.scan.weights === 'boolean') out.scan.weights = p.scan.weights;
    if (typeof p.scan.weightsMaxBytes === 'number' && p.scan.weightsMaxBytes >= 0) out.scan.weightsMaxBytes = p.scan.weightsMaxBytes;
  }
  return out;
}
