/**
 * `modelvet scan hf://org/name[@revision]`: list the repo's files at a commit,
 * download what the scanner needs into a size-capped cache (pickle-bearing files
 * in full; SafeTensors/GGUF headers only, via Range requests), verify every full
 * download against the Hub's hash (LFS sha256 or git blob id), scan, and report
 * paths as `hf://org/name@sha/path`.
 *
 * Header-only files are stored sparse: the header bytes at their real offsets
 * and the file extended to its real size, so the scanner's offset checks see the
 * true layout while the disk holds only the header. Their sha256 is not computed
 * (we do not have the bytes); the report carries the Hub's LFS oid instead.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { listFiles, modelInfo, datasetInfo, type ListFileEntry } from '@huggingface/hub';
import type { ModelVetConfig } from '../config';
import { scanFile, listFiles as listLocalFiles, applyFolderChecks, resolveOptions } from '../scan/engine';
import { verdictOf, worseVerdict, verdictRank, type FileReport, type ScanFinding, type ScanOutput, type Verdict } from '../scan/types';
import { createHubFetch, errorStatus, type HubFetch } from './client';
import { isCommitSha, isValidRepoId, type RepoKind } from './repos';
import { headerOnlyFormat, needsFullDownload } from './weights';
import { scanResultsCache, scanResultKey, type ScanVerdictSummary } from './scanResults';

/** Files listed per repo before the listing is cut off (reported as HUB011). */
export const MAX_LISTED_FILES = 20_000;
/** Files downloaded per scan. */
export const MAX_DOWNLOADED_FILES = 2_000;
/** SafeTensors headers larger than this are not fetched (the scanner's own cap is the same order). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;
/** GGUF has no up-front header length: this prefix holds the metadata of all but exotic files. */
export const GGUF_PREFIX_BYTES = 32 * 1024 * 1024;
/** Per-attempt timeout of one download. */
export const DOWNLOAD_TIMEOUT_MS = 30 * 60 * 1000;
/** Default cap of the download cache. */
export const DEFAULT_MAX_CACHE_BYTES = 10 * 1024 * 1024 * 1024;
/** Sparse files are never extended beyond this (a hostile listing could claim exabytes). */
export const MAX_DECLARED_FILE_BYTES = 2 ** 45;

export class ScanCancelledError extends Error {
  constructor() { super('remote scan cancelled'); this.name = 'ScanCancelledError'; }
}

export interface HubSpec { repoId: string; kind: RepoKind; revision?: string }

/** `hf://org/name@rev`, `hf://datasets/org/name`, or the same without `hf://`. Undefined when invalid. */
export function parseHubSpec(spec: string): HubSpec | undefined {
  let s = spec.trim();
  if (s.startsWith('hf://')) s = s.slice(5);
  let kind: RepoKind = 'model';
  if (s.startsWith('datasets/')) { kind = 'dataset'; s = s.slice('datasets/'.length); } else if (s.startsWith('models/')) s = s.slice('models/'.length);
  const at = s.indexOf('@');
  const repoId = at >= 0 ? s.slice(0, at) : s;
  const revision = at >= 0 ? s.slice(at + 1) : undefined;
  if (!isValidRepoId(repoId)) return undefined;
  if (revision !== undefined && (!revision || revision.length > 256 || /[\s\0\\]|\.\./.test(revision))) return undefined;
  return revision !== undefined ? { repoId, kind, revision } : { repoId, kind };
}

export function hubUri(spec: { repoId: string; kind: RepoKind }, sha: string, filePath?: string): string {
  const base = `hf://${spec.kind === 'dataset' ? 'datasets/' : ''}${spec.repoId}@${sha}`;
  return filePath ? `${base}/${filePath}` : base;
}

export interface ScanHubRepoOptions {
  config: ModelVetConfig;
  cacheDir: string;
  maxCacheBytes?: number;
  fetch?: typeof fetch;
  token?: string;
  onProgress?(done: number, total: number, current: string): void;
  isCancelled?(): boolean;
  log?(m: string): void;
  /** Retry tuning (tests). */
  timeoutMs?: number;
  baseBackoffMs?: number;
}

/** Thrown for a spec that cannot be scanned at all (bad spec, repo missing, no access, offline). */
export class HubScanError extends Error {
  constructor(message: string, readonly httpStatus?: number) { super(message); this.name = 'HubScanError'; }
}

