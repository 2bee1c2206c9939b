/**
 * Maps the editor's `modelvet.*` settings onto ModelVetConfig (core) plus the
 * server-only scan knobs. The setting names are a contract with client/package.json.
 */
import { defaultConfig, mergeConfig, type ModelVetConfig } from '../../core/config';

/** Upper bound on scan worker threads, whatever the setting says (2-core machines are common). */
export const MAX_SCAN_WORKERS = 8;

export interface ServerSettings {
  config: ModelVetConfig;
  autoScan: boolean;
  scanWorkers: number;
}

export function defaultServerSettings(): ServerSettings {
  return { config: defaultConfig(), autoScan: true, scanWorkers: 1 };
}

/**
 * `raw` is what `workspace/configuration` returns for section `modelvet`:
 * { rules, requireHashes, projectKind, online: {enabled, indexUrl, hubUrl}, osvDbPaths, scan: {weights, autoScan, workers} }.
 * Unknown or ill-typed values fall back to defaults.
 */
export function settingsFromRaw(raw: unknown): ServerSettings {
  const out = defaultServerSettings();
  if (!raw || typeof raw !== 'object') return out;
  out.config = mergeConfig(out.config, raw);
  const scan = (raw as { scan?: unknown }).scan;
  if (scan && typeof scan === 'object') {
    const s = scan as { autoScan?: unknown; workers?: unknown };
    if (typeof s.autoScan === 'boolean') out.autoScan = s.autoScan;
    if (typeof s.workers === 'number' && Number.isFinite(s.workers)) {
      out.scanWorkers = Math.max(1, Math.min(MAX_SCAN_WORKERS, Math.floor(s.workers)));
    }
  }
  return out;
}
