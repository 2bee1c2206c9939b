/**
 * The editor's half of OMS model signing: "ModelVet: Sign Model Folder…" and "ModelVet: Verify Model
 * Signature…" (command palette and explorer context menu on folders and model.sig). The client picks
 * the folder, key and certificates; the language server hashes and signs/verifies (with progress and
 * cancellation) through workspace/executeCommand; the result is a notification and an output-channel log.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import * as fs from 'node:fs';
import {
  CONFIG_SECTION, SigningCommands,
  type SignModelParams, type SignModelResult, type VerifyModelParams, type VerifyModelResult,
} from '../../core/protocol';

export interface SigningHost {
  request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
  log(message: string): void;
  state: vscode.Memento;
}

const PEM_FILTERS = { 'PEM files': ['pem', 'key', 'crt', 'cer'], 'All files': ['*'] };
const LAST_KEY = 'modelvet.signing.lastPrivateKey';
const LAST_PUBLIC_KEY = 'modelvet.signing.lastPublicKey';

async function pickFile(title: string, remembered?: string, many = false): Promise<string[] | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title, canSelectFiles: true, canSelectFolders: false, canSelectMany: many, filters: PEM_FILTERS, openLabel: 'Select',
    defaultUri: remembered ? vscode.Uri.file(path.dirname(remembered)) : vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.length ? picked.map((u) => u.fsPath) : undefined;
}

async function pickFolder(title: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, canSelectFiles: false, canSelectFolders: true, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
  return picked?.[0]?.fsPath;
}

function isEncryptedKey(file: string): boolean {
  try { const t = fs.readFileSync(file, 'latin1'); return t.includes('ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,ENCRYPTED/.test(t); } catch { return false; }
}

function execute<R>(host: SigningHost, command: string, params: unknown): Promise<R> {
  return host.request<R>('workspace/executeCommand', { command, arguments: [params] });
}

/** Explorer argument → the model folder and (for model.sig) the signature file. */
function target(arg: unknown): { model?: string; signature?: string } {
  const uri = arg instanceof vscode.Uri ? arg : undefined;
  if (!uri || uri.scheme !== 'file') return {};
  const p = uri.fsPath;
  if (path.basename(p) === 'model.sig') return { model: path.dirname(p), signature: p };
  try { if (fs.statSync(p).isDirectory()) return { model: p }; } catch { /* not on disk */ }
  return {};
}

export async function signModelCommand(host: SigningHost, arg?: unknown): Promise<void> {
  const model = target(arg).model ?? await pickFolder('Model folder to sign');
  if (!model) return;
  const key = (await pickFile('Private key (ECDSA PEM) to sign with', host.state.get<string>(LAST_KEY)))?.[0];
  if (!key) return;
  await host.state.update(LAST_KEY, key);
  const params: SignModelParams = { model, key };
  const method = await vscode.window.showQuickPick([
    { label: 'Key only', description: 'the bundle names the key by its hint' },
    { label: 'Key and certificate…', description: 'pick the signing certificate and its intermediates' },
  ], { title: 'Sign with' });
  if (!method) return;
  if (method.label.startsWith('Key and certificate')) {
    params.certificate = (await pickFile('Signing certificate (PEM) for the key'))?.[0];
    if (!params.certificate) return;
    params.certificateChain = await pickFile('Intermediate certificates (optional: cancel for none)', params.certificate, true) ?? [];
  }
  if (isEncryptedKey(key)) {
    params.password = await vscode.window.showInputBox({ title: `Password for ${path.basename(key)}`, password: true, ignoreFocusOut: true });
    if (params.password === undefined) return;
  }
  let result = await execute<SignModelResult>(host, SigningCommands.sign, params);
  if (!result.ok && result.exists) {
    const choice = await vscode.window.showWarningMessage(`${path.join(path.basename(model), 'model.sig')} already exists. Replace it?`, { modal: true }, 'Replace');
    if (choice !== 'Replace') return;
    result = await execute<SignModelResult>(host, SigningCommands.sign, { ...params, force: true });
  }
  if (!result.ok) {
    host.log(`signing ${model} failed: ${result.reason}`);
    if (!result.cancelled) void vscode.window.showErrorMessage(`ModelVet did not sign ${path.basename(model)}: ${result.reason}`);
    return;
  }
  host.log(`signed ${model} → ${result.signature}: ${result.files} files, ${result.bytes} bytes, ${result.digest}`);
  void vscode.window.showInformationMessage(`ModelVet signed ${path.basename(model)} (${result.files} files) → model.sig · ${result.digest.slice(0, 19)}…`, 'Reveal in Explorer')
    .then((c) => { if (c) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(result.ok ? result.signature : model)); });
}

