/**
 * A small LSP test client: spawns `node dist/server.js --stdio` and talks JSON-RPC
 * through vscode-jsonrpc. It answers the server's requests the way VS Code would
 * (workspace/configuration from `settings`, capability registration, progress
 * creation) and records every notification so tests can wait on them — on events,
 * never on sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CancellationTokenSource, StreamMessageReader, StreamMessageWriter, createMessageConnection, type MessageConnection,
} from 'vscode-jsonrpc/node';

export const ROOT = path.resolve(__dirname, '..', '..');
/** MODELVET_SERVER_JS lets a developer test another build of the bundle. */
export const SERVER_JS = process.env.MODELVET_SERVER_JS ?? path.join(ROOT, 'dist', 'server.js');

export interface Pos { line: number; character: number }
export interface Rng { start: Pos; end: Pos }
export interface TextEditLike { range: Rng; newText: string }
export interface DiagnosticLike { range: Rng; severity?: number; code?: string | number; source?: string; message: string; data?: unknown; codeDescription?: { href: string } }
export interface CodeActionLike { title: string; kind?: string; isPreferred?: boolean; diagnostics?: DiagnosticLike[]; edit?: { changes?: Record<string, TextEditLike[]> }; data?: unknown }
export interface Notification { method: string; params: any }

export interface StartOptions {
  /** Workspace folder (absolute path). */
  root: string;
  /** What workspace/configuration returns for section `modelvet`. */
  settings?: Record<string, unknown>;
  /** false = a client without pull diagnostics (push fallback). */
  pull?: boolean;
  initializationOptions?: Record<string, unknown>;
  /** Script and arguments instead of `dist/server.js --stdio` (e.g. the CLI: `dist/cli.js lsp --stdio`). */
  args?: string[];
  /** Node flags for the server process (e.g. the client's launch flags). */
  execArgv?: string[];
  /** Extra env for the server process. */
  env?: Record<string, string>;
}

export class LspTestClient {
  readonly notifications: Notification[] = [];
  readonly serverRequests: Array<{ method: string; params: unknown }> = [];
  readonly logs: string[] = [];
  settings: Record<string, unknown>;
  initializeResult: any;
  private waiters: Array<() => void> = [];
  private exited = false;

  private constructor(readonly proc: ChildProcess, readonly conn: MessageConnection, readonly root: string, settings: Record<string, unknown>) {
    this.settings = settings;
  }

  static async start(opts: StartOptions): Promise<LspTestClient> {
    const proc = spawn(process.execPath, [...(opts.execArgv ?? []), ...(opts.args ?? [SERVER_JS, '--stdio'])], { cwd: opts.root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new LspTestClient(proc, conn, opts.root, opts.settings ?? {});
    proc.stderr!.on('data', (d) => client.logs.push(String(d)));
    proc.on('exit', () => { client.exited = true; client.wake(); });
    conn.onNotification((method, params) => {
      if (method === 'window/logMessage') client.logs.push(String((params as { message?: string })?.message));
      client.notifications.push({ method, params });
      client.wake();
    });
    // vscode-jsonrpc routes $/progress to per-token handlers; record them all as notifications.
    conn.onUnhandledProgress((params) => {
      client.notifications.push({ method: '$/progress', params });
      client.wake();
    });
    conn.onRequest((method, params) => {
      client.serverRequests.push({ method, params });
      client.wake();
      if (method === 'workspace/configuration') {
        const items = (params as { items: Array<{ section?: string }> }).items;
        return items.map((i) => (i.section === 'modelvet' ? client.settings : null));
      }
      return null; // client/registerCapability, window/workDoneProgress/create, workspace/diagnostic/refresh
    });
    conn.listen();
    const pull = opts.pull ?? true;
    client.initializeResult = await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(opts.root).toString(),
      workspaceFolders: [{ uri: pathToFileURL(opts.root).toString(), name: path.basename(opts.root) }],
      initializationOptions: opts.initializationOptions ?? {},
      capabilities: {
        workspace: {
          configuration: true,
          didChangeConfiguration: { dynamicRegistration: true },
          didChangeWatchedFiles: { dynamicRegistration: true },
          ...(pull ? { diagnostics: { refreshSupport: true } } : {}),
          workspaceFolders: true,
        },
        textDocument: {
          synchronization: { dynamicRegistration: false, didSave: true },
          publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
          ...(pull ? { diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false } } : {}),
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } }, isPreferredSupport: true, dataSupport: true, resolveSupport: { properties: ['edit'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
        },
        notebookDocument: { synchronization: { dynamicRegistration: false } },
        window: { workDoneProgress: true },
      },
    });
    conn.sendNotification('initialized', {});
    return client;
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  get alive(): boolean { return !this.exited; }

