/**
 * Repo lookups against the Hub with a TTL cache and request coalescing: however
 * many references a workspace has, one repo (+ revision + kind) costs at most one
 * info request per TTL. Concurrent lookups of the same key share one promise.
 */
import { modelInfo, datasetInfo, pathsInfo } from '@huggingface/hub';
import { createHubFetch, errorStatus, OfflineError, type HubFetch, type HubFetchOptions } from './client';
import { JsonTtlCache, DEFAULT_TTL_MS, isFresh } from './cache';
import { groupWeights } from './weights';
import path from 'node:path';

export type RepoKind = 'model' | 'dataset';

export interface RepoRef { repoId: string; kind: RepoKind; revision?: string }

export interface RepoInfo {
  repoId: string;
  kind: RepoKind;
  /** The commit the requested revision resolved to. */
  sha: string;
  lastModified?: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
  libraryName?: string;
  /** Every file path at that commit (models; datasets do not list siblings). */
  files?: string[];
}

export type LookupResult =
  | { status: 'ok'; info: RepoInfo }
  | { status: 'not-found' }
  /** 401/403: gated or private and we have no (valid) token. Not a missing repo. */
  | { status: 'unauthorized'; httpStatus: number }
  | { status: 'error'; message: string };

export interface FileSecurity { path: string; size?: number; lfsOid?: string; status?: unknown }

/** The hover's extra details: repo-level and per-weight-file scan status from the Hub. */
export interface RepoSecurityDetails {
  repoStatus?: unknown;
  files: FileSecurity[];
}

/** Errors that are not a definitive answer are cached this long (not the full TTL). */
export const ERROR_TTL_MS = 5 * 60 * 1000;
/** Lookups running at once; the rest wait in a queue. */
export const MAX_CONCURRENT_LOOKUPS = 4;
/** File names kept per repo (a hostile listing could send millions). */
export const MAX_REPO_FILES = 50_000;
/** paths-info is asked for at most this many weight files per repo. */
export const MAX_PATHS_INFO = 200;
/** A repo id as the Hub accepts it: optional owner, then name (letters, digits, - _ .). */
const REPO_ID_RE = /^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/;

export function isValidRepoId(repoId: string): boolean {
  return REPO_ID_RE.test(repoId) && !repoId.includes('..') && !repoId.endsWith('.git');
}

export function isCommitSha(revision: string | undefined): boolean {
  return !!revision && /^[0-9a-f]{40}$/.test(revision);
}

export interface HubRepoServiceOptions extends HubFetchOptions {
  cacheDir?: string;
  ttlMs?: number;
}

