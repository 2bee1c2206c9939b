/**
 * Keras: the nested model config (Keras 3 `.keras` zip → config.json; legacy
 * `.h5` → root attributes `model_config`/`training_config`) is walked as JSON.
 * Flags Lambda layers (critical when they carry marshalled bytecode), modules
 * outside Keras's namespaces, gadget layers/functions that bypass safe_mode,
 * and references to enable_unsafe_deserialization.
 */
import type * as Hdf5 from './hdf5-reader';
import type { ByteSource, FormatHandler, ScanContext } from '../format';
import { readAll, utf8 } from '../bytes';
import { registerZipClassifier, joinMember, type ZipArchive } from '../zip';
import { checkJsonKeys } from './json-keys';

/**
 * jsfive (the HDF5 reader, ~220 KB of the scan bundle) is loaded by the first .h5/.hdf5 file, not when the
 * scanner loads: a CLI scan of anything else does not run (or keep in its code cache) its module code.
 */
let hdf5Module: typeof Hdf5 | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hdf5 = (): typeof Hdf5 => (hdf5Module ??= require('./hdf5-reader') as typeof Hdf5);

/** Nesting depth of config JSON we follow (Sequential in Functional in …). */
export const KERAS_MAX_CONFIG_DEPTH = 256;
/** JSON values visited per config. */
export const KERAS_MAX_CONFIG_NODES = 2_000_000;
/** HDF5 files up to this size are read whole for jsfive. */
export const H5_FULL_READ_BYTES = 256 * 1024 * 1024;
/** Larger HDF5 files (up to H5_MAX_BYTES) get only their first bytes read (attributes live near the start). */
export const H5_PARTIAL_READ_BYTES = 64 * 1024 * 1024;
export const H5_MAX_BYTES = 4 * 1024 * 1024 * 1024 - 1;
/** Most config findings per file. */
const MAX_CONFIG_FINDINGS = 50;

const KERAS_MODULE = /^(keras|tensorflow\.keras|tensorflow\.python\.keras|tf_keras|keras_hub|keras_nlp|keras_cv)(\.|$)/;
const SAFE_BUILTINS = new Set(['tuple', 'list', 'dict', 'set', 'frozenset', 'bytes', 'slice', 'int', 'float', 'str', 'bool', 'complex']);
const GADGET_CLASSES = new Set(['TFSMLayer', 'TorchModuleWrapper', 'JaxLayer', 'FlaxLayer']);
const GADGET_FUNCTIONS = new Set(['get_file', 'load_model', 'load_weights', 'TFSMLayer', 'torch.load', 'load']);

/** base64 of a marshalled code object: type byte 'c' (0x63) or 0xe3 (with FLAG_REF) after decoding. */
function isMarshalledCode(s: string): boolean {
  if (s.length < 16 || !/^[A-Za-z0-9+/=\s_-]+$/.test(s)) return false;
  const b = Buffer.from(s.slice(0, 64), 'base64');
  return b.length > 0 && (b[0] === 0xe3 || b[0] === 0x63);
}

function findBytecode(v: unknown, depth = 0): string | undefined {
  if (depth > 8) return undefined;
  if (typeof v === 'string') return isMarshalledCode(v) ? v : undefined;
  if (Array.isArray(v)) { for (const x of v) { const r = findBytecode(x, depth + 1); if (r) return r; } return undefined; }
  if (v && typeof v === 'object') { for (const x of Object.values(v)) { const r = findBytecode(x, depth + 1); if (r) return r; } }
  return undefined;
}

