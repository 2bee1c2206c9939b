/**
 * Dataset auditing entry points: files and folders (CLI, the editor's "Audit Dataset…" command)
 * and one in-memory text (the editor's diagnostics for an open JSONL/CSV file). Formats are decided
 * by extension and content (PAR1 magic); Hugging Face dataset folders give splits from
 * README.md `configs` / file names and row counts from dataset_info.json.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Auditor, findToken, NearDupHelperFailed, NearDupShare } from './engine';
import type { RowCache } from './rowCache';
import { readCsv } from './readers/csv';
import { readJsonArray, readJsonl } from './readers/lines';
import { readParquet } from './readers/parquet';
import { looksLikeArrow, readArrow } from './readers/arrow';
import type { AuditOptions, AuditResult, DatasetFormat } from './types';
import { countLineBreaks, LineIndex } from '../text';
import type { Finding } from '../types';

export { Auditor } from './engine';
export { RowCache } from './rowCache';
export type * from './types';

const CHUNK = 1024 * 1024;
const SPLIT_RE = /(?:^|[\\/_.-])(train|training|test|testing|validation|valid|val|dev|eval)(?=[\\/_.-]|$)/i;
const SPLIT_NAMES: Record<string, string> = { training: 'train', testing: 'test', valid: 'validation', val: 'validation', dev: 'validation', eval: 'validation' };
/** JSON files that are metadata, not rows (dataset and model folders, tooling). */
const NON_DATA = new Set([
  'dataset_info.json', 'dataset_infos.json', 'state.json', 'dataset_dict.json', 'package.json', 'tsconfig.json', 'package-lock.json',
  'config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'vocab.json',
  'adapter_config.json', 'preprocessor_config.json', 'added_tokens.json', 'model.safetensors.index.json', 'pytorch_model.bin.index.json',
]);

/** Dataset format by file name, or undefined. */
export function datasetFormat(file: string): DatasetFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.arrow') || lower.endsWith('.feather')) return 'arrow';
  if (lower.endsWith('.json') && !NON_DATA.has(path.basename(lower))) return 'json';
  return undefined;
}

/** Formats the editor audits as text (row-level diagnostics on the open buffer). */
export function isTextDataset(file: string): boolean {
  const f = datasetFormat(file);
  return f === 'jsonl' || f === 'csv' || f === 'tsv';
}

export function splitOf(rel: string): string | undefined {
  const m = SPLIT_RE.exec(rel);
  if (!m) return undefined;
  const s = m[1].toLowerCase();
  return SPLIT_NAMES[s] ?? s;
}

interface Planned { file: string; format: DatasetFormat | 'unknown'; split?: string; reference: boolean; expectedRows?: number }

