/**
 * OMS manifests: the resources (files or shards) of a model with their digests, the serialization
 * parameters, and the root digest = SHA-256 over the concatenated raw resource digests in listed order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { DEFAULT_SHARD_SIZE, MAX_IGNORE_PATHS, MAX_RESOURCES, MAX_SHARD_SIZE, MIN_SHARD_SIZE } from './limits';
import { SigningError, usageError } from './errors';
import { GIT_PATHS, codePointCompare, relativeIgnore, statStamp, unsafeNameReason, walkModel, type WalkedFile } from './paths';
import { HASH_TYPES, hashTasks, type HashTask, type HashType } from './hashing';

export type SerializationMethod = 'files' | 'shards';

/** The predicate's `serialization` object as the spec writes it. */
export interface Serialization {
  method: SerializationMethod;
  hash_type: HashType;
  allow_symlinks: boolean;
  ignore_paths: string[];
  shard_size?: number;
}

/** One manifest entry: a file (`name`) or a shard (`name:start:end`). */
export interface Resource { name: string; algorithm: string; digest: string }

export interface ManifestOptions {
  hashType?: HashType;
  method?: SerializationMethod;
  shardSize?: number;
  /** Files or folders to leave out: relative to the model root, or absolute paths inside it. */
  ignorePaths?: string[];
  /** Leave out the top-level .git, .gitattributes, .github, .gitignore (default true). */
  ignoreGitPaths?: boolean;
  /** The signature file: never part of the manifest. */
  signaturePath?: string;
  allowSymlinks?: boolean;
  /** Hash only these files (verify with --ignore-unsigned-files); other files are not read. */
  onlyFiles?: Set<string>;
  jobs?: number;
  /** Read strategy of the hashing workers (default: automatic, see HashOptions.overlapReads). */
  overlapReads?: boolean;
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /**
   * Digests of files that did not change since they were last hashed (same size, mtime, ctime, inode):
   * for the editor's background checks. The CLI never uses one: it always reads every byte.
   */
  digestCache?: DigestCache;
  /**
   * Shard resource `algorithm`: the spec repeats `hash_type` ("spec", default); model_signing 1.x writes
   * and, when verifying, compares "<hash>-sharded-<size>" ("model_signing": bundles it verifies).
   */
  shardAlgorithm?: 'spec' | 'model_signing';
  /** Smallest shard size accepted (default MIN_SHARD_SIZE; verify accepts any size a bundle names). */
  minShardSize?: number;
  /** Refuse a model without any file (default true; verify passes false to report it itself). */
  refuseEmpty?: boolean;
}

export interface DigestCache { get(key: string): string | undefined; set(key: string, digest: string): void }

