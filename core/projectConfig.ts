/**
 * `[tool.modelvet]` in a project's pyproject.toml: the configuration the CLI and the language server
 * share. A repository may tune rules with it (visible in review); it may never turn network access on,
 * point it at another host or name files to read (TRUST_RESTRICTED_SETTINGS): those keys are refused
 * and reported, whoever runs the tool.
 */
import path from 'node:path';
import { getStaticTOMLValue, parseTOML } from 'toml-eslint-parser';
import type { FileAccess } from './analysis';
import { restrictedKeysIn } from './config';

export interface ProjectConfig {
  /** The pyproject.toml it came from. */
  file: string;
  /** The `[tool.modelvet]` table (restricted keys still in it: mergeConfig refuses them). */
  table: Record<string, unknown>;
  /** Restricted keys the table tries to set (dotted names); they are ignored. */
  refused: string[];
}

/**
 * `[tool.modelvet]` of `<root>/pyproject.toml`, or undefined (no file, no table, invalid TOML — DEP008
 * reports invalid TOML; a broken file must not change the configuration).
 */
export function readProjectConfig(root: string, fs: FileAccess): ProjectConfig | undefined {
  const file = path.join(root, 'pyproject.toml');
  return parseProjectConfig(file, fs.readText(file));
}

export function parseProjectConfig(file: string, text: string | undefined): ProjectConfig | undefined {
  if (!text || !text.includes('modelvet')) return undefined; // most pyproject files have no table of ours
  let value: any;
  try { value = getStaticTOMLValue(parseTOML(text)); } catch { return undefined; }
  const table = value?.tool?.modelvet;
  if (!table || typeof table !== 'object' || Array.isArray(table)) return undefined;
  return { file, table, refused: restrictedKeysIn(table) };
}

/** The message for restricted keys a project file tried to set. */
export function refusedKeysMessage(cfg: ProjectConfig): string | undefined {
  if (!cfg.refused.length) return undefined;
  return `${cfg.file}: [tool.modelvet] may not set ${cfg.refused.join(', ')} (network access and files to read are the user's choice: use the editor's user settings or the command line); ignored`;
}
