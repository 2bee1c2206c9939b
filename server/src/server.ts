/**
 * The ModelVet language server. Starts on load (the CLI's `modelvet lsp --stdio`
 * require()s this bundle; VS Code launches it with --node-ipc).
 *
 * - Diagnostics: pull (LSP 3.17) when the client supports it, else push; cached
 *   per (uri, version, generation); included files / lockfiles trigger a refresh.
 * - Notebooks: LSP 3.17 notebook sync; findings land on cell URIs.
 * - Code actions from each Finding's fixes + "Suppress CODE on this line";
 *   lazily resolved fixes through fixResolvers.ts.
 * - Model scans in worker threads (scanService.ts).
 * Every handler is guarded: an exception is logged, never fatal.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CancellationTokenSource, CodeActionKind, DiagnosticSeverity, DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification, FileChangeType, LSPErrorCodes, MarkupKind, NotebookDocuments,
  ProposedFeatures, ResponseError, TextDocumentSyncKind, TextDocuments, createConnection,
  type CancellationToken, type ClientCapabilities, type CodeAction, type Diagnostic, type DocumentDiagnosticReport,
  type Hover, type InitializeParams, type InitializeResult, type NotebookDocument, type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ServerTextDocuments } from './textDocument';
import type { AnalysisContext, FileAccess, NotebookCellInput, ProjectFacts } from '../../core/analysis';
import { analyzeCells, analyzeText } from '../../core/analyze';
import { forgetPython, initPythonParser } from '../../core/code/index';
import { buildProjectFacts } from '../../core/deps/index';
import { fileKind } from '../../core/fileKinds';
import { cardHover } from '../../core/cards/hover';
import { CONFIG_SECTION, Methods, type WorkspaceTrustParams, type ConvertParams, type FileReportParams, type ScanHubRepoParams, type ScanParams } from '../../core/protocol';
import '../../core/rules/all';
import { getRule, ruleDocUrl } from '../../core/rules/registry';
import { fileSuppressionEdit, suppressionEdit } from '../../core/suppress';
import { codesOf, findingsForActions, hoverMarkdown } from './editorFeatures';
import type { Finding, Range, Severity } from '../../core/types';
import { converter } from './converter';
import { getFixResolver } from './fixResolvers';
import { HubGlue } from './hub';
import { registerIndexPinResolver } from './indexPin';
import { IndexLicenseGlue } from './indexLicenses';
import { registerVcsPinResolver } from './vcsPin';
import { JobCancelled } from './scanPool';
import { ScanService } from './scanService';
import { DatasetCancelled, DatasetGlue } from './datasets';
import type { AuditDatasetParams, AuditDatasetResult } from '../../core/protocol';
import { PushDiagnostics, SigningGlue, SIGNING_COMMANDS } from './signing';
import { BomCommands, type GenerateBomParams } from '../../core/protocol';
import type { ModelVetConfig } from '../../core/config';
import { defaultServerSettings, layeredConfig, settingsFromRaw, type ServerSettings, type TrustState } from './settings';
import { parseProjectConfig, refusedKeysMessage } from '../../core/projectConfig';

export { registerFixResolver } from './fixResolvers';

/** Documents longer than this (UTF-16 units) get one "not analyzed" diagnostic instead of analysis. */
export const MAX_ANALYZED_CHARS = 10 * 1024 * 1024;
/** Characters checked for NUL bytes to decide a document is binary. */
const BINARY_SNIFF_CHARS = 8192;
/** Files read from disk for FileAccess (includes, lockfiles) above this size are treated as unreadable. */
export const MAX_DISK_READ_BYTES = 16 * 1024 * 1024;
/** Analysis time box: analyzers see isCancelled() = true past this. */
export const ANALYSIS_TIME_BUDGET_MS = 3_000;
/** Push mode: quiet time after an edit before re-analysis. */
const PUSH_DEBOUNCE_MS = 150;
/** Project facts (lockfiles, venv) are rebuilt at most this often after their sources change. */
const FACTS_REBUILD_DEBOUNCE_MS = 750;
/** Coalesces bursts of refresh requests (several included files saved at once). */
const REFRESH_DEBOUNCE_MS = 100;
/** Server-side codes for files the server did not analyze (size, binary). */
export const FILE_SKIPPED_CODE = 'SRV002';
const SOURCE = 'modelvet';

const connection = createConnection(ProposedFeatures.all);
/** Open text documents: the library's documents with a faster line index (textDocument.ts: the first edit of a 4 MB dataset buffer built it in 15–25 ms). */
const documents = new TextDocuments(ServerTextDocuments);
const notebooks = new NotebookDocuments(TextDocument);

let settings: ServerSettings = defaultServerSettings();
/** Untrusted until the client says otherwise (see settings.ts): workspace values may not reach the network. */
const trust: TrustState = { trusted: false, userScopeInConfiguration: false };
/** The last settings a client without workspace/configuration pushed (re-read when trust changes). */
let lastPushedSettings: unknown;
let caps = { pull: false, refresh: false, configuration: false, workDoneProgress: false, watchedFilesDynamic: false, configDynamic: false, resolveSupport: false };
let workspaceRoots: string[] = [];
let extensionRoot = path.resolve(__dirname, '..');
let storagePath: string | undefined;
/** The tree-sitter runtime and Python grammar: loaded when the first Python document or notebook opens (ensureParser). */
let parserReady: Promise<void> | undefined;
let scanService: ScanService | undefined;
/** Dataset diagnostics and audits (worker thread). */
let datasets: DatasetGlue | undefined;
let hub: HubGlue | undefined;
/** LIC005 on manifests: background index lookups (online features on, trusted workspace). */
let indexLicenses: IndexLicenseGlue | undefined;
/** Bumped whenever something other than a document's own text changes its findings (config, facts, includes). */
let generation = 0;

const log = (msg: string) => { try { connection.console.log(`[modelvet] ${msg}`); } catch { /* connection gone */ } };
const logError = (where: string, e: unknown) => {
  try { connection.console.error(`[modelvet] ${where}: ${(e as Error)?.stack ?? String(e)}`); } catch { /* connection gone */ }
};

// ---------------------------------------------------------------- paths, files

function uriToPath(uri: string): string {
  try {
    if (uri.startsWith('file:')) return fileURLToPath(uri);
    const u = new URL(uri);
    return decodeURIComponent(u.pathname);
  } catch {
    return uri;
  }
}
const normPath = (p: string) => path.resolve(p);

/** Open notebooks (NotebookDocuments keeps its map private). */
const openNotebooks = new Set<string>();
/** Open text documents by file path, so FileAccess sees unsaved edits. */
const openPaths = new Map<string, string>();

