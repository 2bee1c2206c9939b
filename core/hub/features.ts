/**
 * The editor-facing Hub features: diagnostics (HUB001–HUB004) computed
 * synchronously from cache while lookups run in the background, hovers, the
 * commit for the pin quick-fix, and the SafeTensors hint for `use_safetensors`.
 * Pure TypeScript: the server converts findings and markdown to LSP.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getHFHubCachePath } from '@huggingface/hub';
import type { ModelVetConfig } from '../config';
import { effectiveSeverity } from '../config';
import type { Finding, Range, TextEdit } from '../types';
import { HubRepoService, isCommitSha, isValidRepoId, type LookupResult, type RepoInfo, type RepoKind, type RepoSecurityDetails } from './repos';
import { groupWeights, offersOnlyPickleWeights } from './weights';
import { lookalikeOrg } from './typosquat';
import { scanResultsCache, scanResultKey, type ScanVerdictSummary } from './scanResults';

/** A Hub reference found in code (the shape `findHubReferences` returns). */
export interface HubReference {
  repoId: string;
  revision?: string;
  kind: RepoKind;
  /** The repo id string literal. */
  range: Range;
  /** The revision string literal, when present. */
  revisionRange?: Range;
  /** The whole call. */
  callRange: Range;
}

export interface HubFeaturesOptions {
  getConfig(): ModelVetConfig;
  cacheDir: string;
  fetch?: typeof fetch;
  log?(m: string): void;
  onDidChange?(): void;
  /** Access token (default HF_TOKEN). Never logged. */
  token?: string;
  ttlMs?: number;
  timeoutMs?: number;
  /** Default HOVER_MAX_WAIT_MS. */
  hoverWaitMs?: number;
}

export interface HubFeatures {
  diagnosticsFor(path: string, refs: readonly HubReference[]): Finding[];
  hover(ref: Pick<HubReference, 'repoId' | 'revision' | 'kind'>): Promise<string | undefined>;
  resolvePin(data: { repoId: string; kind: RepoKind; revision?: string }): Promise<{ revision: string } | undefined>;
  useSafetensorsAvailable(repoId: string): boolean | undefined;
  requestCount(): number;
  /** Resolves when every background lookup scheduled so far has settled (tests, benches). */
  idle(): Promise<void>;
}

/** Files listed per group in a hover before "and N more". */
export const MAX_HOVER_FILES = 8;
/** A hover waits this long for the Hub, then answers with what it has (the lookup continues for the next hover). */
export const HOVER_MAX_WAIT_MS = 2_500;
/** Imports listed per file from the Hub's pickle scan. */
export const MAX_HOVER_IMPORTS = 5;

