/**
 * The single network door for everything Hub-related. Every request — the
 * `@huggingface/hub` calls and our own plain GETs — goes through one injected
 * `fetch` wrapped here with: the online master switch (zero requests when off),
 * a timeout, bounded retries with exponential backoff on 429/5xx (honouring
 * Retry-After, capped), the access token header, and a request counter.
 *
 * Proxies: Node 20's built-in fetch does NOT read HTTPS_PROXY/HTTP_PROXY. We do
 * not add a dependency for it; a host that needs a proxy injects a proxy-aware
 * `fetch` (e.g. undici's EnvHttpProxyAgent as dispatcher) and we wrap that.
 */
import { HUB_URL, HubApiError } from '@huggingface/hub';
import type { ModelVetConfig } from '../config';

/** Per-attempt timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Retries after the first attempt (so at most MAX_RETRIES + 1 requests per call). */
export const MAX_RETRIES = 3;
/** First backoff delay; doubles each retry. */
export const BASE_BACKOFF_MS = 250;
/** No single wait (backoff or Retry-After) is longer than this. */
export const MAX_BACKOFF_MS = 8_000;

/** Thrown instead of making a request while online features are off. */
export class OfflineError extends Error {
  constructor(url?: string) {
    super(`online features are disabled (modelvet.online.enabled = false)${url ? `; refused a request to ${redactUrl(url)}` : ''}`);
    this.name = 'OfflineError';
  }
}

/** Thrown when a request (one attempt) exceeds the timeout, after retries are exhausted. */
export class HubTimeoutError extends Error {
  constructor(url: string, ms: number) {
    super(`Hub request timed out after ${ms} ms: ${redactUrl(url)}`);
    this.name = 'HubTimeoutError';
  }
}

export interface HubFetchOptions {
  getConfig(): ModelVetConfig;
  /** The underlying fetch (tests, proxies). Default: the global fetch. */
  fetch?: typeof fetch;
  /** Access token; default HF_TOKEN from the environment. Never logged. */
  token?: string;
  timeoutMs?: number;
  maxRetries?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  log?(message: string): void;
}

export interface HubFetch {
  /** Use this as the `fetch` of every Hub call. */
  fetch: typeof fetch;
  /** The same door with another per-attempt timeout (downloads). Shares the counter. */
  withTimeout(ms: number): typeof fetch;
  /** Requests actually sent (retries included). */
  requestCount(): number;
  /** The endpoint to pass as `hubUrl` (undefined = the library default). */
  hubUrl(): string | undefined;
  /** The endpoint for our own plain requests (setting, HF_ENDPOINT, or the library default). */
  baseUrl(): string;
}

/** Endpoint precedence: setting, then HF_ENDPOINT, then undefined (the library's own default). */
export function resolveHubUrl(config: ModelVetConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromSetting = config.online.hubUrl.trim();
  if (fromSetting) return fromSetting.replace(/\/+$/, '');
  const fromEnv = env.HF_ENDPOINT?.trim();
  if (fromEnv) return fromEnv.replace(/\/+$/, '');
  return undefined;
}

/** Drops query strings and credentials from a URL before it goes into a log or message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<url>';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Retry-After in ms (delta-seconds or HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

export function createHubFetch(opts: HubFetchOptions): HubFetch {
  const inner = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRetries = Math.max(0, opts.maxRetries ?? MAX_RETRIES);
  const baseBackoff = opts.baseBackoffMs ?? BASE_BACKOFF_MS;
  const maxBackoff = opts.maxBackoffMs ?? MAX_BACKOFF_MS;
  let count = 0;

  const hubUrl = () => resolveHubUrl(opts.getConfig());
  const baseUrl = () => hubUrl() ?? HUB_URL;

  const request = async (input: string | URL | Request, init: RequestInit | undefined, timeoutMs: number): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    if (!opts.getConfig().online.enabled) throw new OfflineError(url);

    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const token = opts.token ?? process.env.HF_TOKEN;
    // Only our endpoint gets the token; the library may also set it, which is the same value.
    if (token && !headers.has('authorization') && sameOrigin(url, baseUrl())) headers.set('authorization', `Bearer ${token}`);

    for (let attempt = 0; ; attempt++) {
      const signals: AbortSignal[] = [AbortSignal.timeout(timeoutMs)];
      if (init?.signal) signals.push(init.signal);
      count++;
      let response: Response;
      try {
        response = await inner(url, { ...init, headers, signal: AbortSignal.any(signals) });
      } catch (err) {
        if (init?.signal?.aborted) throw err; // the caller cancelled: no retry
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        if (attempt >= maxRetries) throw timedOut ? new HubTimeoutError(url, timeoutMs) : err;
        const wait = Math.min(maxBackoff, baseBackoff * 2 ** attempt);
        opts.log?.(`hub: ${timedOut ? 'timeout' : 'network error'} on ${redactUrl(url)}, retry ${attempt + 1}/${maxRetries} in ${wait} ms`);
        await sleep(wait);
        continue;
      }
      if (!isRetryableStatus(response.status) || attempt >= maxRetries) return response;
      const hinted = parseRetryAfter(response.headers.get('retry-after'));
      const wait = Math.min(maxBackoff, hinted ?? baseBackoff * 2 ** attempt);
      opts.log?.(`hub: HTTP ${response.status} on ${redactUrl(url)}, retry ${attempt + 1}/${maxRetries} in ${wait} ms`);
      await response.body?.cancel().catch(() => undefined);
      await sleep(wait);
    }
  };

  const withTimeout = (ms: number) => ((input: string | URL | Request, init?: RequestInit) => request(input, init, ms)) as typeof fetch;
  return { fetch: withTimeout(timeoutMs), withTimeout, requestCount: () => count, hubUrl, baseUrl };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** HTTP status of a failed Hub call, when the error carries one. */
export function errorStatus(err: unknown): number | undefined {
  if (err instanceof HubApiError) return err.statusCode;
  if (err && typeof err === 'object' && typeof (err as { statusCode?: unknown }).statusCode === 'number') return (err as { statusCode: number }).statusCode;
  return undefined;
}