/**
 * Disk lookups repeat on every keystroke (Hub cache refs for each `from_pretrained`, the checkpoint
 * next to each `torch.load`): a missing file costs a thrown ENOENT each time. Results are kept
 * briefly, and dropped whenever the client reports file changes.
 */
const DISK_MEMO_TTL_MS = 3_000;
const DISK_MEMO_MAX_ENTRIES = 4_096;
const DISK_MEMO_MAX_TEXT_CHARS = 256 * 1024;
const diskMemo = new Map<string, { at: number; exists?: boolean; text?: string; read?: boolean }>();

function memoized(p: string): { at: number; exists?: boolean; text?: string; read?: boolean } {
  const now = performance.now();
  let e = diskMemo.get(p);
  if (!e || now - e.at > DISK_MEMO_TTL_MS) {
    if (diskMemo.size >= DISK_MEMO_MAX_ENTRIES) diskMemo.clear();
    e = { at: now };
    diskMemo.set(p, e);
  }
  return e;
}

function readDisk(p: string): string | undefined {
  try {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st || !st.isFile() || st.size > MAX_DISK_READ_BYTES) return undefined;
    return readFileSync(p, 'utf8');
  } catch { return undefined; }
}

const fileAccess: FileAccess = {
  readText(p) {
    const uri = openPaths.get(normPath(p));
    const doc = uri ? documents.get(uri) : undefined;
    if (doc) return doc.getText();
    const e = memoized(p);
    if (e.read) return e.text;
    const text = readDisk(p);
    if (text === undefined || text.length <= DISK_MEMO_MAX_TEXT_CHARS) { e.read = true; e.text = text; }
    return text;
  },
  exists(p) {
    if (openPaths.has(normPath(p))) return true;
    const e = memoized(p);
    if (e.exists === undefined) { try { e.exists = existsSync(p); } catch { e.exists = false; } }
    return e.exists;
  },
};

function rootFor(p: string): string | undefined {
  let best: string | undefined;
  for (const r of workspaceRoots) if ((p === r || p.startsWith(r + path.sep)) && (!best || r.length > best.length)) best = r;
  return best;
}

// ---------------------------------------------------------------- project facts (lazy, debounced)

interface FactsEntry { facts?: ProjectFacts; dirty: boolean }
const factsByRoot = new Map<string, FactsEntry>();
let factsTimer: NodeJS.Timeout | undefined;
/** Files whose content feeds ProjectFacts (pins, bounds). */
const FACT_SOURCE_KINDS = new Set(['lockfile', 'pyproject', 'pipfile', 'conda', 'requirements']);

function projectFacts(root: string | undefined): ProjectFacts | undefined {
  if (!root) return undefined;
  let e = factsByRoot.get(root);
  if (!e) { e = { dirty: true }; factsByRoot.set(root, e); }
  if (!e.facts) {
    try { e.facts = buildProjectFacts(root, fileAccess); } catch (err) { logError('buildProjectFacts', err); }
    e.dirty = false;
  }
  return e.facts;
}

/** A facts source changed: rebuild (once the burst settles), then re-validate everything. */
function factsSourceChanged(p: string): void {
  const root = rootFor(p);
  if (!root) return;
  const e = factsByRoot.get(root);
  if (!e?.facts) return; // never built: nothing stale
  e.dirty = true;
  if (factsTimer) clearTimeout(factsTimer);
  factsTimer = setTimeout(() => {
    factsTimer = undefined;
    for (const [r, entry] of factsByRoot) {
      if (!entry.dirty) continue;
      try { entry.facts = buildProjectFacts(r, fileAccess); } catch (err) { logError('buildProjectFacts', err); }
      entry.dirty = false;
    }
    invalidateAll();
  }, FACTS_REBUILD_DEBOUNCE_MS);
}

// ---------------------------------------------------------------- analysis + cache

interface CacheEntry {
  version: number;
  generation: number;
  findings: Finding[];
  dependsOn: Set<string>;
  /** Unique per computed result: the pull `resultId`, so unchanged results travel as `kind: 'unchanged'`. */
  id: number;
}
let nextEntryId = 1;
/** Text documents: key = document uri. Notebooks: key = notebook uri (findings carry `cell`). */
const analysisCache = new Map<string, CacheEntry>();

function analysisContext(p: string, token?: CancellationToken): AnalysisContext {
  const root = rootFor(p);
  const deadline = Date.now() + ANALYSIS_TIME_BUDGET_MS;
  const config = configFor(root);
  return {
    config,
    workspaceRoot: root,
    fs: fileAccess,
    project: projectFacts(root),
    isCancelled: () => Boolean(token?.isCancellationRequested) || Date.now() > deadline,
    indexLicenses: indexLicenses?.sourceFor(config),
  };
}

/** Parsed `[tool.modelvet]` per root, reused while the pyproject.toml text is unchanged. */
const projectConfigCache = new Map<string, { text: string | undefined; table: unknown }>();

/** Defaults ← the root's `[tool.modelvet]` (rules only, never network or paths) ← the settings the user set. */
function configFor(root: string | undefined): ModelVetConfig {
  if (!root) return settings.config;
  const file = path.join(root, 'pyproject.toml');
  const text = fileAccess.readText(file);
  let e = projectConfigCache.get(root);
  if (!e || e.text !== text) {
    const parsed = parseProjectConfig(file, text);
    const refused = parsed && refusedKeysMessage(parsed);
    if (refused) log(refused);
    e = { text, table: parsed?.table };
    projectConfigCache.set(root, e);
  }
  return layeredConfig(settings, e.table);
}

function skippedFinding(p: string, message: string): Finding {
  return { path: p, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, code: FILE_SKIPPED_CODE, severity: 'information', message, fixes: [] };
}

function hasNul(text: string): boolean {
  const at = text.indexOf('\0'); // memchr speed; a per-character loop cost 0.4 ms per keystroke on 200 k characters
  return at >= 0 && at < BINARY_SNIFF_CHARS;
}

/** The path analyzers see: the file's own, or a stand-in whose name matches the language (untitled buffers, odd names). */
function analysisPath(doc: TextDocument): string | undefined {
  const p = uriToPath(doc.uri);
  if (fileKind(p)) return p;
  if (doc.languageId === 'python') return `${p}.py`;
  if (doc.languageId === 'pip-requirements') return path.join(path.dirname(p), `${path.basename(p)}.requirements.txt`);
  return undefined;
}

