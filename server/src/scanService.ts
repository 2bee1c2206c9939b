/**
 * Model scans for the editor (issue 6): the `modelvet/scan` and
 * `modelvet/fileReport` requests, background auto-scan of watched model files,
 * diagnostics on the model files themselves, and the cached results.
 * The heavy work runs in worker threads (ScanPool); this class only schedules.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type CancellationToken, type Diagnostic } from 'vscode-languageserver/node';
import type { ConvertParams, ConvertResult, FileReportResult, ScanResultsNotification, StatusNotification } from '../../core/protocol';
import { Methods } from '../../core/protocol';
import { verdictOf, type FileReport, type ScanFinding, type ScanOutput, type ScanSeverity } from '../../core/scan/types';
import { ScanCache, type PathStamp } from './scanCache';
import { JobCancelled, ScanPool } from './scanPool';
import type { WorkerResult, WorkerScanOptions } from './scanWorkerProtocol';
import { collectModelFiles, inIgnoredFolder, isModelPath } from './modelFiles';

/** Quiet period after the last watched model-file change before the background scan starts. */
export const AUTO_SCAN_DEBOUNCE_MS = 1_500;
/** Results restored from the persistent cache at start-up (stat per file). */
export const MAX_RESTORED_RESULTS = 5_000;
/** A conversion may copy gigabytes; past this it is stopped (the converter writes to a temp file, so nothing half-written remains). */
export const CONVERT_JOB_TIMEOUT_MS = 30 * 60_000;
/** Hashing streams the whole file: allow for tens of gigabytes on a slow disk. */
export const HASH_JOB_TIMEOUT_MS = 30 * 60_000;
/** Files above this size get a headers-first answer in the model-file editor (hashing them takes seconds). */
export const QUICK_REPORT_MIN_BYTES = 256 * 1024 * 1024;

function fileSize(p: string): number {
  try { return statSync(p).size; } catch { return 0; }
}

/** Code of the server's own "the scan itself failed" diagnostic (worker crash, time-out). */
export const SCAN_FAILED_CODE = 'SRV001';

export interface ScanHost {
  publish(uri: string, diagnostics: Diagnostic[]): void;
  notify(method: string, params: unknown): void;
  log(message: string): void;
  /** codeDescription href for a finding code. */
  ruleHref(code: string): string | undefined;
}

export interface ScanProgress { report(done: number, total: number, current: string): void }

const SEVERITY_RANK: Record<ScanSeverity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function mainFinding(report: FileReport): ScanFinding | undefined {
  let best: ScanFinding | undefined;
  for (const f of report.findings) if (!best || SEVERITY_RANK[f.severity] > SEVERITY_RANK[best.severity]) best = f;
  return best;
}

