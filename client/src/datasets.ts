/**
 * "ModelVet: Audit Dataset…": picks dataset files or folders (or takes the explorer selection or
 * the active editor's file), asks the server to audit them on its dataset worker with progress and
 * cancellation, and shows the result in the "ModelVet Dataset Audit" webview (SVG charts, strict
 * CSP, same styles as the scan report). Row-level diagnostics for open JSONL/CSV files need no
 * command: the server publishes them as you edit.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { Methods, type AuditDatasetParams, type AuditDatasetResult } from '../../core/protocol';
import { renderDatasetReportPage } from './datasetRender';

export interface DatasetHost {
  request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
  log(message: string): void;
  extensionUri: vscode.Uri;
  /** Subscribe to the server's `$/progress` for a work-done token. */
  onWorkDone(token: string, cb: (value: { kind: string; message?: string; percentage?: number; title?: string }) => void): Promise<vscode.Disposable>;
}

const DATASET_EXTENSIONS = ['jsonl', 'ndjson', 'json', 'csv', 'tsv', 'parquet', 'arrow'];
const REQUEST_CANCELLED = -32800;

let panel: vscode.WebviewPanel | undefined;
let last: AuditDatasetResult | undefined;

function uris(arg: unknown, all: unknown): vscode.Uri[] {
  if (Array.isArray(all) && all.length && all.every((u) => u instanceof vscode.Uri)) return all as vscode.Uri[];
  if (arg instanceof vscode.Uri) return [arg];
  return [];
}

export async function auditDatasetCommand(host: DatasetHost, arg?: unknown, all?: unknown): Promise<void> {
  let targets = uris(arg, all).filter((u) => u.scheme === 'file');
  if (!targets.length) {
    const active = vscode.window.activeTextEditor?.document.uri;
    const ext = active?.fsPath.split('.').pop()?.toLowerCase();
    if (active?.scheme === 'file' && ext && DATASET_EXTENSIONS.includes(ext)) targets = [active];
  }
  if (!targets.length) {
    const picked = await vscode.window.showOpenDialog({
      title: 'ModelVet: Audit Dataset', openLabel: 'Audit', canSelectFiles: true, canSelectFolders: true, canSelectMany: true,
      filters: { 'Datasets': DATASET_EXTENSIONS, 'All files': ['*'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!picked?.length) return;
    targets = picked;
  }
  const params: AuditDatasetParams & { workDoneToken: string } = { paths: targets.map((u) => u.fsPath), workDoneToken: `modelvet-data-${Date.now()}-${randomBytes(4).toString('hex')}` };
  host.log(`dataset audit requested: ${params.paths.join(', ')}`);
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'ModelVet: auditing dataset', cancellable: true }, async (progress, token) => {
    let reported = 0;
    const sub = await host.onWorkDone(params.workDoneToken, (v) => {
      if (v.kind === 'end') return;
      const pct = typeof v.percentage === 'number' ? Math.max(0, Math.min(100, v.percentage)) : undefined;
      const increment = pct !== undefined && pct > reported ? pct - reported : undefined;
      if (pct !== undefined) reported = Math.max(reported, pct);
      progress.report({ message: v.message ?? v.title, increment });
    });
    try {
      return await host.request<AuditDatasetResult>(Methods.auditDataset, params, token);
    } catch (e) {
      if (token.isCancellationRequested || (e as { code?: number })?.code === REQUEST_CANCELLED) { host.log('dataset audit cancelled'); return undefined; }
      throw e;
    } finally { sub.dispose(); }
  });
  if (!result) return;
  const s = result.report.summary;
  host.log(`dataset audit: ${s.rows} rows in ${s.sources} file(s), ${result.findings.length} findings in ${s.seconds.toFixed(1)} s${s.incomplete ? ' (incomplete)' : ''}`);
  showDatasetReport(host.extensionUri, result);
}

export function showDatasetReport(extensionUri: vscode.Uri, result: AuditDatasetResult): void {
  last = result;
  if (!panel) {
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    panel = vscode.window.createWebviewPanel('modelvet.datasetReport', 'ModelVet Dataset Audit', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [media] });
    panel.iconPath = vscode.Uri.joinPath(media, 'shield.svg');
    panel.onDidDispose(() => { panel = undefined; });
    panel.webview.onDidReceiveMessage((m: { type?: unknown; path?: unknown; line?: unknown; character?: unknown }) => {
      if (m.type !== 'open' || typeof m.path !== 'string') return;
      // Only files the audit reported on can be opened from the page.
      if (!last || !last.report.sources.some((src) => src.path === m.path)) return;
      const uri = vscode.Uri.file(m.path);
      if (/\.(parquet|pq|arrow|feather)$/i.test(m.path)) { void vscode.commands.executeCommand('revealInExplorer', uri); return; }
      const line = typeof m.line === 'number' ? m.line : 0, character = typeof m.character === 'number' ? m.character : 0;
      void vscode.window.showTextDocument(uri, { selection: new vscode.Range(line, character, line, character), preview: true });
    });
  } else panel.reveal();
  const media = vscode.Uri.joinPath(extensionUri, 'media');
  const w = panel.webview;
  panel.webview.html = renderDatasetReportPage(result, {
    cspSource: w.cspSource, nonce: randomBytes(16).toString('base64'),
    styleUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'webview.css')).toString(),
    scriptUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'webview.js')).toString(),
  }, (p) => vscode.workspace.asRelativePath(vscode.Uri.file(p)));
}
