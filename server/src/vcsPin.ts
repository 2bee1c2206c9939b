/**
 * The `vcs-commit` fix resolver (online only): DEP005 findings on a git requirement whose commit is
 * not known offline carry `resolve: { kind: 'vcs-commit', data: { url, ref, editTemplate } }` when
 * online features are on; picking the fix runs `git ls-remote` against the URL and fills
 * "{commit}" into the template. Diagnostics never wait on it, and it refuses when online mode is off.
 */
import { execFile } from 'node:child_process';
import type { ModelVetConfig } from '../../core/config';
import type { TextEdit } from '../../core/types';
import { registerFixResolver } from './fixResolvers';

/** `git ls-remote` is stopped after this long. */
export const LS_REMOTE_TIMEOUT_MS = 15_000;
/** Output read from `git ls-remote` (a repository with many tags lists them all when asked for a pattern). */
export const LS_REMOTE_MAX_BYTES = 4 * 1024 * 1024;
/** Transports git may use here: no `ext::` (runs commands), no local helpers. */
const ALLOWED_URL = /^(https?|ssh|git|file):\/\/[^\s]+$/i;
const REF_NAME = /^[A-Za-z0-9._\/+-]{1,200}$/;

export interface VcsPinOptions {
  getConfig(): ModelVetConfig;
  log(m: string): void;
  /** The git executable (tests may point it elsewhere). */
  git?: string;
}

/** The commit `ref` names in `git ls-remote` output: a peeled tag first, then a branch, then a tag; HEAD when ref is undefined. */
export function commitFromLsRemote(out: string, ref: string | undefined): string | undefined {
  const refs = new Map<string, string>();
  for (const line of out.split(/\r?\n/)) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$/.exec(line);
    if (m) refs.set(m[2], m[1]);
  }
  const order = ref === undefined ? ['HEAD'] : [`refs/tags/${ref}^{}`, `refs/heads/${ref}`, `refs/tags/${ref}`, ref];
  for (const r of order) { const sha = refs.get(r); if (sha) return sha; }
  return undefined;
}

export function lsRemote(git: string, url: string, ref: string | undefined): Promise<string | undefined> {
  const args = ['-c', 'protocol.ext.allow=never', 'ls-remote', '--', url, ...(ref === undefined ? ['HEAD'] : [ref, `refs/tags/${ref}^{}`])];
  return new Promise((resolve) => {
    execFile(git, args, { timeout: LS_REMOTE_TIMEOUT_MS, maxBuffer: LS_REMOTE_MAX_BYTES, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' }, windowsHide: true },
      (err, stdout) => resolve(err && !stdout ? undefined : commitFromLsRemote(String(stdout), ref)));
  });
}

export function registerVcsPinResolver(opts: VcsPinOptions): void {
  registerFixResolver('vcs-commit', async (data, token) => {
    if (!opts.getConfig().online.enabled) return undefined; // the switch may have been turned off since
    const d = data as { url?: unknown; ref?: unknown; editTemplate?: unknown } | undefined;
    if (!d || typeof d.url !== 'string' || !ALLOWED_URL.test(d.url) || !Array.isArray(d.editTemplate)) return undefined;
    const ref = typeof d.ref === 'string' && REF_NAME.test(d.ref) && !d.ref.startsWith('-') ? d.ref : undefined;
    if (typeof d.ref === 'string' && ref === undefined) return undefined;
    const sha = await lsRemote(opts.git ?? 'git', d.url, ref);
    if (!sha) { opts.log(`git ls-remote found no commit for ${ref ?? 'HEAD'} at ${d.url}`); return undefined; }
    if (token.isCancellationRequested) return undefined;
    return (d.editTemplate as TextEdit[]).map((e) => ({ range: e.range, newText: String(e.newText).split('{commit}').join(sha) }));
  });
}