/** Files of a folder (Hugging Face layout or any folder of data files), sorted, bounded. */
export function planFolder(dir: string, reference: boolean, maxFiles: number): { files: Planned[]; notes: string[] } {
  const notes: string[] = [];
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4 || found.length > maxFiles) return;
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { notes.push(`${d}: unreadable folder`); return; }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === '__pycache__') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && datasetFormat(e.name) && !(e.name.startsWith('cache-') && e.name.endsWith('.arrow'))) found.push(p);
    }
  };
  walk(dir, 0);
  if (found.length > maxFiles) { notes.push(`more than ${maxFiles} data files in ${dir}; the first ${maxFiles} were audited`); found.length = maxFiles; }
  // README.md configs → data_files per split (globs with *)
  const splitGlobs: Array<{ split: string; re: RegExp }> = [];
  const readme = path.join(dir, 'README.md');
  if (existsSync(readme)) {
    try {
      const text = readFileSync(readme, 'utf8').slice(0, 256 * 1024);
      const fm = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
      if (fm) {
        const re = /-\s*split:\s*([\w-]+)\s*\r?\n\s*path:\s*(?:\[\s*)?["']?([^"'\]\r\n]+)/g;
        let m: RegExpExecArray | null;
        while ((m = re.exec(fm[1]))) splitGlobs.push({ split: m[1], re: globToRegExp(m[2].trim()) });
      }
    } catch { /* unreadable README: splits from names */ }
  }
  let expected: Record<string, number> = {};
  const info = path.join(dir, 'dataset_info.json');
  if (existsSync(info)) {
    try {
      const j = JSON.parse(readFileSync(info, 'utf8').slice(0, 4 * 1024 * 1024));
      const splits = j?.splits ?? (Object.values(j ?? {})[0] as { splits?: unknown } | undefined)?.splits;
      if (splits && typeof splits === 'object') for (const [k, v] of Object.entries(splits)) if (typeof (v as any)?.num_examples === 'number') expected[k] = (v as any).num_examples;
    } catch { notes.push('dataset_info.json is not valid JSON'); expected = {}; }
  }
  const files: Planned[] = found.map((file) => {
    const rel = path.relative(dir, file).replace(/\\/g, '/');
    const split = splitGlobs.find((g) => g.re.test(rel))?.split ?? splitOf(rel);
    const format = datasetFormat(file)!;
    return { file, format, split, reference };
  });
  // Training data first: leakage is then reported on the evaluation split's rows.
  const order = (f: Planned) => (f.split === 'train' ? 0 : f.split === 'validation' ? 1 : f.split === 'test' ? 2 : 3);
  files.sort((x, y) => order(x) - order(y) || (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
  for (const [split, n] of Object.entries(expected)) {
    const hit = files.filter((f) => f.split === split);
    if (hit.length) hit[0].expectedRows = n;
  }
  // Only one file per split carries the expectation, so expectations with several shards are summed later.
  return { files, notes };
}

function globToRegExp(g: string): RegExp {
  const esc = g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

function sniff(file: string): DatasetFormat | undefined {
  try {
    const fd = openSync(file, 'r');
    const b = Buffer.alloc(64);
    const n = readSync(fd, b, 0, 64, 0);
    closeSync(fd);
    const head = b.toString('utf8', 0, n).replace(/^\ufeff/, '').trimStart();
    if (head.startsWith('PAR1')) return 'parquet';
    if (looksLikeArrow(b.subarray(0, n))) return 'arrow';
    if (head.startsWith('[')) return 'json';
    if (head.startsWith('{')) return 'jsonl';
  } catch { /* unreadable: reported by the caller */ }
  return undefined;
}

async function* fileChunks(file: string, a: Auditor, src: number, hash: ReturnType<typeof createHash> | undefined, onBytes: (n: number) => void): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let read = 0;
  const stream = createReadStream(file, { highWaterMark: CHUNK });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      read += buf.length;
      hash?.update(buf);
      onBytes(buf.length);
      if (read > a.limits.maxFileBytes) { a.incomplete(src, `file larger than ${a.limits.maxFileBytes} bytes; the rest was not read`); hash = undefined; return; }
      yield decoder.write(buf);
    }
    const rest = decoder.end();
    if (rest) yield rest;
  } finally { stream.destroy(); }
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const b of createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) h.update(b);
  return h.digest('hex');
}

export interface AuditInputs { paths: string[]; reference?: string[] }

/** Audit files and folders (and optional reference files for drift). Never throws for bad data. */
export async function auditPaths(inputs: AuditInputs, opts: AuditOptions = {}): Promise<AuditResult> {
  const a = new Auditor(opts);
  const plan: Planned[] = [];
  const notes: Array<{ file: string; reason: string }> = [];
  const add = (p: string, reference: boolean) => {
    let st;
    try { st = statSync(p); } catch { notes.push({ file: p, reason: 'no such file or folder' }); return; }
    if (st.isDirectory()) {
      const r = planFolder(p, reference, a.limits.maxFolderFiles);
      plan.push(...r.files);
      for (const n of r.notes) notes.push({ file: p, reason: n });
      if (!r.files.length) notes.push({ file: p, reason: 'no data files (.jsonl, .json, .csv, .tsv, .parquet, .arrow) in this folder' });
    } else {
      const format = datasetFormat(p) ?? sniff(p) ?? 'unknown';
      plan.push({ file: p, format, split: splitOf(path.basename(p)), reference });
    }
  };
  // References first, then training splits: duplicates are reported on the later (evaluated) rows.
  for (const p of inputs.reference ?? []) add(p, true);
  for (const p of inputs.paths) add(p, false);
  const total = plan.reduce((s, f) => { try { return s + statSync(f.file).size; } catch { return s; } }, 0);
  let done = 0;
  for (const n of notes) { const src = a.addSource(n.file, 'jsonl'); a.incomplete(src, n.reason); }
  // Splits of a folder share their dataset_info.json expectation: sum rows per split afterwards.
  const expected = new Map<string, { n: number; srcs: number[] }>();
  for (const f of plan) {
    if (opts.isCancelled?.()) break;
    let size = 0;
    try { size = statSync(f.file).size; } catch { /* reported below */ }
    const format = f.format === 'unknown' ? 'jsonl' : f.format;
    const src = a.addSource(f.file, format, { split: f.split, reference: f.reference, bytes: size });
    const key = `${path.dirname(f.file)}|${f.split}`;
    if (f.split) { const e = expected.get(key) ?? { n: -1, srcs: [] }; if (f.expectedRows !== undefined) e.n = f.expectedRows; e.srcs.push(src); expected.set(key, e); }
    opts.onProgress?.(done, total, f.file);
    if (f.format === 'unknown') { a.incomplete(src, 'unknown data format (expected .jsonl, .json, .csv, .tsv, .parquet or .arrow)'); done += size; continue; }
    const hash = opts.hash === false ? undefined : createHash('sha256');
    const onBytes = (n: number) => { done += n; opts.onProgress?.(done, total, f.file); };
    try {
      if (format === 'parquet' || format === 'arrow') {
        await (format === 'parquet' ? readParquet : readArrow)(a, src, f.file, opts.isCancelled);
        done += size;
        if (hash) a.setHash(src, await hashFile(f.file));
      } else {
        const chunks = fileChunks(f.file, a, src, hash, onBytes);
        if (format === 'jsonl') await readJsonl(a, src, chunks, opts.isCancelled);
        else if (format === 'json') await readJsonArray(a, src, chunks, opts.isCancelled);
        else await readCsv(a, src, chunks, format === 'tsv' ? '\t' : ',', opts.isCancelled);
        if (hash && a.wantsMore(src)) a.setHash(src, hash.digest('hex'));
        else if (opts.hash !== false) a.setHash(src, await hashFile(f.file));
      }
    } catch (e) {
      a.incomplete(src, `could not be read: ${(e as Error).message.slice(0, 160)}`);
    }
  }
  const result = a.finish();
  if (!opts.isCancelled?.()) await placeTokens(result);
  for (const [, e] of expected) {
    if (e.n < 0) continue;
    const got = e.srcs.reduce((s, i) => s + result.report.sources[i].rows, 0);
    const complete = e.srcs.every((i) => !result.report.sources[i].incomplete.length);
    if (complete && got !== e.n) {
      const s = result.report.sources[e.srcs[0]];
      result.findings.push({ path: s.path, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, code: 'DATA012', severity: 'information', message: `dataset_info.json says the ${s.split} split has ${e.n} rows; its files have ${got}`, fixes: [] });
    }
  }
  return result;
}