/** What calling a global does, in words, by its dotted name (module-wide names by module). */
const EFFECTS: Array<[RegExp, string]> = [
  [/(^|\.)__(globals|subclasses|code|builtins|reduce|reduce_ex|getattribute)__(\.|$)/, 'reach arbitrary attributes (a step to running code)'],
  [/^(os|posix|nt)\.(system|popen|exec\w*|spawn\w*|startfile|posix_spawnp?|fork\w*)$|^subprocess\.|^_posixsubprocess\.|^pty\.spawn$|^commands\.|^popen2\.|^distutils\.spawn\.|^uuid\._(get_command_stdout|popen)$|^pydoc\.pipepager$|^asyncio\..*[Ss]ubprocess|^torch\.utils\.collect_env\.run$|^platform\.|^(_osx_support|_aix_support)\./, 'run a shell command'],
  [/^(pip|ensurepip)(\.|$)|^venv\.|^setuptools\./, 'run pip or package builds (installing a package runs its code)'],
  [/^torch\.hub\.|^transformers\.dynamic_module_utils\./, 'download code from a repository and run it'],
  [/^builtins\.(eval|exec|compile|execfile)$|^types\.(CodeType|FunctionType|LambdaType)$|^(code|codeop|runpy|timeit|cProfile|profile|trace|pdb|bdb|idlelib|doctest|test\.support|numexpr|yaml)\.|^pandas\.eval$|^sympy\.(sympify|core\.sympify|parsing)(\.|$)|^torch\._C\._jit_compile$|^numpy\.testing\._private\.utils\.runstring$|^numpy\.f2py\.|^torch\.(utils\.bottleneck|fx\.experimental\.symbolic_shapes|fx\.graph_module|utils\._config_module|jit|package|_dynamo|_export)\.|^pandas\.core\.computation\.|^(dill\._dill|cloudpickle\.cloudpickle(_fast)?)\._(create_function|create_code|make_function|make_skel_func|function_setstate|builtin_type|load_type)$|^logging\.config\./, 'run Python code it carries'],
  [/^torch\._inductor\.|^torch\.utils\.cpp_extension\.|^_?ctypes\./, 'compile or load native code'],
  [/^builtins\.__import__$|^importlib\.|^imp\.|^zipimport\.|^pkgutil\.(resolve_name|walk_packages|find_loader|get_loader|get_importer|iter_modules|ImpImporter)$|^pydoc\.locate$|^unittest\.mock\./, 'import any module'],
  [/^builtins\.(getattr|setattr|delattr|vars|globals|locals|type|super)$|^_?operator\.|^_?functools\.reduce$|^(sys|gc|inspect|marshal)\./, 'reach arbitrary attributes (a step to running code)'],
  [/^copyreg\.(add_extension|remove_extension|pickle)$/, 'change what later parts of the file resolve to'],
  [/^builtins\.open$|^(os|posix|nt)\.(remove|unlink|rmdir|rename|replace|makedirs|mkdir|chmod|truncate)$|^(shutil|pathlib|tempfile|glob|fileinput|linecache|io|_io|zipfile|tarfile|sqlite3|dbm|mmap|shelve)\.|^lib2to3\.|^pkgutil\.get_data$|^codecs\.open$|^(gzip|bz2|lzma)\.(open|GzipFile|BZ2File|LZMAFile)$|^keras\.utils\.|^tensorflow\.(io|python\.ops\.gen_io_ops)\./, 'open, write or delete files'],
  [/^(socket|_socket|urllib|http|requests|httpx|aiohttp|ftplib|smtplib|telnetlib|xmlrpc|paramiko|ssl|socketserver|imaplib|poplib|nntplib|huggingface_hub)(\.|$)|^webbrowser\./, 'open network connections or a browser'],
  [/^(multiprocessing|threading|_thread|signal)\./, 'start processes or threads'],
  [/^(torch|numpy|pandas|joblib|pickle|_pickle|dill|cloudpickle)\..*loads?$|\.read_pickle$|^(pickle|_pickle)\./, 'load another pickle (hiding a second payload)'],
  [/^(os|posix|nt)\./, 'use operating-system functions (processes, files, environment)'],
];

/**
 * What calling `full` would do. A dotted traversal (`collections.os.system`, `pathlib.os.system`) is what it
 * reaches: the shortest tail that names a known effect decides (`os.system`: a shell command, not pathlib).
 */
export function effectOf(full: string): string | undefined {
  const parts = full.split('.');
  for (let i = parts.length - 2; i >= 0; i--) {
    const tail = parts.slice(i).join('.');
    for (const [re, what] of EFFECTS) if (re.test(tail)) return what;
  }
  return undefined;
}

/** Scanner shorthand that means nothing in the Problems panel: opcode names in parentheses, or leading a sentence. */
const OPCODE_NOTE = /\s*\((?:GLOBAL|STACK_GLOBAL|INST|OBJ|REDUCE|NEWOBJ|NEWOBJ_EX|BUILD|EXT[124])\)/g;
const OPCODE_LEAD = /^(?:BUILD|REDUCE|NEWOBJ_EX|NEWOBJ|INST|OBJ|SETITEMS?|APPENDS?) (?=sets|calls|mutates)/;

/** How the file gets unpickled, by its format: the loader a user of that format calls. */
function loaderWords(format: string): string {
  if (/^pytorch/.test(format)) return 'loading this file with torch.load';
  if (format === 'torchscript') return 'loading this file (torch.jit.load, or torch.load)';
  if (format === 'numpy' || format === 'npz') return 'loading this file with numpy.load(allow_pickle=True)';
  if (/^joblib/.test(format)) return 'loading this file with joblib.load';
  if (format === 'pandas') return 'unpickling this file (pandas.read_pickle, pickle.load)';
  return 'unpickling this file (torch.load, pickle.load, joblib.load)';
}

