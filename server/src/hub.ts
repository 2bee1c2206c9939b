/**
 * Glue between the language server and the Hub integration (core/hub):
 * HUB001–HUB004 diagnostics for Python documents and notebooks (synchronous,
 * from cache; background lookups trigger a refresh), Hub hovers on repo ids,
 * the `hub-pin` fix resolver for LOAD005 quick-fixes, and `modelvet/scanHubRepo`.
 * Every network call goes through core/hub, which refuses to talk unless
 * `modelvet.online.enabled` is on.
 */
import os from 'node:os';
import path from 'node:path';
import { findHubReferences } from '../../core/code/index';
import type { ModelVetConfig } from '../../core/config';
import { createHubFeatures, hubRules, scanHubRepo, type HubFeatures, type HubReference } from '../../core/hub/index';
import { getRule, registerRules } from '../../core/rules/registry';
import type { ScanOutput } from '../../core/scan/types';
import { applySuppressions } from '../../core/suppress';
import { LineIndex } from '../../core/text';
import type { Finding, Position, TextEdit } from '../../core/types';
import { registerFixResolver } from './fixResolvers';

/** Cheap pre-filter: only modules that mention a Hub-loading API are searched for repo ids (a second parse costs time). */
const HUB_HINT = /from_pretrained|hf_hub_download|snapshot_download|pipeline\s*\(|load_dataset|SentenceTransformer|hf-hub:|hf_hub_url|create_model/;
/** Hub references per document before the rest are ignored. */
export const MAX_HUB_REFS_PER_DOCUMENT = 500;
/** Size cap of the downloaded-files cache for `modelvet/scanHubRepo`. */
export const HUB_SCAN_CACHE_BYTES = 10 * 1024 * 1024 * 1024;

export interface HubGlueOptions {
  getConfig(): ModelVetConfig;
  /** Storage folder (client's globalStorage); a temp folder otherwise. */
  storagePath?: string;
  log(m: string): void;
  /** Hub answers arrived: diagnostics may change. */
  onDidChange(): void;
}

/**
 * HUB rule docs for hovers and codeDescription links. core/rules/all.ts may register
 * them too (then this is a no-op); registering twice would throw.
 */
export function ensureHubRulesRegistered(): void {
  const missing = hubRules.filter((r) => !getRule(r.code));
  if (missing.length) registerRules(missing);
}

export class HubGlue {
  readonly features: HubFeatures;
  private readonly cacheDir: string;

  constructor(private readonly opts: HubGlueOptions) {
    ensureHubRulesRegistered();
    this.cacheDir = path.join(opts.storagePath ?? path.join(os.tmpdir(), 'modelvet-server'), 'hub');
    this.features = createHubFeatures({ getConfig: opts.getConfig, cacheDir: this.cacheDir, log: opts.log, onDidChange: opts.onDidChange });
    registerFixResolver('hub-pin', async (data) => this.resolvePin(data));
  }

  /** Hub references of a Python text (string literals only), or none when nothing Hub-like is mentioned. */
  references(filePath: string, text: string): HubReference[] {
    if (!HUB_HINT.test(text)) return [];
    return findHubReferences(filePath, text).slice(0, MAX_HUB_REFS_PER_DOCUMENT) as HubReference[];
  }

  /** HUB findings for one Python text, with suppression comments honoured. */
  findings(filePath: string, text: string, lines?: LineIndex): Finding[] {
    const refs = this.references(filePath, text);
    if (!refs.length) return [];
    const found = this.features.diagnosticsFor(filePath, refs);
    if (!found.length) return found;
    const index = lines ?? new LineIndex(text);
    return applySuppressions(found, (f) => index.lineText(f.range.start.line));
  }

  /** Hover markdown for the repo id under `pos` (online only; undefined otherwise). */
  async hover(filePath: string, text: string, pos: Position): Promise<{ markdown: string; ref: HubReference } | undefined> {
    if (!this.opts.getConfig().online.enabled) return undefined;
    const ref = this.references(filePath, text).find((r) => within(r.range, pos));
    if (!ref) return undefined;
    const markdown = await this.features.hover(ref);
    return markdown ? { markdown, ref } : undefined;
  }

  /** `hub-pin` resolve data from LOAD005: { repoId, kind, revision?, editTemplate: TextEdit[] with '{sha}' }. */
  private async resolvePin(data: unknown): Promise<TextEdit[] | undefined> {
    const d = data as { repoId?: unknown; kind?: unknown; revision?: unknown; editTemplate?: unknown } | undefined;
    if (!d || typeof d.repoId !== 'string' || !Array.isArray(d.editTemplate)) return undefined;
    const kind = d.kind === 'dataset' ? 'dataset' : 'model';
    const pin = await this.features.resolvePin({ repoId: d.repoId, kind, revision: typeof d.revision === 'string' ? d.revision : undefined });
    if (!pin) return undefined;
    return (d.editTemplate as TextEdit[]).map((e) => ({ range: e.range, newText: String(e.newText).split('{sha}').join(pin.revision) }));
  }

  /** `modelvet/scanHubRepo`: downloads what the scanner needs (online only) and scans it. */
  scanRepo(spec: string, onProgress: (done: number, total: number, current: string) => void, isCancelled: () => boolean): Promise<ScanOutput> {
    return scanHubRepo(spec, { config: this.opts.getConfig(), cacheDir: this.cacheDir, maxCacheBytes: HUB_SCAN_CACHE_BYTES, onProgress, isCancelled, log: this.opts.log });
  }
}

function within(r: { start: Position; end: Position }, p: Position): boolean {
  if (p.line < r.start.line || p.line > r.end.line) return false;
  if (p.line === r.start.line && p.character < r.start.character) return false;
  if (p.line === r.end.line && p.character > r.end.character) return false;
  return true;
}

