/**
 * The LOAD rules, evaluated over a ModuleModel. Findings are produced in the
 * coordinates of the analysed text; notebooks remap them to cells afterwards.
 */
import { joinSentences } from '../merge';
import type { Node } from 'web-tree-sitter';
import path from 'node:path';
import { compare as comparePep440, valid as validPep440 } from '@renovatebot/pep440';
import type { AnalysisContext } from '../analysis';
import type { LineIndex } from '../text';
import { compareFindings, type Finding, type Fix, type Severity } from '../types';
import { addKeywordArgument, removeArgument, replaceNode, replaceSpan } from './edits';
import { cachedCommit, hubCacheDir, hubCall, PINNED_REVISION, type HubCall } from './hub';
import {
  argument, callArgs, literalValue, lookup, qualifiedName, stringContentSpan, stringValue,
  type CallArgs, type ModuleModel, type Scope,
} from './model';

/** How deep the taint-lite follows `a = b; b = c(...)` chains. */
export const MAX_TAINT_DEPTH = 8;

export interface RuleInput {
  path: string;
  model: ModuleModel;
  lines: LineIndex;
  ctx: AnalysisContext;
  /** Filled on first use during a rule pass. */
  hubCacheDir?: string;
  /**
   * Only judge calls (and `"trust_remote_code": True` pairs) that start in [from, to): the caller
   * keeps the findings elsewhere from an earlier pass. Download facts are always collected from the
   * whole module (they reach other statements).
   */
  within?: readonly [number, number];
}

const RAISE: Record<Severity, Severity> = { hint: 'information', information: 'warning', warning: 'error', error: 'error' };
/** Appended (as its own sentence) when the loaded path comes from a download in the same code. */
const DOWNLOADED_NOTE = 'The path is a downloaded file, so whoever controls the download controls what runs.';

// ---- taint-lite: "this path came from a download" ---------------------------------

const DOWNLOADERS = new Set([
  'huggingface_hub.hf_hub_download', 'huggingface_hub.file_download.hf_hub_download', 'huggingface_hub.snapshot_download',
  'huggingface_hub.cached_download', 'huggingface_hub._snapshot_download.snapshot_download',
  'urllib.request.urlretrieve', 'wget.download', 'keras.utils.get_file', 'tensorflow.keras.utils.get_file',
  'gdown.download', 'torchvision.datasets.utils.download_url',
]);
/** Downloaders that write to a destination argument: qualified name → [keyword, position]. */
const DESTINATION_DOWNLOADERS: Record<string, [string, number]> = {
  'urllib.request.urlretrieve': ['filename', 1],
  'torch.hub.download_url_to_file': ['dst', 1],
  'wget.download': ['out', 1],
  'gdown.download': ['output', 1],
};
const PATH_WRAPPERS = new Set(['os.path.join', 'posixpath.join', 'os.path.abspath', 'os.path.realpath', 'os.path.expanduser', 'os.fspath', 'pathlib.Path', 'pathlib.PurePath', 'builtins.str', 'builtins.open']);

/** Per-scope set of destinations written by downloads: identifier names and literal paths. */
interface DownloadFacts { names: Map<Scope, Array<{ name: string; at: number }>>; literals: Map<Scope, Set<string>> }

function taintScope(scope: Scope): Scope {
  let s = scope;
  while (s.kind === 'class' || s.kind === 'lambda') s = s.parent ?? s;
  return s;
}

function collectDownloadFacts(calls: Array<{ node: Node; scope: Scope }>): DownloadFacts {
  const facts: DownloadFacts = { names: new Map(), literals: new Map() };
  const note = (scope: Scope, n: Node | undefined) => {
    if (!n) return;
    const s = taintScope(scope);
    if (n.type === 'identifier') {
      const list = facts.names.get(s) ?? []; list.push({ name: n.text, at: n.startIndex }); facts.names.set(s, list);
    } else {
      const lit = literalValue(n);
      if (lit?.kind === 'string') { const set = facts.literals.get(s) ?? new Set(); set.add(lit.value); facts.literals.set(s, set); }
    }
  };
  for (const { node, scope } of calls) {
    const fn = node.childForFieldName('function');
    if (!fn) continue;
    const qn = qualifiedName(fn, scope);
    const dest = qn ? DESTINATION_DOWNLOADERS[qn] : undefined;
    if (dest) { note(scope, argument(callArgs(node), dest[0], dest[1])); continue; }
    // `<file>.write(<response>.content)` where <file> is `with open(P, "wb") as <file>` or `open(P, "wb")`.
    if (fn.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'write') {
      const a = callArgs(node).positional[0];
      if (!a || !(a.type === 'attribute' && a.childForFieldName('attribute')?.text === 'content')) continue;
      const target = fn.childForFieldName('object');
      const openCall = target?.type === 'call' ? target : target?.type === 'identifier' ? withOpenCallFor(target) : undefined;
      if (openCall && qualifiedName(openCall.childForFieldName('function'), scope) === 'builtins.open') note(scope, callArgs(openCall).positional[0]);
    }
  }
  return facts;
}