/**
 * The Problems-panel sentence for a scanned file: what loading it would do, not the scanner's
 * shorthand ("malicious: dangerous global os.system (GLOBAL)").
 */
export function problemsMessage(report: FileReport, main: ScanFinding | undefined): string {
  const more = report.findings.length > 1 ? ` (+${report.findings.length - 1} more finding${report.findings.length > 2 ? 's' : ''} in the scan report)` : '';
  const dangerous = [...new Set(report.globals.filter((g) => g.status === 'dangerous').map((g) => `${g.module}.${g.name}`))];
  if (report.verdict === 'malicious' && dangerous.length) {
    const known = dangerous.map((n) => [n, effectOf(n)] as const);
    const effects = [...new Set(known.flatMap(([, e]) => (e ? [e] : [])))];
    const unnamed = known.filter(([, e]) => !e).map(([n]) => n);
    // Names whose effect is unknown are the effect ("would call X"); the others are listed once after the dash.
    const clauses = [...effects, ...(unnamed.length ? [`call ${unnamed.slice(0, 3).join(', ')}${unnamed.length > 3 ? ', …' : ''} (not needed to rebuild data; known to run code or touch the system)`] : [])];
    const named = known.filter(([, e]) => e).map(([n]) => n);
    const list = named.length ? ` — it calls ${named.slice(0, 3).join(', ')}${named.length > 3 ? ', …' : ''}` : '';
    return `Unsafe to load: ${loaderWords(report.format)} would ${clauses.join(' and ')}${list}. Do not load it; open it in ModelVet's report${more}`;
  }
  const lead = report.verdict === 'malicious' ? 'Unsafe to load' : report.verdict === 'suspicious' ? 'Review before loading' : 'Not fully checked';
  const what = (main?.message ?? 'the file could not be scanned').replace(OPCODE_NOTE, '').replace(OPCODE_LEAD, 'the file ')
    // what loading does, not the policy's words
    .replace(/^global (\S+) is not on the allowlist$/, 'loading it imports $1, which is not on the allowlist of known-safe classes and functions')
    .replace(/^(\S+) used outside its safe pattern: /, 'loading it calls $1 outside its safe pattern: ')
    .replace(/^__(setitem|append|extend)__ on (\S+)/, (_m, op: string, cls: string) => `loading it ${op === 'setitem' ? 'sets an item' : 'appends items'} on the class ${cls} itself`);
  return `${lead}: ${what}${more}`;
}

/** The Problems-panel entry for a scanned model file (none when it is safe). */
export function reportDiagnostics(report: FileReport, ruleHref: (code: string) => string | undefined): Diagnostic[] {
  if (report.verdict === 'safe') return [];
  const main = mainFinding(report);
  const severity = report.verdict === 'malicious' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
  const code = main?.code ?? SCAN_FAILED_CODE;
  const href = ruleHref(code);
  return [{
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity,
    source: 'modelvet',
    code,
    ...(href ? { codeDescription: { href } } : {}),
    message: problemsMessage(report, main),
    data: { modelScan: true, verdict: report.verdict, sha256: report.sha256 },
  }];
}

/** sha256 prefix of the scan worker bundle: any engine change (even without a version bump) invalidates the cache. */
export function engineFingerprint(workerPath: string): string {
  try { return createHash('sha256').update(readFileSync(workerPath)).digest('hex').slice(0, 16); } catch { return 'unknown'; }
}

function failedReport(p: string, reason: string): FileReport {
  let size = 0;
  try { size = statSync(p).size; } catch { /* gone */ }
  return {
    path: p, format: 'unknown', verdict: 'unscannable', globals: [], sha256: '', size,
    findings: [{ code: SCAN_FAILED_CODE, severity: 'medium', message: `Scan did not complete: ${reason}`, location: {} }],
  };
}