export class HubRepoService {
  readonly http: HubFetch;
  private readonly ttlMs: number;
  private readonly info: JsonTtlCache<LookupResult>;
  private readonly security: JsonTtlCache<RepoSecurityDetails>;
  private readonly inflight = new Map<string, Promise<LookupResult>>();
  private readonly securityInflight = new Map<string, Promise<RepoSecurityDetails | undefined>>();
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly opts: HubRepoServiceOptions) {
    this.http = createHubFetch(opts);
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.info = new JsonTtlCache(opts.cacheDir ? path.join(opts.cacheDir, 'hub-info') : undefined);
    this.security = new JsonTtlCache(opts.cacheDir ? path.join(opts.cacheDir, 'hub-security') : undefined);
  }

  online(): boolean { return this.opts.getConfig().online.enabled; }

  keyOf(ref: RepoRef): string {
    return JSON.stringify([this.http.baseUrl(), ref.kind, ref.repoId, ref.revision ?? '']);
  }

  /** Cached answer (fresh or stale) without any I/O beyond a local file read. */
  cached(ref: RepoRef): { result: LookupResult; fresh: boolean } | undefined {
    const e = this.info.get(this.keyOf(ref));
    if (!e) return undefined;
    const ttl = e.value.status === 'error' ? ERROR_TTL_MS : this.ttlMs;
    return { result: e.value, fresh: isFresh(e, ttl) };
  }

  /** Any cached ok answer for a repo id, regardless of revision (for quick-fix hints). */
  cachedAnyRevision(repoId: string, kind: RepoKind = 'model'): RepoInfo | undefined {
    for (const rev of [undefined, 'main']) {
      const hit = this.cached({ repoId, kind, revision: rev });
      if (hit?.result.status === 'ok') return hit.result.info;
    }
    return undefined;
  }

  /** Fresh cache or one (coalesced) request. Throws OfflineError when online features are off and nothing is cached. */
  async lookup(ref: RepoRef, force = false): Promise<LookupResult> {
    const hit = this.cached(ref);
    if (hit && hit.fresh && !force) return hit.result;
    if (!this.online()) {
      if (hit) return hit.result;
      throw new OfflineError();
    }
    const key = this.keyOf(ref);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.limited(() => this.fetchInfo(ref)).then((result) => {
      this.info.set(key, result);
      return result;
    }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  isInflight(ref: RepoRef): boolean { return this.inflight.has(this.keyOf(ref)); }

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_CONCURRENT_LOOKUPS) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }

  private async fetchInfo(ref: RepoRef): Promise<LookupResult> {
    if (!isValidRepoId(ref.repoId)) return { status: 'not-found' };
    const common = { name: ref.repoId, revision: ref.revision, hubUrl: this.http.hubUrl(), fetch: this.http.fetch };
    try {
      if (ref.kind === 'dataset') {
        const d = await datasetInfo({ ...common, additionalFields: ['sha'] });
        return {
          status: 'ok',
          info: {
            repoId: ref.repoId, kind: 'dataset', sha: String(d.sha ?? '').slice(0, 64), gated: d.gated ?? false, private: !!d.private,
            lastModified: validDate(d.updatedAt),
          },
        };
      }
      const m = await modelInfo({ ...common, additionalFields: ['sha', 'filePaths', 'library_name'] });
      return {
        status: 'ok',
        info: {
          repoId: ref.repoId, kind: 'model', sha: String(m.sha ?? '').slice(0, 64), gated: m.gated ?? false, private: !!m.private,
          lastModified: validDate(m.updatedAt), libraryName: typeof m.library_name === 'string' ? m.library_name : undefined,
          files: Array.isArray(m.filePaths) ? m.filePaths.slice(0, MAX_REPO_FILES).filter((f): f is string => typeof f === 'string' && f.length <= 1024) : [],
        },
      };
    } catch (err) {
      if (err instanceof OfflineError) throw err;
      const status = errorStatus(err);
      if (status === 404) return { status: 'not-found' };
      if (status === 401 || status === 403) return { status: 'unauthorized', httpStatus: status };
      return { status: 'error', message: err instanceof Error ? err.message : String(err) };
    }
  }

  cachedSecurity(info: RepoInfo): RepoSecurityDetails | undefined {
    const e = this.security.get(this.securityKey(info));
    return e && isFresh(e, this.ttlMs) ? e.value : e?.value;
  }

  private securityKey(info: RepoInfo): string {
    return JSON.stringify([this.http.baseUrl(), info.kind, info.repoId, info.sha, 'security']);
  }

  /**
   * The Hub's own scan results for the repo (securityStatus) and its weight files
   * (paths-info with expand). Two requests, once per commit per TTL; undefined offline.
   */
  async securityDetails(info: RepoInfo): Promise<RepoSecurityDetails | undefined> {
    const key = this.securityKey(info);
    const hit = this.security.get(key);
    if (hit && isFresh(hit, this.ttlMs)) return hit.value;
    if (!this.online()) return hit?.value;
    const running = this.securityInflight.get(key);
    if (running) return running;
    const p = this.limited(() => this.fetchSecurity(info)).then((v) => {
      if (v) this.security.set(key, v);
      return v;
    }).finally(() => this.securityInflight.delete(key));
    this.securityInflight.set(key, p);
    return p;
  }

  private async fetchSecurity(info: RepoInfo): Promise<RepoSecurityDetails | undefined> {
    const details: RepoSecurityDetails = { files: [] };
    const kindPath = info.kind === 'dataset' ? 'datasets' : 'models';
    try {
      const res = await this.http.fetch(`${this.http.baseUrl()}/api/${kindPath}/${info.repoId}?securityStatus=true`, { headers: { accept: 'application/json' } });
      if (res.ok) {
        const body = (await res.json()) as { securityRepoStatus?: unknown };
        details.repoStatus = body?.securityRepoStatus;
      } else {
        await res.body?.cancel().catch(() => undefined);
      }
    } catch (err) {
      if (err instanceof OfflineError) return undefined;
      this.opts.log?.(`hub: securityStatus failed for ${info.repoId}: ${(err as Error).message}`);
    }
    const g = groupWeights(info.files ?? []);
    const weightPaths = [...g.pickle, ...g.safetensors, ...g.other].slice(0, MAX_PATHS_INFO);
    if (weightPaths.length && info.sha) {
      try {
        const entries = await pathsInfo({
          repo: { type: info.kind, name: info.repoId }, paths: weightPaths, expand: true, revision: info.sha,
          hubUrl: this.http.hubUrl(), fetch: this.http.fetch,
        });
        for (const e of entries) details.files.push({ path: e.path, size: e.size, lfsOid: e.lfs?.oid, status: e.securityFileStatus });
      } catch (err) {
        if (err instanceof OfflineError) return undefined;
        this.opts.log?.(`hub: paths-info failed for ${info.repoId}: ${(err as Error).message}`);
      }
    }
    return details;
  }
}

function validDate(d: unknown): string | undefined {
  return d instanceof Date && Number.isFinite(d.getTime()) ? d.toISOString() : undefined;
}