function analyzeDocument(doc: TextDocument, token?: CancellationToken): CacheEntry {
  const cached = analysisCache.get(doc.uri);
  if (cached && cached.version === doc.version && cached.generation === generation) return cached;
  const p = analysisPath(doc);
  let findings: Finding[] = [];
  let dependsOn: string[] = [];
  if (p) {
    const text = doc.getText();
    if (text.length > MAX_ANALYZED_CHARS) {
      findings = [skippedFinding(p, `ModelVet skipped this file: ${(text.length / 1048576).toFixed(1)} M characters is more than the ${MAX_ANALYZED_CHARS / 1048576} M analyzed per file.`)];
    } else if (hasNul(text)) {
      findings = [skippedFinding(p, 'ModelVet skipped this file: it looks binary (contains NUL bytes).')];
    } else {
      const r = analyzeText(p, text, analysisContext(p, token));
      findings = r.findings;
      dependsOn = r.dependsOn;
      if (hub && fileKind(p) === 'python') findings = findings.concat(hubFindings(p, text));
      // An .ipynb opened as JSON text (editors without notebook sync): cell-relative ranges mean nothing there.
      if (fileKind(p) === 'notebook') findings = findings.map(atTopWithCell);
    }
  }
  const entry: CacheEntry = { version: doc.version, generation, findings, dependsOn: new Set(dependsOn.map(normPath)), id: nextEntryId++ };
  if (!token?.isCancellationRequested) analysisCache.set(doc.uri, entry);
  return entry;
}

function atTopWithCell(f: Finding): Finding {
  if (f.cell === undefined) return f;
  const where = `cell ${f.cell + 1}, line ${f.range.start.line + 1}`;
  return { ...f, cell: undefined, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, message: `${where}: ${f.message}`, fixes: [] };
}

/** Hub findings (HUB001–HUB004) for one Python text; a Hub failure never hides the local results. */
function hubFindings(p: string, text: string): Finding[] {
  try { return hub?.findings(p, text) ?? []; } catch (e) { logError('hub diagnostics', e); return []; }
}

function notebookCells(nb: NotebookDocument): NotebookCellInput[] {
  return nb.cells.map((cell) => {
    const doc = notebooks.getCellTextDocument(cell);
    return { kind: cell.kind === 2 ? 'code' : 'markup', text: doc?.getText() ?? '', languageId: doc?.languageId ?? 'python' };
  });
}

function analyzeNotebook(nb: NotebookDocument, token?: CancellationToken): CacheEntry {
  const cached = analysisCache.get(nb.uri);
  if (cached && cached.version === nb.version && cached.generation === generation) return cached;
  const p = uriToPath(nb.uri);
  const cells = notebookCells(nb);
  const total = cells.reduce((n, c) => n + c.text.length, 0);
  const nbPath = p.endsWith('.ipynb') ? p : `${p}.ipynb`;
  const findings = total > MAX_ANALYZED_CHARS ? [] : analyzeCells(nbPath, cells, analysisContext(p, token));
  if (hub && total <= MAX_ANALYZED_CHARS) {
    cells.forEach((c, cell) => { if (c.kind === 'code') for (const f of hubFindings(nbPath, c.text)) findings.push({ ...f, cell }); });
  }
  const entry: CacheEntry = { version: nb.version, generation, findings, dependsOn: new Set(), id: nextEntryId++ };
  if (!token?.isCancellationRequested) analysisCache.set(nb.uri, entry);
  return entry;
}

/** Findings for a text document or a notebook cell, with ranges in that document's coordinates, and the result's id. */
function resultFor(uri: string, token?: CancellationToken): { findings: Finding[]; resultId: string } | undefined {
  const nb = notebooks.findNotebookDocumentForCell(uri);
  if (nb) {
    const index = nb.cells.findIndex((c) => c.document === uri);
    const entry = analyzeNotebook(nb, token);
    return { findings: entry.findings.filter((f) => f.cell === index), resultId: `${entry.id}:${index}` };
  }
  const doc = documents.get(uri);
  if (!doc) return undefined;
  const entry = analyzeDocument(doc, token);
  return { findings: entry.findings, resultId: String(entry.id) };
}

function findingsFor(uri: string, token?: CancellationToken): Finding[] | undefined {
  if (datasets?.handles(uriToPath(uri))) return datasets.cached(uri);
  return resultFor(uri, token)?.findings;
}

// ---------------------------------------------------------------- diagnostics

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint,
};

const hrefCache = new Map<string, string>();
/** The rule's page: the docs shipped next to the bundle when present, else the registry's URL. */
function ruleHref(code: string): string | undefined {
  let href = hrefCache.get(code);
  if (href === undefined) {
    const local = path.join(extensionRoot, 'docs', 'rules', `${code}.md`);
    href = existsSync(local) ? pathToFileURL(local).toString() : getRule(code) ? ruleDocUrl(code) : '';
    hrefCache.set(code, href);
  }
  return href || undefined;
}

/**
 * `pathToFileURL` per related location cost 2–7 ms for the 1,001 findings of a 50,000-line dataset
 * (each names the same file): the URIs of the last paths seen are kept.
 */
const FILE_URI_MEMO_MAX = 256;
const fileUriMemo = new Map<string, string>();
function fileUri(p: string): string {
  let u = fileUriMemo.get(p);
  if (u === undefined) {
    if (fileUriMemo.size >= FILE_URI_MEMO_MAX) fileUriMemo.clear();
    u = pathToFileURL(p).toString();
    fileUriMemo.set(p, u);
  }
  return u;
}

function toDiagnostic(f: Finding, index: number, uri: string): Diagnostic {
  const href = ruleHref(f.code);
  const d: Diagnostic = {
    range: f.range,
    severity: SEVERITY[f.severity] ?? DiagnosticSeverity.Warning,
    code: f.code,
    ...(href ? { codeDescription: { href } } : {}),
    source: SOURCE,
    message: f.message,
    data: { findingIndex: index, fixes: f.fixes.length },
  };
  // One cause, one diagnostic: the other places it concerns (e.g. DEP003's unhashed lines) travel with it.
  if (f.related?.length) d.relatedInformation = f.related.map((r) => ({ location: { uri: r.path ? fileUri(r.path) : uri, range: r.range }, message: r.message }));
  return d;
}

function diagnosticsFor(uri: string, token?: CancellationToken): Diagnostic[] {
  return (findingsFor(uri, token) ?? []).map((f, i) => toDiagnostic(f, i, uri));
}

