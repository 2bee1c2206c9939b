/**
 * ModelVet's VS Code client: starts the language server (dist/server.js) and adds what LSP has no words
 * for — model-scan commands with progress, a results tree, a report webview, a custom editor for model
 * files and the status bar item. All analysis lives in the server; this file only wires the editor to it.
 * No popups on start: state goes to the status bar and the "ModelVet" output channel.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import {
  Methods, CONFIG_SECTION,
  type ScanParams, type ConvertParams, type ConvertResult, type ScanResultsNotification, type StatusNotification,
} from '../../core/protocol';
import type { ScanOutput } from '../../core/scan/types';
import { documentSelector, isExcludedFromAnalysis, watchedFileGlobs, MODEL_FILE_EXTENSIONS } from './selectors';
import { ResultsStore, ResultsTreeProvider } from './results';
import { ModelFileEditorProvider, ReportPanel, type ServerAccess } from './webviews';
import { NotebookDiagnostics } from './notebookDiagnostics';
import { formatBytes } from './render';
import { augmentConfiguration, userScopeSettings } from './trust';
import { signModelCommand, verifyModelCommand } from './signing';
import type { SignatureState } from '../../core/protocol';
import { auditDatasetCommand } from './datasets';
import { generateBomCommand } from './bom';

/** JSON-RPC "method not found": the bundled server does not implement a request yet. */
const METHOD_NOT_FOUND = -32601;
/** JSON-RPC "request cancelled" (LSP). */
const REQUEST_CANCELLED = -32800;

let session: Session | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  session = new Session(context);
  session.registerUi();
  const activateMs = performance.now() - started;
  session.log(`activated in ${activateMs.toFixed(1)} ms (ModelVet ${context.extension.packageJSON.version}, VS Code ${vscode.version})`);
  // The language client library is the heavy part: load and start it after activate() has returned.
  setImmediate(() => { void session?.startClient(started); });
}

export async function deactivate(): Promise<void> {
  await session?.stop();
  session = undefined;
}

/**
 * Command arguments arrive as a Uri (explorer, editor title, webviews) or as a string (code actions or
 * keybindings from other tools): an absolute path or a `file:` URI.
 */
function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg !== 'string' || !arg) return undefined;
  if (arg.startsWith('file:')) return vscode.Uri.parse(arg);
  return path.isAbsolute(arg) ? vscode.Uri.file(arg) : undefined;
}