interface Planned { entry: ListFileEntry; mode: 'full' | 'header'; local: string }

export async function scanHubRepo(repoSpec: string, opts: ScanHubRepoOptions): Promise<ScanOutput> {
  const started = performance.now();
  const spec = parseHubSpec(repoSpec);
  if (!spec) throw new HubScanError(`not a Hub repo spec: ${repoSpec} (expected hf://org/name[@revision])`);
  if (!opts.config.online.enabled) throw new HubScanError('online features are disabled (modelvet.online.enabled = false)');
  const http = createHubFetch({ getConfig: () => opts.config, fetch: opts.fetch, token: opts.token, log: opts.log, timeoutMs: opts.timeoutMs, baseBackoffMs: opts.baseBackoffMs });
  const maxCacheBytes = opts.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES;
  const cancelled = () => opts.isCancelled?.() === true;

  // 1. The commit the revision points to now: everything after uses it, so the listing and the downloads agree.
  const sha = await resolveCommit(spec, http);
  // 2. The listing (recursive; LFS oids come without expand).
  const entries: ListFileEntry[] = [];
  const reports: FileReport[] = [];
  try {
    for await (const e of listFiles({ repo: { type: spec.kind, name: spec.repoId }, recursive: true, revision: sha, hubUrl: http.hubUrl(), fetch: http.fetch })) {
      if (e.type !== 'file') continue;
      if (entries.length >= MAX_LISTED_FILES) {
        reports.push(skipped(hubUri(spec, sha), `the listing has more than ${MAX_LISTED_FILES} files; the rest were not scanned`));
        break;
      }
      entries.push(e);
      if (cancelled()) throw new ScanCancelledError();
    }
  } catch (err) {
    if (err instanceof ScanCancelledError) throw err;
    throw new HubScanError(`cannot list ${spec.repoId}@${sha}: ${(err as Error).message}`, errorStatus(err));
  }

  // 3. Plan downloads into <cacheDir>/hub-files/<kind>s--org--name/<sha>/.
  const snapshotDir = path.join(opts.cacheDir, 'hub-files', [`${spec.kind}s`, ...spec.repoId.split('/')].join('--'), sha);
  const planned: Planned[] = [];
  for (const entry of entries) {
    const mode = headerOnlyFormat(entry.path) ? 'header' : needsFullDownload(entry.path) ? 'full' : undefined;
    if (!mode) continue;
    const local = safeLocalPath(snapshotDir, entry.path);
    if (!local) { reports.push(skipped(hubUri(spec, sha, entry.path), 'unsafe file path in the listing; not downloaded')); continue; }
    if (planned.length >= MAX_DOWNLOADED_FILES) { reports.push(skipped(hubUri(spec, sha, entry.path), `more than ${MAX_DOWNLOADED_FILES} model files; not downloaded`)); continue; }
    planned.push({ entry, mode, local });
  }
  const plannedBytes = planned.reduce((n, p) => n + (p.mode === 'full' ? safeSize(p.entry) : Math.min(safeSize(p.entry), GGUF_PREFIX_BYTES)), 0);
  evictForSpace(path.join(opts.cacheDir, 'hub-files'), snapshotDir, Math.min(plannedBytes, maxCacheBytes), maxCacheBytes);
  let budget = maxCacheBytes - directoryBytes(path.join(opts.cacheDir, 'hub-files'));

  // 4. Download, verify and scan file by file.
  const engineOptions = resolveOptions({ weights: opts.config.scan.weights, weightsMaxBytes: opts.config.scan.weightsMaxBytes });
  const localToRemote = new Map<string, string>();
  const byLocal = new Map<string, FileReport>();
  const downloadFetch = http.withTimeout(DOWNLOAD_TIMEOUT_MS);
  let done = 0;
  for (const p of planned) {
    if (cancelled()) throw new ScanCancelledError();
    const remote = hubUri(spec, sha, p.entry.path);
    opts.onProgress?.(done, planned.length, remote);
    let got: Downloaded;
    try {
      got = p.mode === 'full'
        ? await downloadFull(p, spec, sha, http, downloadFetch, budget, cancelled)
        : await downloadHeader(p, spec, sha, http, downloadFetch, budget);
    } catch (err) {
      if (err instanceof ScanCancelledError) throw err;
      reports.push(skipped(remote, `download failed: ${(err as Error).message}`, safeSize(p.entry)));
      done++;
      continue;
    }
    if (got.skipped) { reports.push(skipped(remote, got.skipped, safeSize(p.entry))); done++; continue; }
    budget -= got.bytesOnDisk;
    const report = scanFile(p.local, { ...engineOptions, hash: p.mode === 'full', weights: engineOptions.weights && p.mode === 'full' });
    if (p.mode === 'header') {
      report.sha256 = p.entry.lfs?.oid ?? '';
      report.metadata = { ...(report.metadata ?? {}), 'hub.download': 'header-only' };
    }
    if (got.mismatch) {
      report.findings.unshift({ code: 'HUB010', severity: 'high', message: got.mismatch, location: {}, evidence: `expected ${got.expected}` });
      report.verdict = worseVerdict(report.verdict, verdictOf(report.findings, report.verdict === 'unscannable'));
    }
    localToRemote.set(p.local, remote);
    byLocal.set(p.local, report);
    done++;
  }
  opts.onProgress?.(done, planned.length, '');

  // 5. Folder-level checks over what we have locally, then map paths back to hf:// URIs.
  if (byLocal.size) {
    const { dirs } = listLocalFiles([snapshotDir]);
    applyFolderChecks(dirs, byLocal, engineOptions);
  }
  for (const [local, report] of byLocal) {
    report.path = localToRemote.get(local) ?? hubUri(spec, sha, path.relative(snapshotDir, local).split(path.sep).join('/'));
    reports.push(report);
  }
  reports.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const output = summarize(reports, started);
  rememberVerdict(opts.cacheDir, http, spec, sha, output);
  return output;
}