// Push mode (clients without pull diagnostics).
const pushTimers = new Map<string, NodeJS.Timeout>();
function schedulePush(uri: string, delay = PUSH_DEBOUNCE_MS): void {
  if (caps.pull) return;
  const old = pushTimers.get(uri);
  if (old) clearTimeout(old);
  pushTimers.set(uri, setTimeout(() => {
    pushTimers.delete(uri);
    // Python results need the grammar; before it loads they would only say "parser not initialised".
    void (needsParser(uri) || notebooks.getNotebookDocument(uri) ? ensureParser() : Promise.resolve()).then(() => guardSync('push diagnostics', () => pushNow(uri)));
  }, delay));
}
function pushNow(uri: string): void {
  const nb = notebooks.getNotebookDocument(uri);
  if (nb) {
    for (const cell of nb.cells) connection.sendDiagnostics({ uri: cell.document, diagnostics: diagnosticsFor(cell.document) });
    return;
  }
  const doc = documents.get(uri);
  if (doc) connection.sendDiagnostics({ uri, version: doc.version, diagnostics: diagnosticsFor(uri) });
}

let refreshTimer: NodeJS.Timeout | undefined;
/** Re-validate every open document: `workspace/diagnostic/refresh` in pull mode, re-push otherwise. */
function scheduleRefresh(): void {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = undefined;
    if (caps.pull) {
      if (caps.refresh) connection.languages.diagnostics.refresh();
    } else {
      for (const d of documents.all()) schedulePush(d.uri, 0);
      for (const uri of openNotebooks) schedulePush(uri, 0);
    }
  }, REFRESH_DEBOUNCE_MS);
}

function invalidateAll(): void {
  generation++;
  scheduleRefresh();
}

/** `p` changed (edited, saved, or changed on disk): re-validate documents that include it, rebuild facts if it feeds them. */
function dependencyChanged(p: string, selfUri?: string): void {
  const np = normPath(p);
  let dependents = false;
  for (const [uri, e] of analysisCache) {
    // Keep the entry (its dependsOn is still the best knowledge) but force re-analysis.
    if (uri !== selfUri && e.dependsOn.has(np)) { e.generation = -1; dependents = true; }
  }
  const kind = fileKind(np);
  // Requirements files feed version floors (e.g. LOAD001's torch >= 2.6), so they count as fact sources too.
  if (kind && FACT_SOURCE_KINDS.has(kind)) factsSourceChanged(np);
  if (dependents) scheduleRefresh();
}

// ---------------------------------------------------------------- guards

function guardSync<T>(where: string, fn: () => T, fallback?: T): T | undefined {
  try { return fn(); } catch (e) { logError(where, e); return fallback; }
}

/** Request handler wrapper: exceptions become a logged error (or the fallback), cancellations a proper LSP error. */
function guarded<P, R>(where: string, fn: (params: P, token: CancellationToken) => R | Promise<R>, fallback?: () => R) {
  return async (params: P, token: CancellationToken): Promise<R> => {
    try {
      return await fn(params, token);
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      if (e instanceof JobCancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      logError(where, e);
      if (fallback) return fallback();
      throw new ResponseError(-32603, `${where} failed: ${(e as Error)?.message ?? String(e)}`);
    }
  };
}

process.on('uncaughtException', (e) => logError('uncaught exception', e));
process.on('unhandledRejection', (e) => logError('unhandled rejection', e));

// ---------------------------------------------------------------- initialize

connection.onInitialize((params: InitializeParams): InitializeResult => {
  const c: ClientCapabilities = params.capabilities;
  caps = {
    pull: Boolean(c.textDocument?.diagnostic),
    refresh: Boolean(c.workspace?.diagnostics?.refreshSupport),
    configuration: Boolean(c.workspace?.configuration),
    workDoneProgress: Boolean(c.window?.workDoneProgress),
    watchedFilesDynamic: Boolean(c.workspace?.didChangeWatchedFiles?.dynamicRegistration),
    configDynamic: Boolean(c.workspace?.didChangeConfiguration?.dynamicRegistration),
    resolveSupport: Boolean(c.textDocument?.codeAction?.resolveSupport?.properties?.includes('edit')),
  };
  const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : params.rootPath ? [pathToFileURL(params.rootPath).toString()] : []);
  workspaceRoots = folders.filter((u) => u.startsWith('file:')).map((u) => normPath(fileURLToPath(u)));
  const opts = (params.initializationOptions ?? {}) as { storagePath?: unknown; extensionRoot?: unknown; settings?: unknown; workspaceTrust?: { trusted?: unknown }; userScopeInConfiguration?: unknown; clientCommands?: unknown };
  clientCommands = new Set(Array.isArray(opts.clientCommands) ? opts.clientCommands.filter((c): c is string => typeof c === 'string') : []);
  trust.trusted = opts.workspaceTrust?.trusted === true;
  trust.userScopeInConfiguration = opts.userScopeInConfiguration === true;
  trust.initSettings = opts.settings;
  if (typeof opts.storagePath === 'string' && opts.storagePath) storagePath = opts.storagePath;
  if (typeof opts.extensionRoot === 'string' && opts.extensionRoot) extensionRoot = opts.extensionRoot;
  // The launching editor's own settings are user scope: they may set everything.
  if (opts.settings) settings = settingsFromRaw(opts.settings, { trusted: true, userScopeInConfiguration: false });
  log(`workspace trust: ${trust.trusted ? 'trusted' : 'untrusted (workspace settings cannot enable network access or name files to read)'}`);

  // The Python grammar is not loaded here: a workspace with only manifests open never needs it, and
  // compiling its wasm delayed the first diagnostics of a fresh server (ensureParser loads it on the
  // first Python document or notebook). No JIT warm-up either: it made the first 5,000-line analysis
  // ~3× faster but cost 5–17 MB of RSS and delayed the first requests (measured; see the issue notes).
  scanService = new ScanService(
    {
      publish: (uri, diagnostics) => pushDiagnostics.set('scan', uri, diagnostics),
      notify: (method, p) => { void connection.sendNotification(method, p); },
      log,
      ruleHref,
    },
    path.join(__dirname, 'scan-worker.js'), storagePath, settings.scanWorkers,
  );
  applyScanSettings();
  datasets = new DatasetGlue({ workerPath: path.join(__dirname, 'dataset-worker.js'), log, config: (p) => configFor(rootFor(p)), workspaceRoots: () => workspaceRoots });
  try {
    hub = new HubGlue({ getConfig: () => settings.config, storagePath, log, onDidChange: invalidateAll });
  } catch (e) { logError('Hub features', e); }
  registerIndexPinResolver({ getConfig: () => settings.config, storagePath, log });
  indexLicenses = new IndexLicenseGlue({ isTrusted: () => trust.trusted, storagePath, log, onDidChange: invalidateAll });
  registerVcsPinResolver({ getConfig: () => settings.config, log });

  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      notebookDocumentSync: { notebookSelector: [{ notebook: { notebookType: 'jupyter-notebook' }, cells: [{ language: 'python' }] }], save: true },
      ...(caps.pull ? { diagnosticProvider: { identifier: 'modelvet', interFileDependencies: true, workspaceDiagnostics: false } } : {}),
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix], resolveProvider: true },
      hoverProvider: true,
      executeCommandProvider: { commands: ['modelvet.server.rescanFile', 'modelvet.server.stats', CONVERT_AND_SWITCH, ...SIGNING_COMMANDS, BomCommands.generate] },
      workspace: { workspaceFolders: { supported: true, changeNotifications: false } },
    },
    serverInfo: { name: 'modelvet', version: '0.1.0' },
  };
});