class Session implements ServerAccess {
  private readonly output: vscode.LogOutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly store = new ResultsStore();
  private readonly report: ReportPanel;
  private readonly modelEditors: ModelFileEditorProvider;
  private treeView: vscode.TreeView<unknown> | undefined;
  private client: LanguageClient | undefined;
  private clientReady: Promise<LanguageClient> | undefined;
  private lastStatus: StatusNotification = { unsafe: 0, scanning: false };
  private readonly notebookDiagnostics: NotebookDiagnostics;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('ModelVet', { log: true });
    this.statusItem = vscode.window.createStatusBarItem('modelvet.status', vscode.StatusBarAlignment.Left, 0);
    this.statusItem.name = 'ModelVet';
    this.report = new ReportPanel(context.extensionUri, this.store);
    this.modelEditors = new ModelFileEditorProvider(context.extensionUri, this);
    this.notebookDiagnostics = new NotebookDiagnostics(() => this.client, (m) => this.output.warn(m));
    context.subscriptions.push(this.output, this.statusItem, this.report, this.store, this.notebookDiagnostics);
  }

  log(message: string): void { this.output.info(message); }

  registerUi(): void {
    const { context } = this;
    this.renderStatus();
    this.statusItem.show();

    const tree = new ResultsTreeProvider(this.store);
    this.treeView = vscode.window.createTreeView('modelvetResults', { treeDataProvider: tree, showCollapseAll: true });
    context.subscriptions.push(tree, this.treeView, this.store.onDidChange(() => this.onResultsChanged()));
    context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(CONFIG_SECTION)) this.notebookDiagnostics.refreshAll();
    }));

    for (const viewType of [ModelFileEditorProvider.viewType, ModelFileEditorProvider.optionViewType]) {
      context.subscriptions.push(vscode.window.registerCustomEditorProvider(viewType, this.modelEditors, {
        supportsMultipleEditorsPerDocument: true,
        webviewOptions: { retainContextWhenHidden: false },
      }));
    }

    const command = (id: string, fn: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
    command('modelvet.scanModel', () => this.pickAndScan());
    command('modelvet.scanWorkspace', () => this.scanWorkspace());
    command('modelvet.scanWithModelVet', (arg?: unknown, selected?: unknown) =>
      this.scanExplorerSelection(toUri(arg), Array.isArray(selected) ? selected.map(toUri).filter((u): u is vscode.Uri => u !== undefined) : undefined));
    command('modelvet.convertToSafetensors', (arg?: unknown) => this.convert(arg));
    command('modelvet.showReport', () => this.report.show());
    const signingHost = { request: <R>(m: string, p: unknown, t?: vscode.CancellationToken) => this.request<R>(m, p, t), log: (m: string) => this.log(m), state: context.workspaceState };
    command('modelvet.signModel', (arg?: unknown) => signModelCommand(signingHost, arg).catch((e) => this.fail('signing', e)));
    command('modelvet.verifyModel', (arg?: unknown) => verifyModelCommand(signingHost, arg).catch((e) => this.fail('verification', e)));
    command('modelvet.generateBom', (arg?: unknown) => generateBomCommand(signingHost, arg).catch((e) => this.fail('AI-BOM', e)));
    const datasetHost = {
      request: <R>(m: string, p: unknown, t?: vscode.CancellationToken) => this.request<R>(m, p, t), log: (m: string) => this.log(m), extensionUri: context.extensionUri,
      onWorkDone: async (t: string, cb: (v: { kind: string; message?: string; percentage?: number; title?: string }) => void) => {
        const client = await this.ensureClient();
        const lc = require('vscode-languageclient/node') as typeof import('vscode-languageclient/node');
        return client.onProgress(lc.WorkDoneProgress.type, t, cb);
      },
    };
    command('modelvet.auditDataset', (arg?: unknown, all?: unknown) => auditDatasetCommand(datasetHost, arg, all).catch((e) => this.fail('dataset audit', e)));
    command('modelvet.showOutput', () => this.output.show(true));
    command('modelvet.restartServer', () => this.restart());
    // The server's "Disable CODE in workspace settings" quick-fix: modelvet.rules.CODE = "off" in the workspace.
    command('modelvet.disableRuleInWorkspace', async (code?: unknown) => {
      if (typeof code !== 'string' || !/^[A-Z]+\d+$/.test(code)) return;
      const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
      const current = config.inspect<Record<string, string>>('rules')?.workspaceValue ?? {};
      await config.update('rules', { ...current, [code]: 'off' }, vscode.ConfigurationTarget.Workspace);
    });
  }

  // ---- language client -------------------------------------------------------------------------

  async startClient(activationStart: number): Promise<LanguageClient | undefined> {
    if (!this.clientReady) this.clientReady = this.createAndStart(activationStart);
    try {
      return await this.clientReady;
    } catch (error) {
      this.output.error(`language server failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      this.lastStatus = { unsafe: 0, scanning: false, message: 'language server failed to start (see output)' };
      this.renderStatus(true);
      this.clientReady = undefined;
      return undefined;
    }
  }

  private async createAndStart(activationStart: number): Promise<LanguageClient> {
    const loadStart = performance.now();
    // Lazy: keeps the library's module initialisation out of activate().
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const lc = require('vscode-languageclient/node') as typeof import('vscode-languageclient/node');
    this.log(`language client library loaded in ${(performance.now() - loadStart).toFixed(1)} ms`);

    const serverModule = this.context.asAbsolutePath(path.join('dist', 'server.js'));
    const serverOptions: ServerOptions = {
      // A small young generation keeps the server's resident memory under 100 MB (bench/server.ts measures both);
      // heavy scans run in worker threads with their own heaps.
      run: { module: serverModule, transport: lc.TransportKind.ipc, options: { execArgv: ['--max-semi-space-size=2'] } },
      debug: { module: serverModule, transport: lc.TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const watchers = watchedFileGlobs().map((glob) => vscode.workspace.createFileSystemWatcher(glob));
    this.context.subscriptions.push(...watchers);
    const skip = (doc: vscode.TextDocument) => doc.uri.scheme === 'file' && isExcludedFromAnalysis(doc.uri.fsPath);

    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector() as LanguageClientOptions['documentSelector'],
      initializationOptions: {
        storagePath: this.context.globalStorageUri.fsPath,
        extensionRoot: this.context.extensionPath,
        // Workspace Trust (client/src/trust.ts): the server lets workspace values reach the network only when trusted.
        workspaceTrust: { trusted: vscode.workspace.isTrusted },
        userScopeInConfiguration: true,
        settings: userScopeSettings(),
        // Client-side commands the server may put in code actions.
        clientCommands: ['modelvet.disableRuleInWorkspace'],
      },
      synchronize: { fileEvents: watchers, configurationSection: CONFIG_SECTION },
      diagnosticPullOptions: {
        onChange: true,
        onSave: true,
        // Not onTabs: in vscode-languageclient 9.0.1 a tab pull by URI can run before didOpen reaches the
        // server, and the library then skips the pull on didOpen ("already known"), leaving the file blank.
        onTabs: false,
        filter: (doc) => skip(doc),
      },
      outputChannel: this.output,
      traceOutputChannel: this.output,
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            return Array.isArray(result) ? augmentConfiguration(params.items, result) : result;
          },
        },
        didOpen: (doc, next) => (skip(doc) ? Promise.resolve() : next(doc)),
        didChange: (event, next) => (skip(event.document) ? Promise.resolve() : next(event)),
        didClose: (doc, next) => (skip(doc) ? Promise.resolve() : next(doc)),
        provideDiagnostics: (doc, previousResultId, token, next) =>
          (doc instanceof vscode.Uri ? isExcludedFromAnalysis(doc.fsPath) : skip(doc)) ? undefined : next(doc, previousResultId, token),
        // The library does not pull for notebook cells: pull after each sync notification went out.
        notebooks: {
          didOpen: async (notebook, cells, next) => { await next(notebook, cells); this.notebookDiagnostics.schedule(notebook); },
          didChange: async (event, next) => { await next(event); this.notebookDiagnostics.schedule(event.notebook); },
          didSave: async (notebook, next) => { await next(notebook); this.notebookDiagnostics.schedule(notebook); },
          didClose: async (notebook, cells, next) => { this.notebookDiagnostics.clear(notebook, cells); await next(notebook, cells); },
        },
      },
    };

    const client = new lc.LanguageClient('modelvet', 'ModelVet', serverOptions, clientOptions);
    client.onNotification(Methods.status, (status: StatusNotification) => { this.lastStatus = status; this.renderStatus(); });
    client.onNotification(Methods.scanResults, (results: ScanResultsNotification) => {
      if (results && Array.isArray(results.files)) this.store.replaceAll(results.files);
    });
    client.onNotification(Methods.signatureStates, (n: { states?: SignatureState[] }) => {
      if (n && Array.isArray(n.states)) this.store.setSignatures(n.states);
    });
    const startAt = performance.now();
    if (!vscode.workspace.isTrusted) {
      this.context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.log('workspace trusted: workspace settings for network access and files to read now apply');
        void client.sendNotification(Methods.workspaceTrust, { trusted: true });
      }));
    }
    await client.start();
    this.client = client;
    this.log(`language server ready in ${(performance.now() - startAt).toFixed(0)} ms (${(performance.now() - activationStart).toFixed(0)} ms after activation began)`);
    return client;
  }

  private async ensureClient(): Promise<LanguageClient> {
    const client = this.client ?? (await this.startClient(performance.now()));
    if (!client) throw new Error('the ModelVet language server is not running (see the ModelVet output)');
    return client;
  }

  async request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
    const client = await this.ensureClient();
    return token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params);
  }

  private async restart(): Promise<void> {
    this.log('restarting the language server');
    if (this.client) {
      await this.client.restart();
      this.log('language server restarted');
    } else {
      await this.startClient(performance.now());
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientReady = undefined;
    if (client) await client.stop();
  }

  // ---- status bar / results ---------------------------------------------------------------------

  private renderStatus(failed = false): void {
    const { unsafe, scanning, message } = this.lastStatus;
    const item = this.statusItem;
    const icon = scanning ? '$(sync~spin)' : '$(shield)';
    item.text = unsafe > 0 ? `${icon} ModelVet: ${unsafe} unsafe` : `${icon} ModelVet`;
    const lines = ['ModelVet'];
    if (scanning) lines.push('Scanning model files…');
    lines.push(unsafe > 0 ? `${unsafe} unsafe model file${unsafe === 1 ? '' : 's'} — click for the report` : 'No unsafe model files found');
    if (message) lines.push(message);
    item.tooltip = lines.join('\n');
    item.backgroundColor = failed ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : unsafe > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    item.command = unsafe > 0 ? 'modelvet.showReport' : 'modelvet.showOutput';
  }

  private onResultsChanged(): void {
    const unsafe = this.store.unsafeCount();
    if (this.treeView) this.treeView.badge = unsafe > 0 ? { value: unsafe, tooltip: `${unsafe} unsafe model files` } : undefined;
    // The server's status notification is authoritative; results can still raise the count before it arrives.
    if (unsafe > this.lastStatus.unsafe) { this.lastStatus = { ...this.lastStatus, unsafe }; this.renderStatus(); }
    for (const f of this.store.all()) this.modelEditors.refresh(f.path, f.sha256);
  }

  // ---- scan commands --------------------------------------------------------------------------

  private async pickAndScan(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: true, canSelectFolders: true, canSelectMany: true,
      openLabel: 'Scan with ModelVet', title: 'ModelVet: Scan Model File or Folder',
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (picked?.length) await this.scan(picked.map((u) => u.fsPath), true);
  }

  private async scanWorkspace(): Promise<void> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    if (folders.length === 0) {
      this.log('Scan Workspace Models: no folder is open');
      void vscode.window.showWarningMessage('ModelVet: open a folder to scan its model files.');
      return;
    }
    await this.scan(folders.map((f) => f.uri.fsPath), false);
  }

  private async scanExplorerSelection(uri?: vscode.Uri, selected?: vscode.Uri[]): Promise<void> {
    const uris = selected?.length ? selected : uri ? [uri] : [];
    if (uris.length === 0) return this.pickAndScan();
    await this.scan(uris.filter((u) => u.scheme === 'file').map((u) => u.fsPath), true);
  }

  private async scan(paths: string[], force: boolean): Promise<ScanOutput | undefined> {
    if (paths.length === 0) return undefined;
    this.log(`scan requested: ${paths.join(', ')}`);
    return vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification, title: 'ModelVet', cancellable: true,
    }, async (progress, token) => {
      progress.report({ message: 'scanning model files…' });
      let client: LanguageClient;
      try {
        client = await this.ensureClient();
      } catch (error) {
        this.fail('scan', error);
        return undefined;
      }
      // The server reports `$/progress` on this token (LSP work-done progress attached to the request).
      const workDoneToken = `modelvet-scan-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      let reported = 0;
      const lc = require('vscode-languageclient/node') as typeof import('vscode-languageclient/node');
      const progressSubscription = client.onProgress(lc.WorkDoneProgress.type, workDoneToken, (value) => {
        if (value.kind === 'end') return;
        const percentage = typeof value.percentage === 'number' ? Math.max(0, Math.min(100, value.percentage)) : undefined;
        const increment = percentage !== undefined && percentage > reported ? percentage - reported : undefined;
        if (percentage !== undefined) reported = Math.max(reported, percentage);
        progress.report({ message: value.message ?? (value.kind === 'begin' ? value.title : undefined), increment });
      });
      try {
        const params: ScanParams & { workDoneToken: string } = { paths, force, workDoneToken };
        const output = await client.sendRequest<ScanOutput>(Methods.scan, params, token);
        if (output?.files) this.store.merge(output.files);
        const s = output?.summary;
        if (s) {
          const text = `scanned ${s.files} model file${s.files === 1 ? '' : 's'} in ${s.seconds.toFixed(1)} s: ${s.malicious} malicious, ${s.suspicious} suspicious, ${s.unscannable} unscannable, ${s.safe} safe`;
          this.log(text);
          const bad = s.malicious + s.suspicious;
          if (bad > 0) {
            void vscode.window.showWarningMessage(`ModelVet ${text}.`, 'Show Report').then((choice) => { if (choice) this.report.show(); });
          } else {
            vscode.window.setStatusBarMessage(`$(shield) ModelVet ${text}`, 8000);
          }
        }
        return output;
      } catch (error) {
        if (token.isCancellationRequested || (error as { code?: number })?.code === REQUEST_CANCELLED) {
          this.log('scan cancelled');
          return undefined;
        }
        this.fail('scan', error);
        return undefined;
      } finally {
        progressSubscription.dispose();
      }
    });
  }

  // ---- conversion -------------------------------------------------------------------------------

  private async convert(arg?: unknown): Promise<void> {
    let target = toUri(arg) ?? this.modelEditors.activeUri ?? this.activeEditorFile();
    if (!target) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFiles: true, canSelectMany: false, openLabel: 'Convert to SafeTensors',
        filters: { 'Model files': MODEL_FILE_EXTENSIONS.filter((e) => e !== 'safetensors') },
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      target = picked?.[0];
    }
    if (!target) return;
    if (target.scheme !== 'file') { void vscode.window.showErrorMessage('ModelVet can only convert files on disk.'); return; }
    const input = target.fsPath;
    const name = path.basename(input);
    try {
      let result = await this.convertRequest({ input }, name);
      if (!result.ok && result.exists) {
        const output = input.replace(/\.[^./\\]*$/, '') + '.safetensors';
        const choice = await vscode.window.showWarningMessage(
          `${path.basename(output)} already exists. Replace it with a new conversion of ${name}?`, { modal: true }, 'Overwrite');
        if (choice !== 'Overwrite') { this.log(`conversion of ${input} cancelled: output exists`); return; }
        result = await this.convertRequest({ input, overwrite: true }, name);
      }
      if (!result.ok) {
        this.log(`conversion of ${input} refused: ${result.reason}`);
        void vscode.window.showErrorMessage(`ModelVet did not convert ${name}: ${result.reason}`);
        return;
      }
      const done = result;
      this.log(`converted ${input} → ${done.output}: ${done.tensors} tensors, ${done.bytes} bytes, sha256 ${done.sha256}`);
      this.modelEditors.refresh(done.output);
      void vscode.window.showInformationMessage(
        `ModelVet converted ${name} → ${path.basename(done.output)} (${done.tensors} tensors, ${formatBytes(done.bytes)}).`, 'Open', 'Reveal in Explorer',
      ).then((choice) => {
        const out = vscode.Uri.file(done.output);
        if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', out);
        else if (choice === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', out);
      });
    } catch (error) {
      if ((error as { code?: number })?.code === REQUEST_CANCELLED) {
        this.log(`conversion of ${input} cancelled`);
        return;
      }
      if ((error as { code?: number })?.code === METHOD_NOT_FOUND) {
        void vscode.window.showErrorMessage('This version of the ModelVet server cannot convert files yet.');
        return;
      }
      this.fail('conversion', error);
    }
  }

  private convertRequest(params: ConvertParams, name: string): Promise<ConvertResult> {
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `ModelVet: converting ${name} to SafeTensors`, cancellable: true },
      (_progress, token) => this.request<ConvertResult>(Methods.convert, params, token),
    ));
  }

  private activeEditorFile(): vscode.Uri | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
    const ext = uri ? path.extname(uri.fsPath).slice(1).toLowerCase() : '';
    return uri && MODEL_FILE_EXTENSIONS.includes(ext) ? uri : undefined;
  }

  private fail(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.output.error(`${what} failed: ${message}`);
    void vscode.window.showErrorMessage(`ModelVet ${what} failed: ${message}`, 'Show Output').then((choice) => { if (choice) this.output.show(true); });
  }
}
