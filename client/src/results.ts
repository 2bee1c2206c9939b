/** The latest model-scan results, shared by the tree view, the report webview and the status bar. */
import * as vscode from 'vscode';
import type { FileReport, ScanFinding, GlobalRef } from '../../core/scan/types';
import type { SignatureState } from '../../core/protocol';
import { sortReports, verdictLabel, formatBytes, MAX_ITEMS_PER_FILE } from './render';

export class ResultsStore {
  private readonly byPath = new Map<string, FileReport>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  /** The server's full current set (`modelvet/scanResults`): replaces everything. */
  replaceAll(files: readonly FileReport[]): void {
    this.byPath.clear();
    for (const f of files) this.byPath.set(f.path, f);
    this.changed.fire();
  }

  /** One scan's answer: rescanned files replace their old results, others stay. */
  merge(files: readonly FileReport[]): void {
    for (const f of files) this.byPath.set(f.path, f);
    this.changed.fire();
  }

  /** OMS signature states from the server (modelvet/signatureStates), by model folder. */
  private readonly signatures = new Map<string, SignatureState>();
  setSignatures(states: readonly SignatureState[]): void {
    this.signatures.clear();
    for (const st of states) this.signatures.set(st.model, st);
    this.changed.fire();
  }
  /** The state of the nearest signed folder containing `file`, if any. */
  signatureFor(file: string): SignatureState | undefined {
    let best: SignatureState | undefined;
    for (const [dir, st] of this.signatures) {
      if ((file.startsWith(dir + '/') || file.startsWith(dir + '\\')) && (!best || dir.length > best.model.length)) best = st;
    }
    return best;
  }

  all(): FileReport[] { return sortReports([...this.byPath.values()]); }
  unsafeCount(): number {
    let n = 0;
    for (const f of this.byPath.values()) if (f.verdict === 'malicious' || f.verdict === 'suspicious') n++;
    return n;
  }
  dispose(): void { this.changed.dispose(); }
}

type Node =
  | { kind: 'file'; report: FileReport }
  | { kind: 'finding'; finding: ScanFinding; parent: FileReport }
  | { kind: 'globals'; globals: GlobalRef[]; parent: FileReport }
  | { kind: 'global'; global: GlobalRef }
  | { kind: 'detail'; label: string; description: string };

const VERDICT_ICONS: Record<string, [string, string | undefined]> = {
  malicious: ['error', 'errorForeground'],
  suspicious: ['warning', 'editorWarning.foreground'],
  unscannable: ['question', 'editorInfo.foreground'],
  safe: ['pass', 'testing.iconPassed'],
};
const SEVERITY_ICONS: Record<string, string> = { critical: 'error', high: 'warning', medium: 'warning', low: 'info', info: 'info' };

function icon(name: string, color?: string): vscode.ThemeIcon {
  return new vscode.ThemeIcon(name, color ? new vscode.ThemeColor(color) : undefined);
}

export class ResultsTreeProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ResultsStore) {
    this.subscription = store.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.store.all().map((report) => ({ kind: 'file', report }));
    if (node.kind === 'file') {
      const r = node.report;
      const children: Node[] = (r.findings ?? []).slice(0, MAX_ITEMS_PER_FILE).map((finding) => ({ kind: 'finding', finding, parent: r }));
      if (r.globals?.length) children.push({ kind: 'globals', globals: r.globals, parent: r });
      children.push({ kind: 'detail', label: 'format', description: `${r.format}, ${formatBytes(r.size)}` });
      children.push({ kind: 'detail', label: 'sha256', description: r.sha256 });
      const sig = this.store.signatureFor(r.path);
      if (sig) children.push({ kind: 'detail', label: 'signature', description: sig.unchecked ? `signed (${vscode.workspace.asRelativePath(sig.signature, false)}), ${sig.summary ?? 'not checked'}` : sig.verified ? `verified (${vscode.workspace.asRelativePath(sig.signature, false)})` : `NOT verified: ${sig.summary ?? 'see the Problems panel'}` });
      return children;
    }
    if (node.kind === 'globals') return node.globals.slice(0, MAX_ITEMS_PER_FILE).map((global) => ({ kind: 'global', global }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'file': {
        const r = node.report;
        const uri = vscode.Uri.file(r.path);
        const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.Collapsed);
        item.label = vscode.workspace.asRelativePath(uri, false);
        item.description = verdictLabel(r.verdict);
        item.tooltip = `${r.path}\n${verdictLabel(r.verdict)} · ${r.format} · ${r.findings?.length ?? 0} findings`;
        const [name, color] = VERDICT_ICONS[r.verdict] ?? ['circle-outline', undefined];
        item.iconPath = icon(name, color);
        item.contextValue = `modelvetFile.${r.verdict}`;
        item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
        return item;
      }
      case 'finding': {
        const f = node.finding;
        const item = new vscode.TreeItem(`${f.code}: ${f.message}`, vscode.TreeItemCollapsibleState.None);
        item.description = f.severity;
        item.tooltip = [f.message, f.evidence, f.location?.member && `member: ${f.location.member}`].filter(Boolean).join('\n');
        item.iconPath = icon(SEVERITY_ICONS[f.severity] ?? 'info');
        return item;
      }
      case 'globals': {
        const dangerous = node.globals.filter((g) => g.status === 'dangerous').length;
        const item = new vscode.TreeItem('globals', vscode.TreeItemCollapsibleState.Collapsed);
        item.description = `${node.globals.length} referenced${dangerous ? `, ${dangerous} dangerous` : ''}`;
        item.iconPath = icon('symbol-module');
        return item;
      }
      case 'global': {
        const g = node.global;
        const item = new vscode.TreeItem(`${g.module}.${g.name}`, vscode.TreeItemCollapsibleState.None);
        item.description = g.status;
        item.iconPath = g.status === 'dangerous' ? icon('error', 'errorForeground') : g.status === 'unknown' ? icon('warning', 'editorWarning.foreground') : icon('check');
        return item;
      }
      case 'detail': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.tooltip = node.description;
        return item;
      }
    }
  }

  dispose(): void { this.subscription.dispose(); this.changed.dispose(); }
}