/** Watchers the server registers itself (a client may also watch these; duplicate events are debounced). */
const WATCHED_GLOBS = [
  '**/*requirements*.{txt,in}', '**/requirements/*.{txt,in}', '**/constraints*.txt',
  '**/{pyproject.toml,Pipfile,Pipfile.lock,uv.lock,poetry.lock,pylock.toml,pdm.lock,environment*.yml,environment*.yaml}',
  '**/*.{pt,pth,bin,ckpt,pkl,pickle,joblib,npy,npz,safetensors,gguf,onnx,keras,h5,pb}',
];

connection.onInitialized(() => {
  // Each step on its own: a client that refuses a registration still gets settings and restored scan results.
  const step = (name: string, fn: () => Promise<unknown>) => fn().catch((e) => logError(name, e));
  void (async () => {
    if (caps.configDynamic) await step('register didChangeConfiguration', () => connection.client.register(DidChangeConfigurationNotification.type, { section: CONFIG_SECTION }));
    if (caps.watchedFilesDynamic) {
      await step('register file watchers', () => connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: WATCHED_GLOBS.map((globPattern) => ({ globPattern })) }));
    }
    await step('load settings', () => loadSettings());
    await step('restore scan results', async () => scanService?.start());
  })();
});

async function loadSettings(pushed?: unknown): Promise<void> {
  let raw: unknown = pushed;
  if (raw === undefined && caps.configuration) {
    try { raw = await connection.workspace.getConfiguration({ section: CONFIG_SECTION }); } catch (e) { logError('workspace/configuration', e); }
  }
  if (raw === undefined || raw === null) return;
  settings = settingsFromRaw(raw, trust);
  signing.configure(raw, trust.trusted, workspaceRoots);
  applyScanSettings();
  invalidateAll();
}

function applyScanSettings(): void {
  scanService?.configure({
    weights: settings.config.scan.weights, weightsMaxBytes: settings.config.scan.weightsMaxBytes,
    autoScan: settings.autoScan, workers: settings.scanWorkers,
  });
}

connection.onDidChangeConfiguration((params) => {
  const s = (params?.settings as Record<string, unknown> | undefined)?.[CONFIG_SECTION];
  if (!caps.configuration) lastPushedSettings = s;
  void loadSettings(caps.configuration ? undefined : s).catch((e) => logError('didChangeConfiguration', e));
});

connection.onNotification(Methods.workspaceTrust, (params: WorkspaceTrustParams) => {
  const trusted = params?.trusted === true;
  if (trusted === trust.trusted) return;
  trust.trusted = trusted;
  log(`workspace trust: ${trusted ? 'trusted' : 'untrusted'}`);
  void loadSettings(caps.configuration ? undefined : lastPushedSettings).catch((e) => logError('workspaceTrust', e));
});

// ---------------------------------------------------------------- documents

documents.onDidOpen((e) => {
  guardSync('didOpen', () => {
    openPaths.set(normPath(uriToPath(e.document.uri)), e.document.uri);
    if (needsParser(e.document.uri)) void ensureParser();
    dependencyChanged(uriToPath(e.document.uri), e.document.uri);
    startDatasetAudit(e.document);
  });
});
/** A dataset document's audit starts on open/change, so the pull that follows only waits for it. */
function startDatasetAudit(doc: TextDocument): void {
  const p = uriToPath(doc.uri);
  if (!datasets?.handles(p)) return;
  datasets.diagnose(doc.uri, p, doc.version, () => doc.getText()).then((e) => {
    // Push-mode clients get the result when it is ready (pull-mode clients are waiting on it).
    if (!caps.pull && documents.get(doc.uri)?.version === doc.version) connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: e.findings.map((f, i) => toDiagnostic(f, i, doc.uri)) });
  }, () => { /* the pull reports; push clients keep the previous result */ });
}

documents.onDidChangeContent((e) => {
  guardSync('didChange', () => {
    startDatasetAudit(e.document);
    schedulePush(e.document.uri);
    dependencyChanged(uriToPath(e.document.uri), e.document.uri);
  });
});
documents.onDidClose((e) => {
  guardSync('didClose', () => {
    openPaths.delete(normPath(uriToPath(e.document.uri)));
    analysisCache.delete(e.document.uri);
    datasets?.forget(e.document.uri);
    lastPullMs.delete(e.document.uri);
    const p = analysisPath(e.document);
    if (p && fileKind(p) === 'python') forgetPython(p);
    const t = pushTimers.get(e.document.uri);
    if (t) { clearTimeout(t); pushTimers.delete(e.document.uri); }
    if (!caps.pull) connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    // The disk version may differ from the closed buffer: dependents re-read it.
    dependencyChanged(uriToPath(e.document.uri), e.document.uri);
  });
});

notebooks.onDidOpen((nb) => guardSync('notebook didOpen', () => { openNotebooks.add(nb.uri); void ensureParser(); schedulePush(nb.uri); }));
notebooks.onDidChange((e) => guardSync('notebook didChange', () => {
  // A change in one cell can change findings in later cells (imports): re-pull them all.
  schedulePush(e.notebookDocument.uri);
  if (caps.pull) scheduleRefresh();
}));
notebooks.onDidClose((nb) => guardSync('notebook didClose', () => {
  openNotebooks.delete(nb.uri);
  analysisCache.delete(nb.uri);
  const p = uriToPath(nb.uri);
  forgetPython(p.endsWith('.ipynb') ? p : `${p}.ipynb`);
  if (!caps.pull) for (const c of nb.cells) connection.sendDiagnostics({ uri: c.document, diagnostics: [] });
}));

connection.onDidChangeWatchedFiles((params) => {
  diskMemo.clear();
  guardSync('didChangeWatchedFiles', () => {
    const modelChanges: Array<{ path: string; deleted: boolean }> = [];
    for (const ch of params.changes) {
      if (!ch.uri.startsWith('file:')) continue;
      const p = uriToPath(ch.uri);
      modelChanges.push({ path: p, deleted: ch.type === FileChangeType.Deleted });
      // An open document is the source of truth for its own text; its on-disk change matters only to others.
      dependencyChanged(p, undefined);
    }
    scanService?.onWatchedFiles(modelChanges);
    signing.onFilesChanged(modelChanges.map((c) => c.path));
  });
});

