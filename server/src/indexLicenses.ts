/**
 * LIC005 in the editor: the newest release's license of the dependencies a manifest pins or the
 * lockfile locks, from the package index, looked up in the background with the same client as
 * `modelvet licenses --online` (core/licenses/online: PEP 691 JSON + PEP 658/714 METADATA, disk cache,
 * timeouts, size caps). Diagnostics only read answers already known (`known`, synchronous); a miss
 * queues a lookup, and answers arriving ask for one diagnostic refresh (`onDidChange`).
 *
 * Nothing is requested unless `modelvet.online.enabled` is on in a trusted workspace, LIC005 is not
 * turned off (`modelvet.rules`), and an index is configured (`modelvet.online.indexUrl`, else
 * PIP_INDEX_URL or pip.conf).
 */
import os from 'node:os';
import path from 'node:path';
import type { IndexLicenseSource } from '../../core/analysis';
import { effectiveSeverity, type ModelVetConfig } from '../../core/config';
import { resolveIndexUrl } from '../../core/deps/indexClient';
import { normalizeName } from '../../core/deps/pep440';
import { createOnlineLookup, MAX_ONLINE_PROJECTS, ONLINE_CACHE_TTL_MS, type IndexLicenses, type OnlineLookup, type OnlineOptions } from '../../core/licenses/online';

/** Answers (and failures) remembered in memory before the map is emptied. */
export const MAX_KNOWN_ANSWERS = 4_096;
/** A lookup that failed (timeout, HTTP error, no metadata) is retried after this long, not on every keystroke. */
export const FAILED_RETRY_MS = 10 * 60 * 1000;
/** Answers arriving within this window share one diagnostic refresh. */
export const CHANGE_DEBOUNCE_MS = 200;

export interface IndexLicenseGlueOptions {
  /** Whether the client said the workspace is trusted. */
  isTrusted(): boolean;
  /** Storage folder (client's globalStorage); a temp folder otherwise. */
  storagePath?: string;
  log(m: string): void;
  /** Index answers arrived: LIC005 diagnostics may change. */
  onDidChange(): void;
  /** Tests: environment and home folder for the index URL fallback (PIP_INDEX_URL, pip.conf). */
  env?: Record<string, string | undefined>;
  homeDir?: string;
  fetch?: OnlineOptions['fetch'];
  now?: () => number;
}

/** An answer (or the last one, after a failed retry) and until when it is used without asking again. */
interface Known { value?: IndexLicenses; until: number }

export class IndexLicenseGlue {
  private readonly cacheDir: string;
  private readonly known = new Map<string, Known>();
  private readonly queued = new Map<string, { indexUrl: string; name: string; version: string }>();
  private readonly running = new Set<string>();
  private lookup: { indexUrl: string; at: number; client: OnlineLookup } | undefined;
  private drainScheduled = false;
  private changeTimer: NodeJS.Timeout | undefined;
  private warnedNoIndex = false;
  private disposed = false;

  constructor(private readonly opts: IndexLicenseGlueOptions) {
    this.cacheDir = path.join(opts.storagePath ?? path.join(os.tmpdir(), 'modelvet-server'), 'index-licenses');
  }

  /** The source for one analysis with `config`, or undefined when online features are off (nothing is asked then). */
  sourceFor(config: ModelVetConfig): IndexLicenseSource | undefined {
    if (this.disposed || !config.online.enabled || !this.opts.isTrusted() || !effectiveSeverity(config, 'LIC005', 'warning')) return undefined;
    const indexUrl = resolveIndexUrl(config, this.opts.env ?? process.env, this.opts.homeDir ?? os.homedir());
    if (!indexUrl) {
      if (!this.warnedNoIndex) { this.warnedNoIndex = true; this.opts.log('licenses: no package index configured (modelvet.online.indexUrl, PIP_INDEX_URL or pip.conf); LIC005 is not checked'); }
      return undefined;
    }
    return { known: (name, version) => this.answer(indexUrl, name, version) };
  }

  /** Lookups waiting or in flight (tests). */
  get pending(): number { return this.queued.size + this.running.size; }

  dispose(): void {
    this.disposed = true;
    this.queued.clear();
    if (this.changeTimer) clearTimeout(this.changeTimer);
  }

  private now(): number { return (this.opts.now ?? Date.now)(); }

  private answer(indexUrl: string, name: string, version: string): IndexLicenses | undefined {
    const key = `${indexUrl}\n${normalizeName(name)}==${version}`;
    const hit = this.known.get(key);
    if (hit && this.now() < hit.until) return hit.value;
    if (!this.running.has(key) && !this.queued.has(key) && this.queued.size + this.running.size < MAX_ONLINE_PROJECTS) {
      this.queued.set(key, { indexUrl, name, version });
      this.scheduleDrain();
    }
    return hit?.value; // a stale answer stays shown while it is looked up again
  }

  /** Lookups start after the current analysis returns: even the disk cache is read off the diagnostics path. */
  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      const batch = [...this.queued];
      this.queued.clear();
      for (const [key, q] of batch) void this.run(key, q);
    });
  }

  private clientFor(indexUrl: string): OnlineLookup {
    // One client per index, renewed as often as failures are retried: it remembers each page (failures
    // too) in memory for its lifetime; answers it got stay in the disk cache for the day.
    const age = this.lookup ? this.now() - this.lookup.at : 0;
    if (!this.lookup || this.lookup.indexUrl !== indexUrl || age < 0 || age >= FAILED_RETRY_MS) {
      this.lookup = { indexUrl, at: this.now(), client: createOnlineLookup({ indexUrl, cacheDir: this.cacheDir, fetch: this.opts.fetch, now: this.opts.now, log: (m) => this.opts.log(`licenses: ${m}`) }) };
    }
    return this.lookup.client;
  }

  private async run(key: string, q: { indexUrl: string; name: string; version: string }): Promise<void> {
    if (this.disposed) return;
    this.running.add(key);
    let value: IndexLicenses | undefined;
    try {
      value = await this.clientFor(q.indexUrl).licensesOf(q.name, q.version);
    } catch (e) {
      this.opts.log(`licenses: ${q.name} ${q.version}: ${(e as Error).message}`);
    } finally { this.running.delete(key); }
    if (this.disposed) return;
    if (this.known.size >= MAX_KNOWN_ANSWERS) this.known.clear();
    const had = this.known.get(key)?.value;
    // No newest release known means nothing to compare: remembered as a failure, retried later.
    const usable = value && value.newest ? value : undefined;
    this.known.set(key, usable ? { value: usable, until: this.now() + ONLINE_CACHE_TTL_MS } : { value: had, until: this.now() + FAILED_RETRY_MS });
    if (usable) this.changed();
  }

  private changed(): void {
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => { this.changeTimer = undefined; if (!this.disposed) this.opts.onDidChange(); }, CHANGE_DEBOUNCE_MS);
  }
}
