/**
 * Dataset files of a project for the AI-BOM: JSON Lines, JSON arrays, CSV/TSV, Parquet and Arrow
 * files, and Hugging Face dataset folders (a folder with dataset_info.json, dataset_dict.json or
 * state.json: one entry with its data files). Each becomes a CycloneDX `data` component with the
 * SHA-256 and size of its files and, when the audit is cheap (small enough) and not turned off, the
 * outcome of `modelvet audit-data` on it as properties. The walk uses the model-folder search's
 * ignores and limits; model folders are skipped (their files are model files).
 */
import { createHash } from 'node:crypto';
import { createReadStream, openSync, readdirSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { IGNORED_DIRS } from '../fileKinds';
import { MAX_FOLDER_DEPTH, MAX_FOLDERS_VISITED } from '../cards/find';
import { auditPaths, datasetFormat, planFolder } from '../datasets/index';
import { DEFAULT_LIMITS } from '../datasets/limits';
import type { AuditResult } from '../datasets/types';

/** Dataset entries (files or folders) listed in one BOM; more are a warning. */
export const MAX_BOM_DATASETS = 1000;
/** A dataset (file or folder) larger than this is listed with its digests but not audited. */
export const MAX_BOM_AUDIT_BYTES = 64 * 1024 * 1024;
/** Bytes audited per BOM over all datasets; later datasets are listed without an audit. */
export const MAX_BOM_AUDIT_TOTAL_BYTES = 256 * 1024 * 1024;

/** Marker files of a Hugging Face dataset folder (`save_to_disk`, a dataset repository clone). */
const HF_MARKERS = ['dataset_info.json', 'dataset_dict.json', 'state.json'];

export interface DatasetFile { abs: string; rel: string; format: string; split?: string; size: number; sha256?: string; rows?: number }
export interface DatasetEntry {
  kind: 'file' | 'folder';
  abs: string;
  /** Path relative to the BOM's root, `/`-separated. */
  rel: string;
  files: DatasetFile[];
  audit?: DatasetAudit;
  /** Why there is no audit. */
  notAudited?: string;
}
export interface DatasetAudit { complete: boolean; rows: number; findings: Record<string, number>; incomplete: string[] }

const rel = (root: string, p: string) => path.relative(root, p).split(path.sep).join('/') || '.';

/** A `.json` file is a dataset only when it holds a JSON array (config files are objects). */
function jsonArrayFile(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    const b = Buffer.alloc(256);
    const n = readSync(fd, b, 0, 256, 0);
    closeSync(fd);
    return b.toString('utf8', 0, n).replace(/^\ufeff/, '').trimStart().startsWith('[');
  } catch { return false; }
}

/** Dataset files and folders under `root` (model folders and ignored folders skipped), sorted. */
export function findDatasets(root: string, modelFolders: string[]): { entries: DatasetEntry[]; truncated: boolean; warnings: string[] } {
  const entries: DatasetEntry[] = [];
  const warnings: string[] = [];
  const skip = new Set(modelFolders.map((f) => path.resolve(f)));
  let visited = 0, truncated = false;
  const stack: Array<[string, number]> = [[path.resolve(root), 0]];
  while (stack.length && !truncated) {
    const [dir, depth] = stack.pop()!;
    if (++visited > MAX_FOLDERS_VISITED) { truncated = true; break; }
    let list;
    try { list = readdirSync(dir, { withFileTypes: true }); } catch { continue; }
    const names = new Set(list.map((e) => e.name));
    if (dir !== path.resolve(root) && HF_MARKERS.some((m) => names.has(m))) {
      const plan = planFolder(dir, false, DEFAULT_LIMITS.maxFolderFiles);
      warnings.push(...plan.notes.map((n) => `${rel(root, dir)}: ${n}`));
      if (plan.files.length) {
        entries.push({ kind: 'folder', abs: dir, rel: rel(root, dir), files: plan.files.map((f) => ({ abs: f.file, rel: rel(dir, f.file), format: f.format, split: f.split, size: sizeOf(f.file) })) });
        continue; // its files belong to the folder entry
      }
    }
    for (const e of list) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!IGNORED_DIRS.has(e.name) && depth < MAX_FOLDER_DEPTH && !skip.has(p)) stack.push([p, depth + 1]);
        continue;
      }
      if (!e.isFile()) continue;
      const format = datasetFormat(e.name);
      if (!format || (format === 'json' && !jsonArrayFile(p))) continue;
      if (e.name.startsWith('cache-') && format === 'arrow') continue; // derived copies (docs/datasets.md)
      entries.push({ kind: 'file', abs: p, rel: rel(root, p), files: [{ abs: p, rel: e.name, format, size: sizeOf(p) }] });
    }
    if (entries.length > MAX_BOM_DATASETS) { truncated = true; break; }
  }
  if (entries.length > MAX_BOM_DATASETS) entries.length = MAX_BOM_DATASETS;
  if (truncated) warnings.push(`the search for datasets stopped at its limit (${MAX_BOM_DATASETS} datasets, ${MAX_FOLDERS_VISITED} folders); the BOM lists only part of them`);
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { entries, truncated, warnings };
}

