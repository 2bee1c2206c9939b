/**
 * Lazily computed quick-fixes (`codeAction/resolve`). A Finding's Fix may carry
 * `resolve: { kind, data }` instead of edits (e.g. a Hub commit SHA that needs a
 * network call); the module that knows how registers a resolver for that kind.
 */
import type { CancellationToken } from 'vscode-languageserver/node';
import type { TextEdit } from '../../core/types';

export type FixResolver = (data: unknown, token: CancellationToken) => Promise<TextEdit[] | undefined>;

const resolvers = new Map<string, FixResolver>();

/** Register (or replace) the resolver for `kind`. Returns a function that unregisters it. */
export function registerFixResolver(kind: string, fn: FixResolver): () => void {
  resolvers.set(kind, fn);
  return () => { if (resolvers.get(kind) === fn) resolvers.delete(kind); };
}

export function getFixResolver(kind: string): FixResolver | undefined {
  return resolvers.get(kind);
}