async function resolveCommit(spec: HubSpec, http: HubFetch): Promise<string> {
  if (isCommitSha(spec.revision)) return spec.revision!;
  try {
    const common = { name: spec.repoId, revision: spec.revision, hubUrl: http.hubUrl(), fetch: http.fetch };
    const info = spec.kind === 'dataset' ? await datasetInfo({ ...common, additionalFields: ['sha'] }) : await modelInfo({ ...common, additionalFields: ['sha'] });
    const sha = String(info.sha ?? '');
    if (!isCommitSha(sha)) throw new HubScanError(`the Hub returned no commit for ${spec.repoId}`);
    return sha;
  } catch (err) {
    if (err instanceof HubScanError) throw err;
    const status = errorStatus(err);
    if (status === 404) throw new HubScanError(`${spec.kind} ${spec.repoId}${spec.revision ? `@${spec.revision}` : ''} not found on the Hub`, 404);
    if (status === 401 || status === 403) throw new HubScanError(`${spec.repoId} is gated or private: set HF_TOKEN to a token with access`, status);
    throw new HubScanError(`cannot resolve ${spec.repoId}: ${(err as Error).message}`, status);
  }
}

interface Downloaded { bytesOnDisk: number; skipped?: string; mismatch?: string; expected?: string }

function resolveUrl(http: HubFetch, spec: HubSpec, sha: string, filePath: string): string {
  const prefix = spec.kind === 'dataset' ? 'datasets/' : '';
  return `${http.baseUrl()}/${prefix}${spec.repoId}/resolve/${sha}/${filePath.split('/').map(encodeURIComponent).join('/')}`;
}