function sizeOf(p: string): number { try { return statSync(p).size; } catch { return 0; } }

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const b of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) h.update(b);
  return h.digest('hex');
}

function summarize(r: AuditResult): DatasetAudit {
  const findings: Record<string, number> = {};
  for (const f of r.findings) findings[f.code] = (findings[f.code] ?? 0) + 1;
  return {
    complete: !r.report.summary.incomplete,
    rows: r.report.summary.rows,
    findings: Object.fromEntries(Object.entries(findings).sort(([a], [b]) => (a < b ? -1 : 1))),
    incomplete: r.report.sources.flatMap((s) => s.incomplete.filter((x) => !x.startsWith('sampled')).map((x) => `${path.basename(s.path)}: ${x}`)),
  };
}

/**
 * Digests (always) and, unless `audit` is false or the entry is over the budget, the audit of each
 * entry. A file the audit could not hash is hashed directly; an unreadable file is a warning.
 */
export async function describeDatasets(entries: DatasetEntry[], audit: boolean, warnings: string[]): Promise<void> {
  let audited = 0;
  for (const e of entries) {
    const bytes = e.files.reduce((s, f) => s + f.size, 0);
    if (!audit) e.notAudited = 'audit turned off (--no-data-audit)';
    else if (bytes > MAX_BOM_AUDIT_BYTES) e.notAudited = `larger than ${MAX_BOM_AUDIT_BYTES} bytes (run modelvet audit-data on it)`;
    else if (audited + bytes > MAX_BOM_AUDIT_TOTAL_BYTES) e.notAudited = `the BOM's audit budget (${MAX_BOM_AUDIT_TOTAL_BYTES} bytes) is used up (run modelvet audit-data on it)`;
    if (!e.notAudited) {
      audited += bytes;
      const r = await auditPaths({ paths: [e.abs] }, { hash: true });
      e.audit = summarize(r);
      for (const s of r.report.sources) {
        const f = e.files.find((x) => path.resolve(x.abs) === path.resolve(s.path));
        if (f) { f.sha256 = s.sha256; f.rows = s.rows; }
      }
    }
    for (const f of e.files) {
      if (f.sha256) continue;
      try { f.sha256 = await sha256(f.abs); } catch (err) { warnings.push(`${e.rel}: ${f.rel} could not be read (${(err as Error).message})`); }
    }
  }
}

/** The CycloneDX `data` object of an entry (componentData: type, name, contents, description). */
export function dataObject(e: DatasetEntry): Record<string, any> {
  const formats = [...new Set(e.files.map((f) => f.format))].sort();
  const splits = [...new Set(e.files.map((f) => f.split).filter((s): s is string => !!s))];
  const props: Array<{ name: string; value: string }> = [{ name: 'format', value: formats.join(',') }, { name: 'files', value: String(e.files.length) }];
  if (splits.length) props.push({ name: 'splits', value: splits.join(',') });
  if (e.audit) props.push({ name: 'rows', value: String(e.audit.rows) });
  const what = e.kind === 'folder' ? `Hugging Face dataset folder (${e.files.length} data file${e.files.length === 1 ? '' : 's'}${splits.length ? `; splits ${splits.join(', ')}` : ''})` : `${formats[0]} dataset file`;
  const audit = e.audit
    ? `audited by modelvet audit-data: ${e.audit.rows} rows, ${Object.entries(e.audit.findings).map(([c, n]) => `${c}×${n}`).join(', ') || 'no findings'}${e.audit.complete ? '' : ' (incomplete)'}`
    : `not audited: ${e.notAudited}`;
  return { type: 'dataset', name: e.rel, contents: { url: e.rel, properties: props }, description: `${what}; ${audit}` };
}
