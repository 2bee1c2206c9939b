/**
 * Hugging Face Hub awareness (online-only; zero requests while online features are off).
 * The server glues these into diagnostics, hovers, code actions and the scan command;
 * the CLI calls `runHubScanCli` for `modelvet scan hf://org/name[@revision]`.
 */
export { hubRules } from './rules';
export { createHubFeatures, readLocalRef, pinEditTemplate, renderHover, type HubFeatures, type HubFeaturesOptions, type HubReference } from './features';
export { scanHubRepo, parseHubSpec, hubUri, HubScanError, ScanCancelledError, DEFAULT_MAX_CACHE_BYTES, type ScanHubRepoOptions, type HubSpec } from './remoteScan';
export { createHubFetch, resolveHubUrl, OfflineError, HubTimeoutError, type HubFetch, type HubFetchOptions } from './client';
export { HubRepoService, isCommitSha, isValidRepoId, type RepoInfo, type RepoKind, type LookupResult } from './repos';
export { lookalikeOrg, POPULAR_ORGS } from './typosquat';

import os from 'node:os';
import path from 'node:path';
import type { ModelVetConfig } from '../config';
import type { ScanOutput } from '../scan/types';
import { scanHubRepo, DEFAULT_MAX_CACHE_BYTES } from './remoteScan';

/** The CLI's default cache: $XDG_CACHE_HOME/modelvet or ~/.cache/modelvet. */
export function defaultCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'modelvet');
}

/**
 * `modelvet scan hf://…`: the CLI turns online features on for this explicit
 * command (the user asked for a network scan) unless the config forbids it via
 * `allowNetwork: false`. Progress goes to `log` (stderr), never the token.
 */
export async function runHubScanCli(spec: string, opts: {
  config: ModelVetConfig;
  cacheDir?: string;
  maxCacheBytes?: number;
  allowNetwork?: boolean;
  log?(m: string): void;
  fetch?: typeof fetch;
}): Promise<ScanOutput> {
  const config: ModelVetConfig = structuredClone(opts.config);
  if (opts.allowNetwork !== false) config.online.enabled = true;
  let lastShown = 0;
  return scanHubRepo(spec, {
    config,
    cacheDir: opts.cacheDir ?? defaultCliCacheDir(),
    maxCacheBytes: opts.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES,
    fetch: opts.fetch,
    log: opts.log,
    onProgress: (done, total, current) => {
      const now = Date.now();
      if (opts.log && current && now - lastShown > 500) { lastShown = now; opts.log(`[${done}/${total}] ${current}`); }
    },
  });
}