export class ScanService {
  /** Latest report per absolute path (what the results view and Problems show). */
  readonly results = new Map<string, FileReport>();
  private cache: ScanCache;
  private pool: ScanPool;
  private options: WorkerScanOptions = { weights: true, weightsMaxBytes: 4 * 1024 * 1024 * 1024 };
  private autoScan = true;
  private pending = new Set<string>();
  private autoTimer?: NodeJS.Timeout;
  private published = new Set<string>();
  private running = 0;
  private ready: Promise<void> | undefined;

  constructor(private readonly host: ScanHost, private readonly workerPath: string, private readonly storageDir: string | undefined, workers = 1) {
    this.pool = new ScanPool(workerPath, workers, (m) => host.log(m));
    this.cache = new ScanCache('unknown', storageDir);
  }

  /**
   * Load the persistent cache and re-publish the last results. Called once the
   * client is initialized (no notifications before the initialize response);
   * requests call it too, so a client that never says `initialized` still works.
   */
  start(): Promise<void> {
    if (!this.ready) this.ready = this.init();
    return this.ready;
  }

  private async init(): Promise<void> {
    // Cached results are valid for exactly this engine build: the fingerprint of the worker bundle
    // (importing the engine here would load it into the server; asking a worker would start a thread).
    const version = engineFingerprint(this.workerPath);
    this.cache = new ScanCache(version, this.storageDir);
    this.cache.load();
    // Restore the last results so the Problems panel survives a window reload.
    let restored = 0;
    for (const p of this.cache.knownPaths()) {
      if (restored >= MAX_RESTORED_RESULTS) break;
      const r = this.cache.byStamp(p);
      if (!r) continue;
      this.results.set(p, r);
      this.publishReport(r);
      restored++;
    }
    if (restored) this.notifyResults();
  }

  whenReady(): Promise<void> { return this.start(); }

  configure(opts: { weights: boolean; weightsMaxBytes: number; autoScan: boolean; workers: number }): void {
    this.options = { weights: opts.weights, weightsMaxBytes: opts.weightsMaxBytes };
    this.autoScan = opts.autoScan;
    this.pool.setSize(opts.workers);
  }

  get unsafeCount(): number {
    let n = 0;
    for (const r of this.results.values()) if (r.verdict === 'malicious' || r.verdict === 'suspicious') n++;
    return n;
  }

  /** The `modelvet/scan` request. Throws JobCancelled when cancelled (partial results are still published). */
  async scan(paths: string[], force: boolean, token: CancellationToken, progress?: ScanProgress): Promise<ScanOutput> {
    await this.start();
    const started = Date.now();
    this.running++;
    this.notifyStatus('Collecting model files…');
    try {
      const walk = await collectModelFiles(paths, () => token.isCancellationRequested);
      for (const e of walk.errors) this.host.log(`scan: ${e}`);
      if (walk.truncated) this.host.log(`scan: stopped collecting after ${walk.files.length} files (limit)`);
      const total = walk.files.length;
      const reports: FileReport[] = new Array(total);
      let next = 0;
      let done = 0;
      progress?.report(0, total, '');
      const runner = async () => {
        while (next < total && !token.isCancellationRequested) {
          const i = next++;
          const p = walk.files[i];
          const { report: r } = await this.scanOne(p, force, token);
          reports[i] = r;
          this.accept(r);
          done++;
          progress?.report(done, total, p);
        }
      };
      const lanes = Math.max(1, Math.min(total, this.poolLanes()));
      await Promise.all(Array.from({ length: lanes }, runner)).catch((e) => { if (!(e instanceof JobCancelled)) throw e; });
      let files = reports.filter(Boolean);
      if (!token.isCancellationRequested && walk.dirs.length) files = await this.applyFolderChecks(files, walk.dirs, token);
      this.cache.save();
      this.notifyResults();
      if (token.isCancellationRequested) throw new JobCancelled();
      const count = (v: FileReport['verdict']) => files.filter((f) => f.verdict === v).length;
      return {
        version: 1, files,
        summary: { files: files.length, malicious: count('malicious'), suspicious: count('suspicious'), unscannable: count('unscannable'), safe: count('safe'), seconds: (Date.now() - started) / 1000 },
      };
    } finally {
      this.running--;
      this.notifyStatus();
    }
  }

