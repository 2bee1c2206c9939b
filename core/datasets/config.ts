/** `[tool.modelvet.datasets]` in pyproject.toml: column roles, allowed hosts and sampling for dataset audits. */
import type { DatasetSettings } from './types';

/** `[tool.modelvet.datasets]`: column roles and allowed hosts (never network or file settings). */
export function datasetSettingsFrom(table: unknown): DatasetSettings & { sample?: number } {
  const t = table && typeof table === 'object' ? (table as Record<string, unknown>) : {};
  const str = (k: string) => (typeof t[k] === 'string' && t[k] ? (t[k] as string) : undefined);
  const list = (k: string) => (Array.isArray(t[k]) ? (t[k] as unknown[]).filter((x): x is string => typeof x === 'string') : typeof t[k] === 'string' ? [t[k] as string] : undefined);
  const out: DatasetSettings & { sample?: number } = {};
  const text = list('text-column') ?? list('text-columns') ?? list('textColumns');
  if (text?.length) out.textColumns = text;
  const label = str('label-column') ?? str('labelColumn'); if (label) out.labelColumn = label;
  const id = str('id-column') ?? str('idColumn'); if (id) out.idColumn = id;
  const msg = str('messages-column') ?? str('messagesColumn'); if (msg) out.messagesColumn = msg;
  const hosts = list('allowed-hosts') ?? list('allowedHosts'); if (hosts?.length) out.allowedHosts = hosts.map((h) => h.toLowerCase());
  if (typeof t.sample === 'number' && Number.isInteger(t.sample) && t.sample > 0) out.sample = t.sample;
  return out;
}
