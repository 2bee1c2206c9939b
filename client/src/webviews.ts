/** The scan-report webview panel and the read-only custom editor for model files. */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { Methods, type FileReportParams, type FileReportResult } from '../../core/protocol';
import { renderModelFilePage, renderReportPage, CONVERTIBLE_FORMATS, isNotAModel, PREVIEW_BYTES, type ModelFileViewState, type WebviewAssets } from './render';
import type { ResultsStore } from './results';

/** What the webviews need from the language client (kept small so they don't depend on its types). */
export interface ServerAccess {
  request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
  log(message: string): void;
}

function assetsFor(webview: vscode.Webview, extensionUri: vscode.Uri): WebviewAssets {
  const media = vscode.Uri.joinPath(extensionUri, 'media');
  return {
    cspSource: webview.cspSource,
    nonce: randomBytes(16).toString('base64'),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.css')).toString(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.js')).toString(),
  };
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  // Scripts only from our own media folder (nonce-checked by the CSP); no other local file is readable.
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}

interface WebviewMessage { type?: unknown; path?: unknown }

/** Singleton "ModelVet Scan Report" panel, re-rendered whenever the results change. */
export class ReportPanel implements vscode.Disposable {
  static readonly viewType = 'modelvet.report';
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly extensionUri: vscode.Uri, private readonly store: ResultsStore) {
    this.subscription = store.onDidChange(() => this.render());
  }

  show(): void {
    if (this.panel) { this.panel.reveal(); this.render(); return; }
    const panel = vscode.window.createWebviewPanel(ReportPanel.viewType, 'ModelVet Scan Report', vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'shield.svg');
    panel.onDidDispose(() => { this.panel = undefined; });
    panel.webview.onDidReceiveMessage((message: WebviewMessage) => {
      if (message.type === 'open' && typeof message.path === 'string') {
        void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(message.path));
      } else if (message.type === 'rescanWorkspace') {
        void vscode.commands.executeCommand('modelvet.scanWorkspace');
      }
    });
    this.panel = panel;
    this.render();
  }

  private render(): void {
    if (!this.panel) return;
    this.panel.webview.html = renderReportPage(this.store.all(), assetsFor(this.panel.webview, this.extensionUri),
      (p) => vscode.workspace.asRelativePath(vscode.Uri.file(p)), (p) => this.store.signatureFor(p));
  }

  dispose(): void { this.subscription.dispose(); this.panel?.dispose(); }
}

/** The first PREVIEW_BYTES of a file (never the whole file: a `.bin` may be gigabytes). */
async function readPreview(fsPath: string): Promise<Uint8Array | undefined> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(fsPath, 'r');
    const buffer = new Uint8Array(PREVIEW_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PREVIEW_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** A model file opened in the custom editor; nothing is loaded into the extension host (the server reads headers). */
class ModelDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void { /* nothing held */ }
}

export class ModelFileEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  /** Unambiguous model extensions open here by default. */
  static readonly viewType = 'modelvet.modelFile';
  /** Ambiguous extensions (.bin, .onnx, .h5, …) and any other file: offered in "Reopen With…". */
  static readonly optionViewType = 'modelvet.modelFileOption';

  private readonly refreshers = new Map<string, Set<(sha256?: string) => void>>();
  private active: vscode.Uri | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly server: ServerAccess) {}

  /** The model file shown in the focused ModelVet editor, for commands run from the palette. */
  get activeUri(): vscode.Uri | undefined { return this.active; }

  /**
   * Reload editors of this file after a scan, a conversion or a background hash changed what the server
   * knows. With `sha256`, editors already showing that content hash are left alone.
   */
  refresh(fsPath: string, sha256?: string): void {
    for (const fn of this.refreshers.get(fsPath) ?? []) fn(sha256);
  }

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    return new ModelDocument(uri);
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const uri = document.uri;
    panel.webview.options = webviewOptions(this.extensionUri);
    let disposed = false;
    let generation = 0;
    let shownSha256: string | undefined;
    const render = (state: Omit<ModelFileViewState, 'path'>) => {
      if (!disposed) panel.webview.html = renderModelFilePage({ path: uri.fsPath, ...state }, assetsFor(panel.webview, this.extensionUri));
    };
    const load = async (force: boolean, quiet = false) => {
      const mine = ++generation;
      if (!quiet) render({ loading: true, convertible: false }); // quiet reloads keep the old view until the new one is ready
      if (uri.scheme !== 'file') {
        render({ error: `only files on disk can be scanned (this one is ${uri.scheme}:)`, convertible: false });
        return;
      }
      try {
        const params: FileReportParams = { path: uri.fsPath, force };
        const result = await this.server.request<FileReportResult>(Methods.fileReport, params);
        if (mine !== generation) return; // a newer load superseded this one
        shownSha256 = result.report.sha256 || undefined;
        const preview = isNotAModel(result.report) ? await readPreview(uri.fsPath) : undefined;
        if (mine !== generation) return;
        render({ report: result.report, cached: result.cached, convertible: CONVERTIBLE_FORMATS.has(result.report.format), preview });
      } catch (error) {
        if (mine !== generation) return;
        const message = error instanceof Error ? error.message : String(error);
        this.server.log(`fileReport failed for ${uri.fsPath}: ${message}`);
        render({ error: message, convertible: false });
      }
    };
    const key = uri.fsPath;
    const reload = (sha256?: string) => {
      if (sha256 !== undefined && sha256 === shownSha256) return;
      void load(false, true);
    };
    if (!this.refreshers.has(key)) this.refreshers.set(key, new Set());
    this.refreshers.get(key)!.add(reload);

    panel.webview.onDidReceiveMessage((message: WebviewMessage) => {
      if (message.type === 'rescan') void load(true);
      else if (message.type === 'convert') void vscode.commands.executeCommand('modelvet.convertToSafetensors', uri);
      // 'default' is VS Code's own text/binary editor: the way out for a `.bin` that is not a model.
      // The ModelVet tab is closed once the default editor took its place (one tab per file, as "Reopen With" does).
      else if (message.type === 'openDefault') {
        void vscode.commands.executeCommand('vscode.openWith', uri, 'default', panel.viewColumn).then(() => {
          const ours = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputCustom
            && t.input.uri.toString() === uri.toString() && t.input.viewType.startsWith('modelvet.'));
          return vscode.window.tabGroups.close(ours);
        }, () => undefined);
      }
    });
    const trackActive = () => { if (panel.active) this.active = uri; else if (this.active?.toString() === uri.toString()) this.active = undefined; };
    panel.onDidChangeViewState(trackActive);
    trackActive();
    panel.onDidDispose(() => {
      disposed = true;
      this.refreshers.get(key)?.delete(reload);
      if (this.active?.toString() === uri.toString()) this.active = undefined;
    });
    // Not awaited: the editor appears at once with a "Scanning…" state; the server answers from headers.
    void load(false);
  }
}