/** For `with open(p, 'wb') as f:` → the `open(...)` call bound to `f`, searching enclosing with statements. */
function withOpenCallFor(id: Node): Node | undefined {
  for (let n: Node | null = id.parent, depth = 0; n && depth < 200; n = n.parent, depth++) {
    if (n.type !== 'with_statement') continue;
    for (const clause of n.namedChildren) {
      if (clause?.type !== 'with_clause') continue;
      for (const item of clause.namedChildren) {
        const value = item?.childForFieldName('value');
        if (value?.type !== 'as_pattern') continue;
        const alias = value.childForFieldName('alias');
        const inner = value.namedChildren[0];
        if (alias?.text === id.text && inner?.type === 'call') return inner;
      }
    }
  }
  return undefined;
}

function isDownloaded(expr: Node | undefined | null, scope: Scope, facts: DownloadFacts, depth = 0): boolean {
  if (!expr || depth > MAX_TAINT_DEPTH) return false;
  switch (expr.type) {
    case 'call': {
      const qn = qualifiedName(expr.childForFieldName('function'), scope);
      if (!qn) return false;
      if (DOWNLOADERS.has(qn)) return true;
      if (PATH_WRAPPERS.has(qn)) return callArgs(expr).positional.some((a) => isDownloaded(a, scope, facts, depth + 1));
      return false;
    }
    case 'subscript': return isDownloaded(expr.childForFieldName('value'), scope, facts, depth + 1);
    case 'parenthesized_expression': return isDownloaded(expr.namedChildren[0], scope, facts, depth + 1);
    case 'binary_operator': return isDownloaded(expr.childForFieldName('left'), scope, facts, depth + 1);
    case 'string': {
      const lit = stringValue(expr);
      if (lit !== undefined) return facts.literals.get(taintScope(scope))?.has(lit) ?? false;
      for (const c of expr.namedChildren) {
        if (c?.type === 'interpolation' && isDownloaded(c.childForFieldName('expression'), scope, facts, depth + 1)) return true;
      }
      return false;
    }
    case 'identifier': {
      const s = taintScope(scope);
      const written = facts.names.get(s)?.some((d) => d.name === expr.text && d.at < expr.startIndex);
      if (written) return true;
      const b = lookup(expr.text, s, expr.startIndex);
      if (b === 'unbound' || !b || b.kind !== 'value' || !b.value) return false;
      if (b.value.startIndex <= expr.startIndex && expr.startIndex < b.value.endIndex) return false; // x = f(x)
      return isDownloaded(b.value, s, facts, depth + 1);
    }
    default: return false;
  }
}

// ---- helpers ---------------------------------------------------------------------

function versionAtLeast(version: string | undefined, floor: string): boolean {
  if (!version || !validPep440(version)) return false;
  try { return comparePep440(version, floor) >= 0; } catch { return false; }
}

function makeFinding(input: RuleInput, node: Node, code: string, severity: Severity, message: string, fixes: Fix[] = [], data?: Record<string, unknown>): Finding {
  const f: Finding = { path: input.path, range: input.lines.rangeOf(node.startIndex, node.endIndex), code, severity, message, fixes };
  if (data) f.data = data;
  return f;
}

function withTaint(f: Finding, downloaded: boolean): Finding {
  if (!downloaded) return f;
  return { ...f, severity: RAISE[f.severity], message: joinSentences(f.message, DOWNLOADED_NOTE), data: { ...(f.data ?? {}), downloaded: true } };
}

/** Where to add `import X`: before the first top-level non-__future__ import, else after a module docstring, else line 0. */
function importInsertionOffset(model: ModuleModel): number {
  for (const imp of model.topLevelImports) {
    if (imp.type === 'import_from_statement' && imp.childForFieldName('module_name')?.text === '__future__') continue;
    return imp.startIndex;
  }
  // The leading statements are always parsed, in the first tree (chunk).
  for (const tree of model.parsed.trees) {
    for (let stmt = tree.rootNode.firstNamedChild; stmt; stmt = stmt.nextNamedSibling) {
      if (stmt.type === 'comment' || stmt.type === 'future_import_statement') continue;
      if (stmt.type === 'expression_statement' && stmt.namedChildren[0]?.type === 'string') continue;
      return stmt.startIndex - (stmt.startPosition.column);
    }
  }
  return 0;
}

function hasModuleImport(model: ModuleModel, moduleName: string): boolean {
  const root = moduleName.split('.')[0];
  return model.bindingsOf(root).some((b) => b.scope === model.module && b.binding.kind === 'import' && b.binding.qualified === root);
}

const PICKLE_WEIGHT_EXT = /\.(pt|pth|bin|ckpt)$/i;