/** A bounded in-memory DigestCache (least recently used entries go first). */
export class MemoryDigestCache implements DigestCache {
  private map = new Map<string, string>();
  constructor(private max = 10_000) {}
  get(key: string): string | undefined {
    const v = this.map.get(key);
    if (v !== undefined) { this.map.delete(key); this.map.set(key, v); }
    return v;
  }
  set(key: string, digest: string): void {
    this.map.delete(key);
    this.map.set(key, digest);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

export interface ManifestFile { name: string; size: number; digest?: string }

export interface Manifest {
  /** Absolute model path (a folder or a single file). */
  modelPath: string;
  /** Subject name: the model folder's (or file's) base name. */
  modelName: string;
  serialization: Serialization;
  /** In the spec's order: by name, Unicode code point order. */
  resources: Resource[];
  /** Hex SHA-256 over the raw resource digests, in `resources` order. */
  rootDigest: string;
  /** The files hashed (names relative to the model root; a single-file model has its base name). */
  files: ManifestFile[];
  totalBytes: number;
}

/** Root digest over resource digests in the order given (hex in, hex out). */
export function rootDigestOf(digests: readonly string[]): string {
  const h = createHash('sha256');
  for (const d of digests) h.update(Buffer.from(d, 'hex'));
  return h.digest('hex');
}

export function shardName(file: string, start: number, end: number): string { return `${file}:${start}:${end}`; }

/** `file:start:end` → parts; undefined when the name is not a shard name. */
export function parseShardName(name: string): { file: string; start: number; end: number } | undefined {
  const m = /^(.*):(0|[1-9][0-9]{0,15}):(0|[1-9][0-9]{0,15})$/.exec(name);
  if (!m) return undefined;
  const start = Number(m[2]), end = Number(m[3]);
  // An empty shard is only "file:0:0", the one shard some model_signing versions give an empty file.
  if (!Number.isSafeInteger(end) || !(end > start || (start === 0 && end === 0))) return undefined;
  return { file: m[1], start, end };
}

function checkOptions(o: ManifestOptions): { hashType: HashType; method: SerializationMethod; shardSize: number } {
  const hashType = o.hashType ?? 'sha256';
  if (!HASH_TYPES.includes(hashType)) throw usageError(`unknown hash type ${String(hashType)} (use ${HASH_TYPES.join(' or ')})`);
  const method = o.method ?? (o.shardSize !== undefined ? 'shards' : 'files');
  if (method !== 'files' && method !== 'shards') throw usageError(`unknown serialization method ${String(method)}`);
  const shardSize = o.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isSafeInteger(shardSize) || shardSize < (o.minShardSize ?? MIN_SHARD_SIZE) || shardSize > MAX_SHARD_SIZE) {
    throw usageError(`shard size must be an integer from ${o.minShardSize ?? MIN_SHARD_SIZE} to ${MAX_SHARD_SIZE} bytes`);
  }
  return { hashType, method, shardSize };
}

/**
 * The OMS manifest of a model folder (or single file): every regular file below it (hidden files
 * included) except ignored paths, hashed on worker threads. This is what `modelvet sign` signs and
 * `modelvet digest` prints; other code (AI-BOM) uses it for per-file SHA-256 and the root digest.
 */
export async function computeManifest(modelPath: string, opts: ManifestOptions = {}): Promise<Manifest> {
  const { hashType, method, shardSize } = checkOptions(opts);
  const abs = path.resolve(modelPath);
  let st: fs.Stats;
  try { st = fs.lstatSync(abs); } catch { throw usageError(`${modelPath}: no such file or folder`, 'not-found'); }
  if (st.isSymbolicLink()) {
    if (!opts.allowSymlinks) throw usageError(`${modelPath} is a symbolic link (pass --allow-symlinks to follow links)`, 'symlink');
    st = fs.statSync(abs);
  }
  const ignore = new Set<string>();
  if (opts.ignoreGitPaths !== false) for (const g of GIT_PATHS) ignore.add(g);
  const userIgnores = opts.ignorePaths ?? [];
  if (userIgnores.length > MAX_IGNORE_PATHS) throw usageError(`more than ${MAX_IGNORE_PATHS} ignore paths`);
  let walked: WalkedFile[];
  let modelName: string;
  if (st.isDirectory()) {
    for (const p of userIgnores) { const r = relativeIgnore(abs, p); if (r !== undefined) ignore.add(r); }
    if (opts.signaturePath) { const r = relativeIgnore(abs, path.resolve(opts.signaturePath)); if (r !== undefined) ignore.add(r); }
    walked = walkModel(abs, { ignore, allowSymlinks: Boolean(opts.allowSymlinks), signal: opts.signal });
    modelName = path.basename(abs);
  } else if (st.isFile()) {
    modelName = path.basename(abs);
    const reason = unsafeNameReason(modelName);
    if (reason) throw usageError(`unsafe file name ${JSON.stringify(modelName)}: ${reason}`, 'unsafe-name');
    walked = [{ name: modelName, abs, size: st.size, stamp: statStamp(st) }];
  } else {
    throw usageError(`${modelPath} is not a regular file or folder`, 'special-file');
  }
  if (opts.onlyFiles) walked = walked.filter((f) => opts.onlyFiles!.has(f.name));
  if (!walked.length && opts.refuseEmpty !== false) throw usageError(`${modelPath}: the model has no files to sign`, 'empty-model');

  const tasks: HashTask[] = [];
  const owners: Array<{ file: number; name: string }> = [];
  walked.forEach((f, i) => {
    if (method === 'files') { tasks.push({ file: f.abs, start: 0, size: f.size }); owners.push({ file: i, name: f.name }); return; }
    for (let s = 0; s < f.size; s += shardSize) {
      const e = Math.min(f.size, s + shardSize);
      tasks.push({ file: f.abs, start: s, end: e, size: e - s });
      owners.push({ file: i, name: shardName(f.name, s, e) });
    }
  });
  if (tasks.length > MAX_RESOURCES) throw new SigningError('limit', `more than ${MAX_RESOURCES} resources`, 'limit');
  const cache = opts.digestCache;
  const keyOf = (i: number) => `${hashType}:${tasks[i].file}:${tasks[i].start}:${tasks[i].end ?? ''}:${walked[owners[i].file].stamp}`;
  const cached = cache ? tasks.map((_, i) => cache.get(keyOf(i))) : [];
  const todo = tasks.map((_, i) => i).filter((i) => cached[i] === undefined);
  const fresh = await hashTasks(todo.map((i) => tasks[i]), { hashType, jobs: opts.jobs, overlapReads: opts.overlapReads, noFollow: !opts.allowSymlinks, signal: opts.signal, onProgress: opts.onProgress });
  const results: Array<{ digest: string; bytes: number }> = tasks.map((t, i) => ({ digest: cached[i] ?? '', bytes: (t.end ?? t.start + t.size) - t.start }));
  todo.forEach((i, k) => { results[i] = fresh[k]; cache?.set(keyOf(i), fresh[k].digest); });
  const files: ManifestFile[] = walked.map((f) => ({ name: f.name, size: f.size }));
  const algorithm = method === 'shards' && opts.shardAlgorithm === 'model_signing' ? `${hashType}-sharded-${shardSize}` : hashType;
  const resources: Resource[] = results.map((r, i) => ({ name: owners[i].name, algorithm, digest: r.digest }));
  if (method === 'files') results.forEach((r, i) => { files[owners[i].file].digest = r.digest; files[owners[i].file].size = r.bytes; });
  resources.sort((a, b) => codePointCompare(a.name, b.name));

  const ignorePaths = new Set<string>();
  if (opts.ignoreGitPaths !== false) for (const g of GIT_PATHS) ignorePaths.add(g);
  if (st.isDirectory()) for (const n of ignore) ignorePaths.add(n);
  const serialization: Serialization = { method, hash_type: hashType, allow_symlinks: Boolean(opts.allowSymlinks), ignore_paths: [...ignorePaths].sort(codePointCompare) };
  if (method === 'shards') serialization.shard_size = shardSize;
  return {
    modelPath: abs,
    modelName,
    serialization,
    resources,
    rootDigest: rootDigestOf(resources.map((r) => r.digest)),
    files,
    totalBytes: walked.reduce((s, f) => s + f.size, 0),
  };
}
