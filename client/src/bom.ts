/**
 * "ModelVet: Generate AI-BOM…" (command palette and explorer context menu on folders): pick the model
 * or project folder and where to save, the language server builds and writes the CycloneDX ML-BOM
 * (workspace/executeCommand), the client offers to open it.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { BomCommands, type GenerateBomParams, type GenerateBomResult } from '../../core/protocol';

export interface BomHost {
  request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
  log(message: string): void;
}

function folderOf(arg: unknown): string | undefined {
  const uri = arg instanceof vscode.Uri ? arg : undefined;
  if (!uri || uri.scheme !== 'file') return undefined;
  try { return fs.statSync(uri.fsPath).isDirectory() ? uri.fsPath : undefined; } catch { return undefined; }
}

export async function generateBomCommand(host: BomHost, arg?: unknown): Promise<void> {
  let target = folderOf(arg);
  if (!target) {
    const picked = await vscode.window.showOpenDialog({ title: 'Model or project folder for the AI-BOM', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
    target = picked?.[0]?.fsPath;
  }
  if (!target) return;
  const suggested = path.join(path.dirname(target), `${path.basename(target)}.cdx.json`);
  const out = await vscode.window.showSaveDialog({ title: 'Save the AI-BOM (CycloneDX JSON or XML)', defaultUri: vscode.Uri.file(suggested), filters: { 'CycloneDX JSON': ['json'], 'CycloneDX XML': ['xml'] } });
  if (!out || out.scheme !== 'file') return;
  // The save dialog already asked about replacing an existing file.
  const params: GenerateBomParams = { target, output: out.fsPath, force: fs.existsSync(out.fsPath), format: /\.xml$/i.test(out.fsPath) ? 'xml' : 'json' };
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ModelVet: AI-BOM of ${path.basename(target)}…` },
    () => host.request<GenerateBomResult>('workspace/executeCommand', { command: BomCommands.generate, arguments: [params] }));
  if (!result.ok) {
    host.log(`AI-BOM of ${target} failed: ${result.reason}`);
    if (!result.cancelled) void vscode.window.showErrorMessage(`ModelVet did not write the AI-BOM: ${result.reason}`);
    return;
  }
  for (const w of result.warnings) host.log(`AI-BOM of ${target}: ${w}`);
  host.log(`AI-BOM of ${target} → ${result.output}: ${result.models} models, ${result.files} files, ${result.libraries} libraries`);
  const choice = await vscode.window.showInformationMessage(`ModelVet wrote ${path.basename(result.output)}: ${result.models} model${result.models === 1 ? '' : 's'}, ${result.files} files, ${result.libraries} libraries.`, 'Open');
  if (choice) await vscode.window.showTextDocument(vscode.Uri.file(result.output));
}