export function createHubFeatures(opts: HubFeaturesOptions): HubFeatures {
  const service = new HubRepoService({
    getConfig: opts.getConfig, fetch: opts.fetch, log: opts.log, token: opts.token,
    cacheDir: opts.cacheDir, ttlMs: opts.ttlMs, timeoutMs: opts.timeoutMs,
  });
  const scans = scanResultsCache(opts.cacheDir);
  const background = new Set<Promise<unknown>>();
  let changeTimer: NodeJS.Timeout | undefined;

  const notifyChanged = () => {
    if (changeTimer) return;
    // One refresh for a burst of answers, not one per repo.
    changeTimer = setTimeout(() => { changeTimer = undefined; opts.onDidChange?.(); }, 0);
  };

  const schedule = (ref: HubReference) => {
    const key = { repoId: ref.repoId, kind: ref.kind, revision: ref.revision };
    if (service.isInflight(key)) return;
    const p = service.lookup(key).then(notifyChanged, (err) => opts.log?.(`hub: lookup of ${ref.repoId} failed: ${(err as Error).message}`));
    background.add(p);
    void p.finally(() => background.delete(p));
  };

  const diagnosticsFor = (filePath: string, refs: readonly HubReference[]): Finding[] => {
    const config = opts.getConfig();
    const findings: Finding[] = [];
    const sev = (code: string) => effectiveSeverity(config, code, 'warning');
    for (const ref of refs) {
      const owner = ref.repoId.includes('/') ? ref.repoId.slice(0, ref.repoId.indexOf('/')) : undefined;
      const typoOf = owner ? lookalikeOrg(owner) : undefined;
      const s4 = sev('HUB004');
      if (typoOf && s4) {
        const ownerRange = ownerRangeIn(ref.range, ref.repoId, owner!.length);
        findings.push({
          path: filePath, range: ref.range, code: 'HUB004', severity: s4,
          message: `Owner '${owner}' looks like a typo of the popular organization '${typoOf}'. A look-alike namespace can serve malicious weights.`,
          fixes: ownerRange ? [{ title: `Replace owner with '${typoOf}'`, edits: [{ range: ownerRange, newText: typoOf }] }] : [],
          data: { repoId: ref.repoId, kind: ref.kind, lookalikeOf: typoOf },
        });
      }

      // Offline: not even a cache read (results from an earlier online session are not shown).
      const cachedHit = config.online.enabled && isValidRepoId(ref.repoId) ? service.cached({ repoId: ref.repoId, kind: ref.kind, revision: ref.revision }) : undefined;
      const cachedInfo = cachedHit?.result.status === 'ok' ? cachedHit.result.info : undefined;
      const s2 = sev('HUB002');
      // Only once the Hub confirmed the name resolves to a different commit: offline,
      // LOAD005 already reports moving revisions, so this adds the commit it points to now.
      if (ref.revision !== undefined && !isCommitSha(ref.revision) && s2 && cachedInfo && isCommitSha(cachedInfo.sha)) {
        const where = ref.revisionRange ?? ref.range;
        const template = ref.revisionRange ? pinEditTemplate(ref.revisionRange, ref.revision) : undefined;
        findings.push({
          path: filePath, range: where, code: 'HUB002', severity: s2,
          message: `revision='${ref.revision}' is a branch or tag (or a short hash) of '${ref.repoId}' and can move to new content; `
            + `it currently points to ${cachedInfo.sha}. Pin the full commit.`,
          fixes: template ? [{
            title: `Pin revision to ${cachedInfo.sha.slice(0, 12)}…`, edits: template.map((e) => ({ ...e, newText: e.newText.replace('{sha}', cachedInfo.sha) })),
            isPreferred: true,
          }] : [],
          data: { repoId: ref.repoId, kind: ref.kind, revision: ref.revision, sha: cachedInfo.sha },
        });
      }

      if (!config.online.enabled || !isValidRepoId(ref.repoId)) continue;
      if (!cachedHit || !cachedHit.fresh) schedule(ref);
      if (!cachedHit) continue;
      const result = cachedHit.result;
      const s3 = sev('HUB003');
      if (result.status === 'not-found' && s3) {
        findings.push({
          path: filePath, range: ref.range, code: 'HUB003', severity: s3,
          message: `The Hub has no ${ref.kind} '${ref.repoId}'${ref.revision ? ` at revision '${ref.revision}'` : ''}. `
            + 'A deleted namespace can be re-registered by someone else: check the name, pin a commit and mirror the files.',
          fixes: [], data: { repoId: ref.repoId, kind: ref.kind },
        });
      }
      const s1 = sev('HUB001');
      if (result.status === 'ok' && ref.kind === 'model' && result.info.files && offersOnlyPickleWeights(result.info.files) && s1) {
        const pickles = groupWeights(result.info.files).pickle;
        findings.push({
          path: filePath, range: ref.range, code: 'HUB001', severity: s1,
          message: `'${ref.repoId}' offers only pickle-based weights (${listShort(pickles, 3)}), no .safetensors: loading them can execute code. Scan the repo before use.`,
          fixes: [], data: { repoId: ref.repoId, kind: ref.kind, sha: result.info.sha },
        });
      }
    }
    return findings;
  };

  const hover = async (ref: Pick<HubReference, 'repoId' | 'revision' | 'kind'>): Promise<string | undefined> => {
    if (!isValidRepoId(ref.repoId)) return undefined;
    const key = { repoId: ref.repoId, kind: ref.kind, revision: ref.revision };
    let result: LookupResult | undefined;
    // Hub hovers are an online feature: off means no Hub content at all, not even from an earlier session's cache.
    if (!opts.getConfig().online.enabled) return undefined;
    {
      const lookup = service.lookup(key).catch((err) => { opts.log?.(`hub: hover lookup failed: ${(err as Error).message}`); return undefined; });
      result = await withinMs(lookup, opts.hoverWaitMs ?? HOVER_MAX_WAIT_MS);
      if (!result) result = service.cached(key)?.result;
      if (!result) return `**Hugging Face ${ref.kind}** ${code(ref.repoId)}\n\nLooking it up on the Hub…`;
    }
    let security: RepoSecurityDetails | undefined;
    let verdict: ScanVerdictSummary | undefined;
    if (result.status === 'ok') {
      security = (await withinMs(service.securityDetails(result.info).catch(() => undefined), opts.hoverWaitMs ?? HOVER_MAX_WAIT_MS))
        ?? service.cachedSecurity(result.info);
      verdict = scans.get(scanResultKey(service.http.baseUrl(), result.info.kind, result.info.repoId, result.info.sha))?.value;
    }
    return renderHover(ref, result, security, verdict);
  };

  const resolvePin = async (data: { repoId: string; kind: RepoKind; revision?: string }): Promise<{ revision: string } | undefined> => {
    if (isCommitSha(data.revision)) return { revision: data.revision! };
    if (!isValidRepoId(data.repoId)) return undefined;
    if (opts.getConfig().online.enabled) {
      try {
        const r = await service.lookup({ repoId: data.repoId, kind: data.kind, revision: data.revision });
        if (r.status === 'ok' && isCommitSha(r.info.sha)) return { revision: r.info.sha };
      } catch (err) {
        opts.log?.(`hub: pin lookup failed: ${(err as Error).message}`);
      }
    }
    const local = readLocalRef(data.repoId, data.kind, data.revision ?? 'main');
    return local ? { revision: local } : undefined;
  };

  const useSafetensorsAvailable = (repoId: string): boolean | undefined => {
    const info = service.cachedAnyRevision(repoId, 'model');
    if (!info?.files) return undefined;
    return groupWeights(info.files).safetensors.length > 0;
  };

  const idle = async () => {
    while (background.size) await Promise.allSettled([...background]);
    await new Promise((r) => setTimeout(r, 1));
  };

  return { diagnosticsFor, hover, resolvePin, useSafetensorsAvailable, requestCount: () => service.http.requestCount(), idle };
}

