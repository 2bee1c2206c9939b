/**
 * Package-index client for DEP002's online pin: the newest final release of a
 * package, read from the index's Simple API (PEP 691 JSON, falling back to PEP 503
 * HTML). Versions come from distribution file names; yanked files, pre-releases
 * and dev releases are skipped, and a local label (`+cu121`) is dropped so the pin
 * is the public version (pip's `==2.1.0` matches `2.1.0+cu121`).
 *
 * The index URL comes only from the user: `online.indexUrl`, else `PIP_INDEX_URL`,
 * else pip's configuration files — without one, no request is made. Nothing is
 * requested while `online.enabled` is off.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { explain } from '@renovatebot/pep440';
import type { ModelVetConfig } from '../config';
import { compareVersions, isValidVersion, normalizeName, versionSatisfies } from './pep440';

/** Default time for one index request (connect + full body). */
export const INDEX_TIMEOUT_MS = 10_000;
/** How long an index answer (including "no such project") is reused. */
export const INDEX_TTL_MS = 60 * 60 * 1000;
/** Largest Simple API page read; big projects (many wheels per release) reach a few MB. */
export const MAX_INDEX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Distribution files considered per page; the rest are ignored. */
export const MAX_INDEX_FILES = 200_000;
/** pip config files larger than this are not read. */
export const MAX_PIP_CONFIG_BYTES = 64 * 1024;
/** Longest accepted (normalized) project name. */
export const MAX_PACKAGE_NAME_LENGTH = 200;

const ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';
const NORMALIZED_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const SDIST_EXTENSIONS = ['.tar.gz', '.tar.bz2', '.tar.xz', '.tgz', '.zip', '.tar'];

export type FetchLike = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

export interface IndexClientOptions {
  /** Read on every lookup so setting changes apply at once. */
  getConfig(): ModelVetConfig;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: FetchLike;
  timeoutMs?: number;
  ttlMs?: number;
  /** Response size cap (default MAX_INDEX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** Folder for an on-disk JSON cache (one file per index and package); memory only when absent. */
  cacheDir?: string;
  /** Environment and home folder for PIP_INDEX_URL / pip.conf discovery (default: the process's). */
  env?: Record<string, string | undefined>;
  homeDir?: string;
  now?: () => number;
  log?: (message: string) => void;
}

export interface IndexClient {
  /**
   * The newest final release of `pkg` on the configured index that satisfies `spec`
   * (when given), as a public PEP 440 version; undefined when offline, no index is
   * configured, the project is unknown, or the request failed.
   */
  newestVersion(pkg: string, spec?: string): Promise<string | undefined>;
  /**
   * `sha256:<hex>` digests of the non-yanked files of pkg==version listed by the configured index
   * (for DEP003's "add --hash" fix); undefined when offline, unconfigured, unknown or failed.
   */
  hashesOf(pkg: string, version: string): Promise<string[] | undefined>;
  /** Requests actually sent (for diagnostics and tests). */
  readonly requestCount: number;
}

/** `hashes`: sha256 digests per public version (absent in caches written before it was recorded). */
interface CacheEntry { fetchedAt: number; versions: string[]; hashes?: Record<string, string[]> }