/** Walks a parsed Keras config and reports findings (where = 'config.json' / 'model_config'). */
export function reviewKerasConfig(config: unknown, ctx: ScanContext, where: string): void {
  let nodes = 0, reported = 0;
  const seen = new Set<string>();
  const report = (code: string, severity: 'critical' | 'high' | 'medium', message: string, at: string, evidence?: string) => {
    const key = `${code}:${message}`;
    if (seen.has(key) || reported >= MAX_CONFIG_FINDINGS) return;
    seen.add(key); reported++;
    ctx.finding(code, severity, message, { member: ctx.member || undefined }, `${where}: ${at}${evidence ? ` — ${evidence}` : ''}`);
  };
  const stack: [unknown, string, number][] = [[config, '$', 0]];
  while (stack.length) {
    const [v, at, depth] = stack.pop()!;
    if (++nodes > KERAS_MAX_CONFIG_NODES) { ctx.incomplete('KERAS006', `${where}: more than ${KERAS_MAX_CONFIG_NODES} JSON values`); return; }
    if (depth > KERAS_MAX_CONFIG_DEPTH) { ctx.incomplete('KERAS006', `${where}: config nested deeper than ${KERAS_MAX_CONFIG_DEPTH}`); return; }
    if (typeof v === 'string') {
      if (v.includes('enable_unsafe_deserialization')) report('KERAS005', 'high', 'config references enable_unsafe_deserialization', at, v.slice(0, 100));
      continue;
    }
    if (Array.isArray(v)) { v.forEach((x, i) => stack.push([x, `${at}[${i}]`, depth + 1])); continue; }
    if (!v || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    const className = typeof o.class_name === 'string' ? o.class_name : undefined;
    const module = typeof o.module === 'string' ? o.module : undefined;
    const registered = typeof o.registered_name === 'string' ? o.registered_name : undefined;
    const layerName = o.config && typeof o.config === 'object' && typeof (o.config as Record<string, unknown>).name === 'string' ? `'${(o.config as Record<string, unknown>).name}'` : at;
    if (className === 'Lambda' || registered?.endsWith('>Lambda')) {
      const code = findBytecode(o.config);
      if (code) report('KERAS001', 'critical', `Lambda layer ${layerName} carries marshalled Python bytecode`, at, `${code.slice(0, 40)}…`);
      else report('KERAS002', 'high', `Lambda layer ${layerName} references a Python function`, at, JSON.stringify((o.config as Record<string, unknown> | undefined)?.function ?? null).slice(0, 120));
    }
    if (className && GADGET_CLASSES.has(className)) report('KERAS004', 'high', `gadget layer ${className} (${layerName}) loads external code or models`, at, JSON.stringify(o.config ?? null).slice(0, 160));
    if (className === 'function' && typeof o.config === 'string' && GADGET_FUNCTIONS.has(o.config)) report('KERAS004', 'high', `config calls ${module ?? ''}.${o.config}`, at);
    if (module !== undefined && !KERAS_MODULE.test(module) && !(module === 'builtins' && className && SAFE_BUILTINS.has(className))) {
      report('KERAS003', 'high', `config imports module '${module}' (class '${className ?? '?'}') outside Keras`, at);
    } else if (registered && registered.includes('>') && !KERAS_MODULE.test(registered.split('>')[0])) {
      report('KERAS003', 'medium', `config uses custom registered object '${registered}'`, at);
    }
    for (const [k, x] of Object.entries(o)) stack.push([x, `${at}.${k}`, depth + 1]);
  }
}

function parseConfigText(text: string, ctx: ScanContext, where: string): unknown {
  const keys = checkJsonKeys(text, KERAS_MAX_CONFIG_DEPTH);
  if (keys.error) { ctx.incomplete('KERAS006', `${where} is not valid JSON: ${keys.error}`); return undefined; }
  for (const d of keys.duplicates.slice(0, 5)) ctx.finding('KERAS006', 'medium', `${where} has a duplicate key '${d}' (parsers disagree on which wins)`);
  return JSON.parse(text);
}

// ---- Keras 3 zip ---------------------------------------------------------------------------------

export function claimsKeras(archive: ZipArchive): boolean {
  const names = new Set(archive.entries.map((e) => e.name));
  return names.has('config.json') && names.has('metadata.json');
}

export function scanKerasArchive(archive: ZipArchive, _src: ByteSource, ctx: ScanContext): void {
  const limits = ctx.options.limits;
  const maxJson = Math.min(limits.maxHeaderBytes, limits.maxInMemoryBytes);
  const readText = (name: string): string | undefined => {
    const e = archive.entries.find((x) => x.name === name)!;
    if (e.size > maxJson) { ctx.incomplete('KERAS006', `${name} is ${e.size} bytes, above the ${maxJson}-byte limit`); return undefined; }
    const s = archive.openEntry(e, maxJson);
    if (!s) { ctx.incomplete('KERAS006', `${name} cannot be opened (${archive.problems.at(-1) ?? 'unknown reason'})`); return undefined; }
    return utf8(readAll(s));
  };
  const meta = readText('metadata.json');
  if (meta !== undefined) {
    try {
      const m = JSON.parse(meta) as Record<string, unknown>;
      if (typeof m.keras_version === 'string') ctx.meta('keras_version', m.keras_version);
    } catch { ctx.finding('KERAS006', 'medium', 'metadata.json is not valid JSON'); }
  }
  const text = readText('config.json');
  if (text !== undefined) {
    const cfg = parseConfigText(text, ctx, 'config.json');
    if (cfg !== undefined) reviewKerasConfig(cfg, ctx, 'config.json');
  }
  // Every other member (weights, assets) is sniffed and scanned like a file of its own.
  for (const e of archive.entries) {
    if (e.name === 'config.json' || e.name === 'metadata.json' || e.name.endsWith('/') || e.size === 0) continue;
    const s = archive.openEntry(e, Math.min(limits.maxInMemoryBytes, limits.maxDecompressedBytes));
    if (!s) { ctx.incomplete('KERAS006', `member '${e.name}' cannot be opened`, { member: joinMember(ctx.member, e.name) }); continue; }
    ctx.scanNested(e.name, s);
  }
}

registerZipClassifier({ id: 'keras', claims: claimsKeras, scan: scanKerasArchive });

// ---- legacy HDF5 ---------------------------------------------------------------------------------

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
export function sniffHdf5(head: Uint8Array): number {
  return head.length >= 8 && HDF5_SIGNATURE.every((b, i) => head[i] === b) ? 95 : 0;
}

function attrText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return utf8(v);
  if (Array.isArray(v) && v.length === 1) return attrText(v[0]);
  return undefined;
}

