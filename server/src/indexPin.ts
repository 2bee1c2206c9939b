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
  return client;
}

/** Fill the DEP002 edit template with the index's newest version; undefined when there is none. */
export async function resolveIndexPin(client: IndexClient, data: unknown): Promise<TextEdit[] | undefined> {
  const d = data as { package?: unknown; spec?: unknown; editTemplate?: unknown } | undefined;
  if (!d || typeof d.package !== 'string' || !Array.isArray(d.editTemplate)) return undefined;
  const version = await client.newestVersion(d.package, typeof d.spec === 'string' ? d.spec : undefined);
  if (!version) return undefined;
  return (d.editTemplate as TextEdit[]).map((e) => ({ range: e.range, newText: String(e.newText).split('{version}').join(version) }));
}