  /** Folder-level findings (the engine's FolderChecks) merged into the per-file reports; not cached (they depend on neighbours). */
  private async applyFolderChecks(files: FileReport[], dirs: Array<[string, string[]]>, token: CancellationToken): Promise<FileReport[]> {
    let extra: FileReport[];
    try {
      const r = await this.pool.run({ op: 'folders', dirs, options: this.options }, token);
      if (r.op !== 'folders' || !r.reports.length) return files;
      extra = r.reports;
    } catch (e) {
      if (!(e instanceof JobCancelled)) this.host.log(`folder checks failed: ${(e as Error).message}`);
      return files;
    }
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const x of extra) {
      const old = byPath.get(x.path);
      const merged: FileReport = old
        ? { ...old, findings: [...old.findings, ...x.findings], globals: [...old.globals, ...x.globals], verdict: verdictOf([...old.findings, ...x.findings], old.verdict === 'unscannable' || x.verdict === 'unscannable') }
        : x;
      byPath.set(x.path, merged);
      this.accept(merged);
    }
    return [...byPath.values()];
  }

  /** The `modelvet/fileReport` request (custom editor). */
  async fileReport(p: string, force: boolean, token: CancellationToken): Promise<FileReportResult> {
    await this.start();
    const abs = path.resolve(p);
    if (!force) {
      const hit = this.cache.byStamp(abs);
      if (hit) { this.accept(hit); return { report: hit, cached: true }; }
    }
    if (fileSize(abs) > QUICK_REPORT_MIN_BYTES) return this.quickReport(abs, token);
    const { report, cached } = await this.scanOne(abs, force, token);
    this.accept(report);
    this.cache.save();
    this.notifyResults();
    return { report, cached };
  }

  /**
   * A large file opened in the model-file editor: answer from the headers first (no hashing,
   * which would read every byte), then hash and cache in the background; the full report
   * (with sha256) is broadcast and served from the cache afterwards.
   */
  private async quickReport(abs: string, token: CancellationToken): Promise<FileReportResult> {
    let report: FileReport;
    try {
      const r = await this.pool.run({ op: 'scan', path: abs, options: { ...this.options, hash: false } }, token) as Extract<WorkerResult, { op: 'scan' }>;
      report = { ...r.report, path: abs, metadata: { ...(r.report.metadata ?? {}), 'modelvet.sha256': 'computing in the background' } };
    } catch (e) {
      if (e instanceof JobCancelled) throw e;
      report = failedReport(abs, (e as Error).message);
    }
    this.accept(report);
    void this.pool.run({ op: 'hash', path: abs }, undefined, HASH_JOB_TIMEOUT_MS).then((h) => {
      if (h.op !== 'hash') return;
      const full = { ...report, sha256: h.sha256, metadata: { ...(report.metadata ?? {}) } };
      delete full.metadata['modelvet.sha256'];
      this.cache.remember(abs, { size: h.size, mtimeMs: h.mtimeMs, sha256: h.sha256 }, full);
      this.accept(full);
      this.cache.save();
      this.notifyResults();
    }, (e) => this.host.log(`hashing ${abs} failed: ${(e as Error).message}`));
    return { report, cached: false };
  }

  /**
   * `modelvet/convert`: runs in a worker (a 1 GB checkpoint must not freeze diagnostics).
   * The converter refuses unsafe input itself; a converted file is then scanned like any model file.
   */
  async convert(params: ConvertParams, token: CancellationToken): Promise<ConvertResult> {
    const input = path.resolve(params.input);
    const output = params.output ? path.resolve(params.output) : undefined;
    let r: WorkerResult;
    try {
      r = await this.pool.run({ op: 'convert', input, output, overwrite: params.overwrite === true }, token, CONVERT_JOB_TIMEOUT_MS);
    } catch (e) {
      if (e instanceof JobCancelled) throw e;
      return { ok: false, reason: (e as Error).message };
    }
    if (r.op !== 'convert') return { ok: false, reason: 'unexpected worker answer' };
    if (r.result.ok) {
      const { report } = await this.scanOne(r.result.output, true, token).catch(() => ({ report: undefined }));
      if (report) { this.accept(report); this.cache.save(); this.notifyResults(); }
    }
    return r.result;
  }

  /** Watched-file events: model files that appear or change are scanned in the background (debounced). */
  onWatchedFiles(changes: Array<{ path: string; deleted: boolean }>): void {
    let touched = false;
    for (const c of changes) {
      if (!isModelPath(c.path)) continue;
      if (c.deleted) {
        this.pending.delete(c.path);
        if (this.results.delete(c.path)) { this.publishReport({ path: c.path, verdict: 'safe' } as FileReport); touched = true; }
        this.cache.forget(c.path);
      } else if (this.autoScan && !inIgnoredFolder(c.path)) {
        this.pending.add(c.path);
      }
    }
    if (touched) this.notifyResults();
    if (this.pending.size) {
      if (this.autoTimer) clearTimeout(this.autoTimer);
      this.autoTimer = setTimeout(() => { void this.runAutoScan(); }, AUTO_SCAN_DEBOUNCE_MS);
    }
  }

  private async runAutoScan(): Promise<void> {
    const paths = [...this.pending];
    this.pending.clear();
    const never: CancellationToken = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
    try { await this.scan(paths, false, never); } catch (e) { this.host.log(`auto-scan failed: ${(e as Error).message}`); }
  }

  dispose(): void {
    if (this.autoTimer) clearTimeout(this.autoTimer);
    try { this.cache.save(); } catch { /* best effort */ }
    this.pool.dispose();
  }

  private poolLanes(): number { return this.pool.capacity; }

  /** One file: the stamp shortcut, else hash and look up by content, else scan. `cached` = no scan was needed. */
  private async scanOne(p: string, force: boolean, token: CancellationToken): Promise<{ report: FileReport; cached: boolean }> {
    if (!force) {
      const hit = this.cache.byStamp(p);
      if (hit) return { report: hit, cached: true };
    }
    try {
      const h = await this.pool.run({ op: 'hash', path: p }, token, HASH_JOB_TIMEOUT_MS) as Extract<WorkerResult, { op: 'hash' }>;
      const stamp: PathStamp = { size: h.size, mtimeMs: h.mtimeMs, sha256: h.sha256 };
      if (!force) {
        const hit = this.cache.bySha(h.sha256, p);
        if (hit) { this.cache.remember(p, stamp); return { report: hit, cached: true }; }
      }
      // The file was just hashed: the engine need not read it a second time for that.
      const r = await this.pool.run({ op: 'scan', path: p, options: { ...this.options, hash: false } }, token) as Extract<WorkerResult, { op: 'scan' }>;
      const report = { ...r.report, path: p, sha256: h.sha256 };
      this.cache.remember(p, stamp, report);
      return { report, cached: false };
    } catch (e) {
      if (e instanceof JobCancelled) throw e;
      this.host.log(`scan of ${p} failed: ${(e as Error).message}`);
      return { report: failedReport(p, (e as Error).message), cached: false };
    }
  }

  private accept(r: FileReport): void {
    this.results.set(r.path, r);
    this.publishReport(r);
  }

  private publishReport(r: FileReport): void {
    const uri = pathToFileURL(r.path).toString();
    const diags = reportDiagnostics(r, (c) => this.host.ruleHref(c));
    if (!diags.length && !this.published.has(uri)) return;
    if (diags.length) this.published.add(uri); else this.published.delete(uri);
    this.host.publish(uri, diags);
  }

  private notifyResults(): void {
    // Tensor tables can be huge and only the model-file editor shows them (it asks modelvet/fileReport): not broadcast.
    const files = [...this.results.values()].sort((a, b) => (a.path < b.path ? -1 : 1)).map(({ tensors: _omitted, ...rest }) => rest);
    const msg: ScanResultsNotification = { files };
    this.host.notify(Methods.scanResults, msg);
    this.notifyStatus();
  }

  private notifyStatus(message?: string): void {
    const msg: StatusNotification = { unsafe: this.unsafeCount, scanning: this.running > 0, ...(message ? { message } : {}) };
    this.host.notify(Methods.status, msg);
  }
}