  /** Resolve when `pred` holds (checked after every message), or reject after `timeoutMs`. */
  async waitFor<T>(pred: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      if (this.exited) throw new Error(`server exited while waiting for ${what}\n${this.logs.join('')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  request<R = any>(method: string, params: unknown, token?: CancellationTokenSource): Promise<R> {
    return (token ? this.conn.sendRequest(method, params, token.token) : this.conn.sendRequest(method, params)) as Promise<R>;
  }
  notify(method: string, params: unknown): void { void this.conn.sendNotification(method, params); }

  uri(rel: string): string { return pathToFileURL(path.resolve(this.root, rel)).toString(); }

  open(rel: string, text: string, languageId = 'plaintext', version = 1): string {
    const uri = this.uri(rel);
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    return uri;
  }
  change(uri: string, version: number, changes: Array<{ range?: Rng; text: string }>): void {
    this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
  }
  /** notebookDocument/didOpen; cell kind 1 = markup, 2 = code. Returns the notebook and cell URIs. */
  openNotebook(rel: string, cells: Array<{ kind: 1 | 2; text: string }>): { uri: string; cellUris: string[] } {
    const uri = this.uri(rel);
    const file = path.resolve(this.root, rel);
    const cellUris = cells.map((_, i) => `vscode-notebook-cell:${encodeURI(file)}#cell${i}`);
    this.notify('notebookDocument/didOpen', {
      notebookDocument: { uri, notebookType: 'jupyter-notebook', version: 1, cells: cells.map((c, i) => ({ kind: c.kind, document: cellUris[i] })) },
      cellTextDocuments: cells.map((c, i) => ({ uri: cellUris[i], languageId: c.kind === 2 ? 'python' : 'markdown', version: 1, text: c.text })),
    });
    return { uri, cellUris };
  }

  close(uri: string): void { this.notify('textDocument/didClose', { textDocument: { uri } }); }

  async pull(uri: string): Promise<DiagnosticLike[]> {
    const r = await this.request<{ kind: string; items: DiagnosticLike[] }>('textDocument/diagnostic', { textDocument: { uri } });
    if (r.kind !== 'full') throw new Error(`expected a full report, got ${r.kind}`);
    return r.items;
  }

  /** A pull as an editor sends it, with the previous result id: the raw report (`full` or `unchanged`). */
  pullReport(uri: string, previousResultId?: string): Promise<{ kind: 'full' | 'unchanged'; resultId?: string; items?: DiagnosticLike[] }> {
    return this.request('textDocument/diagnostic', { textDocument: { uri }, ...(previousResultId ? { previousResultId } : {}) });
  }

  codeActions(uri: string, diagnostics: DiagnosticLike[], range: Rng = diagnostics[0].range): Promise<CodeActionLike[]> {
    return this.request('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics, only: ['quickfix'] } });
  }

  async setSettings(settings: Record<string, unknown>): Promise<void> {
    this.settings = settings;
    this.notify('workspace/didChangeConfiguration', { settings: null });
  }

  /** A mark to wait for server requests that arrive after it. */
  mark(): number { return this.serverRequests.length; }
  /** Resolve when the server has sent `method` at or after `mark`; returns the mark just past it. */
  waitForRequest(method: string, mark: number, what = method, timeoutMs = 10_000): Promise<number> {
    return this.waitFor(() => {
      const i = this.serverRequests.findIndex((r, idx) => idx >= mark && r.method === method);
      return i >= 0 ? i + 1 : undefined;
    }, what, timeoutMs);
  }

  countRequests(method: string): number { return this.serverRequests.filter((r) => r.method === method).length; }
  notificationsOf(method: string): Notification[] { return this.notifications.filter((n) => n.method === method); }

  /** Latest publishDiagnostics for `uri` (push mode, model-scan results). */
  published(uri: string): DiagnosticLike[] | undefined {
    for (let i = this.notifications.length - 1; i >= 0; i--) {
      const n = this.notifications[i];
      if (n.method === 'textDocument/publishDiagnostics' && n.params.uri === uri) return n.params.diagnostics;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    try {
      await Promise.race([this.request('shutdown', null), new Promise((r) => setTimeout(r, 2000))]);
      this.notify('exit', null);
    } catch { /* already gone */ }
    await Promise.race([new Promise((r) => this.proc.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
    if (!this.exited) this.proc.kill();
    this.conn.dispose();
  }
}

/** Apply LSP text edits to `text` (non-overlapping, any order). */
export function applyEdits(text: string, edits: TextEditLike[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const offset = (p: Pos) => Math.min((starts[p.line] ?? text.length) + p.character, p.line + 1 < starts.length ? starts[p.line + 1] : text.length);
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

/** The edits of a code action for one document. */
export function editsFor(action: CodeActionLike, uri: string): TextEditLike[] {
  return action.edit?.changes?.[uri] ?? [];
}
