/**
 * Diagnostics for notebook cells. vscode-languageclient 9.0.1 pulls diagnostics (LSP 3.17) only for
 * documents shown in text tabs, never for the cells of a notebook, so a pull-mode server would show
 * nothing in notebooks. After each notebook sync notification has been sent (so the server already
 * has the new cell text) we pull `textDocument/diagnostic` for every Python cell ourselves and put the
 * results in our own collection — converted by the client library, so quick-fixes keep their data.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

/** Coalesces bursts of keystrokes in a cell into one pull per notebook. */
export const NOTEBOOK_PULL_DEBOUNCE_MS = 150;
/** Pulls re-sent when the server answers "cancelled, retrigger" (it was busy or the content moved on). */
const MAX_RETRIGGERS = 3;
const SERVER_CANCELLED = -32802;

export class NotebookDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('modelvet-notebooks');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly generations = new Map<string, number>();

  constructor(private readonly client: () => LanguageClient | undefined, private readonly log: (message: string) => void) {}

  schedule(notebook: vscode.NotebookDocument, retriggers = 0): void {
    const key = notebook.uri.toString();
    const old = this.timers.get(key);
    if (old) clearTimeout(old);
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); void this.pull(notebook, retriggers); }, NOTEBOOK_PULL_DEBOUNCE_MS));
  }

  /** Re-pull every open Jupyter notebook (settings changed: the library's refresh handling skips cells). */
  refreshAll(): void {
    for (const notebook of vscode.workspace.notebookDocuments) {
      if (notebook.notebookType === 'jupyter-notebook') this.schedule(notebook);
    }
  }

  clear(notebook: vscode.NotebookDocument, cells: readonly vscode.NotebookCell[]): void {
    const key = notebook.uri.toString();
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    for (const cell of cells) this.collection.delete(cell.document.uri);
  }

  private async pull(notebook: vscode.NotebookDocument, retriggers: number): Promise<void> {
    const client = this.client();
    if (!client || notebook.isClosed) return;
    const key = notebook.uri.toString();
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.set(key, generation);
    const cells = notebook.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code && c.document.languageId === 'python');
    try {
      const results = await Promise.all(cells.map(async (cell) => {
        const report = await client.sendRequest('textDocument/diagnostic', {
          textDocument: { uri: client.code2ProtocolConverter.asUri(cell.document.uri) },
        }) as { kind?: string; items?: unknown[] } | null;
        const items = report && report.kind === 'full' && Array.isArray(report.items) ? report.items : [];
        return [cell.document.uri, await client.protocol2CodeConverter.asDiagnostics(items as never)] as const;
      }));
      if (this.generations.get(key) !== generation || notebook.isClosed) return; // a newer pull or a close won
      for (const [uri, diagnostics] of results) this.collection.set(uri, diagnostics);
    } catch (error) {
      if ((error as { code?: number })?.code === SERVER_CANCELLED && retriggers < MAX_RETRIGGERS) {
        this.schedule(notebook, retriggers + 1);
        return;
      }
      this.log(`notebook diagnostics for ${notebook.uri.fsPath} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.collection.dispose();
  }
}