function resolveWorkspacePath(input: RuleInput, p: string): string | undefined {
  const candidates = path.isAbsolute(p) ? [p] : [path.resolve(path.dirname(input.path), p), ...(input.ctx.workspaceRoot ? [path.resolve(input.ctx.workspaceRoot, p)] : [])];
  return candidates.find((c) => { try { return input.ctx.fs.exists(c); } catch { return false; } });
}

// ---- LOAD001 torch.load ----------------------------------------------------------

const TORCH_LOAD = new Set(['torch.load', 'torch.serialization.load']);
/** torch.load of a file it downloads itself (always "downloaded"; the argument is a URL, so no SafeTensors rewrite). */
const TORCH_LOAD_FROM_URL = new Set(['torch.hub.load_state_dict_from_url', 'torch.utils.model_zoo.load_url']);

function checkTorchLoad(input: RuleInput, call: Node, fn: Node, args: CallArgs, scope: Scope, facts: DownloadFacts, out: Finding[], fromUrl = false): void {
  const { lines, model } = input;
  const weightsOnly = args.keywords.get('weights_only');
  const fileArg = argument(args, fromUrl ? 'url' : 'f', 0);
  const downloaded = fromUrl || isDownloaded(fileArg, scope, facts);
  const fixes: Fix[] = [];
  let severity: Severity;
  let message: string;
  let target: Node = fn;
  if (weightsOnly) {
    const lit = literalValue(weightsOnly.value);
    if (lit?.kind === 'bool' && lit.value) return;
    target = weightsOnly.arg;
    if (lit?.kind === 'bool' || lit?.kind === 'none') {
      severity = lit.kind === 'bool' ? 'error' : 'warning';
      message = lit.kind === 'bool'
        ? '`torch.load(..., weights_only=False)` unpickles the file: loading it can run arbitrary code.'
        : '`weights_only=None` falls back to the torch version\'s default; older versions unpickle arbitrary objects.';
    } else {
      severity = 'warning';
      message = '`torch.load` with a computed `weights_only`: cannot tell whether the file is unpickled with arbitrary code execution.';
    }
    fixes.push({ title: 'Set weights_only=True', edits: [replaceNode(lines, weightsOnly.value, 'True')], isPreferred: lit?.kind === 'bool' || lit?.kind === 'none' });
  } else {
    const floor = input.ctx.project?.versionFloor('torch');
    const safeDefault = versionAtLeast(floor, '2.6');
    if (args.hasStarStarKwargs) {
      severity = 'warning';
      message = '`torch.load` with `**kwargs`: cannot tell whether `weights_only=True` is passed; without it the file may be unpickled with arbitrary code execution.';
    } else if (safeDefault) {
      severity = 'information';
      message = `\`torch.load\` without \`weights_only\`: safe by default with torch ${floor} (>= 2.6), but unsafe with older torch; pass \`weights_only=True\` explicitly.`;
    } else {
      severity = 'warning';
      message = '`torch.load` without `weights_only=True` unpickles the file: loading an untrusted checkpoint can run arbitrary code.';
    }
    const edit = addKeywordArgument(lines, args, 'weights_only=True');
    if (edit) fixes.push({ title: 'Add weights_only=True', edits: [edit], isPreferred: !args.hasStarStarKwargs });
  }
  // Switch to SafeTensors.
  let data: Record<string, unknown> | undefined;
  if (fileArg && !fromUrl) {
    const lit = literalValue(fileArg);
    let argText = fileArg.text;
    if (lit?.kind === 'string' && fileArg.type === 'string' && PICKLE_WEIGHT_EXT.test(lit.value)) {
      const span = stringContentSpan(fileArg);
      const content = model.text.slice(span.start, span.end);
      argText = model.text.slice(fileArg.startIndex, span.start) + content.replace(PICKLE_WEIGHT_EXT, '.safetensors') + model.text.slice(span.end, fileArg.endIndex);
      const existing = resolveWorkspacePath(input, lit.value);
      if (existing) data = { convertFrom: existing };
    }
    const edits = [replaceSpan(lines, call.startIndex, call.endIndex, `safetensors.torch.load_file(${argText})`)];
    if (!hasModuleImport(model, 'safetensors.torch')) {
      const at = importInsertionOffset(model);
      edits.unshift(replaceSpan(lines, at, at, `import safetensors.torch${lines.lineCount > 1 && model.text.charCodeAt(lines.starts[1] - 2) === 13 ? '\r\n' : '\n'}`));
    }
    fixes.push({ title: 'Switch to SafeTensors (safetensors.torch.load_file)', edits });
  }
  out.push(withTaint(makeFinding(input, target, 'LOAD001', severity, message, fixes, data), downloaded));
}

// ---- LOAD002 pickle family -------------------------------------------------------