export function createIndexClient(opts: IndexClientOptions): IndexClient {
  const doFetch: FetchLike = opts.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = opts.timeoutMs ?? INDEX_TIMEOUT_MS;
  const ttlMs = opts.ttlMs ?? INDEX_TTL_MS;
  const maxBytes = opts.maxResponseBytes ?? MAX_INDEX_RESPONSE_BYTES;
  const now = opts.now ?? Date.now;
  const memory = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<CacheEntry | undefined>>();
  let requestCount = 0;

  const fresh = (e: CacheEntry | undefined): e is CacheEntry => !!e && now() - e.fetchedAt >= 0 && now() - e.fetchedAt < ttlMs;

  async function pageOf(indexUrl: string, norm: string, needHashes = false): Promise<CacheEntry | undefined> {
    const key = `${indexUrl}\n${norm}`;
    const usable = (e: CacheEntry | undefined): e is CacheEntry => fresh(e) && (!needHashes || e.hashes !== undefined);
    const cached = memory.get(key);
    if (usable(cached)) return cached;
    const onDisk = readDiskEntry(opts.cacheDir, indexUrl, norm);
    if (usable(onDisk)) { memory.set(key, onDisk); return onDisk; }
    const running = inflight.get(key);
    if (running) return running;
    const p = (async () => {
      requestCount++;
      const page = await fetchPage(doFetch, indexUrl, norm, timeoutMs, maxBytes, opts.log);
      // Failures (timeouts, 5xx) are not cached: the next pick of the fix retries.
      if (!page) return undefined;
      const entry: CacheEntry = { fetchedAt: now(), versions: page.versions, hashes: page.hashes };
      memory.set(key, entry);
      writeDiskEntry(opts.cacheDir, indexUrl, norm, entry, opts.log);
      return entry;
    })().finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  function target(pkg: string): { indexUrl: string; norm: string } | undefined {
    const config = opts.getConfig();
    if (!config.online.enabled) return undefined;
    const norm = normalizeName(pkg);
    if (norm.length > MAX_PACKAGE_NAME_LENGTH || !NORMALIZED_NAME.test(norm)) return undefined;
    const indexUrl = resolveIndexUrl(config, opts.env ?? process.env, opts.homeDir ?? os.homedir());
    if (!indexUrl) { opts.log?.('index-pin: no package index configured (modelvet.online.indexUrl, PIP_INDEX_URL or pip.conf); not asking any'); return undefined; }
    return { indexUrl, norm };
  }

  return {
    get requestCount() { return requestCount; },
    async newestVersion(pkg, spec) {
      const t = target(pkg);
      const page = t && await pageOf(t.indexUrl, t.norm);
      return page ? newestFinal(page.versions, spec) : undefined;
    },
    async hashesOf(pkg, version) {
      const t = target(pkg);
      const page = t && await pageOf(t.indexUrl, t.norm, true);
      const pub = publicVersion(version);
      const hs = page && pub ? page.hashes?.[pub] : undefined;
      return hs?.length ? hs : undefined;
    },
  };
}

// ------------------------------------------------------------------ index URL

/** The index base URL from settings, PIP_INDEX_URL or pip's config files; undefined when none is set. */
export function resolveIndexUrl(config: ModelVetConfig, env: Record<string, string | undefined>, homeDir: string): string | undefined {
  const candidates = [config.online.indexUrl, env.PIP_INDEX_URL];
  for (const c of candidates) { const u = validIndexUrl(c); if (u) return u; }
  for (const file of pipConfigFiles(env, homeDir)) {
    const u = validIndexUrl(readPipConfigIndexUrl(file));
    if (u) return u;
  }
  return undefined;
}

/** pip's config files, highest priority first. */
export function pipConfigFiles(env: Record<string, string | undefined>, homeDir: string): string[] {
  const files: string[] = [];
  if (env.PIP_CONFIG_FILE && env.PIP_CONFIG_FILE !== os.devNull) files.push(env.PIP_CONFIG_FILE);
  if (env.XDG_CONFIG_HOME) files.push(path.join(env.XDG_CONFIG_HOME, 'pip', 'pip.conf'));
  if (homeDir) files.push(path.join(homeDir, '.config', 'pip', 'pip.conf'), path.join(homeDir, '.pip', 'pip.conf'));
  if (env.APPDATA) files.push(path.join(env.APPDATA, 'pip', 'pip.ini'));
  if (homeDir && process.platform === 'win32') files.push(path.join(homeDir, 'pip', 'pip.ini'));
  files.push('/etc/pip.conf');
  return files;
}

/** `[global] index-url` of one INI file, or undefined (missing, too big, or not set). */
export function readPipConfigIndexUrl(file: string): string | undefined {
  let text: string;
  try {
    if (statSync(file).size > MAX_PIP_CONFIG_BYTES) return undefined;
    text = readFileSync(file, 'utf8');
  } catch { return undefined; }
  return parsePipConfigIndexUrl(text);
}

export function parsePipConfigIndexUrl(text: string): string | undefined {
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) { section = header[1].trim().toLowerCase(); continue; }
    if (section !== 'global') continue;
    const kv = /^([A-Za-z0-9_-]+)\s*[=:]\s*(.*)$/.exec(line);
    if (kv && kv[1].toLowerCase().replace(/_/g, '-') === 'index-url') return kv[2].trim() || undefined;
  }
  return undefined;
}

function validIndexUrl(u: string | undefined): string | undefined {
  const s = u?.trim();
  if (!s) return undefined;
  try {
    const parsed = new URL(s);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    return s;
  } catch { return undefined; }
}

// ------------------------------------------------------------------ fetching