function safeSize(e: ListFileEntry): number {
  const n = e.lfs?.size ?? e.size;
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

async function downloadFull(p: Planned, spec: HubSpec, sha: string, http: HubFetch, fetchFn: typeof fetch, budget: number, cancelled: () => boolean): Promise<Downloaded> {
  const size = safeSize(p.entry);
  const expectSha256 = p.entry.lfs?.oid;
  const expectGit = expectSha256 ? undefined : p.entry.oid;
  // Reuse a verified copy from an earlier scan of the same commit.
  if (fs.existsSync(p.local)) {
    try {
      const data = fs.readFileSync(p.local);
      if (data.length === size && hashesMatch(data, expectSha256, expectGit)) return { bytesOnDisk: 0 };
    } catch { /* re-download */ }
  }
  if (size > budget) return { bytesOnDisk: 0, skipped: `not downloaded: ${size} bytes would exceed the scan cache cap` };
  const res = await fetchFn(resolveUrl(http, spec, sha, p.entry.path));
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${res.status}`);
  }
  fs.mkdirSync(path.dirname(p.local), { recursive: true });
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${size}\0`);
  const fd = fs.openSync(p.local + '.part', 'w');
  let written = 0;
  let overflow = false;
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (cancelled()) { await reader.cancel(); throw new ScanCancelledError(); }
      // A server sending more than the listing promised is cut off at the promise (+1 byte to prove the overflow).
      const room = size + 1 - written;
      const chunk = value.length > room ? value.subarray(0, room) : value;
      fs.writeSync(fd, chunk);
      sha256.update(chunk);
      sha1.update(chunk);
      written += chunk.length;
      if (written > size) { overflow = true; await reader.cancel(); break; }
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(p.local + '.part', p.local);
  const gotSha256 = sha256.digest('hex');
  const gotGit = sha1.digest('hex');
  let mismatch: string | undefined;
  if (overflow || written !== size) mismatch = `downloaded ${overflow ? 'more than' : written} bytes, but the Hub lists ${size} bytes for this file`;
  else if (expectSha256 && gotSha256 !== expectSha256.toLowerCase()) mismatch = `sha256 ${gotSha256} does not match the Hub's LFS oid ${expectSha256}`;
  else if (expectGit && gotGit !== expectGit.toLowerCase()) mismatch = `git blob id ${gotGit} does not match the Hub's oid ${expectGit}`;
  return { bytesOnDisk: written, mismatch, expected: expectSha256 ?? expectGit };
}

function hashesMatch(data: Uint8Array, sha256?: string, gitOid?: string): boolean {
  if (sha256) return createHash('sha256').update(data).digest('hex') === sha256.toLowerCase();
  if (gitOid) return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex') === gitOid.toLowerCase();
  return false;
}