// ---------------------------------------------------------------- pull diagnostics

connection.languages.diagnostics.on(guarded('textDocument/diagnostic', async (params, token): Promise<DocumentDiagnosticReport> => {
  const uri = params.textDocument.uri;
  if (needsParser(uri)) await ensureParser();
  if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.ServerCancelled, 'cancelled', { retriggerRequest: true });
  const started = performance.now();
  const dataDoc = datasets?.handles(uriToPath(uri)) ? documents.get(uri) : undefined;
  if (dataDoc && datasets) {
    // Dataset rows are audited on the dataset worker; this thread only waits.
    let e;
    try { e = await datasets.diagnose(uri, uriToPath(uri), dataDoc.version, () => dataDoc.getText(), token); } catch (err) {
      if (err instanceof DatasetCancelled) throw new ResponseError(LSPErrorCodes.ServerCancelled, 'cancelled', { retriggerRequest: true });
      throw err;
    }
    if (params.previousResultId === e.resultId) return { kind: 'unchanged', resultId: e.resultId };
    lastPullMs.set(uri, performance.now() - started);
    return { kind: 'full', resultId: e.resultId, items: e.findings.map((f, i) => toDiagnostic(f, i, uri)) };
  }
  const result = resultFor(uri, token);
  if (!result) return { kind: 'full', items: [] };
  if (params.previousResultId === result.resultId) return { kind: 'unchanged', resultId: result.resultId };
  const items = result.findings.map((f, i) => toDiagnostic(f, i, uri));
  lastPullMs.set(uri, performance.now() - started);
  return { kind: 'full', resultId: result.resultId, items };
}, (): DocumentDiagnosticReport => ({ kind: 'full', items: [] })));

/** Server-side time of the last pull per document (analysis + conversion), for `modelvet.server.stats`. */
const lastPullMs = new Map<string, number>();
/** How long the tree-sitter runtime and Python grammar took to load (benchmarks read it); undefined until loaded. */
let parserInitMs: number | undefined;

function needsParser(uri: string): boolean {
  if (notebooks.findNotebookDocumentForCell(uri)) return true;
  const doc = documents.get(uri);
  if (!doc) return false;
  const kind = fileKind(uriToPath(uri));
  return doc.languageId === 'python' || kind === 'python' || kind === 'notebook'; // .ipynb as JSON text: its cells are Python
}

/** Start loading the Python grammar (once); resolves when it is ready (or failed: logged, Python results then say so). */
function ensureParser(): Promise<void> {
  if (!parserReady) {
    const started = performance.now();
    parserReady = initPythonParser(__dirname).then(() => { parserInitMs = performance.now() - started; }, (e) => logError('Python parser initialisation', e));
  }
  return parserReady;
}

// ---------------------------------------------------------------- code actions

function lineTextOf(uri: string, line: number): string | undefined {
  const doc = documents.get(uri) ?? notebooks.getCellTextDocument(notebooks.getNotebookCell(uri) ?? { kind: 2, document: uri });
  if (!doc) return undefined;
  const text = doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  return text.replace(/\r?\n$|\r$/, '');
}

interface ResolveData { uri: string; kind: string; data: unknown }

/** Client-side commands the client said it has (initializationOptions.clientCommands), e.g. the settings edit. */
let clientCommands = new Set<string>();
export const DISABLE_RULE_COMMAND = 'modelvet.disableRuleInWorkspace';

/** Kinds whose files take `#` comments, so a whole-file suppression can be written (not notebooks or JSON). */
const FILE_SUPPRESSIBLE_KINDS = new Set(['requirements', 'pyproject', 'pipfile', 'conda', 'python']);

connection.onCodeAction(guarded('textDocument/codeAction', async (params, token) => {
  const uri = params.textDocument.uri;
  if (params.context.only && !params.context.only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(k))) return [];
  const ours = params.context.diagnostics.filter((d) => d.source === SOURCE && !(d.data as { modelScan?: boolean } | undefined)?.modelScan);
  if (needsParser(uri)) await ensureParser();
  if (token.isCancellationRequested) return [];
  // Actions follow the current version's findings and the requested range (editorFeatures.findingsForActions):
  // the same position gives the same actions however stale the client's diagnostics are.
  const findings = findingsFor(uri) ?? [];
  const picked = findingsForActions(findings, params.range, ours);
  const doc = documents.get(uri);
  const docPath = doc ? analysisPath(doc) : undefined;
  const fileSuppressible = Boolean(doc && docPath && FILE_SUPPRESSIBLE_KINDS.has(fileKind(docPath) ?? ''));
  const actions: CodeAction[] = [];
  const suppressed = new Set<string>();
  const fileSuppressed = new Set<string>();
  const later: CodeAction[] = [];
  for (const { finding: f, index, diagnostic } of picked) {
    const d = diagnostic ?? toDiagnostic(f, index, uri);
    const convertFrom = (f.data as { convertFrom?: unknown } | undefined)?.convertFrom;
    for (const fix of f.fixes) {
      // LOAD001's switch to SafeTensors for a checkpoint in the workspace: offer "convert it first" too.
      if (converter && typeof convertFrom === 'string' && /safetensors/i.test(fix.title) && fix.edits.length) {
        const title = `Convert ${path.basename(convertFrom)} to SafeTensors, then switch to safetensors.torch.load_file`;
        actions.push({ title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title, command: CONVERT_AND_SWITCH, arguments: [uri, convertFrom, fix.edits] } });
      }
      const action: CodeAction = { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], ...(fix.isPreferred ? { isPreferred: true } : {}) };
      if (fix.edits.length) action.edit = { changes: { [uri]: fix.edits } };
      if (fix.resolve) {
        if (!caps.resolveSupport && !fix.edits.length) continue;
        action.data = { uri, kind: fix.resolve.kind, data: fix.resolve.data } satisfies ResolveData;
      }
      actions.push(action);
    }
    if (f.code === FILE_SKIPPED_CODE) continue;
    const codes = codesOf(f);
    const line = f.range.start.line;
    const key = `${line}:${codes.join(',')}`;
    const text = suppressed.has(key) ? undefined : lineTextOf(uri, line);
    // No comment can follow a line continuation, and a JSON notebook has no comments at all.
    if (text !== undefined && !/\\\s*$/.test(text) && !(doc && /\.ipynb$/i.test(uriToPath(uri)))) {
      suppressed.add(key);
      const ed = suppressionEdit(text, codes.join(', '));
      const pos = { line, character: ed.character };
      actions.push({
        title: `Suppress ${codes.join(' and ')} on this line`, kind: CodeActionKind.QuickFix, diagnostics: [d],
        edit: { changes: { [uri]: [{ range: { start: pos, end: pos }, newText: ed.newText }] } },
      });
    }
    for (const code of codes) {
      if (fileSuppressible && doc && !fileSuppressed.has(code)) {
        fileSuppressed.add(code);
        const ed = fileSuppressionEdit(doc.getText(), code);
        const pos = { line: ed.line, character: ed.character };
        later.push({ title: `Suppress ${code} for this file`, kind: CodeActionKind.QuickFix, diagnostics: [d], edit: { changes: { [uri]: [{ range: { start: pos, end: pos }, newText: ed.newText }] } } });
      }
      if (clientCommands.has(DISABLE_RULE_COMMAND) && !later.some((a) => a.command?.arguments?.[0] === code)) {
        const title = `Disable ${code} in workspace settings`;
        later.push({ title, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title, command: DISABLE_RULE_COMMAND, arguments: [code] } });
      }
    }
  }
  // Fixes first, then line suppressions, then the wider switches (file, workspace).
  return actions.concat(later);
}, () => []));