/** The superblock's end-of-file address (undefined when the superblock is unreadable). */
export function hdf5EndOfFile(head: Uint8Array): number | undefined {
  if (head.length < 16) return undefined;
  const version = head[8];
  let sizeOfOffsets: number, at: number;
  if (version === 0 || version === 1) { sizeOfOffsets = head[13]; at = 24 + (version === 1 ? 4 : 0) + 2 * sizeOfOffsets; }
  else if (version === 2 || version === 3) { sizeOfOffsets = head[9]; at = 12 + 2 * sizeOfOffsets; }
  else return undefined;
  if (![2, 4, 8].includes(sizeOfOffsets) || at + sizeOfOffsets > head.length) return undefined;
  let v = 0;
  for (let i = sizeOfOffsets - 1; i >= 0; i--) v = v * 256 + head[at + i];
  return v;
}

export function scanHdf5(src: ByteSource, ctx: ScanContext): void {
  if (src.size > H5_MAX_BYTES) { ctx.incomplete('KERAS006', `HDF5 file of ${src.size} bytes is above the ${H5_MAX_BYTES}-byte limit`); return; }
  // A truncated file is never judged: HDF5 records its own end-of-file address in the superblock.
  const eof = hdf5EndOfFile(src.read(0, 64));
  if (eof === undefined) { ctx.incomplete('KERAS006', 'HDF5 superblock is unreadable or of an unknown version'); return; }
  if (eof > src.size) { ctx.incomplete('KERAS006', `HDF5 file is truncated: the superblock says ${eof} bytes, the file has ${src.size}`); return; }
  const partial = src.size > Math.min(H5_FULL_READ_BYTES, ctx.options.limits.maxInMemoryBytes);
  // jsfive needs the whole file as an ArrayBuffer; for big files only the head is filled in (the
  // rest stays zero and is never committed to memory): root attributes are written near the start.
  let buffer: ArrayBuffer;
  try {
    buffer = new ArrayBuffer(src.size);
    const view = new Uint8Array(buffer);
    const n = partial ? H5_PARTIAL_READ_BYTES : src.size;
    for (let off = 0; off < n; off += 8 * 1024 * 1024) view.set(src.read(off, Math.min(8 * 1024 * 1024, n - off)), off);
  } catch (e) {
    ctx.incomplete('KERAS006', `cannot buffer the HDF5 file: ${(e as Error).message}`);
    return;
  }
  let attrs: Record<string, unknown>;
  try {
    attrs = new (hdf5().File)(buffer, ctx.path).attrs;
  } catch (e) {
    ctx.incomplete('KERAS006', `HDF5 root attributes cannot be read${partial ? ' from the head of this large file' : ''}: ${String((e as Error)?.message ?? e).slice(0, 120)}`);
    return;
  }
  let found = false;
  for (const key of ['model_config', 'training_config']) {
    let raw: unknown;
    try { raw = attrs[key]; } catch (e) { ctx.incomplete('KERAS006', `attribute ${key} cannot be read: ${String((e as Error)?.message ?? e).slice(0, 120)}`); continue; }
    if (raw === undefined) continue;
    found = true;
    const text = attrText(raw);
    if (text === undefined) { ctx.incomplete('KERAS006', `attribute ${key} is not a string`); continue; }
    if (text.length > ctx.options.limits.maxHeaderBytes) { ctx.incomplete('KERAS006', `attribute ${key} is above the header cap`); continue; }
    const cfg = parseConfigText(text, ctx, key);
    if (cfg !== undefined) reviewKerasConfig(cfg, ctx, key);
  }
  for (const key of ['keras_version', 'backend']) {
    try { const t = attrText(attrs[key]); if (t && t.length < 100) ctx.meta(key, t); } catch { /* optional */ }
  }
  if (partial && !found) ctx.incomplete('KERAS006', `large HDF5 file: no model_config in its first ${H5_PARTIAL_READ_BYTES} bytes (attributes elsewhere were not read)`);
}

export const hdf5Handler: FormatHandler = { id: 'hdf5', sniff: (head) => sniffHdf5(head), scan: scanHdf5 };
