/**
 * Model-scan result cache: reports keyed by the file's sha256 (content), with a
 * path → (size, mtime, sha256) shortcut so unchanged files are not even hashed.
 * Persisted as JSON in the client's storage folder, so results survive a
 * window reload; a different engine version invalidates everything.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FileReport } from '../../core/scan/types';

export const CACHE_FILE_NAME = 'scan-cache.json';
const CACHE_FORMAT = 1;
/** Reports kept (oldest evicted first); bounds the JSON file and memory. */
export const MAX_CACHED_REPORTS = 5_000;
/** A cache file larger than this is ignored on load and not written. */
export const MAX_CACHE_FILE_BYTES = 64 * 1024 * 1024;

export interface PathStamp { size: number; mtimeMs: number; sha256: string }
type StoredReport = Omit<FileReport, 'path'>;

interface CacheFile { format: number; engineVersion: string; reports: Record<string, StoredReport>; paths: Record<string, PathStamp> }

export class ScanCache {
  private reports = new Map<string, StoredReport>();
  private paths = new Map<string, PathStamp>();
  private dirty = false;

  constructor(readonly engineVersion: string, private readonly storageDir?: string) {}

  get file(): string | undefined { return this.storageDir ? path.join(this.storageDir, CACHE_FILE_NAME) : undefined; }

  load(): void {
    const f = this.file;
    if (!f) return;
    try {
      if (statSync(f).size > MAX_CACHE_FILE_BYTES) return;
      const data = JSON.parse(readFileSync(f, 'utf8')) as CacheFile;
      if (data?.format !== CACHE_FORMAT || data.engineVersion !== this.engineVersion) return;
      for (const [sha, r] of Object.entries(data.reports ?? {})) if (r && typeof r === 'object') this.reports.set(sha, r);
      for (const [p, s] of Object.entries(data.paths ?? {})) if (s && typeof s.sha256 === 'string' && this.reports.has(s.sha256)) this.paths.set(p, s);
    } catch { /* missing or corrupt: start empty */ }
  }

  /** Report for `p` when its size and mtime still match the stamp (no hashing needed). */
  byStamp(p: string): FileReport | undefined {
    const stamp = this.paths.get(p);
    if (!stamp) return undefined;
    try {
      const st = statSync(p);
      if (st.size !== stamp.size || st.mtimeMs !== stamp.mtimeMs) return undefined;
    } catch { return undefined; }
    return this.bySha(stamp.sha256, p);
  }

  bySha(sha256: string, p: string): FileReport | undefined {
    const r = this.reports.get(sha256);
    return r ? { ...r, path: p } : undefined;
  }

  remember(p: string, stamp: PathStamp, report?: FileReport): void {
    if (report) {
      const { path: _ignored, ...stored } = report;
      this.reports.delete(stamp.sha256);
      this.reports.set(stamp.sha256, stored);
      while (this.reports.size > MAX_CACHED_REPORTS) this.reports.delete(this.reports.keys().next().value as string);
    }
    this.paths.delete(p);
    this.paths.set(p, stamp);
    this.dirty = true;
  }

  forget(p: string): void { if (this.paths.delete(p)) this.dirty = true; }

  /** Paths whose last scan is cached (for restoring results after a reload). */
  knownPaths(): string[] { return [...this.paths.keys()]; }

  /** Write atomically (temp file + rename) when something changed. */
  save(): void {
    const f = this.file;
    if (!f || !this.dirty) return;
    const data: CacheFile = { format: CACHE_FORMAT, engineVersion: this.engineVersion, reports: {}, paths: {} };
    for (const [sha, r] of this.reports) data.reports[sha] = r;
    for (const [p, s] of this.paths) if (this.reports.has(s.sha256)) data.paths[p] = s;
    const text = JSON.stringify(data);
    if (text.length > MAX_CACHE_FILE_BYTES) return;
    mkdirSync(path.dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, f);
    this.dirty = false;
  }
}