/**
 * Trigger rows are found after the whole file was read, when its lines are gone: one more streamed
 * pass over the text files that have them puts each finding on the token's column.
 */
async function placeTokens(result: AuditResult): Promise<void> {
  const wanted = new Map<string, Map<number, Finding[]>>();
  for (const f of result.findings) {
    if ((f.code !== 'DATA004' && f.code !== 'DATA015') || typeof f.data?.token !== 'string' || typeof f.data?.row !== 'number' || f.range.start.character !== 0) continue;
    const fmt = datasetFormat(f.path);
    if (fmt !== 'jsonl' && fmt !== 'csv' && fmt !== 'tsv' && fmt !== 'json') continue;
    let m = wanted.get(f.path);
    if (!m) wanted.set(f.path, (m = new Map()));
    const list = m.get(f.range.start.line) ?? [];
    list.push(f);
    m.set(f.range.start.line, list);
  }
  for (const [file, lines] of wanted) {
    const last = Math.max(...lines.keys());
    let line = 0, carry = '';
    const decoder = new StringDecoder('utf8');
    const visit = (text: string) => {
      const fs = lines.get(line);
      if (fs) for (const f of fs) {
        const at = findToken(text.length > 1_000_000 ? text.slice(0, 1_000_000) : text, f.data!.token as string);
        if (at >= 0) f.range = { start: { line, character: at }, end: { line, character: at + (f.data!.token as string).length } };
      }
      line++;
    };
    try {
      // lines as the findings count them (and the editor): LF, CRLF and a lone CR each end one
      let cr = false; // the last chunk ended with a CR: an LF starting this one belongs to it
      for await (const buf of createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
        let chunk = decoder.write(buf);
        if (cr && chunk.charCodeAt(0) === 10) chunk = chunk.slice(1);
        cr = false;
        let pos = 0;
        const next = breaks(chunk);
        for (let nl = next(0); nl >= 0; nl = next(pos)) {
          const text = carry ? carry + chunk.slice(pos, nl) : chunk.slice(pos, nl);
          carry = '';
          pos = nl + 1;
          if (chunk.charCodeAt(nl) === 13) { if (nl + 1 < chunk.length) { if (chunk.charCodeAt(nl + 1) === 10) pos++; } else cr = true; }
          if (lines.has(line)) visit(text); else line++;
        }
        carry += chunk.slice(pos);
        if (carry.length > 4 * 1024 * 1024) carry = carry.slice(0, 4 * 1024 * 1024); // a giant line: its start is enough
        if (line > last) break;
      }
    } catch { /* positions stay at column 0 */ }
  }
}