/** The promise's value, or undefined when it takes longer than `ms`. */
async function withinMs<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The commit a revision points to in the local HF cache
 * (HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub → `models--org--name/refs/<rev>`).
 */
export function readLocalRef(repoId: string, kind: RepoKind, revision: string, cacheRoot: string = getHFHubCachePath()): string | undefined {
  if (!isValidRepoId(repoId)) return undefined;
  const segments = revision.split('/');
  if (segments.some((s) => !s || s === '.' || s === '..' || s.includes('\\'))) return undefined;
  const folder = [`${kind}s`, ...repoId.split('/')].join('--');
  try {
    const text = readFileSync(path.join(cacheRoot, folder, 'refs', ...segments), 'utf8').trim();
    return isCommitSha(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the owner sits inside the repo-id literal's range: the range covers either
 * the bare id or the id in simple quotes; any other layout (prefixes, `hf-hub:`,
 * `@rev`) gets no automatic edit.
 */
function ownerRangeIn(r: Range, repoId: string, ownerLength: number): Range | undefined {
  if (r.start.line !== r.end.line) return undefined;
  const width = r.end.character - r.start.character;
  const offset = width === repoId.length ? 0 : width === repoId.length + 2 ? 1 : -1;
  if (offset < 0) return undefined;
  const start = r.start.character + offset;
  return { start: { line: r.start.line, character: start }, end: { line: r.start.line, character: start + ownerLength } };
}

/** The edit that pins a revision literal (quoted or bare, as `findHubReferences` reports it); `{sha}` is the placeholder. */
export function pinEditTemplate(revisionRange: Range, revision: string): TextEdit[] | undefined {
  if (revisionRange.start.line !== revisionRange.end.line) return undefined;
  const width = revisionRange.end.character - revisionRange.start.character;
  if (width === revision.length) return [{ range: revisionRange, newText: '{sha}' }];
  if (width === revision.length + 2) return [{ range: revisionRange, newText: '"{sha}"' }];
  return undefined;
}

/** Longest file name quoted in a diagnostic message. */
const MAX_NAME_IN_MESSAGE = 120;

function listShort(items: readonly string[], max: number): string {
  const head = items.slice(0, max).map((x) => (x.length > MAX_NAME_IN_MESSAGE ? x.slice(0, MAX_NAME_IN_MESSAGE) + '…' : x)).join(', ');
  return items.length > max ? `${head}, and ${items.length - max} more` : head;
}

/** Text from the network shown as plain text: markdown and HTML neutralized, one line, bounded. */
function plain(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 200).replace(/[\\`*_{}\[\]()#+!<>|~]/g, (c) => `\\${c}`);
}

function code(s: string): string {
  return '`' + s.replace(/`/g, "'").replace(/[\r\n]/g, ' ').slice(0, 200) + '`';
}

function fileList(files: readonly string[]): string {
  const shown = files.slice(0, MAX_HOVER_FILES).map(code).join(', ');
  return files.length > MAX_HOVER_FILES ? `${shown}, and ${files.length - MAX_HOVER_FILES} more` : shown;
}

/** Short text for the Hub's per-file security status (its shape is not a stable contract, so read defensively). */
export function describeFileStatus(status: unknown): string | undefined {
  if (!status || typeof status !== 'object') return undefined;
  const s = status as Record<string, any>;
  const parts: string[] = [];
  if (typeof s.status === 'string') parts.push(s.status);
  const pickle = s.pickleImportScan;
  if (pickle && typeof pickle === 'object') {
    if (typeof pickle.highestSafetyLevel === 'string') parts.push(`pickle imports: ${pickle.highestSafetyLevel}`);
    const imports = Array.isArray(pickle.imports) ? pickle.imports : [];
    const risky = imports.filter((i: any) => i && i.safety && i.safety !== 'innocuous').slice(0, MAX_HOVER_IMPORTS)
      .map((i: any) => `${String(i.module)}.${String(i.name)}`);
    if (risky.length) parts.push(risky.map(code).join(', '));
  }
  const av = s.avScan;
  if (av && typeof av === 'object') {
    if (av.virusFound === true || av.status === 'unsafe') parts.push('antivirus: flagged');
  }
  return parts.length ? parts.join('; ') : undefined;
}

function describeRepoStatus(status: unknown): string | undefined {
  if (!status || typeof status !== 'object') return undefined;
  const s = status as Record<string, any>;
  const issues = Array.isArray(s.filesWithIssues) ? s.filesWithIssues : [];
  if (issues.length) {
    const list = issues.slice(0, MAX_HOVER_FILES).map((f: any) => `${code(String(f?.path ?? '?'))} (${String(f?.level ?? 'issue')})`).join(', ');
    return `files with issues: ${list}`;
  }
  if (s.scansDone === false) return 'scans not finished';
  if (s.scansDone === true) return 'no issues reported';
  return undefined;
}

export function renderHover(
  ref: Pick<HubReference, 'repoId' | 'revision' | 'kind'>,
  result: LookupResult,
  security: RepoSecurityDetails | undefined,
  verdict: ScanVerdictSummary | undefined,
): string {
  const title = `**Hugging Face ${ref.kind}** ${code(ref.repoId)}${ref.revision ? ` @ ${code(ref.revision)}` : ''}`;
  if (result.status === 'not-found') return `${title}\n\nNot found on the Hub (404). A deleted namespace can be re-registered by someone else: check the name, pin and mirror.`;
  if (result.status === 'unauthorized') return `${title}\n\nGated or private (HTTP ${result.httpStatus}): no access with the current token.`;
  if (result.status === 'error') return `${title}\n\nThe Hub lookup failed: ${plain(result.message)}`;
  const info: RepoInfo = result.info;
  const lines = [title, ''];
  lines.push(`- Commit: ${info.sha ? code(info.sha) : 'unknown'}`);
  if (info.lastModified) lines.push(`- Last modified: ${info.lastModified.slice(0, 19).replace('T', ' ')} UTC`);
  const gated = info.gated === 'auto' || info.gated === 'manual' ? `, gated (${info.gated})` : info.gated ? ', gated' : '';
  lines.push(`- Access: ${info.private ? 'private' : 'public'}${gated}`);
  if (info.libraryName) lines.push(`- Library: ${code(info.libraryName)}`);
  if (info.files) {
    const g = groupWeights(info.files);
    lines.push('', '**Weights**', '');
    if (g.safetensors.length) lines.push(`- SafeTensors: ${fileList(g.safetensors)}`);
    if (g.pickle.length) lines.push(`- Pickle-based (can run code when loaded): ${fileList(g.pickle)}`);
    if (g.other.length) lines.push(`- Other formats: ${fileList(g.other)}`);
    if (!g.safetensors.length && !g.pickle.length && !g.other.length) lines.push('- No weight files found.');
  }
  if (security) {
    const repoLine = describeRepoStatus(security.repoStatus);
    const fileLines = security.files.map((f) => [f.path, describeFileStatus(f.status)] as const).filter((x) => x[1]);
    if (repoLine || fileLines.length) {
      lines.push('', "**The Hub's own scan** (the Hub's scan is a hint only: proof-of-concept files are known to bypass it)", '');
      if (repoLine) lines.push(`- Repo: ${repoLine}`);
      for (const [p, d] of fileLines.slice(0, MAX_HOVER_FILES)) lines.push(`- ${code(p)}: ${d}`);
    }
  }
  lines.push('');
  if (verdict) {
    lines.push(`**ModelVet scan** of this commit: **${verdict.verdict}** (${verdict.files} files; ${verdict.malicious} malicious, ${verdict.suspicious} suspicious, ${verdict.unscannable} unscannable; ${verdict.scannedAt.slice(0, 10)})`);
    for (const w of verdict.worst.slice(0, MAX_HOVER_FILES)) lines.push(`- ${code(w.path)}: ${w.verdict}${w.codes.length ? ` (${w.codes.join(', ')})` : ''}`);
  } else {
    lines.push('Not scanned by ModelVet yet: run *ModelVet: Scan Hugging Face Repository…*.');
  }
  return lines.join('\n');
}
