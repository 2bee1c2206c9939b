/**
 * The `index-pin` fix resolver: DEP002 findings without an offline pin carry
 * `resolve: { kind: 'index-pin', data: { package, path, spec, editTemplate } }`
 * when online mode is on; picking the fix asks the package index (core/deps/indexClient)
 * for the newest final release and fills "{version}" into the template. Only
 * codeAction/resolve waits on the network — diagnostics never do.
 */
import os from 'node:os';
import path from 'node:path';
import type { ModelVetConfig } from '../../core/config';
import { createIndexClient, type IndexClient } from '../../core/deps/indexClient';
import type { TextEdit } from '../../core/types';
import { registerFixResolver } from './fixResolvers';

export interface IndexPinOptions {
  getConfig(): ModelVetConfig;
  /** Storage folder (client's globalStorage); a temp folder otherwise. */
  storagePath?: string;
  log(m: string): void;
}

/** Register the `index-pin` resolver; returns the client (for tests and stats). */
export function registerIndexPinResolver(opts: IndexPinOptions): IndexClient {
  const cacheDir = path.join(opts.storagePath ?? path.join(os.tmpdir(), 'modelvet-server'), 'index');
  const client = createIndexClient({ getConfig: opts.getConfig, cacheDir, log: opts.log });
  registerFixResolver('index-pin', async (data, token) => {
    const edits = await resolveIndexPin(client, data);
    return token.isCancellationRequested ? undefined : edits;
  });
  registerFixResolver('index-hashes', async (data, token) => {
    const edits = await resolveIndexHashes(client, data, opts.log);
    return token.isCancellationRequested ? undefined : edits;
  });
  return client;
}

/** Requirements asked per "add --hash" fix (each is one index page). */
export const MAX_HASH_LOOKUPS = 200;

/**
 * DEP003's online "add --hash" fix: `data.items` are pinned requirements whose digests were not known
 * offline, with where to insert; `data.ready` the edits already known offline. Undefined when the
 * index gave none of them.
 */
export async function resolveIndexHashes(client: IndexClient, data: unknown, log?: (m: string) => void): Promise<TextEdit[] | undefined> {
  const d = data as { items?: unknown; ready?: unknown } | undefined;
  if (!d || !Array.isArray(d.items)) return undefined;
  const edits: TextEdit[] = Array.isArray(d.ready) ? (d.ready as TextEdit[]) : [];
  let found = 0;
  for (const it of (d.items as Array<{ package?: unknown; version?: unknown; at?: { line: number; character: number } }>).slice(0, MAX_HASH_LOOKUPS)) {
    if (typeof it?.package !== 'string' || typeof it.version !== 'string' || !it.at) continue;
    const hashes = await client.hashesOf(it.package, it.version);
    if (!hashes) { log?.(`index-hashes: the index lists no sha256 digest for ${it.package}==${it.version}`); continue; }
    found++;
    edits.push({ range: { start: it.at, end: it.at }, newText: hashes.map((h) => ` --hash=${h}`).join('') });
  }
  return found ? edits : undefined;
}

/** Fill the DEP002 edit template with the index's newest version; undefined when there is none. */
export async function resolveIndexPin(client: IndexClient, data: unknown): Promise<TextEdit[] | undefined> {
  const d = data as { package?: unknown; spec?: unknown; editTemplate?: unknown } | undefined;
  if (!d || typeof d.package !== 'string' || !Array.isArray(d.editTemplate)) return undefined;
  const version = await client.newestVersion(d.package, typeof d.spec === 'string' ? d.spec : undefined);
  if (!version) return undefined;
  return (d.editTemplate as TextEdit[]).map((e) => ({ range: e.range, newText: String(e.newText).split('{version}').join(version) }));
}