const PICKLE_FAMILY: Record<string, string> = {};
for (const mod of ['pickle', 'cPickle', '_pickle', 'dill', 'cloudpickle']) for (const fn of ['load', 'loads', 'Unpickler']) PICKLE_FAMILY[`${mod}.${fn}`] = `${mod}.${fn}`;
Object.assign(PICKLE_FAMILY, {
  'dill._dill.load': 'dill.load', 'shelve.open': 'shelve.open', 'shelve.DbfilenameShelf': 'shelve.DbfilenameShelf',
  'jsonpickle.decode': 'jsonpickle.decode', 'jsonpickle.unpickler.decode': 'jsonpickle.decode',
  'pandas.read_pickle': 'pandas.read_pickle', 'joblib.load': 'joblib.load', 'sklearn.externals.joblib.load': 'joblib.load',
  'marshal.load': 'marshal.load', 'marshal.loads': 'marshal.loads', 'numpy.lib.format.read_array': 'numpy.lib.format.read_array',
});

function checkPickleFamily(input: RuleInput, call: Node, fn: Node, qn: string, args: CallArgs, scope: Scope, facts: DownloadFacts, out: Finding[]): void {
  let api = PICKLE_FAMILY[qn];
  if (!api && /^mlflow\.[A-Za-z_]\w*\.load_model$/.test(qn)) api = qn;
  if (api) {
    const src = argument(args, qn.startsWith('mlflow.') ? 'model_uri' : 'file', 0);
    const downloaded = isDownloaded(src, scope, facts);
    const how = api.startsWith('marshal') ? 'unmarshals code objects' : api.startsWith('mlflow') ? 'unpickles the model flavor' : 'unpickles its input';
    out.push(withTaint(makeFinding(input, fn, 'LOAD002', 'warning', `\`${api}\` ${how}: loading untrusted data can run arbitrary code.`, [], { api }), downloaded));
    return;
  }
  if (qn === 'skops.io.load' || qn === 'skops.io.loads') {
    const trusted = args.keywords.get('trusted') ?? (args.positional[1] ? { arg: args.positional[1], value: args.positional[1] } : undefined);
    if (!trusted) return;
    const lit = literalValue(trusted.value);
    const downloaded = isDownloaded(argument(args, 'file', 0), scope, facts);
    if (lit?.kind === 'none' || (lit?.kind === 'bool' && !lit.value) || (lit?.kind === 'list' && lit.length === 0)) return;
    const known = lit?.kind === 'bool' || lit?.kind === 'list';
    out.push(withTaint(makeFinding(input, trusted.arg, 'LOAD002', 'warning', known
      ? `\`${qn}\` with \`trusted=${trusted.value.text}\` lets the file instantiate the trusted types: review every trusted type.`
      : `\`${qn}\` with a computed \`trusted\` list: cannot tell which types the file may instantiate.`, [], { api: qn }), downloaded));
  }
}

// ---- LOAD003 numpy.load ------------------------------------------------------------

function checkNumpyLoad(input: RuleInput, args: CallArgs, scope: Scope, facts: DownloadFacts, out: Finding[]): void {
  const allow = args.keywords.get('allow_pickle');
  if (!allow) return;
  const lit = literalValue(allow.value);
  if (lit?.kind === 'bool' && !lit.value) return;
  const downloaded = isDownloaded(argument(args, 'file', 0), scope, facts);
  const known = lit?.kind === 'bool';
  out.push(withTaint(makeFinding(input, allow.arg, 'LOAD003', 'warning', known
    ? '`numpy.load(..., allow_pickle=True)` unpickles object arrays: loading an untrusted file can run arbitrary code.'
    : '`numpy.load` with a computed `allow_pickle`: cannot tell whether object arrays are unpickled.',
  [{ title: 'Set allow_pickle=False', edits: [replaceNode(input.lines, allow.value, 'False')], isPreferred: known }]), downloaded));
}

// ---- LOAD004 remote code -------------------------------------------------------------

function checkRemoteCode(input: RuleInput, fn: Node, qn: string | undefined, args: CallArgs, out: Finding[]): void {
  const trc = args.keywords.get('trust_remote_code');
  if (trc) {
    const lit = literalValue(trc.value);
    if (lit?.kind === 'bool' && lit.value) {
      out.push(makeFinding(input, trc.arg, 'LOAD004', 'warning',
        '`trust_remote_code=True` downloads and runs Python code from the model repository.',
        [{ title: 'Set trust_remote_code=False', edits: [replaceNode(input.lines, trc.value, 'False')] }]));
    }
  }
  if (qn === 'torch.hub.load') {
    out.push(makeFinding(input, fn, 'LOAD004', 'warning', '`torch.hub.load` imports and runs the repository\'s `hubconf.py`.'));
  }
}