export async function verifyModelCommand(host: SigningHost, arg?: unknown): Promise<void> {
  const t = target(arg);
  const model = t.model ?? await pickFolder('Model folder to verify');
  if (!model) return;
  const params: VerifyModelParams = { model, signature: t.signature };
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
  // Like the server: the configured key / CA from user settings unless the workspace is trusted.
  const setting = <T>(k: string): T | undefined => { const i = cfg.inspect<T>(k); return vscode.workspace.isTrusted ? cfg.get<T>(k) : i?.globalValue; };
  const configuredKey = setting<string>('signing.publicKey');
  const configuredCa = setting<string[]>('signing.certificateChain') ?? [];
  const items: Array<vscode.QuickPickItem & { id: string }> = [];
  if (configuredKey) items.push({ id: 'configured-key', label: 'Configured public key', description: configuredKey });
  if (configuredCa.length) items.push({ id: 'configured-ca', label: 'Configured CA certificates', description: configuredCa.join(', ') });
  items.push({ id: 'key', label: 'Public key…', description: 'signed with a key (modelvet sign --key, model_signing sign key)' });
  items.push({ id: 'ca', label: 'CA certificate…', description: 'signed with a certificate (model_signing sign certificate)' });
  const how = await vscode.window.showQuickPick(items, { title: `Verify ${path.basename(model)} with` });
  if (!how) return;
  if (how.id === 'configured-key') params.key = configuredKey;
  else if (how.id === 'configured-ca') params.certificateChain = configuredCa;
  else if (how.id === 'key') {
    params.key = (await pickFile('Signer\'s public key (PEM)', host.state.get<string>(LAST_PUBLIC_KEY)))?.[0];
    if (!params.key) return;
    await host.state.update(LAST_PUBLIC_KEY, params.key);
  } else {
    params.certificateChain = await pickFile('Trusted CA certificate(s) (PEM)', undefined, true);
    if (!params.certificateChain) return;
  }
  const result = await execute<VerifyModelResult>(host, SigningCommands.verify, params);
  if (!result.ok) {
    host.log(`verifying ${model} failed: ${result.reason}`);
    if (!result.cancelled) void vscode.window.showErrorMessage(`ModelVet could not verify ${path.basename(model)}: ${result.reason}`);
    return;
  }
  const lines = verifyLines(result);
  for (const l of lines) host.log(l);
  if (result.verified) void vscode.window.showInformationMessage(`ModelVet: ${path.basename(model)} verified (${result.method}, ${result.files} files, sha256:${result.rootDigest?.slice(0, 12)}…).`);
  else void vscode.window.showErrorMessage(`ModelVet: ${path.basename(model)} is NOT verified — ${lines.slice(1, 4).join('; ')}`, 'Show Output')
    .then((c) => { if (c) void vscode.commands.executeCommand('modelvet.showOutput'); });
}

/** The report as lines: headline, then each failed check and file. */
export function verifyLines(r: Extract<VerifyModelResult, { ok: true }>): string[] {
  const out = [`${r.verified ? 'verified' : 'NOT verified'}: ${r.model} (signature ${r.signature})`];
  for (const f of r.failures) if (!f.file) out.push(`${f.check}: ${f.message}`);
  for (const f of r.changed) out.push(`changed: ${f}`);
  for (const f of r.missing) out.push(`missing: ${f}`);
  for (const f of r.extra) out.push(`unsigned: ${f}`);
  return out;
}
