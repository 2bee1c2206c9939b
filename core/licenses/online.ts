/**
 * Licenses from the package index — only with online features on (`modelvet licenses --online`, the
 * user's choice). Standard APIs only, so any index works: the PEP 691 JSON simple page of a project lists
 * its files, and a wheel's `core-metadata` (PEP 714; `data-dist-info-metadata` before it, PEP 658) is its
 * METADATA file, served next to it as `<url>.metadata`. The same header reader as for installed
 * packages gives the license. Answers are cached on disk (by index, project and version) for a day.
 *
 * Used to fill licenses that are unknown locally (a locked package that is not installed) and to compare
 * the locked version's license with the newest release's (LIC005).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeName } from '../deps/pep440';
import { newestFinal, versionFromFilename } from '../deps/indexClient';
import { licenseFromHeaders, parseMetadataHeaders, MAX_METADATA_HEADER_BYTES } from './installed';
import type { NormalizedLicense } from './spdx';

export const ONLINE_TIMEOUT_MS = 10_000;
/** A simple page larger than this is ignored. */
export const MAX_SIMPLE_PAGE_BYTES = 32 * 1024 * 1024;
/** Requests in flight at once. */
export const ONLINE_CONCURRENCY = 8;
/** Projects looked up per run (the rest are reported as not looked up). */
export const MAX_ONLINE_PROJECTS = 2_000;
export const ONLINE_CACHE_TTL_MS = 24 * 60 * 60 * 1000;

const ACCEPT_JSON = 'application/vnd.pypi.simple.v1+json';
const NAME_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

export type FetchFn = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

export interface OnlineOptions {
  /** Base of the simple API (PEP 503/691), e.g. from PIP_INDEX_URL. */
  indexUrl: string;
  fetch?: FetchFn;
  timeoutMs?: number;
  /** On-disk cache folder; memory only when absent. */
  cacheDir?: string;
  now?: () => number;
  log?: (m: string) => void;
}

export interface IndexLicense { version: string; license: NormalizedLicense }
export interface IndexLicenses {
  /** License of the requested version (when the index serves its metadata). */
  pinned?: IndexLicense;
  /** Newest final release and its license. */
  newest?: IndexLicense;
}

interface SimpleFile { filename: string; url: string; metadata: boolean }

export interface OnlineLookup {
  licensesOf(name: string, version: string | undefined): Promise<IndexLicenses | undefined>;
  readonly requestCount: number;
}