/** The index of the next CR or LF in s from a position (positions asked in increasing order), or -1. */
function breaks(s: string): (from: number) => number {
  let n = -2, r = s.indexOf('\r') < 0 ? -1 : -2;
  return (from) => {
    if (n !== -1 && n < from) n = s.indexOf('\n', from);
    if (r !== -1 && r < from) r = s.indexOf('\r', from);
    return n < 0 ? r : r < 0 ? n : Math.min(n, r);
  };
}

/**
 * Audit one dataset text (an editor buffer): row findings at exact lines and columns. With a
 * `cache` (kept per document by the editor), rows whose text was seen in an earlier audit reuse
 * their parsed record and row work; the findings are those of an audit without it. `deliver`
 * gets the result as soon as it is made, before the rows are handed to the cache (the editor's
 * worker answers first and keeps the rows after).
 */
export async function auditText(file: string, text: string, opts: AuditOptions = {}, nearDups?: NearDupBuffers, cache?: RowCache, deliver?: (r: AuditResult) => void): Promise<AuditResult> {
  if (nearDups) {
    try { return await auditTextWith(file, text, opts, new NearDupShare('read', nearDups), cache, deliver); } catch (e) {
      if (!(e instanceof NearDupHelperFailed)) throw e;
      // the helper thread died or stalled: the same audit on this thread alone
    }
  }
  return auditTextWith(file, text, opts, undefined, cache, deliver);
}

export type NearDupBuffers = ReturnType<typeof NearDupShare.allocate>;

/** Shared buffers for a near-duplicate helper over this text (rows ≤ lines). */
export function nearDupBuffers(text: string): NearDupBuffers { return NearDupShare.allocate(countLines(text)); }

/** Lines of a text as the editor counts them (LF, CRLF and a lone CR each end one): at least its rows. */
function countLines(text: string): number { return 1 + countLineBreaks(text); }

/** Texts from this size on have their audit tables sized from the line count before the first row. */
const RESERVE_MIN_CHARS = 64 * 1024;

/**
 * The helper's side of a split audit (run on a second thread over the same text and options): reads
 * the rows, finds near-duplicate twins and publishes them to `buffers`; never throws (a failure is
 * published, and the reading side then audits alone).
 */
export async function nearDupPass(file: string, text: string, opts: AuditOptions, buffers: NearDupBuffers, cache?: RowCache): Promise<void> {
  const share = new NearDupShare('write', buffers);
  try {
    const a = new Auditor({ ...opts, hash: false });
    await readText(a, file, text, opts, share, cache);
    if (!opts.isCancelled?.()) a.endRowCache();
    share.finish(true);
  } catch { share.finish(false); }
}

async function readText(a: Auditor, file: string, text: string, opts: AuditOptions, share?: NearDupShare, cache?: RowCache): Promise<void> {
  if (share) a.shareNearDuplicates(share);
  const format = datasetFormat(file) ?? 'jsonl';
  if (cache && (format === 'jsonl' || format === 'csv' || format === 'tsv')) a.useRowCache(cache, text, format);
  else if (text.length >= RESERVE_MIN_CHARS) a.expectLines(countLines(text)); // CSV/TSV, the near-duplicate helper: tables sized up front too
  const src = a.addSource(file, format === 'parquet' || format === 'arrow' ? 'jsonl' : format, { split: splitOf(path.basename(file)), bytes: text.length });
  const chunks = (function* () { for (let i = 0; i < text.length; i += CHUNK) yield text.slice(i, i + CHUNK); })();
  if (format === 'csv' || format === 'tsv') await readCsv(a, src, chunks, format === 'tsv' ? '\t' : ',', opts.isCancelled);
  else if (format === 'json') await readJsonArray(a, src, chunks, opts.isCancelled);
  else await readJsonl(a, src, chunks, opts.isCancelled);
}

async function auditTextWith(file: string, text: string, opts: AuditOptions, share?: NearDupShare, cache?: RowCache, deliver?: (r: AuditResult) => void): Promise<AuditResult> {
  const a = new Auditor({ ...opts, hash: false });
  await readText(a, file, text, opts, share, cache);
  const whole = !opts.isCancelled?.();
  let lines: LineIndex | undefined; // only trigger rows need their line's text
  const result = a.finish((_src, line) => { lines ??= new LineIndex(text); return line < lines.lineCount ? lines.lineText(line) : undefined; });
  deliver?.(result);
  // an audit that read the whole text: the next one starts from its rows (after the answer went out)
  if (whole) a.endRowCache();
  return result;
}