async function rangeGet(fetchFn: typeof fetch, url: string, start: number, endInclusive: number): Promise<Uint8Array> {
  const res = await fetchFn(url, { headers: { range: `bytes=${start}-${endInclusive}` } });
  if (res.status !== 206 && res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${res.status} for a range request`);
  }
  const want = endInclusive - start + 1;
  if (res.status === 200) {
    // The server ignored Range: read only what we asked for and drop the rest.
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < start + want) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      have += value.length;
    }
    await reader.cancel().catch(() => undefined);
    return Buffer.concat(parts).subarray(start, start + want);
  }
  const buf = new Uint8Array(await res.arrayBuffer());
  return buf.length > want ? buf.subarray(0, want) : buf;
}

async function downloadHeader(p: Planned, spec: HubSpec, sha: string, http: HubFetch, fetchFn: typeof fetch, budget: number): Promise<Downloaded> {
  const size = safeSize(p.entry);
  if (size > MAX_DECLARED_FILE_BYTES) return { bytesOnDisk: 0, skipped: `declared size ${size} is implausible; not downloaded` };
  const url = resolveUrl(http, spec, sha, p.entry.path);
  let header: Uint8Array;
  if (headerOnlyFormat(p.entry.path) === 'safetensors') {
    if (size < 8) header = size ? await rangeGet(fetchFn, url, 0, size - 1) : new Uint8Array();
    else {
      const first = await rangeGet(fetchFn, url, 0, 7);
      if (first.length < 8) return { bytesOnDisk: 0, skipped: 'the server returned fewer than 8 bytes' };
      const declared = Buffer.from(first).readBigUInt64LE(0);
      // Checked arithmetic: the header must fit in the file and under our cap; else hand the scanner the 8 bytes and let it report.
      const headerLen = declared <= BigInt(Math.min(MAX_SAFETENSORS_HEADER_BYTES, Math.max(0, size - 8))) ? Number(declared) : 0;
      if (headerLen > budget) return { bytesOnDisk: 0, skipped: `not downloaded: a ${headerLen}-byte header would exceed the scan cache cap` };
      header = headerLen > 0 ? Buffer.concat([first, await rangeGet(fetchFn, url, 8, 8 + headerLen - 1)]) : first;
    }
  } else {
    const want = Math.min(size, GGUF_PREFIX_BYTES);
    if (want > budget) return { bytesOnDisk: 0, skipped: 'not downloaded: the header would exceed the scan cache cap' };
    header = want > 0 ? await rangeGet(fetchFn, url, 0, want - 1) : new Uint8Array();
  }
  fs.mkdirSync(path.dirname(p.local), { recursive: true });
  const fd = fs.openSync(p.local, 'w');
  try {
    fs.writeSync(fd, header, 0, header.length, 0);
    fs.ftruncateSync(fd, Math.max(size, header.length)); // sparse: the data section costs no disk
  } finally {
    fs.closeSync(fd);
  }
  return { bytesOnDisk: header.length };
}

/** A path inside `root` for a listing entry, or undefined for hostile names. */
export function safeLocalPath(root: string, repoPath: string): string | undefined {
  if (!repoPath || repoPath.length > 1024 || repoPath.includes('\0') || repoPath.includes('\\')) return undefined;
  const segments = repoPath.split('/');
  if (segments.some((s) => !s || s === '.' || s === '..')) return undefined;
  const local = path.join(root, ...segments);
  return local.startsWith(root + path.sep) ? local : undefined;
}

function directoryBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let names: fs.Dirent[];
    try { names = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const n of names) {
      const p = path.join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (n.isFile()) { try { const st = fs.statSync(p); total += Math.min(st.size, st.blocks * 512); } catch { /* gone */ } }
    }
  };
  walk(dir);
  return total;
}

/** Drop the least recently used other snapshots until `needed` more bytes fit under the cap. */
function evictForSpace(root: string, keep: string, needed: number, cap: number): void {
  const snapshots: Array<{ dir: string; mtime: number; bytes: number }> = [];
  let repos: string[] = [];
  try { repos = fs.readdirSync(root); } catch { return; }
  for (const r of repos) {
    let shas: string[] = [];
    try { shas = fs.readdirSync(path.join(root, r)); } catch { continue; }
    for (const s of shas) {
      const dir = path.join(root, r, s);
      if (dir === keep) continue;
      try { snapshots.push({ dir, mtime: fs.statSync(dir).mtimeMs, bytes: directoryBytes(dir) }); } catch { /* gone */ }
    }
  }
  let used = directoryBytes(root);
  snapshots.sort((a, b) => a.mtime - b.mtime);
  for (const s of snapshots) {
    if (used + needed <= cap) break;
    fs.rmSync(s.dir, { recursive: true, force: true });
    used -= s.bytes;
  }
}

function skipped(p: string, reason: string, size = 0): FileReport {
  const findings: ScanFinding[] = [{ code: 'HUB011', severity: 'low', message: reason, location: {} }];
  return { path: p, format: 'unknown', verdict: 'unscannable', findings, globals: [], sha256: '', size };
}

function summarize(files: FileReport[], started: number): ScanOutput {
  const s = { files: files.length, malicious: 0, suspicious: 0, unscannable: 0, safe: 0, seconds: Math.round(performance.now() - started) / 1000 };
  for (const f of files) s[f.verdict]++;
  return { version: 1, files, summary: s };
}

/** Upper bound of files named in the remembered verdict. */
const MAX_REMEMBERED_WORST = 20;

function rememberVerdict(cacheDir: string, http: HubFetch, spec: HubSpec, sha: string, out: ScanOutput): void {
  let verdict: Verdict = 'safe';
  for (const f of out.files) verdict = worseVerdict(verdict, f.verdict);
  const worst = out.files.filter((f) => f.verdict !== 'safe').sort((a, b) => verdictRank(b.verdict) - verdictRank(a.verdict)).slice(0, MAX_REMEMBERED_WORST)
    .map((f) => ({ path: f.path.slice(hubUri(spec, sha).length + 1), verdict: f.verdict, codes: [...new Set(f.findings.map((x) => x.code))].slice(0, 5) }));
  const summary: ScanVerdictSummary = {
    verdict, files: out.summary.files, malicious: out.summary.malicious, suspicious: out.summary.suspicious, unscannable: out.summary.unscannable,
    worst, scannedAt: new Date().toISOString(),
  };
  scanResultsCache(cacheDir).set(scanResultKey(http.baseUrl(), spec.kind, spec.repoId, sha), summary);
}