connection.onCodeActionResolve(guarded('codeAction/resolve', async (action: CodeAction, token) => {
  const data = action.data as ResolveData | undefined;
  if (!data?.kind || action.edit) return action;
  const resolver = getFixResolver(data.kind);
  if (!resolver) { log(`no resolver registered for fix kind '${data.kind}'`); return action; }
  const edits = await resolver(data.data, token);
  if (edits?.length) action.edit = { changes: { [data.uri]: edits } };
  return action;
}, () => ({ title: 'ModelVet fix unavailable' })));

// ---------------------------------------------------------------- hover

function contains(r: Range, line: number, character: number): boolean {
  if (line < r.start.line || line > r.end.line) return false;
  if (line === r.start.line && character < r.start.character) return false;
  if (line === r.end.line && character > r.end.character) return false;
  return true;
}

connection.onHover(guarded('textDocument/hover', async (params, token): Promise<Hover | null> => {
  const uri = params.textDocument.uri;
  if (needsParser(uri)) await ensureParser();
  const { line, character } = params.position;
  const hits = (findingsFor(uri, token) ?? []).filter((f) => contains(f.range, line, character) && f.code !== FILE_SKIPPED_CODE);
  const hubHover = await hubHoverAt(uri, params.position);
  const card = cardHoverAt(uri, params.position);
  if (!hits.length && card) return { contents: { kind: MarkupKind.Markdown, value: card.markdown }, range: card.range };
  if (!hits.length) return hubHover ? { contents: { kind: MarkupKind.Markdown, value: hubHover.markdown }, range: hubHover.ref.range } : null;
  // Short: VS Code shows the diagnostic's message above the hover, so each finding gets one line of what to
  // do, its rule link and the facts the message lacks (editorFeatures.ts).
  const parts = [hoverMarkdown(hits, ruleHref)];
  if (hubHover) parts.push(hubHover.markdown);
  if (card) parts.push(card.markdown);
  return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n---\n\n') }, range: hits[0].range };
}, () => null));

/** Model-card hover: what the front matter's license, base_model and datasets keys mean (offline). */
function cardHoverAt(uri: string, pos: { line: number; character: number }) {
  const doc = documents.get(uri);
  if (!doc || fileKind(uriToPath(uri)) !== 'modelcard') return undefined;
  return guardSync('card hover', () => cardHover(doc.getText(), pos));
}

/** Hub hover for a repo id under the cursor in a Python document or notebook cell (online only). */
async function hubHoverAt(uri: string, pos: { line: number; character: number }) {
  if (!hub || !settings.config.online.enabled) return undefined;
  const nb = notebooks.findNotebookDocumentForCell(uri);
  const doc = nb ? notebooks.getCellTextDocument(notebooks.getNotebookCell(uri) ?? { kind: 2, document: uri }) : documents.get(uri);
  if (!doc) return undefined;
  const p = nb ? uriToPath(nb.uri) : analysisPath(doc);
  if (!p || (!nb && fileKind(p) !== 'python')) return undefined;
  try { return await hub.hover(p, doc.getText(), pos); } catch (e) { logError('hub hover', e); return undefined; }
}

// ---------------------------------------------------------------- model scans

async function progressFor(params: { workDoneToken?: string | number }): Promise<{ reporter: WorkDoneProgressReporter; cancel?: CancellationToken } | undefined> {
  if (params.workDoneToken !== undefined) return { reporter: connection.window.attachWorkDoneProgress(params.workDoneToken) };
  if (!caps.workDoneProgress) return undefined;
  try {
    const r = await connection.window.createWorkDoneProgress();
    return { reporter: r, cancel: r.token };
  } catch { return undefined; }
}

/** Progress reports are throttled; the first and the last always go out. */
const PROGRESS_INTERVAL_MS = 50;

