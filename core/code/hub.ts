/**
 * Recognising Hugging Face Hub references in code (`from_pretrained("org/name")`,
 * `hf_hub_download(...)`, `load_dataset(...)`, …) and reading commit SHAs from
 * the local Hub cache, which is the only offline source of a pin.
 */
import type { Node } from 'web-tree-sitter';
import os from 'node:os';
import path from 'node:path';
import type { FileAccess } from '../analysis';
import { argument, literalValue, qualifiedName, rootIsLocal, type CallArgs, type Scope } from './model';

export type HubKind = 'model' | 'dataset';

export interface HubCall {
  repoId: string;
  revision?: string;
  kind: HubKind;
  /** The string literal holding the repo id. */
  repoNode: Node;
  /** The `revision=` value node, when present. */
  revisionNode?: Node;
  /** timm encodes the revision in the string: `hf-hub:org/name@rev`. */
  revisionInString: boolean;
  /** Where the call came from, for messages. */
  api: string;
}

/** Last names of the callees hubCall() recognises. */
export const HUB_CALLEES = new Set(['from_pretrained', 'pipeline', 'hf_hub_download', 'snapshot_download', 'load_dataset', 'SentenceTransformer', 'CrossEncoder', 'create_model']);

/** An immutable revision: a full or abbreviated commit SHA. */
export const PINNED_REVISION = /^[0-9a-f]{7,40}$/i;
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?$/;
const HUB_PACKAGES = ['transformers', 'diffusers', 'peft', 'sentence_transformers', 'optimum', 'setfit', 'huggingface_hub', 'timm'];
/** `load_dataset` names that are packaged builders, not Hub repos. */
const PACKAGED_BUILDERS = new Set(['json', 'csv', 'parquet', 'text', 'arrow', 'pandas', 'imagefolder', 'audiofolder', 'videofolder', 'webdataset', 'sql', 'generator', 'xml', 'spark', 'cache']);
const AUTO_OR_PIPELINE = /^(Auto[A-Z0-9]\w*|\w*Pipeline)$/;

/** Does this string look like a Hub repo id (not a local path)? */
export function looksLikeRepoId(s: string): boolean {
  if (!s || s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || s.includes('\\') || s.includes('..')) return false;
  return REPO_ID.test(s);
}

function lastName(n: Node): string | undefined {
  if (n.type === 'identifier') return n.text;
  if (n.type === 'attribute') return n.childForFieldName('attribute')?.text;
  return undefined;
}

function isHubPackage(qn: string | undefined): boolean {
  return !!qn && HUB_PACKAGES.some((p) => qn === p || qn.startsWith(p + '.'));
}

/** `X.from_pretrained` — judged from the text at the callee's end (one parser call) before any field lookup. */
function isFromPretrained(fn: Node, scope: Scope): boolean {
  const text = scope.model.text;
  const end = fn.endIndex;
  if (!text.startsWith('from_pretrained', end - 15)) return false;
  const before = text.charCodeAt(end - 16);
  if ((before >= 48 && before <= 57) || (before >= 65 && before <= 90) || (before >= 97 && before <= 122) || before === 95 || before > 127) return false;
  return fn.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'from_pretrained';
}

/** Recognise a Hub call; `qn` is the callee's qualified name (may be undefined for `X.from_pretrained`). */
export function hubCall(fn: Node, qn: string | undefined, args: CallArgs, scope: Scope): HubCall | undefined {
  let repoNode: Node | undefined;
  let kind: HubKind = 'model';
  let api = qn ?? fn.text;
  let revisionInString = false;
  if (isFromPretrained(fn, scope)) {
    const receiver = fn.childForFieldName('object');
    if (!receiver) return undefined;
    const receiverQn = qualifiedName(receiver, scope);
    const name = lastName(receiver);
    const ok = isHubPackage(receiverQn) || (!receiverQn && !!name && AUTO_OR_PIPELINE.test(name) && !rootIsLocal(receiver, scope));
    if (!ok) return undefined;
    // PeftModel.from_pretrained(base_model, model_id): the repo is the second argument.
    if (name && /^PeftModel/.test(name)) repoNode = argument(args, 'model_id', 1);
    else repoNode = argument(args, 'pretrained_model_name_or_path', 0);
    api = `${name ?? receiver.text}.from_pretrained`;
  } else if (!qn) {
    return undefined;
  } else if (qn === 'transformers.pipeline' || qn === 'transformers.pipelines.pipeline') {
    repoNode = argument(args, 'model', 1);
  } else if (/^huggingface_hub\.(file_download\.)?hf_hub_download$|^huggingface_hub\.(_snapshot_download\.)?snapshot_download$/.test(qn)) {
    repoNode = argument(args, 'repo_id', 0);
    const repoType = literalValue(args.keywords.get('repo_type')?.value);
    if (repoType?.kind === 'string') {
      if (repoType.value === 'dataset') kind = 'dataset';
      else if (repoType.value !== 'model') return undefined; // spaces: not a model or dataset
    }
  } else if (qn === 'datasets.load_dataset') {
    repoNode = argument(args, 'path', 0);
    kind = 'dataset';
  } else if (qn === 'sentence_transformers.SentenceTransformer' || qn === 'sentence_transformers.CrossEncoder') {
    repoNode = argument(args, 'model_name_or_path', 0);
  } else if (qn === 'timm.create_model') {
    repoNode = argument(args, 'model_name', 0);
    revisionInString = true;
  } else {
    return undefined;
  }
  if (!repoNode) return undefined;
  const lit = literalValue(repoNode);
  if (lit?.kind !== 'string' || repoNode.type !== 'string') return undefined;
  let repoId = lit.value;
  let revision: string | undefined;
  let revisionNode: Node | undefined;
  if (revisionInString) {
    const m = /^hf[-_]hub:(.+)$/.exec(repoId);
    if (!m) return undefined;
    const at = m[1].indexOf('@');
    repoId = at >= 0 ? m[1].slice(0, at) : m[1];
    if (at >= 0) revision = m[1].slice(at + 1);
  } else {
    revisionNode = args.keywords.get('revision')?.value;
    if (revisionNode) {
      const rev = literalValue(revisionNode);
      revision = rev?.kind === 'string' ? rev.value : undefined;
    }
  }
  if (!looksLikeRepoId(repoId)) return undefined;
  if (kind === 'dataset' && PACKAGED_BUILDERS.has(repoId)) return undefined;
  return { repoId, revision, kind, repoNode, revisionNode, revisionInString, api };
}

/** The Hub cache directory, as huggingface_hub computes it. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return path.join(env.HF_HOME, 'hub');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface', 'hub');
}

/** The commit SHA the local Hub cache recorded for `repoId` at `ref` (default `main`), if any. */
export function cachedCommit(fs: FileAccess, repoId: string, kind: HubKind, ref = 'main', env: NodeJS.ProcessEnv = process.env, cacheDir = hubCacheDir(env)): string | undefined {
  if (!/^[\w.-]+$/.test(ref)) return undefined;
  const folder = `${kind}s--${repoId.split('/').join('--')}`;
  const text = fs.readText(`${cacheDir}${path.sep}${folder}${path.sep}refs${path.sep}${ref}`);
  const sha = text?.trim();
  return sha && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
}
