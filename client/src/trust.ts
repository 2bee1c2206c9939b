/**
 * Workspace Trust, the client's half. VS Code already ignores workspace values of the settings in
 * package.json's `restrictedConfigurations` while a folder is untrusted; the server enforces the same
 * rule itself (server/src/settings.ts) and needs two facts for it: whether the workspace is trusted, and
 * what the user set at user scope. This module supplies both and tells the server when trust is granted.
 */
import * as vscode from 'vscode';
import { CONFIG_SECTION, EXPLICIT_KEYS_FIELD, USER_SCOPE_FIELD } from '../../core/protocol';
import { TRUST_RESTRICTED_SETTINGS } from '../../core/config';
import { setDotted } from '../../core/dotted';

/** Keys whose explicit setting overrides `[tool.modelvet]` (server/src/settings.ts LAYERED_KEYS). */
const LAYERED_KEYS = ['rules', 'requireHashes', 'projectKind', 'scan.weights'];

/** The restricted settings' user-scope (global) values, as a nested `modelvet` section patch. */
export function userScopeSettings(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
  const out: Record<string, unknown> = {};
  for (const key of TRUST_RESTRICTED_SETTINGS) {
    const v = cfg.inspect(key)?.globalValue;
    if (v !== undefined) setDotted(out, key, v);
  }
  return out;
}

/** Dotted keys the user set at some scope (so they override pyproject.toml even when equal to the default). */
export function explicitKeys(scope?: vscode.Uri): string[] {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  return LAYERED_KEYS.filter((k) => {
    const i = cfg.inspect(k);
    return i !== undefined && (i.globalValue !== undefined || i.workspaceValue !== undefined || i.workspaceFolderValue !== undefined);
  });
}

/**
 * Adds the two fields to every `modelvet` section of a configuration reply. Always overwritten: a
 * workspace's settings.json cannot supply them.
 */
export function augmentConfiguration(items: { section?: string; scopeUri?: string }[], result: unknown[]): unknown[] {
  return result.map((value, i) => {
    if (items[i]?.section !== CONFIG_SECTION || !value || typeof value !== 'object') return value;
    const scope = items[i].scopeUri ? vscode.Uri.parse(items[i].scopeUri!) : undefined;
    return { ...(value as object), [USER_SCOPE_FIELD]: userScopeSettings(), [EXPLICIT_KEYS_FIELD]: explicitKeys(scope) };
  });
}