connection.onRequest(Methods.scan, guarded('modelvet/scan', async (params: ScanParams & { workDoneToken?: string | number }, token) => {
  if (!scanService) throw new ResponseError(-32002, 'server not initialized');
  const paths = Array.isArray(params?.paths) ? params.paths.filter((p): p is string => typeof p === 'string') : [];
  if (!paths.length) throw new ResponseError(-32602, 'modelvet/scan: `paths` must list files or folders');
  const progress = await progressFor(params);
  const source = new CancellationTokenSource();
  const subs = [token.onCancellationRequested(() => source.cancel()), progress?.cancel?.onCancellationRequested(() => source.cancel())];
  progress?.reporter.begin('ModelVet: scanning models', 0, 'collecting files…', true);
  let last = 0;
  try {
    return await scanService.scan(paths, Boolean(params.force), source.token, {
      report(done, total, current) {
        const now = Date.now();
        if (done !== 0 && done !== total && now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        progress?.reporter.report(total ? Math.floor((done / total) * 100) : 100, `${done}/${total}${current ? ` · ${path.basename(current)}` : ''}`);
      },
    });
  } finally {
    progress?.reporter.done();
    for (const s of subs) s?.dispose();
    source.dispose();
  }
}));

connection.onRequest(Methods.scanHubRepo, guarded('modelvet/scanHubRepo', async (params: ScanHubRepoParams & { workDoneToken?: string | number }, token) => {
  if (!hub) throw new ResponseError(-32002, 'Hub features unavailable');
  if (typeof params?.repo !== 'string' || !params.repo) throw new ResponseError(-32602, 'modelvet/scanHubRepo: `repo` is required');
  if (!settings.config.online.enabled) throw new ResponseError(-32001, 'Hub scans need modelvet.online.enabled');
  const spec = params.repo.startsWith('hf://') ? params.repo : `hf://${params.repo}${params.revision ? `@${params.revision}` : ''}`;
  const progress = await progressFor(params);
  const cancelled = () => token.isCancellationRequested || Boolean(progress?.cancel?.isCancellationRequested);
  progress?.reporter.begin(`ModelVet: scanning ${params.repo}`, 0, 'listing files…', true);
  let last = 0;
  try {
    const out = await hub.scanRepo(spec, (done, total, current) => {
      const now = Date.now();
      if (done !== 0 && done !== total && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      progress?.reporter.report(total ? Math.floor((done / total) * 100) : 100, `${done}/${total}${current ? ` · ${path.basename(current)}` : ''}`);
    }, cancelled);
    if (cancelled()) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    return out;
  } catch (e) {
    if (e instanceof ResponseError) throw e;
    if (cancelled()) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    throw new ResponseError(-32001, (e as Error)?.message ?? String(e));
  } finally {
    progress?.reporter.done();
  }
}));

connection.onRequest(Methods.auditDataset, guarded('modelvet/auditDataset', async (params: AuditDatasetParams & { workDoneToken?: string | number }, token): Promise<AuditDatasetResult> => {
  if (!datasets) throw new ResponseError(-32002, 'server not initialized');
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((p): p is string => typeof p === 'string') : []);
  const paths = list(params?.paths), reference = list(params?.reference);
  if (!paths.length) throw new ResponseError(-32602, 'modelvet/auditDataset: `paths` must list files or folders');
  const progress = await progressFor(params ?? {});
  progress?.reporter.begin('ModelVet: auditing dataset', 0, path.basename(paths[0]), true);
  const source = new CancellationTokenSource();
  const subs = [token.onCancellationRequested(() => source.cancel()), progress?.cancel?.onCancellationRequested(() => source.cancel())];
  let last = 0;
  try {
    const r = await datasets.audit(paths, reference, source.token, (p) => {
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      progress?.reporter.report(p.total ? Math.min(100, Math.round((p.done / p.total) * 100)) : 0, `${path.basename(p.current)} (${(p.done / 1048576).toFixed(0)}/${(p.total / 1048576).toFixed(0)} MB)`);
    });
    return { findings: r.findings, report: r.report };
  } catch (e) {
    if (e instanceof DatasetCancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    throw e;
  } finally {
    progress?.reporter.done();
    for (const x of subs) x?.dispose();
    source.dispose();
  }
}));

connection.onRequest(Methods.convert, guarded('modelvet/convert', async (params: ConvertParams, token) => {
  if (!scanService) throw new ResponseError(-32002, 'server not initialized');
  if (typeof params?.input !== 'string' || !params.input) throw new ResponseError(-32602, 'modelvet/convert: `input` is required');
  if (params.output !== undefined && typeof params.output !== 'string') throw new ResponseError(-32602, 'modelvet/convert: `output` must be a path');
  try { return await scanService.convert(params, token); } finally { diskMemo.clear(); } // a new file on disk
}));

connection.onRequest(Methods.fileReport, guarded('modelvet/fileReport', async (params: FileReportParams, token) => {
  if (!scanService) throw new ResponseError(-32002, 'server not initialized');
  if (typeof params?.path !== 'string') throw new ResponseError(-32602, 'modelvet/fileReport: `path` is required');
  return scanService.fileReport(params.path, Boolean(params.force), token);
}));

/** Server command behind the "convert, then switch" quick-fix: the code edit is applied only once the .safetensors file exists. */
const CONVERT_AND_SWITCH = 'modelvet.server.convertAndSwitch';

/** Pushed diagnostics of model scans and signing checks, merged per file. */
const pushDiagnostics = new PushDiagnostics((uri, diagnostics) => { void connection.sendDiagnostics({ uri, diagnostics }); });

/** OMS sign/verify commands and SIG001 diagnostics on model.sig (server/src/signing.ts). */
const signing = new SigningGlue({
  publish: (uri, diagnostics) => pushDiagnostics.set('signing', uri, diagnostics),
  notify: (method, params) => { void connection.sendNotification(method, params); },
  progress: async (title) => {
    const p = await progressFor({});
    if (!p) return undefined;
    p.reporter.begin(title, 0, 'hashing…', true);
    return { report: (pct, msg) => p.reporter.report(pct, msg), done: () => p.reporter.done(), cancel: p.cancel };
  },
  log,
});

connection.onExecuteCommand(guarded('workspace/executeCommand', async (params, token) => {
  if (signing.handles(params.command)) return signing.execute(params.command, params.arguments, token);
  if (params.command === BomCommands.generate) {
    // Loaded on first use: the CycloneDX and package-URL libraries cost every server start ~20 ms.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { generateBom } = require('./bom') as typeof import('./bom');
    return generateBom(params.arguments?.[0] as Partial<GenerateBomParams> | undefined, () => token.isCancellationRequested);
  }
  if (params.command === CONVERT_AND_SWITCH && scanService) {
    const [uri, input, edits] = params.arguments ?? [];
    if (typeof uri !== 'string' || typeof input !== 'string' || !Array.isArray(edits)) throw new ResponseError(-32602, `${CONVERT_AND_SWITCH}: (uri, input, edits) expected`);
    const result = await scanService.convert({ input }, token);
    diskMemo.clear(); // a new file on disk
    if (result.ok || result.exists) {
      await connection.workspace.applyEdit({ label: 'Switch to SafeTensors', edit: { changes: { [uri]: edits } } });
    } else {
      // A user-initiated action failed: say why (the only message the server shows).
      void connection.window.showWarningMessage(`ModelVet did not convert ${path.basename(input)}: ${result.reason}`);
    }
    return result;
  }
  if (params.command === 'modelvet.server.stats') {
    // Diagnostics for benchmarks and bug reports: memory and the last pull's server-side time.
    const uri = typeof params.arguments?.[0] === 'string' ? params.arguments[0] : undefined;
    const mem = process.memoryUsage();
    return { rss: mem.rss, heapUsed: mem.heapUsed, lastPullMs: uri ? lastPullMs.get(uri) : undefined, openDocuments: documents.all().length, cachedAnalyses: analysisCache.size, parserInitMs, pythonParserLoaded: parserInitMs !== undefined };
  }
  if (params.command === 'modelvet.server.rescanFile' && typeof params.arguments?.[0] === 'string' && scanService) {
    return scanService.fileReport(params.arguments[0], true, token);
  }
  return null;
}, () => null));

connection.onShutdown(() => { scanService?.dispose(); datasets?.dispose(); indexLicenses?.dispose(); });

documents.listen(connection);
notebooks.listen(connection);
connection.listen();