export function createOnlineLookup(opts: OnlineOptions): OnlineLookup {
  const doFetch: FetchFn = opts.fetch ?? ((u, i) => fetch(u, i));
  const timeoutMs = opts.timeoutMs ?? ONLINE_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const base = opts.indexUrl.replace(/\/+$/, '');
  let requestCount = 0;
  let active = 0;
  const waiting: Array<() => void> = [];
  const slot = async () => { if (active >= ONLINE_CONCURRENCY) await new Promise<void>((r) => waiting.push(r)); active++; };
  const release = () => { active--; waiting.shift()?.(); };

  async function get(url: string, accept: string, maxBytes: number): Promise<{ text: string; type: string } | undefined> {
    await slot();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const target = new URL(url);
    const headers: Record<string, string> = { Accept: accept };
    if (target.username || target.password) {
      headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
      target.username = ''; target.password = '';
    }
    try {
      requestCount++;
      const res = await doFetch(target.toString(), { headers, signal: controller.signal });
      if (!res.ok) { await res.body?.cancel().catch(() => undefined); if (res.status !== 404) opts.log?.(`${target.origin}${target.pathname}: HTTP ${res.status}`); return undefined; }
      const declared = Number(res.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBytes) { await res.body?.cancel().catch(() => undefined); return undefined; }
      const buf = Buffer.from(await res.arrayBuffer());
      if (buf.length > maxBytes) return undefined;
      return { text: buf.toString('utf8'), type: res.headers.get('content-type') ?? '' };
    } catch (e) {
      opts.log?.(`${target.origin}${target.pathname}: ${controller.signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message}`);
      return undefined;
    } finally { clearTimeout(timer); release(); }
  }

  function cacheFile(key: string): string | undefined {
    if (!opts.cacheDir) return undefined;
    return path.join(opts.cacheDir, createHash('sha256').update(`${base}\n${key}`).digest('hex').slice(0, 32) + '.json');
  }
  function readCache<T>(key: string): T | undefined {
    const f = cacheFile(key);
    if (!f) return undefined;
    try {
      if (statSync(f).size > MAX_SIMPLE_PAGE_BYTES) return undefined;
      const e = JSON.parse(readFileSync(f, 'utf8')) as { at: number; value: T };
      return typeof e.at === 'number' && now() - e.at >= 0 && now() - e.at < ONLINE_CACHE_TTL_MS ? e.value : undefined;
    } catch { return undefined; }
  }
  function writeCache(key: string, value: unknown): void {
    const f = cacheFile(key);
    if (!f) return;
    try {
      mkdirSync(path.dirname(f), { recursive: true });
      const tmp = `${f}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ at: now(), value }));
      renameSync(tmp, f);
    } catch (e) { opts.log?.(`license cache: ${(e as Error).message}`); }
  }

  const pages = new Map<string, Promise<SimpleFile[] | undefined>>();
  function filesOf(norm: string): Promise<SimpleFile[] | undefined> {
    let p = pages.get(norm);
    if (!p) {
      p = (async () => {
        const cached = readCache<SimpleFile[]>(`page:${norm}`);
        if (cached) return cached;
        const pageUrl = `${base}/${norm}/`;
        const r = await get(pageUrl, ACCEPT_JSON, MAX_SIMPLE_PAGE_BYTES);
        if (!r || !/json/i.test(r.type)) return undefined; // the metadata links need the JSON form
        const files = parseFiles(r.text, pageUrl);
        if (files) writeCache(`page:${norm}`, files);
        return files;
      })();
      pages.set(norm, p);
    }
    return p;
  }

  async function licenseAt(norm: string, version: string, files: SimpleFile[]): Promise<IndexLicense | undefined> {
    const key = `meta:${norm}==${version}`;
    const cached = readCache<IndexLicense | null>(key);
    if (cached !== undefined) return cached ?? undefined;
    const wheel = files.find((f) => f.metadata && f.filename.endsWith('.whl') && versionFromFilename(f.filename, norm) === version);
    if (!wheel) return undefined;
    const r = await get(`${wheel.url.split('#')[0]}.metadata`, '*/*', MAX_METADATA_HEADER_BYTES * 4);
    if (!r) return undefined;
    const found: IndexLicense = { version, license: licenseFromHeaders(parseMetadataHeaders(r.text)).license };
    writeCache(key, found);
    return found;
  }

  return {
    get requestCount() { return requestCount; },
    async licensesOf(name, version) {
      const norm = normalizeName(name);
      if (!NAME_RE.test(norm)) return undefined;
      const files = await filesOf(norm);
      if (!files) return undefined;
      const versions = [...new Set(files.map((f) => versionFromFilename(f.filename, norm)).filter((v): v is string => !!v))];
      const newestV = newestFinal(versions);
      const [pinned, newest] = await Promise.all([
        version ? licenseAt(norm, version, files) : Promise.resolve(undefined),
        newestV && newestV !== version ? licenseAt(norm, newestV, files) : Promise.resolve(undefined),
      ]);
      return { pinned, newest: newest ?? (newestV === version ? pinned : undefined) };
    },
  };
}

/** Files of a PEP 691 page with absolute URLs and whether their metadata is served (PEP 714 / PEP 658 keys). */
export function parseFiles(body: string, pageUrl: string): SimpleFile[] | undefined {
  let doc: any;
  try { doc = JSON.parse(body); } catch { return undefined; }
  if (!Array.isArray(doc?.files)) return undefined;
  const out: SimpleFile[] = [];
  for (const f of doc.files.slice(0, 200_000)) {
    if (!f || typeof f.filename !== 'string' || typeof f.url !== 'string') continue;
    if (f.yanked !== undefined && f.yanked !== false) continue;
    const meta = f['core-metadata'] ?? f['data-dist-info-metadata'];
    let url: string;
    try { url = new URL(f.url, pageUrl).toString(); } catch { continue; }
    out.push({ filename: f.filename, url, metadata: meta === true || (!!meta && typeof meta === 'object') });
  }
  return out;
}