async function fetchPage(doFetch: FetchLike, indexUrl: string, norm: string, timeoutMs: number, maxBytes: number, log?: (m: string) => void): Promise<{ versions: string[]; hashes: Record<string, string[]> } | undefined> {
  const target = new URL(`${indexUrl.replace(/\/+$/, '')}/${norm}/`);
  const headers: Record<string, string> = { Accept: ACCEPT };
  // fetch refuses URLs with credentials; pip sends them as Basic auth.
  if (target.username || target.password) {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const shown = `${target.origin}${target.pathname}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await doFetch(target.toString(), { headers, signal: controller.signal });
    if (res.status === 404) { await res.body?.cancel().catch(() => undefined); return { versions: [], hashes: {} }; }
    if (!res.ok) { await res.body?.cancel().catch(() => undefined); log?.(`index-pin: ${shown} answered HTTP ${res.status}`); return undefined; }
    const body = await readCapped(res, maxBytes);
    if (body === undefined) { log?.(`index-pin: ${shown} is larger than ${maxBytes} bytes; ignored`); return undefined; }
    const type = res.headers.get('content-type') ?? '';
    const json = /json/i.test(type);
    const versions = json ? parseSimpleJson(body, norm) : parseSimpleHtml(body, norm);
    return versions ? { versions, hashes: simpleFileHashes(body, json, norm) } : undefined;
  } catch (e) {
    log?.(`index-pin: ${shown}: ${controller.signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** The body as text, or undefined when it exceeds `limit` bytes (the stream is cancelled then). */
async function readCapped(res: Response, limit: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) { await res.body?.cancel().catch(() => undefined); return undefined; }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) { await reader.cancel().catch(() => undefined); return undefined; }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

// ------------------------------------------------------------------ parsing

/** Public versions with at least one non-yanked file, from a PEP 691 JSON page. Undefined when it is not one. */
export function parseSimpleJson(body: string, norm: string): string[] | undefined {
  let doc: unknown;
  try { doc = JSON.parse(body); } catch { return undefined; }
  const files = (doc as { files?: unknown })?.files;
  if (!Array.isArray(files)) return undefined;
  const versions = new Set<string>();
  for (const f of files.slice(0, MAX_INDEX_FILES)) {
    if (!f || typeof f !== 'object') continue;
    const { filename, yanked } = f as { filename?: unknown; yanked?: unknown };
    if (typeof filename !== 'string' || (yanked !== undefined && yanked !== false)) continue;
    const v = versionFromFilename(filename, norm);
    if (v) versions.add(v);
  }
  return [...versions];
}

/** Same from a PEP 503 HTML page: anchors' text is the file name; `data-yanked` marks yanked files. */
export function parseSimpleHtml(body: string, norm: string): string[] {
  const versions = new Set<string>();
  const anchor = /<a\b([^>]*)>([^<]*)<\/a\s*>/gi;
  let m: RegExpExecArray | null;
  let seen = 0;
  while ((m = anchor.exec(body)) && seen++ < MAX_INDEX_FILES) {
    const attrs = m[1];
    if (/\sdata-yanked\b/i.test(` ${attrs}`)) continue;
    let filename = decodeEntities(m[2].trim());
    if (!filename) {
      const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(attrs);
      const url = decodeEntities(href?.[1] ?? href?.[2] ?? '').split(/[#?]/)[0];
      try { filename = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1)); } catch { continue; }
    }
    const v = versionFromFilename(filename, norm);
    if (v) versions.add(v);
  }
  return [...versions];
}

const HEX64 = /^[0-9a-f]{64}$/i;

/**
 * sha256 digests of the non-yanked files per public version, from a PEP 691 JSON page
 * (`files[].hashes.sha256`) or a PEP 503 HTML page (`#sha256=` in the href).
 */
export function simpleFileHashes(body: string, json: boolean, norm: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (filename: string, digest: unknown) => {
    const v = versionFromFilename(filename, norm);
    if (!v || typeof digest !== 'string' || !HEX64.test(digest)) return;
    const list = (out[v] ??= []);
    const h = `sha256:${digest.toLowerCase()}`;
    if (!list.includes(h)) list.push(h);
  };
  if (json) {
    let doc: unknown;
    try { doc = JSON.parse(body); } catch { return out; }
    const files = (doc as { files?: unknown })?.files;
    if (!Array.isArray(files)) return out;
    for (const f of files.slice(0, MAX_INDEX_FILES)) {
      const { filename, yanked, hashes } = (f ?? {}) as { filename?: unknown; yanked?: unknown; hashes?: { sha256?: unknown } };
      if (typeof filename === 'string' && (yanked === undefined || yanked === false)) add(filename, hashes?.sha256);
    }
    return out;
  }
  const anchor = /<a\b([^>]*)>([^<]*)<\/a\s*>/gi;
  let m: RegExpExecArray | null;
  let seen = 0;
  while ((m = anchor.exec(body)) && seen++ < MAX_INDEX_FILES) {
    if (/\sdata-yanked\b/i.test(` ${m[1]}`)) continue;
    const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(m[1]);
    const url = decodeEntities(href?.[1] ?? href?.[2] ?? '');
    const digest = /#(?:.*&)?sha256=([0-9a-f]{64})/i.exec(url)?.[1];
    let filename = decodeEntities(m[2].trim());
    if (!filename) { try { filename = decodeURIComponent(url.split(/[#?]/)[0].split('/').pop() ?? ''); } catch { continue; } }
    add(filename, digest);
  }
  return out;
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" } as Record<string, string>)[e]);
}

/**
 * The public version in a wheel or sdist file name of project `norm`, or undefined
 * (another project's file, an unknown format, or an invalid version).
 */
export function versionFromFilename(filename: string, norm: string): string | undefined {
  const lower = filename.toLowerCase();
  let version: string | undefined;
  if (lower.endsWith('.whl')) {
    // {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl; the name never contains '-'.
    const parts = filename.slice(0, -4).split('-');
    if (parts.length < 5 || parts.length > 6 || normalizeName(parts[0]) !== norm) return undefined;
    version = parts[1];
  } else {
    const ext = SDIST_EXTENSIONS.find((x) => lower.endsWith(x));
    if (!ext) return undefined;
    const stem = filename.slice(0, -ext.length);
    // Legacy sdists may keep '-' in the name: find the split whose left side is the project.
    for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
      if (normalizeName(stem.slice(0, i)) === norm) { version = stem.slice(i + 1); break; }
    }
  }
  if (!version || !isValidVersion(version)) return undefined;
  return publicVersion(version);
}

/** The version without its local label; undefined when it does not parse. */
function publicVersion(v: string): string | undefined {
  try { return explain(v)?.public ?? undefined; } catch { return undefined; }
}

/** The newest version that is neither a pre-release nor a dev release (and satisfies `spec`, when given). */
export function newestFinal(versions: string[], spec?: string): string | undefined {
  let best: string | undefined;
  for (const v of versions) {
    let info: ReturnType<typeof explain>;
    try { info = explain(v); } catch { continue; }
    if (!info || info.is_prerelease || info.is_devrelease || info.local) continue;
    if (spec && !versionSatisfies(v, spec)) continue;
    if (!best || compareVersions(v, best) > 0) best = v;
  }
  return best;
}

// ------------------------------------------------------------------ disk cache

function diskPath(cacheDir: string, indexUrl: string, norm: string): string {
  const indexKey = createHash('sha256').update(indexUrl).digest('hex').slice(0, 16);
  return path.join(cacheDir, indexKey, `${norm}.json`);
}

function readDiskEntry(cacheDir: string | undefined, indexUrl: string, norm: string): CacheEntry | undefined {
  if (!cacheDir) return undefined;
  try {
    const file = diskPath(cacheDir, indexUrl, norm);
    if (statSync(file).size > MAX_INDEX_RESPONSE_BYTES) return undefined;
    const e = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheEntry>;
    if (typeof e.fetchedAt !== 'number' || !Array.isArray(e.versions) || !e.versions.every((v) => typeof v === 'string' && isValidVersion(v))) return undefined;
    const hashesOk = e.hashes && typeof e.hashes === 'object' && Object.values(e.hashes).every((l) => Array.isArray(l) && l.every((h) => typeof h === 'string' && /^sha256:[0-9a-f]{64}$/.test(h)));
    return { fetchedAt: e.fetchedAt, versions: e.versions, ...(hashesOk ? { hashes: e.hashes } : {}) };
  } catch { return undefined; }
}

function writeDiskEntry(cacheDir: string | undefined, indexUrl: string, norm: string, entry: CacheEntry, log?: (m: string) => void): void {
  if (!cacheDir) return;
  try {
    const file = diskPath(cacheDir, indexUrl, norm);
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, file);
  } catch (e) { log?.(`index-pin: cache write failed: ${(e as Error).message}`); }
}
