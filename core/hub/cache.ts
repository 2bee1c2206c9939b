/**
 * A small TTL cache: in memory, backed by one JSON file per key under a
 * directory, so results survive restarts of the language server. Reads are
 * synchronous (diagnostics must never wait), writes are fire-and-forget.
 * The caller decides freshness: entries carry their fetch time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';

/** Default freshness of Hub answers. */
export const DEFAULT_TTL_MS = 60 * 60 * 1000;
/** A cache file larger than this is ignored (hostile or corrupt cache dir). */
export const MAX_CACHE_FILE_BYTES = 8 * 1024 * 1024;
/** In-memory entries kept before the oldest are dropped. */
export const MAX_MEMORY_ENTRIES = 5_000;

export interface CacheEntry<T> { key: string; fetchedAt: number; value: T }

export class JsonTtlCache<T> {
  private readonly memory = new Map<string, CacheEntry<T>>();

  constructor(private readonly dir: string | undefined) {}

  private fileFor(key: string): string | undefined {
    if (!this.dir) return undefined;
    return path.join(this.dir, createHash('sha256').update(key).digest('hex').slice(0, 40) + '.json');
  }

  /** The entry, fresh or stale (the caller checks `fetchedAt`), or undefined. */
  get(key: string): CacheEntry<T> | undefined {
    const hit = this.memory.get(key);
    if (hit) return hit;
    const file = this.fileFor(key);
    if (!file) return undefined;
    try {
      const raw = readFileSync(file);
      if (raw.length > MAX_CACHE_FILE_BYTES) return undefined;
      const parsed = JSON.parse(raw.toString('utf8')) as CacheEntry<T>;
      // Hash collisions and hand-edited files: the stored key must match.
      if (!parsed || parsed.key !== key || typeof parsed.fetchedAt !== 'number') return undefined;
      this.remember(parsed);
      return parsed;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: T, fetchedAt = Date.now()): CacheEntry<T> {
    const entry: CacheEntry<T> = { key, fetchedAt, value };
    this.remember(entry);
    const file = this.fileFor(key);
    if (file) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(entry));
        renameSync(tmp, file);
      } catch {
        // A read-only or full disk only costs us the persistence.
      }
    }
    return entry;
  }

  private remember(entry: CacheEntry<T>): void {
    this.memory.delete(entry.key);
    this.memory.set(entry.key, entry);
    if (this.memory.size > MAX_MEMORY_ENTRIES) {
      const oldest = this.memory.keys().next().value;
      if (oldest !== undefined) this.memory.delete(oldest);
    }
  }
}

export function isFresh(entry: { fetchedAt: number }, ttlMs: number, now = Date.now()): boolean {
  return now - entry.fetchedAt < ttlMs && entry.fetchedAt <= now + 60_000;
}