const REMOTE_CODE_PAIR = /(["'])trust_remote_code\1\s*:\s*True\b/g;

/** `{"trust_remote_code": True}` — the same switch, passed through a kwargs dict or a config. */
function checkRemoteCodeInDicts(input: RuleInput, out: Finding[]): void {
  const { model } = input;
  REMOTE_CODE_PAIR.lastIndex = 0;
  for (let m = REMOTE_CODE_PAIR.exec(model.text); m; m = REMOTE_CODE_PAIR.exec(model.text)) {
    if (input.within && (m.index < input.within[0] || m.index >= input.within[1])) continue;
    const str = model.nodeAt(m.index, m.index + 1);
    const key = str?.type === 'string' ? str : str?.parent?.type === 'string' ? str.parent : undefined;
    const pair = key?.parent;
    if (!key || pair?.type !== 'pair' || pair.childForFieldName('key')?.id !== key.id) continue;
    const value = pair.childForFieldName('value');
    if (value?.type !== 'true') continue;
    out.push(makeFinding(input, pair, 'LOAD004', 'warning', '`"trust_remote_code": True` downloads and runs Python code from the model repository when these options are used.',
      [{ title: 'Set trust_remote_code to False', edits: [replaceNode(input.lines, value, 'False')] }]));
  }
}

// ---- LOAD005 / LOAD006 Hub ---------------------------------------------------------

function checkHubRevision(input: RuleInput, call: Node, hub: HubCall, args: CallArgs, out: Finding[]): void {
  if (hub.revision !== undefined && PINNED_REVISION.test(hub.revision)) return;
  if (hub.revisionNode && hub.revision === undefined) return; // computed revision: never guessed
  if (!hub.revisionNode && !hub.revisionInString && args.hasStarStarKwargs) return; // may be in **kwargs
  // A relative path that exists in the workspace is a local model, not a Hub repo.
  if (resolveWorkspacePath(input, hub.repoId)) return;
  const { lines, model } = input;
  input.hubCacheDir ??= hubCacheDir(); // process.env reads are slow; once per rule pass
  const sha = cachedCommit(input.ctx.fs, hub.repoId, hub.kind, hub.revision ?? 'main', process.env, input.hubCacheDir);
  const target = hub.revisionNode ? hub.revisionNode.parent ?? hub.revisionNode : hub.repoNode;
  const message = hub.revision !== undefined
    ? `\`${hub.api}\` uses revision "${hub.revision}" of ${hub.kind} "${hub.repoId}", which can move: pin a commit SHA.`
    : `\`${hub.api}\` downloads ${hub.kind} "${hub.repoId}" without a pinned revision: the repository can change under you. Pin a commit SHA.`;
  const edits = (s: string) => {
    if (hub.revisionInString) {
      const span = stringContentSpan(hub.repoNode);
      const content = model.text.slice(span.start, span.end);
      const at = content.indexOf('@');
      return at >= 0 ? [replaceSpan(lines, span.start + at + 1, span.end, s)] : [replaceSpan(lines, span.end, span.end, `@${s}`)];
    }
    if (hub.revisionNode) return [replaceNode(lines, hub.revisionNode, `"${s}"`)];
    const e = addKeywordArgument(lines, args, `revision="${s}"`);
    return e ? [e] : [];
  };
  const fixes: Fix[] = [];
  if (sha) {
    const e = edits(sha);
    if (e.length) fixes.push({ title: `Pin revision="${sha.slice(0, 12)}…" (from the local Hub cache)`, edits: e, isPreferred: true });
  } else {
    // The server resolves the SHA online; `edits` carries a template with "{sha}" to fill in.
    fixes.push({ title: `Pin ${hub.repoId} to its current commit`, edits: [], resolve: { kind: 'hub-pin', data: { repoId: hub.repoId, kind: hub.kind, revision: hub.revision, path: input.path, editTemplate: edits('{sha}') } } });
  }
  const data: Record<string, unknown> = { repoId: hub.repoId, kind: hub.kind };
  if (hub.revision !== undefined) data.revision = hub.revision;
  out.push(makeFinding(input, target, 'LOAD005', 'warning', message, fixes, data));
  void call;
}

const PICKLE_FILE_EXT = /\.(bin|pt|pth|pkl|pickle|ckpt|joblib|npy)$/i;

function safetensorsName(file: string): string | undefined {
  const m = /^(.*?)(pytorch_model)?((?:-\d{5}-of-\d{5})?)\.(bin|pt|pth|ckpt)$/i.exec(file);
  if (!m) return undefined;
  return `${m[1]}${m[2] ? 'model' : ''}${m[3]}.safetensors`;
}

function checkPickleWeights(input: RuleInput, qn: string | undefined, args: CallArgs, out: Finding[]): void {
  const useSafetensors = args.keywords.get('use_safetensors');
  if (useSafetensors) {
    const lit = literalValue(useSafetensors.value);
    if (lit?.kind === 'bool' && !lit.value) {
      out.push(makeFinding(input, useSafetensors.arg, 'LOAD006', 'warning', '`use_safetensors=False` requests pickle-format weights from the Hub, which can run code when loaded.',
        [{ title: 'Set use_safetensors=True', edits: [replaceNode(input.lines, useSafetensors.value, 'True')], isPreferred: true }]));
    }
  }
  if (qn && /^huggingface_hub\.(file_download\.)?hf_hub_download$/.test(qn)) {
    const filename = argument(args, 'filename', 1);
    const lit = literalValue(filename);
    if (!filename || lit?.kind !== 'string' || !PICKLE_FILE_EXT.test(lit.value)) return;
    const renamed = safetensorsName(lit.value);
    const fixes: Fix[] = [];
    if (renamed && filename.type === 'string') {
      const span = stringContentSpan(filename);
      fixes.push({ title: `Download "${renamed}" instead`, edits: [replaceSpan(input.lines, span.start, span.end, renamed)] });
    }
    const target = args.keywords.get('filename')?.arg ?? filename;
    out.push(makeFinding(input, target, 'LOAD006', 'warning', `\`hf_hub_download\` fetches "${lit.value}", a pickle-format file that can run code when loaded; prefer a .safetensors file.`, fixes, { filename: lit.value }));
  }
}

// ---- LOAD007 Keras ----------------------------------------------------------------

const KERAS_LOAD_MODEL = /^(tensorflow\.|tf_keras\.)?keras\.(models|saving)\.load_model$|^tf_keras\.(models|saving)\.load_model$|^tensorflow\.keras\.models\.load_model$/;
const KERAS_UNSAFE = /^(tensorflow\.)?keras\.(config|saving)\.enable_unsafe_deserialization$/;

function checkKeras(input: RuleInput, fn: Node, qn: string, args: CallArgs, scope: Scope, facts: DownloadFacts, out: Finding[]): void {
  if (KERAS_UNSAFE.test(qn)) {
    out.push(makeFinding(input, fn, 'LOAD007', 'error', '`enable_unsafe_deserialization()` lets every later Keras load run Lambda-layer bytecode from the file.'));
    return;
  }
  if (!KERAS_LOAD_MODEL.test(qn)) return;
  const src = argument(args, 'filepath', 0);
  const downloaded = isDownloaded(src, scope, facts);
  const safeMode = args.keywords.get('safe_mode');
  if (safeMode) {
    const lit = literalValue(safeMode.value);
    if (!(lit?.kind === 'bool' && lit.value)) {
      const known = lit?.kind === 'bool';
      out.push(withTaint(makeFinding(input, safeMode.arg, 'LOAD007', known ? 'error' : 'warning', known
        ? '`load_model(..., safe_mode=False)` deserializes Lambda layers: the model file can run arbitrary code.'
        : '`load_model` with a computed `safe_mode`: cannot tell whether Lambda layers are deserialized.',
      [{ title: 'Set safe_mode=True', edits: [replaceNode(input.lines, safeMode.value, 'True')], isPreferred: known }]), downloaded));
      return;
    }
  }
  const lit = literalValue(src);
  if (lit?.kind === 'string' && /\.(h5|hdf5|keras\.h5)$/i.test(lit.value) && args.keywords.has('custom_objects')) {
    out.push(withTaint(makeFinding(input, fn, 'LOAD007', 'warning', '`load_model` of a legacy HDF5 (.h5) file with `custom_objects`: legacy files are not covered by safe_mode and can carry Lambda-layer bytecode.'), downloaded));
  }
}

// ---- LOAD008 yaml / eval -----------------------------------------------------------

const SAFE_LOADERS = new Set(['SafeLoader', 'CSafeLoader', 'BaseLoader', 'CBaseLoader']);
const UNSAFE_LOADERS = new Set(['Loader', 'CLoader', 'UnsafeLoader', 'CUnsafeLoader', 'FullLoader', 'CFullLoader']);

function checkYamlAndEval(input: RuleInput, call: Node, fn: Node, qn: string, args: CallArgs, scope: Scope, facts: DownloadFacts, out: Finding[]): void {
  const { lines } = input;
  const m = /^yaml\.(load|load_all|unsafe_load|unsafe_load_all|full_load|full_load_all)$/.exec(qn);
  if (m) {
    const fnName = m[1];
    const stream = argument(args, 'stream', 0);
    const downloaded = isDownloaded(stream, scope, facts);
    const safeName = fnName.endsWith('_all') ? 'safe_load_all' : 'safe_load';
    const safeFix = (): Fix[] => {
      if (fn.type !== 'attribute' || !stream) return [];
      const object = fn.childForFieldName('object')!;
      return [{ title: `Use yaml.${safeName}`, edits: [replaceSpan(lines, call.startIndex, call.endIndex, `${object.text}.${safeName}(${stream.text})`)], isPreferred: true }];
    };
    const pyyamlFloor = input.ctx.project?.versionFloor('pyyaml');
    if (fnName.startsWith('unsafe_load')) {
      out.push(withTaint(makeFinding(input, fn, 'LOAD008', 'error', `\`yaml.${fnName}\` constructs arbitrary Python objects: untrusted YAML can run code.`, safeFix()), downloaded));
      return;
    }
    if (fnName.startsWith('full_load')) {
      // FullLoader stopped constructing arbitrary objects in PyYAML 5.4 (CVE-2020-14343); still more than data needs.
      const sev: Severity = versionAtLeast(pyyamlFloor, '5.4') ? 'information' : 'warning';
      out.push(withTaint(makeFinding(input, fn, 'LOAD008', sev, `\`yaml.${fnName}\` uses FullLoader, which could run code before PyYAML 5.4; \`yaml.${safeName}\` is enough for data.`, safeFix()), downloaded));
      return;
    }
    const loaderArg = args.keywords.get('Loader')?.value ?? args.positional[1];
    const loaderName = loaderArg ? (loaderArg.type === 'attribute' ? loaderArg.childForFieldName('attribute')?.text : loaderArg.type === 'identifier' ? loaderArg.text : undefined) : undefined;
    const loaderQn = loaderArg ? qualifiedName(loaderArg, scope) : undefined;
    const loaderIsYaml = !!loaderQn && loaderQn.startsWith('yaml.');
    if (loaderArg && loaderIsYaml && loaderName && SAFE_LOADERS.has(loaderName)) return;
    let sev: Severity, message: string;
    if (!loaderArg) { sev = 'error'; message = `\`yaml.${fnName}\` without a safe Loader: older PyYAML constructs arbitrary Python objects (and PyYAML 6 rejects the call).`; }
    else if (loaderIsYaml && loaderName && UNSAFE_LOADERS.has(loaderName)) {
      sev = loaderName.includes('Full') && versionAtLeast(pyyamlFloor, '5.4') ? 'information' : loaderName.includes('Full') ? 'warning' : 'error';
      message = `\`yaml.${fnName}(..., Loader=${loaderName})\` can construct arbitrary Python objects from untrusted YAML.`;
    } else { sev = 'warning'; message = `\`yaml.${fnName}\` with a loader ModelVet cannot resolve: cannot tell whether it is safe.`; }
    out.push(withTaint(makeFinding(input, fn, 'LOAD008', sev, message, safeFix()), downloaded));
    return;
  }
  if (qn === 'builtins.eval' || qn === 'builtins.exec') {
    const src = args.positional[0];
    if (src && readsFileText(src, scope, 0)) {
      const downloaded = isDownloaded(src, scope, facts);
      out.push(withTaint(makeFinding(input, fn, 'LOAD008', 'error', `\`${qn.slice(9)}\` of text read from a file runs whatever the file contains.`), downloaded));
    }
  }
}

const READ_METHODS = new Set(['read', 'read_text', 'read_bytes', 'readline', 'readlines']);
const PARSER_CALLS = new Set(['json.load', 'json.loads', 'yaml.safe_load', 'tomllib.load', 'tomli.load', 'builtins.compile']);

/** Is this expression text read from a file (`open(p).read()`, `Path(p).read_text()`, or a variable assigned from one)? */
function readsFileText(expr: Node | null | undefined, scope: Scope, depth: number): boolean {
  if (!expr || depth > MAX_TAINT_DEPTH) return false;
  if (expr.type === 'call') {
    const fn = expr.childForFieldName('function');
    if (fn?.type === 'attribute' && READ_METHODS.has(fn.childForFieldName('attribute')?.text ?? '')) return true;
    const qn = qualifiedName(fn, scope);
    if (qn && PARSER_CALLS.has(qn)) return true;
    if (qn === 'builtins.compile') return readsFileText(callArgs(expr).positional[0], scope, depth + 1);
    return false;
  }
  if (expr.type === 'subscript') return readsFileText(expr.childForFieldName('value'), scope, depth + 1);
  if (expr.type === 'identifier') {
    const s = taintScope(scope);
    const b = lookup(expr.text, s, expr.startIndex);
    if (b === 'unbound' || !b || b.kind !== 'value' || !b.value || b.unpacked) return false;
    if (b.value.startIndex <= expr.startIndex && expr.startIndex < b.value.endIndex) return false;
    return readsFileText(b.value, s, depth + 1);
  }
  return false;
}

// ---- driver -------------------------------------------------------------------------

/** Final names of every callee a rule looks at; other calls are skipped without touching the tree. */
const RULE_CALLEES = new Set([
  'load', 'loads', 'Unpickler', 'open', 'DbfilenameShelf', 'decode', 'read_pickle', 'read_array', 'load_model',
  'enable_unsafe_deserialization', 'from_pretrained', 'pipeline', 'hf_hub_download', 'snapshot_download', 'load_dataset',
  'SentenceTransformer', 'CrossEncoder', 'create_model', 'eval', 'exec', 'unsafe_load', 'unsafe_load_all',
  'full_load', 'full_load_all', 'load_all', 'load_state_dict_from_url', 'load_url',
]);
/** Top-level packages whose APIs the rules and the taint-lite know. */
const INTERESTING_PACKAGES = new Set([
  'torch', 'pickle', 'cPickle', '_pickle', 'dill', 'cloudpickle', 'shelve', 'jsonpickle', 'pandas', 'joblib', 'sklearn', 'marshal',
  'mlflow', 'skops', 'numpy', 'transformers', 'diffusers', 'peft', 'sentence_transformers', 'optimum', 'setfit', 'huggingface_hub',
  'timm', 'datasets', 'keras', 'tensorflow', 'tf_keras', 'yaml', 'urllib', 'wget', 'gdown', 'torchvision',
]);
const BUILTIN_CALLEES = new Set(['eval', 'exec']);
/** Callees that write downloaded files (taint-lite facts). */
export const DOWNLOAD_CALLEES = new Set(['urlretrieve', 'download_url_to_file', 'download', 'write']);
/** Keyword arguments reported on any call. */
const ANYWHERE_KEYWORDS = /\b(?:trust_remote_code|use_safetensors)\s*=/g;
/** Text that must occur somewhere for any rule to fire: files without it are not even parsed. */
export const RELEVANT_TEXT = new RegExp(`\\b(?:${[...RULE_CALLEES].filter((n) => n !== 'open').join('|')}|shelve|trust_remote_code|use_safetensors)\\b`);

/**
 * Statements mentioning any of these are parsed up front (a partial parse then rarely needs a second
 * round): the rules' APIs, imports (aliases), and the download idioms the taint-lite follows.
 */
export const SEED_TEXT = new RegExp(`${RELEVANT_TEXT.source}|\\b(?:import|urlretrieve|download_url_to_file|download)\\b|\\.content\\b|["']trust_remote_code["']`);

export function runRules(input: RuleInput): Finding[] {
  const out: Finding[] = [];
  const { model, ctx } = input;
  // Judge calls from the text first: a chain rooted in an import of an unrelated package (json.loads,
  // re.compile) or in a local name can never resolve to a rule's API.
  const packageCache = new Map<string, boolean>();
  const interestingRoot = (root: string | undefined): boolean => {
    if (root === undefined) return false;
    let v = packageCache.get(root);
    if (v === undefined) {
      v = model.importsOf(root).some((b) => INTERESTING_PACKAGES.has((b.qualified ?? '').split('.')[0]));
      packageCache.set(root, v);
    }
    return v;
  };
  model.primeCallNames(new Set([...RULE_CALLEES, ...DOWNLOAD_CALLEES, ...model.importedNames])); // one text scan for both
  const relevant = model.callsNamed(new Set([...RULE_CALLEES, ...model.importedNames]), ANYWHERE_KEYWORDS,
    (root, last) => last === 'from_pretrained' || (root === last && BUILTIN_CALLEES.has(last)) || interestingRoot(root), input.within);
  const downloads = model.callsNamed(new Set([...DOWNLOAD_CALLEES, ...model.importedNames]), undefined,
    // `<file>.write(<response>.content)` only matters when the statement mentions `.content`.
    (root, last, at) => (last === 'write' ? model.statementMayContain(at, '.content') : interestingRoot(root)));
  const facts = collectDownloadFacts(downloads);
  checkRemoteCodeInDicts(input, out);
  let count = 0;
  let cancelled = false;
  const hubCalls: NonNullable<ModuleModel['hubCalls']> = [];
  for (const { node: call, scope } of relevant) {
    if ((++count & 255) === 0 && ctx.isCancelled?.()) { cancelled = true; break; }
    const fn = call.childForFieldName('function');
    if (!fn) continue;
    const args = callArgs(call);
    const qn = qualifiedName(fn, scope);
    checkRemoteCode(input, fn, qn, args, out);
    checkPickleWeights(input, qn, args, out);
    const hub = hubCall(fn, qn, args, scope);
    if (hub) { hubCalls.push({ call, hub }); checkHubRevision(input, call, hub, args, out); }
    if (!qn) continue;
    if (TORCH_LOAD.has(qn)) checkTorchLoad(input, call, fn, args, scope, facts, out);
    else if (TORCH_LOAD_FROM_URL.has(qn)) checkTorchLoad(input, call, fn, args, scope, facts, out, true);
    else if (qn === 'numpy.load') checkNumpyLoad(input, args, scope, facts, out);
    else {
      checkPickleFamily(input, call, fn, qn, args, scope, facts, out);
      checkKeras(input, fn, qn, args, scope, facts, out);
      checkYamlAndEval(input, call, fn, qn, args, scope, facts, out);
    }
  }
  // A pass limited to one statement knows only that statement's Hub calls: never the module's list.
  if (!cancelled) { if (input.within) model.hubCallsWithin = hubCalls; else model.hubCalls = hubCalls; }
  // A fixed order (position, then code; stable) so that findings kept from an earlier pass and new
  // ones merge into exactly what a whole pass gives.
  return out.sort(compareFindings);
}

export { hubCall };
export type { HubCall };
