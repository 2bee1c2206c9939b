/**
 * The dataset auditor: readers push rows (one source at a time or interleaved), the auditor keeps
 * bounded streaming statistics, and finish() turns them into findings (DATA001–DATA014) and a
 * report. Memory is bounded by the named limits, not by the file size: per row it keeps a few
 * integers (row → line, label, duplicate key), per token a small record, per near-duplicate
 * candidate a 16-value MinHash signature.
 */
import type { Finding, RelatedLocation, Severity } from '../types';
import { countLineBreaks, lineStarts } from '../text';
import { DEFAULT_LIMITS, STATS, type DatasetLimits } from './limits';
import { inferRoles, KNOWN_ROLES, turnRole } from './roles';
import path from 'node:path';
import { cleanLabelTest } from './cleanLabel';
import { binomialTail, bhThreshold, ksDistance, lengthBin, LENGTH_BINS, numberBin, NUMBER_BINS, psi } from './stats';
import { bottomKOf, hashWords, minhashOf, MINHASH_BANDS, MINHASH_K, SKETCH_K, sketchJaccard, tokenHashes, TokenScan, unique, unicodeIssues, words } from './text';
import { commandHits, injectionHits } from './patterns';
import { IntColumn, Vocab } from './vocab';
import { detach, E_GEN, E_HAS_PRIMARY, E_KEY_N, E_ND_N, E_ND_OFF, E_ND_SLOT, E_ND_STAMP, E_PRIMARY_LEN, E_SIG_OFF, E_TOK_N, E_TOK_OFF, ENTRY_WORDS, type NearDupRecord, NO_FINDINGS, type RelFinding, ROW_CACHE_MAX_ROWS, type RowCache, SIG_WORDS } from './rowCache';
import type { AuditOptions, AuditReport, AuditResult, ColumnReport, ColumnRoles, DatasetFormat, DriftReport, SourceReport, TriggerCandidate } from './types';

export interface RowInput {
  /** 0-based line of the row's first character (-1: no lines, e.g. Parquet). */
  line: number;
  record: Record<string, unknown>;
  /** The row's raw text (JSONL line, CSV record) for column positions of row findings. */
  raw?: string;
  /** Character where `raw` starts on its first line (JSON array elements). */
  column?: number;
  /** CSV: header names in order (to find a field in `raw`). */
  header?: readonly string[];
  /** The row's cached work (editor audits with a RowCache: an entry of it), looked up by the reader. */
  entry?: number;
}

interface RowFinding {
  code: string;
  severity: Severity;
  src: number;
  row: number;
  line: number;
  character: number;
  length: number;
  message: string;
  detail?: string;
  data?: Record<string, unknown>;
  related?: RelatedLocation[];
}

const TYPE_NAMES = ['string', 'number', 'boolean', 'null', 'object', 'array'] as const;
function typeIndex(v: unknown): number {
  if (v === null || v === undefined) return 3;
  switch (typeof v) {
    case 'string': return 0;
    case 'number': case 'bigint': return 1;
    case 'boolean': return 2;
    default: return Array.isArray(v) ? 5 : 4;
  }
}

interface ColumnStat {
  name: string;
  types: number[];
  typeFirstLine: number[];
  typeFirstRow: number[];
  empty: number;
  first?: string;
  constant: boolean;
  numHist?: Int32Array;
  lenHist?: Int32Array;
}

interface Source {
  index: number;
  path: string;
  format: DatasetFormat;
  split?: string;
  reference: boolean;
  bytes: number;
  sha256?: string;
  rows: number;
  roles?: ColumnRoles;
  buffer: RowInput[];
  columns: Map<string, ColumnStat>;
  signature?: string;
  signatureKeys?: string[];
  schemaChanges: number;
  schemaFirst?: { row: number; line: number; added: string[]; missing: string[] };
  labelCounts: Map<number, number>;
  lengthHist: Int32Array;
  incomplete: string[];
  sampled: boolean;
  duplicates: number;
  conflicts: number;
  // label runs (appended blocks)
  prevLabel: number;
  runLen: number;
  runStartRow: number;
  runStartLine: number;
  bestRun: Map<number, { len: number; startRow: number; startLine: number; endLine: number }>;
  transitions: number;
  labelledRows: number;
  lastLine: number;
  rowFindingCounts: Map<string, number>;
  missingOverride?: string[];
}

/** Rows kept per MinHash band bucket, and sketch comparisons per row (templated text fills buckets fast). */
const NEAR_DUP_BUCKET = 4, NEAR_DUP_MAX_COMPARISONS = 12;
/** Of the 16 MinHash values, at least this many must agree before the sketch decides (J ≥ 0.8 gives 12.8 on average; 8 keeps nearly all of them). */
const NEAR_DUP_MIN_AGREE = 8;

// Module-local copies: hot loops must not go through an import binding's getter (CommonJS interop).
const MH_K = MINHASH_K, MH_BANDS = MINHASH_BANDS, SIG_STRIDE = MINHASH_K + SKETCH_K;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Thrown by the reading side when the helper thread failed or stalled (the caller audits serially). */
export class NearDupHelperFailed extends Error { constructor(why: string) { super(`near-duplicate helper: ${why}`); } }

/** How long the reading side waits for the helper without progress before it gives up. */
export const NEAR_DUP_HELPER_STALL_MS = 10_000;

/**
 * The twins found by a near-duplicate helper thread, in shared memory: twin[gid] (-1: none), sim[gid]
 * and state[0] = rows published (gids below it are final), state[1] = 1 when the helper failed.
 */
export class NearDupShare {
  readonly twin: Int32Array;
  readonly sim: Float64Array;
  readonly state: Int32Array;
  constructor(readonly role: 'write' | 'read', readonly buffers: { twin: SharedArrayBuffer; sim: SharedArrayBuffer; state: SharedArrayBuffer }) {
    this.twin = new Int32Array(buffers.twin); this.sim = new Float64Array(buffers.sim); this.state = new Int32Array(buffers.state);
  }
  /** Buffers for at most `rows` tracked rows. */
  static allocate(rows: number): { twin: SharedArrayBuffer; sim: SharedArrayBuffer; state: SharedArrayBuffer } {
    const twin = new SharedArrayBuffer(4 * (rows + 1));
    new Int32Array(twin).fill(-1);
    return { twin, sim: new SharedArrayBuffer(8 * (rows + 1)), state: new SharedArrayBuffer(8) };
  }
  found(gid: number, twin: number, sim: number): void { if (gid < this.twin.length) { this.twin[gid] = twin; this.sim[gid] = sim; } }
  /** Rows up to gid are final (published every 256 rows and at the end). */
  done(gid: number): void {
    if (gid >= 0 && (gid & 255) === 255) { Atomics.store(this.state, 0, gid + 1); Atomics.notify(this.state, 0); }
  }
  finish(ok: boolean): void {
    if (!ok) Atomics.store(this.state, 1, 1);
    Atomics.store(this.state, 0, 0x7fffffff);
    Atomics.notify(this.state, 0);
  }
  /** The helper's twin for gid, waiting for it to get there. */
  twinOf(gid: number): number {
    if (gid >= this.twin.length) throw new NearDupHelperFailed('more rows than allocated');
    const st = this.state;
    let seen = Atomics.load(st, 0), since = 0;
    while (seen <= gid) {
      if (Atomics.load(st, 1)) throw new NearDupHelperFailed('failed');
      if (Atomics.wait(st, 0, seen, 100) === 'timed-out') {
        since += 100;
        if (since >= NEAR_DUP_HELPER_STALL_MS) throw new NearDupHelperFailed('stalled');
      } else since = 0;
      seen = Atomics.load(st, 0);
    }
    if (Atomics.load(st, 1)) throw new NearDupHelperFailed('failed');
    return this.twin[gid];
  }
}

/** log(n + 1) for small counts (the context model's hot loop). */
const LOG1 = Float64Array.from({ length: 1 << 16 }, (_, i) => Math.log(i + 1));

/**
 * Open-addressing hash set of 53-bit keys → first global row id, slot = the key's low bits (`key & mask`
 * is ToInt32(key) & mask, the key modulo the power-of-two capacity, without a floating-point remainder).
 * Keys and rows are two arrays (12 bytes a slot), not [key, row] pairs side by side in one Float64Array
 * (16 bytes): on a 6 M-row file the table and its copy while it grows are a big allocation, and the pairs
 * added ~10 MB to the 1 GB bench's peak RSS at no measurable speed.
 */
class KeyTable {
  private keys: Float64Array;
  private vals: Int32Array;
  private size = 0;
  constructor(private cap = 1 << 12) { this.keys = new Float64Array(cap); this.vals = new Int32Array(cap).fill(-1); }
  /** The row id stored for key, or -1 after storing `row` for it. */
  getOrAdd(key: number, row: number): number {
    if (this.size * 2 >= this.cap) this.grow();
    const mask = this.cap - 1, keys = this.keys, vals = this.vals;
    let i = key & mask;
    for (;;) {
      const v = vals[i];
      if (v < 0) { keys[i] = key; vals[i] = row; this.size++; return -1; }
      if (keys[i] === key) return v;
      i = (i + 1) & mask;
    }
  }
  private grow(): void {
    const oldK = this.keys, oldV = this.vals;
    this.cap *= 2;
    this.keys = new Float64Array(this.cap);
    this.vals = new Int32Array(this.cap).fill(-1);
    this.size = 0;
    for (let i = 0; i < oldV.length; i++) if (oldV[i] >= 0) this.getOrAdd(oldK[i], oldV[i]);
  }
}

/** Numbers of a band bucket: key, entries, then NEAR_DUP_BUCKET slots. */
const BAND_STRIDE = 2 + NEAR_DUP_BUCKET;

/**
 * One MinHash band: open addressing from a 30-bit band key to up to NEAR_DUP_BUCKET slots, each
 * bucket's key, count and slots side by side in one Int32Array (one cache line per probe; no
 * per-bucket objects). A bucket is its index; its slots are d[bucket * BAND_STRIDE + 2 + q].
 */
class BandTable {
  d: Int32Array;
  private size = 0;
  constructor(private cap = 1 << 12) { this.d = new Int32Array(cap * BAND_STRIDE); }
  /** The bucket of `key` (created empty when missing): one probe serves the lookup and the insertion. */
  bucket(key: number): number {
    if ((this.size + 1) * 2 > this.cap) this.grow();
    const mask = this.cap - 1, d = this.d;
    for (let i = key & mask; ; i = (i + 1) & mask) {
      const o = i * BAND_STRIDE;
      if (!d[o + 1]) { d[o] = key; this.size++; return i; }
      if (d[o] === key) return i;
    }
  }
  count(bucket: number): number { return this.d[bucket * BAND_STRIDE + 1]; }
  /** Append a slot to a bucket returned by bucket() (a full bucket keeps its first entries). */
  add(bucket: number, slot: number): void {
    const o = bucket * BAND_STRIDE, n = this.d[o + 1];
    if (n < NEAR_DUP_BUCKET) { this.d[o + 2 + n] = slot; this.d[o + 1] = n + 1; }
  }
  private grow(): void {
    const old = this.d, oldCap = this.cap;
    this.cap *= 2;
    const d = (this.d = new Int32Array(this.cap * BAND_STRIDE));
    const mask = this.cap - 1;
    for (let j = 0; j < oldCap; j++) {
      const oj = j * BAND_STRIDE;
      if (!old[oj + 1]) continue;
      let i = old[oj] & mask;
      while (d[i * BAND_STRIDE + 1]) i = (i + 1) & mask;
      d.set(old.subarray(oj, oj + BAND_STRIDE), i * BAND_STRIDE);
    }
  }
}

const ROLE_SAMPLE_ROWS = 100;
const ROW_CODES_SEVERITY: Record<string, Severity> = {
  DATA001: 'information', DATA002: 'warning', DATA003: 'warning', DATA004: 'error', DATA005: 'warning', DATA006: 'warning',
  DATA007: 'error', DATA008: 'warning', DATA009: 'information', DATA010: 'warning', DATA011: 'warning', DATA012: 'information',
  DATA013: 'warning', DATA014: 'warning', DATA015: 'warning',
};

interface TextPart { field: string; text: string; role: 'text' | 'user' | 'assistant' | 'system' | 'tool'; turn?: number }

export class Auditor {
  readonly limits: DatasetLimits;
  private sources: Source[] = [];
  private rowFindings: RowFinding[] = [];
  private fileFindings: RowFinding[] = [];
  // global rows
  private gSrc = new IntColumn();
  private gRow = new IntColumn();
  private gLine = new IntColumn();
  private gLabel = new IntColumn();
  private keys = new KeyTable();
  private trackedFull = false;
  // near duplicates
  /** Per near-duplicate slot: MinHash signature then bottom-k sketch, side by side (one memory region per candidate). */
  private sigs = new Uint32Array(SIG_STRIDE * 1024);
  private sigStamp = new Int32Array(1024).fill(-1);
  private sketchLen = new Uint8Array(1024);
  /** Per slot: a 64-bit set of the token hashes' top 6 bits (two int32) and the number of distinct tokens, for an exact Jaccard upper bound. */
  private tokenBits = new Int32Array(2 * 1024);
  private setSize = new Uint16Array(1024);
  /** Per slot: where its signature starts (in `sigs`, or in the row cache's pool when the audit has one). */
  private sigAt = new Int32Array(1024);
  private bandBuckets = new Int32Array(MH_BANDS);
  private tokenHashScratch = new Uint32Array(256);
  private scan = new TokenScan();
  private share?: NearDupShare;
  private sigRows = new IntColumn();
  private bands: BandTable[] = Array.from({ length: MH_BANDS }, () => new BandTable());
  private nearDupFull = false;
  // labels
  private labelIds = new Map<string, number>();
  private labelNames: string[] = [];
  private labelsOverflow = false;
  /** Label ids of small integer labels (0, 1, …) without building their string each row. */
  private smallLabel: number[] = [];
  private rowsPerLabel = new Float64Array(STATS.maxTriggerLabels);
  private labelledRows = 0;
  // tokens
  private vocab = new Vocab();
  private pruneLevel = 0;
  private pruned = false;
  private tokenRows = 0;
  private tokenSampled = false;
  private approximate: string[] = [];
  private totalEv = 0;
  private totalDis = 0;
  private rowEv = 0;
  private rowDis = 0;
  private scratch = new Float64Array(512 * STATS.maxTriggerLabels);
  private total = new Float64Array(STATS.maxTriggerLabels);
  private den = new Float64Array(STATS.maxTriggerLabels);
  private rowStamp = 0;
  private rowIds = new Int32Array(512);
  private started = Date.now();
  private maxRows: number;
  // row cache (editor re-audits): features of unchanged rows are reused, statistics rebuilt in order
  private cache?: RowCache;
  /** Findings of a row being computed for the cache go here instead of the audit. */
  private capture?: RowFinding[];
  /** Audit vocabulary id of each interned token of the cache (valid when vidStamp matches vidGen). */
  private vid = new Int32Array(1024);
  private vidStamp = new Int32Array(1024);
  private vidGen = 1;
  // near-duplicate reuse (a warm audit on one thread): this audit's search, by slot, for the next audit
  private ndRec?: { prev?: NearDupRecord; prevToCur: Int32Array; curPrev: Int32Array; snap: Int32Array; twin: Int32Array; sim: Float64Array; entries: Int32Array };

  constructor(readonly options: AuditOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
    this.maxRows = Math.min(this.limits.maxRows, options.sample ?? Infinity);
  }

  /**
   * Split near-duplicate search over two threads: the 'write' auditor (a helper thread reading the
   * same rows) only runs the duplicate key and nearDuplicate() and publishes each row's twin; the
   * 'read' auditor does everything else and takes the twins from it. Findings are those of one thread.
   */
  shareNearDuplicates(share: NearDupShare): void { this.share = share; }

  /** Keep per-row work of the first source (a JSON Lines, CSV or TSV `text`) in `cache` and reuse it for rows with the same text (editor re-audits). */
  useRowCache(cache: RowCache, text: string, format: DatasetFormat = 'jsonl'): void {
    this.cache = cache;
    // lone CRs end lines too (CSV/TSV rows are placed on the editor's lines: a CR-only file has no LF)
    const lines = 1 + countLineBreaks(text);
    const write = this.share?.role === 'write';
    // sized for the rows a cache can hold: blank or hostile lines do not reserve memory beyond that
    const rows = Math.min(lines, ROW_CACHE_MAX_ROWS);
    cache.begin(JSON.stringify([this.limits, write, format]), text, lines, rows * (write ? 64 : 24));
    this.reserve(rows);
    if (!write) this.vocab.reserve(Math.min(cache.intern.size, this.limits.maxVocabulary));
    if (!this.share) {
      // this audit runs the near-duplicate search itself: record it, and reuse the last one's outcomes
      const n = Math.min(rows, this.limits.maxNearDupRows) + 1, prev = cache.nd;
      this.ndRec = { prev, prevToCur: new Int32Array(prev ? prev.slots : 0).fill(-1), curPrev: new Int32Array(n), snap: new Int32Array(n * 5 * MH_BANDS), twin: new Int32Array(n), sim: new Float64Array(n), entries: new Int32Array(n).fill(-1) };
    }
  }

  /**
   * An audit of a text with this many lines and no row cache (CSV/TSV buffers, the near-duplicate
   * helper): its tables are sized up front, as useRowCache() does (no growing and rehashing on the
   * way; same findings).
   */
  expectLines(lines: number): void { this.reserve(Math.min(lines, ROW_CACHE_MAX_ROWS)); }

  /** Room for about `rows` rows in the duplicate, near-duplicate and row tables (no growing and rehashing on the way). */
  private reserve(rows: number): void {
    const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1024, n)));
    const tracked = Math.min(rows, this.limits.maxTrackedRows, 1 << 22), near = Math.min(rows, this.limits.maxNearDupRows);
    if (this.gRow.length || this.sigRows.length) return;
    this.keys = new KeyTable(pow2(2 * tracked + 2));
    this.gSrc = new IntColumn(pow2(tracked)); this.gRow = new IntColumn(pow2(tracked)); this.gLine = new IntColumn(pow2(tracked)); this.gLabel = new IntColumn(pow2(tracked));
    // the reading side of a split audit takes twins from the helper: it never searches (no ~25 MB of tables to allocate and collect)
    if (this.share?.role === 'read') return;
    // One bucket per distinct band key (at most one per row), growing at half load: pre-sized for half of the
    // rows' worth at full load, a table that stays small (templated rows share band keys) is not the 12 MB the
    // worst case needs (with 2 × near the 1 GB bench's peak RSS was ~860 instead of ~775 MB; same findings).
    this.bands = Array.from({ length: MH_BANDS }, () => new BandTable(pow2(near + 1)));
    const n = pow2(near + 1);
    if (!this.cache) this.sigs = new Uint32Array(SIG_STRIDE * n); // with a cache the signatures are in its pool
    this.sigAt = new Int32Array(n);
    this.sigStamp = new Int32Array(n).fill(-1);
    this.sketchLen = new Uint8Array(n);
    this.tokenBits = new Int32Array(2 * n);
    this.setSize = new Uint16Array(n);
    this.sigRows = new IntColumn(n);
  }

  /** The audit read its whole text: hand the rows (and on a first audit the vocabulary) to the row cache. */
  endRowCache(): void {
    const c = this.cache;
    if (!c) return;
    const nr = this.ndRec;
    if (nr) {
      // keep this audit's search only if every slot could be recorded and the features stay valid
      const slots = this.sigRows.length;
      if (slots <= nr.twin.length) {
        const stamp = c.stampNearDup();
        const ent = c.ent;
        for (let i = 0; i < slots; i++) { const e = nr.entries[i]; if (e >= 0) { ent[e * ENTRY_WORDS + E_ND_SLOT] = i; ent[e * ENTRY_WORDS + E_ND_STAMP] = stamp; } }
        c.nd = { gen: c.gen, stamp, snap: nr.snap, twin: nr.twin, sim: nr.sim, slots };
      } else c.nd = undefined;
    }
    c.end(this.vocab);
    if (this.share?.role === 'read') {
      // The reading side of a two-thread audit took its twins from the helper: the next audit (an edit)
      // searches on this thread alone and needs every row's signature. They are made now, after the
      // answer went out, from the row's kept hashes (the same numbers the next audit would compute).
      const ent = c.ent, gen = c.gen;
      c.forEachKept((e) => {
        const o = e * ENTRY_WORDS;
        if (ent[o + E_GEN] === gen && ent[o + E_ND_N] >= 4 && ent[o + E_SIG_OFF] < 0 && ent[o + E_ND_OFF] >= 0) entrySignature(c, e);
      });
    }
  }

  /** The row cache for a reader of source `src` (the first source only). */
  rowCache(src: number): RowCache | undefined { return src === 0 ? this.cache : undefined; }

  addSource(path: string, format: DatasetFormat, opts: { split?: string; reference?: boolean; bytes?: number } = {}): number {
    const s: Source = {
      index: this.sources.length, path, format, split: opts.split, reference: !!opts.reference, bytes: opts.bytes ?? 0, rows: 0,
      buffer: [], columns: new Map(), schemaChanges: 0, labelCounts: new Map(), lengthHist: new Int32Array(LENGTH_BINS),
      incomplete: [], sampled: false, duplicates: 0, conflicts: 0, prevLabel: -2, runLen: 0, runStartRow: 0, runStartLine: 0,
      bestRun: new Map(), transitions: 0, labelledRows: 0, lastLine: 0, rowFindingCounts: new Map(),
    };
    this.sources.push(s);
    return s.index;
  }

  setHash(src: number, sha256: string): void { this.sources[src].sha256 = sha256; }
  setBytes(src: number, bytes: number): void { this.sources[src].bytes = bytes; }

  /** False once the source has its row limit: readers stop reading. */
  wantsMore(src: number): boolean { return this.sources[src].rows + this.sources[src].buffer.length < this.maxRows; }

  /** A reader reached a limit or an unreadable part: the source's audit is partial. */
  incomplete(src: number, reason: string, line = 0): void {
    const s = this.sources[src];
    if (s.incomplete.includes(reason)) return;
    s.incomplete.push(reason);
    this.fileFindings.push({ code: 'DATA014', severity: 'warning', src, row: -1, line: Math.max(0, line), character: 0, length: 0, message: `Audit incomplete: ${reason}. Findings cover only what was read; this is not a clean result.` });
  }

  /** A row that could not be parsed (DATA013), with its position. */
  malformed(src: number, line: number, character: number, message: string): void {
    this.addRowFinding({ code: 'DATA013', severity: 'warning', src, row: -1, line, character, length: 1, message });
  }

  row(src: number, r: RowInput): void {
    const s = this.sources[src];
    if (s.rows + s.buffer.length >= this.maxRows) {
      if (!s.sampled) {
        s.sampled = true;
        if (this.options.sample !== undefined && this.options.sample <= this.limits.maxRows) this.note(src, `sampled: the first ${this.maxRows} rows were audited`);
        else this.incomplete(src, `row limit reached (${this.maxRows} rows); the rest of the file was not audited`, r.line);
      }
      return;
    }
    if (!s.roles) {
      s.buffer.push(r);
      if (s.buffer.length >= ROLE_SAMPLE_ROWS) this.resolveRoles(s);
      return;
    }
    this.process(s, r);
  }

  private note(src: number, reason: string): void { this.sources[src].incomplete.includes(reason) || this.sources[src].incomplete.push(reason); }

  private resolveRoles(s: Source): void {
    s.roles = inferRoles(s.buffer.map((b) => b.record), this.options);
    const names = new Set(s.buffer.flatMap((b) => Object.keys(b.record)));
    const missing = [...(this.options.textColumns ?? []), ...(this.options.labelColumn ? [this.options.labelColumn] : [])].filter((c) => s.buffer.length && !names.has(c));
    if (missing.length) s.missingOverride = missing;
    if (this.cache && s.index === 0) {
      const o = this.options;
      this.cache.features(JSON.stringify([s.format, s.roles, o.textColumns, o.labelColumn, o.idColumn, o.messagesColumn, o.allowedHosts, s.buffer[0]?.header]));
    }
    const buf = s.buffer;
    s.buffer = [];
    for (const r of buf) this.process(s, r);
  }

  // ------------------------------------------------------------------------------------ per row

  private process(s: Source, r: RowInput): void {
    if (this.cache && s.index === 0) {
      if (r.entry !== undefined && r.entry >= 0) { this.processCached(s, r, r.entry); return; }
    }
    const rowIndex = s.rows++;
    const rec = r.record;
    const roles = s.roles!;
    s.lastLine = r.line;
    if (this.share?.role !== 'write') this.trackColumns(s, rec, rowIndex, r.line);

    // texts
    const parts: TextPart[] = [];
    for (const c of roles.text) { const v = rec[c]; if (v !== undefined && v !== null) parts.push({ field: c, text: this.asText(v), role: 'text' }); }
    for (const c of roles.response) { const v = rec[c]; if (v !== undefined && v !== null) parts.push({ field: c, text: this.asText(v), role: 'assistant' }); }
    if (roles.messages) this.chatParts(s, rowIndex, r, rec[roles.messages], roles.messages, parts);

    // label
    let label = -1;
    if (roles.label && !this.labelsOverflow) {
      const v = rec[roles.label];
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256) label = this.smallLabel[v] ??= this.labelId(String(v));
      else if (v !== undefined && v !== null && v !== '') label = this.labelId(typeof v === 'object' ? JSON.stringify(v) : String(v));
    }

    // per-text checks
    if (this.share?.role !== 'write') for (const p of parts) this.textChecks(s, rowIndex, r, p);

    // primary text (inputs; for chat, all turns) for duplicates, tokens and lengths
    let primary = '';
    for (const p of parts) if (p.role !== 'assistant' || roles.messages) primary = primary ? primary + '\n' + p.text : p.text;
    if (!primary && parts.length) primary = parts.map((p) => p.text).join('\n');
    s.lengthHist[lengthBin(primary.length)]++;
    if (label >= 0) {
      s.labelCounts.set(label, (s.labelCounts.get(label) ?? 0) + 1);
      s.labelledRows++;
      this.trackRun(s, label, rowIndex, r.line);
    }
    if (!primary) return;

    const gid = this.trackRow(s, rowIndex, r.line, label);
    const cap = (t: string) => (t.length > this.limits.maxTextChars ? t.slice(0, this.limits.maxTextChars) : t);
    const scan = this.scan;
    scan.scan(cap(primary));
    // Without labels, a row is its whole content: the same instruction with another answer is no duplicate.
    const keyWords = !roles.label && parts.some((p) => p.role === 'assistant') && !roles.messages ? words(cap(parts.map((p) => p.text).join('\n'))) : undefined;
    // Token statistics on every row up to exactTokenRows, then on a deterministic 1-in-k sample (docs/datasets.md).
    const helper = this.share?.role === 'write';
    if (helper) { /* the near-duplicate helper only finds twins */ }
    else if (this.tokenRows++ < STATS.exactTokenRows || this.tokenRows % STATS.tokenSampleEvery === 0) this.tokenStats(s, scan, label, gid);
    else if (!this.tokenSampled) { this.tokenSampled = true; this.approximate.push(`token statistics (triggers, vocabulary drift) on every row up to ${STATS.exactTokenRows} rows, then on 1 row in ${STATS.tokenSampleEvery}`); }
    if (gid >= 0 && (keyWords ? keyWords.length : scan.n)) {
      const first = this.keys.getOrAdd(keyWords ? hashWords(keyWords) : scan.key, gid);
      if (first >= 0) { if (!helper) this.duplicate(s, rowIndex, r, gid, first, false, 1); }
      else if (gid < this.limits.maxNearDupRows) {
        if (this.share?.role === 'read') {
          // Another thread ran the same rows through nearDuplicate(): take its answer for this row.
          const twin = this.share.twinOf(gid);
          if (twin >= 0) this.duplicate(s, rowIndex, r, gid, twin, true, this.share.sim[gid]);
        } else {
          const th = this.tokenHashScratch;
          const n = keyWords ? tokenHashes(unique(keyWords, 256), th) : scan.distinct(th, 256);
          if (n >= 4) this.nearDuplicate(s, rowIndex, r, gid, n);
        }
      } else if (!this.nearDupFull) { this.nearDupFull = true; this.approximate.push(`near-duplicate search covered the first ${this.limits.maxNearDupRows} rows (exact duplicates: all rows)`); }
    }
    if (helper) this.share!.done(gid);
  }

  /**
   * process() for a row with a cache entry: the row's own work (texts, row findings, tokens, keys) is
   * taken from the entry (computed once per row text); everything that depends on other rows is done
   * here in the same order as process(), so the findings are the same.
   */
  private processCached(s: Source, r: RowInput, e: number): void {
    const rowIndex = s.rows++;
    const rec = r.record;
    const roles = s.roles!;
    const write = this.share?.role === 'write';
    const c = this.cache!, eo = e * ENTRY_WORDS;
    s.lastLine = r.line;
    if (!write) this.trackColumns(s, rec, rowIndex, r.line);
    // a row new to the cache: its features are computed now, and the token scanner still holds its tokens
    const fresh = c.ent[eo + E_GEN] !== c.gen;
    if (fresh) this.rowFeatures(s, r, rowIndex, e);
    const pre = c.pre[e];
    if (pre) {
      const line = Math.max(0, r.line);
      for (const f of pre) this.addRowFinding({ code: f.code, severity: f.severity, src: s.index, row: rowIndex, line: line + f.lineOff, character: f.character, length: f.length, message: f.message, ...(f.detail !== undefined ? { detail: f.detail } : {}), ...(f.data !== undefined ? { data: f.data } : {}) });
    }
    let label = -1;
    if (roles.label && !this.labelsOverflow) {
      const v = rec[roles.label];
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256) label = this.smallLabel[v] ??= this.labelId(String(v));
      else if (v !== undefined && v !== null && v !== '') label = this.labelId(typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    s.lengthHist[lengthBin(c.ent[eo + E_PRIMARY_LEN])]++;
    if (label >= 0) {
      s.labelCounts.set(label, (s.labelCounts.get(label) ?? 0) + 1);
      s.labelledRows++;
      this.trackRun(s, label, rowIndex, r.line);
    }
    if (!c.ent[eo + E_HAS_PRIMARY]) return;
    const gid = this.trackRow(s, rowIndex, r.line, label);
    if (write) { /* the near-duplicate helper only finds twins */ }
    else if (this.tokenRows++ < STATS.exactTokenRows || this.tokenRows % STATS.tokenSampleEvery === 0) {
      if (!fresh) this.tokenStatsCached(s, e, label, gid);
      else {
        const T = this.tokenStats(s, this.scan, label, gid);
        if (c.adopting) {
          // a first audit: the row's tokens are kept as ids of this audit's vocabulary (the cache adopts it)
          const off = c.alloc(T), pool = c.pool, ids = this.rowIds;
          for (let i = 0; i < T; i++) pool[off + i] = ids[i];
          c.ent[eo + E_TOK_OFF] = off; c.ent[eo + E_TOK_N] = T;
        }
      }
    } else if (fresh && c.adopting) c.adoptFailed = true;
    else if (!this.tokenSampled) { this.tokenSampled = true; this.approximate.push(`token statistics (triggers, vocabulary drift) on every row up to ${STATS.exactTokenRows} rows, then on 1 row in ${STATS.tokenSampleEvery}`); }
    if (gid >= 0 && c.ent[eo + E_KEY_N]) {
      const first = this.keys.getOrAdd(c.keys[e], gid);
      if (first >= 0) { if (!write) this.duplicate(s, rowIndex, r, gid, first, false, 1); }
      else if (gid < this.limits.maxNearDupRows) {
        if (this.share?.role === 'read') {
          const twin = this.share.twinOf(gid);
          if (twin >= 0) this.duplicate(s, rowIndex, r, gid, twin, true, this.share.sim[gid]);
        } else if (c.ent[eo + E_ND_N] >= 4) this.nearDuplicate(s, rowIndex, r, gid, c.ent[eo + E_ND_N], e, fresh);
      } else if (!this.nearDupFull) { this.nearDupFull = true; this.approximate.push(`near-duplicate search covered the first ${this.limits.maxNearDupRows} rows (exact duplicates: all rows)`); }
    }
    if (write) this.share!.done(gid);
  }

  /** The row's own work, as process() does it, into a cache entry (row findings relative to the row). */
  private rowFeatures(s: Source, r: RowInput, rowIndex: number, e: number): void {
    const rec = r.record;
    const roles = s.roles!;
    const write = this.share?.role === 'write';
    const pre: RowFinding[] = [];
    this.capture = pre;
    const parts: TextPart[] = [];
    try {
      for (const c of roles.text) { const v = rec[c]; if (v !== undefined && v !== null) parts.push({ field: c, text: this.asText(v), role: 'text' }); }
      for (const c of roles.response) { const v = rec[c]; if (v !== undefined && v !== null) parts.push({ field: c, text: this.asText(v), role: 'assistant' }); }
      if (roles.messages) this.chatParts(s, rowIndex, r, rec[roles.messages], roles.messages, parts);
      if (!write) for (const p of parts) this.textChecks(s, rowIndex, r, p);
    } finally { this.capture = undefined; }
    const line = Math.max(0, r.line);
    const c = this.cache!, eo = e * ENTRY_WORDS;
    c.pre[e] = write ? undefined : !pre.length ? NO_FINDINGS : pre.map((f): RelFinding => ({ code: f.code, severity: f.severity, lineOff: f.line - line, character: f.character, length: f.length, message: f.message, ...(f.detail !== undefined ? { detail: f.detail } : {}), ...(f.data !== undefined ? { data: f.data } : {}) }));
    let primary = '';
    for (const p of parts) if (p.role !== 'assistant' || roles.messages) primary = primary ? primary + '\n' + p.text : p.text;
    if (!primary && parts.length) primary = parts.map((p) => p.text).join('\n');
    let ent = c.ent;
    ent[eo + E_PRIMARY_LEN] = primary.length;
    ent[eo + E_HAS_PRIMARY] = primary ? 1 : 0;
    ent[eo + E_TOK_OFF] = -1; ent[eo + E_TOK_N] = 0; ent[eo + E_ND_OFF] = -1; ent[eo + E_SIG_OFF] = -1; ent[eo + E_ND_N] = 0; ent[eo + E_KEY_N] = 0; c.keys[e] = 0;
    ent[eo + E_GEN] = c.gen;
    if (!primary) return;
    const cap = (t: string) => (t.length > this.limits.maxTextChars ? t.slice(0, this.limits.maxTextChars) : t);
    const scan = this.scan;
    scan.scan(cap(primary));
    const keyWords = !roles.label && parts.some((p) => p.role === 'assistant') && !roles.messages ? words(cap(parts.map((p) => p.text).join('\n'))) : undefined;
    if (!write && !c.adopting) {
      // the first 512 distinct tokens (what tokenStats counts), as ids of the cache's token table
      const iv = c.intern;
      const stamp = c.stampIntern();
      const ids = this.rowIds;
      const strs = scan.strs, text = scan.text, hs = scan.hash, starts = scan.start, ends = scan.end;
      let T = 0;
      for (let i = 0, n = scan.n; i < n && T < 512; i++) {
        const before = iv.size;
        const id = strs ? iv.idOfString(strs[i], hs[i]) : iv.idOfRange(text, starts[i], ends[i], hs[i]);
        if (id === before) iv.tokens[id] = detach(iv.tokens[id]);
        if (iv.stamp[id] === stamp) continue;
        iv.stamp[id] = stamp;
        ids[T++] = id;
      }
      const off = c.alloc(T), pool = c.pool;
      for (let i = 0; i < T; i++) pool[off + i] = ids[i];
      ent[eo + E_TOK_OFF] = off; ent[eo + E_TOK_N] = T;
    }
    const keyN = keyWords ? keyWords.length : scan.n;
    ent[eo + E_KEY_N] = keyN;
    c.keys[e] = keyWords ? hashWords(keyWords) : scan.key;
    if (keyN) {
      const th = this.tokenHashScratch;
      const n = keyWords ? tokenHashes(unique(keyWords, 256), th) : scan.distinct(th, 256);
      ent[eo + E_ND_N] = n;
      // the helper needs the signature of nearly every row: computed now, from the scratch hashes
      if (n >= 4 && write) writeSignature(c, e, th, n);
      else if (n >= 4) { const off = c.alloc(n), pool = c.pool; for (let i = 0; i < n; i++) pool[off + i] = th[i]; ent = c.ent; ent[eo + E_ND_OFF] = off; }
    }
  }

  /** tokenStats() for a cached row: its distinct tokens are ids of the cache's token table. */
  private tokenStatsCached(s: Source, e: number, label: number, gid: number): void {
    const v = this.vocab;
    const L = this.labelNames.length;
    if (v.size >= this.limits.maxVocabulary) this.prune();
    v.ensure(Math.min(L, STATS.maxTriggerLabels), this.sources.length);
    const iv = this.cache!.intern;
    if (this.vid.length < iv.size) {
      let cap = this.vid.length;
      while (cap < iv.size) cap *= 2;
      const a = new Int32Array(cap); a.set(this.vid); this.vid = a;
      const b = new Int32Array(cap); b.set(this.vidStamp); this.vidStamp = b;
    }
    const vid = this.vid, vs = this.vidStamp, gen = this.vidGen;
    const stamp = ++this.rowStamp;
    const ids = this.rowIds;
    let T = 0;
    const c = this.cache!, pool = c.pool, tokOff = c.ent[e * ENTRY_WORDS + E_TOK_OFF];
    for (let i = tokOff, end = tokOff + c.ent[e * ENTRY_WORDS + E_TOK_N]; i < end; i++) {
      const g = pool[i];
      let id: number;
      if (vs[g] === gen) id = vid[g];
      else { id = v.idOfString(iv.tokens[g], iv.hash[g]); vid[g] = id; vs[g] = gen; }
      if (v.stamp[id] === stamp) continue;
      v.stamp[id] = stamp;
      ids[T++] = id;
    }
    this.countTokens(s, T, label, gid);
  }

  private asText(v: unknown): string {
    if (typeof v === 'string') return v.length > this.limits.maxTextChars ? v.slice(0, this.limits.maxTextChars) : v;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return ''; // binary (Parquet BYTE_ARRAY): not text
    try {
      // Binary members (e.g. an image struct's bytes) are not spelled out; bigints become numbers' text.
      const t = JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? `<${(x as ArrayBufferView).byteLength} bytes>` : typeof x === 'bigint' ? String(x) : x));
      return t === undefined ? '' : t.length > this.limits.maxTextChars ? t.slice(0, this.limits.maxTextChars) : t;
    } catch { return ''; }
  }

  private chatParts(s: Source, rowIndex: number, r: RowInput, v: unknown, field: string, parts: TextPart[]): void {
    if (v === undefined || v === null) return;
    const anomaly = (message: string) => this.addRowFinding({ ...this.at(s, rowIndex, r, field, 0, 0), code: 'DATA008', severity: 'warning', message });
    if (!Array.isArray(v)) { anomaly(`\`${field}\` is not a list of turns (${typeof v})`); return; }
    if (!v.length) { anomaly(`\`${field}\` is an empty conversation`); return; }
    const n = Math.min(v.length, this.limits.maxTurns);
    if (v.length > this.limits.maxTurns) anomaly(`conversation has ${v.length} turns; only the first ${this.limits.maxTurns} were audited`);
    let prev = '';
    let sawAssistant = false, sawUser = false;
    const problems: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = v[i] as Record<string, unknown> | null;
      if (!t || typeof t !== 'object' || Array.isArray(t)) { problems.push(`turn ${i + 1} is not an object`); continue; }
      const roleV = t.role ?? t.from;
      const contentV = t.content ?? t.value;
      if (typeof roleV !== 'string') { problems.push(`turn ${i + 1} has no role`); continue; }
      const kind = turnRole(roleV);
      if (!KNOWN_ROLES.has(roleV.toLowerCase())) problems.push(`turn ${i + 1} has an unknown role "${roleV.slice(0, 40)}"`);
      const text = contentV === undefined || contentV === null ? '' : this.asText(contentV);
      if (!text.trim() && kind !== 'assistant') problems.push(`turn ${i + 1} (${roleV}) is empty`);
      if (kind === 'assistant' && !text.trim() && !('tool_calls' in t) && !('function_call' in t)) problems.push(`assistant turn ${i + 1} is empty`);
      if (kind === 'system' && i > 0) {
        this.addRowFinding({ ...this.at(s, rowIndex, r, field, 0, 0), code: 'DATA006', severity: 'warning', message: `hidden system prompt: a system turn at position ${i + 1} of the conversation (after ${i} other turns)`, data: { kind: 'hidden-system' } });
      }
      if (kind !== 'other' && kind !== 'tool' && kind === prev && kind !== 'system') problems.push(`two ${kind} turns in a row (turns ${i} and ${i + 1})`);
      if (kind === 'assistant') { if (!sawUser) problems.push('an assistant turn before any user turn'); sawAssistant = true; }
      if (kind === 'user') sawUser = true;
      prev = kind;
      const role = kind === 'other' ? 'user' : kind;
      if (text) parts.push({ field, text, role, turn: i });
    }
    if (!sawAssistant && n > 0) problems.push('no assistant turn');
    if (problems.length) anomaly(`conversation format: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`);
  }

  private textChecks(s: Source, rowIndex: number, r: RowInput, p: TextPart): void {
    const where = p.turn !== undefined ? `${p.role} turn ${p.turn + 1}` : `\`${p.field}\``;
    const value = p.turn !== undefined ? p.text : undefined;
    for (const u of unicodeIssues(p.text)) {
      const sev: Severity = u.kind === 'bidi' || u.kind === 'tag' ? 'warning' : u.kind === 'normalization' ? 'information' : 'warning';
      this.addRowFinding({ ...this.at(s, rowIndex, r, p.field, u.at, 1, value), code: 'DATA005', severity: sev, message: `${where}: ${u.detail}`, data: { kind: u.kind } });
    }
    for (const h of injectionHits(p.text)) {
      const what = h.kind === 'role-marker' ? `chat-template role marker "${h.match.trim().slice(0, 40)}" inside the text (a hidden turn)` : `prompt-injection phrasing "${h.match.slice(0, 80)}"`;
      this.addRowFinding({ ...this.at(s, rowIndex, r, p.field, h.at, h.match.length, value), code: 'DATA006', severity: 'warning', message: `${where}: ${what}`, data: { kind: h.kind } });
    }
    if (p.role === 'assistant' || p.role === 'tool') {
      for (const h of commandHits(p.text, this.options.allowedHosts)) {
        const what = h.kind === 'base64-blob' ? `an obfuscated base64 blob ${h.match}`
          : h.kind === 'ip-url' ? `a URL to a raw IP address: ${h.match}`
          : h.kind === 'unknown-host-url' ? `a URL to a host outside allowed-hosts: ${h.match}`
          : `a ${h.kind.replace(/-/g, ' ')} command: \`${h.match.replace(/`/g, "'").slice(0, 120)}\``;
        const sev: Severity = h.kind === 'unknown-host-url' || h.kind === 'base64-blob' ? 'warning' : 'error';
        this.addRowFinding({ ...this.at(s, rowIndex, r, p.field, h.at, Math.min(h.match.length, 200), value), code: 'DATA007', severity: sev, message: `${where}: the answer contains ${what}`, data: { kind: h.kind } });
      }
    }
  }

  /** Position of a field (and an offset in its value) in the row's raw text. */
  private at(s: Source, rowIndex: number, r: RowInput, field: string, offset: number, length: number, value?: string): Pick<RowFinding, 'src' | 'row' | 'line' | 'character' | 'length'> {
    const loc = r.raw === undefined ? undefined
      : (value !== undefined && (s.format === 'jsonl' || s.format === 'json') && locateValue(r.raw, value, offset)) || locateField(r.raw, s.format, field, offset, r.header);
    return { src: s.index, row: rowIndex, line: Math.max(0, r.line) + (loc?.line ?? 0), character: loc ? (loc.line === 0 ? r.column ?? 0 : 0) + loc.character : 0, length: loc ? Math.max(1, length) : 0 };
  }

  private addRowFinding(f: RowFinding): void {
    if (this.capture) { this.capture.push(f); return; }
    const s = this.sources[f.src];
    const n = (s.rowFindingCounts.get(f.code) ?? 0) + 1;
    s.rowFindingCounts.set(f.code, n);
    if (n <= this.limits.maxRowFindingsPerCode) this.rowFindings.push(f);
  }

  private trackColumns(s: Source, rec: Record<string, unknown>, rowIndex: number, line: number): void {
    let keys: string[] | undefined;
    if (s.format !== 'csv' && s.format !== 'tsv' && !rowsOnly(s.format)) {
      keys = Object.keys(rec);
      const sk = s.signatureKeys;
      let same = !!sk && sk.length === keys.length;
      if (same) for (let i = 0; i < keys.length; i++) if (keys[i] !== sk![i]) { same = false; break; }
      if (s.signature === undefined) { s.signature = keys.join('\u0000'); s.signatureKeys = keys; }
      else if (!same) {
        const a = new Set(keys), b = new Set(s.signatureKeys);
        const added = keys.filter((k) => !b.has(k)), missing = s.signatureKeys!.filter((k) => !a.has(k));
        if (added.length || missing.length) {
          s.schemaChanges++;
          if (!s.schemaFirst) s.schemaFirst = { row: rowIndex, line, added, missing };
        }
      }
    }
    for (const k in rec) {
      let c = s.columns.get(k);
      if (!c) {
        if (s.columns.size >= this.limits.maxColumns) { this.incomplete(s.index, `more than ${this.limits.maxColumns} columns; the rest are not profiled`); continue; }
        c = { name: k, types: [0, 0, 0, 0, 0, 0], typeFirstLine: [-1, -1, -1, -1, -1, -1], typeFirstRow: [-1, -1, -1, -1, -1, -1], empty: 0, constant: true };
        if (rowIndex > 0) { c.types[3] += rowIndex; c.typeFirstRow[3] = 0; }
        s.columns.set(k, c);
      }
      const v = rec[k];
      const t = typeIndex(v);
      c.types[t]++;
      if (c.typeFirstRow[t] < 0) { c.typeFirstRow[t] = rowIndex; c.typeFirstLine[t] = line; }
      if (t === 3 || v === '') c.empty++;
      if (c.constant) {
        if (t >= 4) c.constant = false; // lists and objects are not compared
        else {
          const str = t === 0 ? (v as string).slice(0, 200) : String(v);
          if (c.first === undefined) c.first = str; else if (c.first !== str) c.constant = false;
        }
      }
      if (t === 1) (c.numHist ??= new Int32Array(NUMBER_BINS))[numberBin(Number(v))]++;
      else if (t === 0) (c.lenHist ??= new Int32Array(LENGTH_BINS))[lengthBin((v as string).length)]++;
    }
    if (keys && keys.length < s.columns.size) for (const c of s.columns.values()) if (!(c.name in rec)) { c.types[3]++; c.empty++; }
  }

  private labelId(name: string): number {
    let id = this.labelIds.get(name);
    if (id !== undefined) return id;
    if (this.labelIds.size >= this.limits.maxLabels) {
      this.labelsOverflow = true;
      this.approximate.push(`label column has more than ${this.limits.maxLabels} distinct values: label statistics stopped`);
      return -1;
    }
    id = this.labelIds.size;
    this.labelIds.set(name, id);
    this.labelNames.push(name);
    return id;
  }

  private trackRun(s: Source, label: number, rowIndex: number, line: number): void {
    if (label === s.prevLabel) s.runLen++;
    else {
      if (s.prevLabel !== -2) { s.transitions++; this.closeRun(s); }
      s.prevLabel = label; s.runLen = 1; s.runStartRow = rowIndex; s.runStartLine = line;
    }
  }

  private closeRun(s: Source): void {
    if (s.prevLabel < 0) return;
    const b = s.bestRun.get(s.prevLabel);
    if (!b || s.runLen > b.len) s.bestRun.set(s.prevLabel, { len: s.runLen, startRow: s.runStartRow, startLine: s.runStartLine, endLine: s.lastLine });
  }

  private trackRow(s: Source, rowIndex: number, line: number, label: number): number {
    if (this.gRow.length >= this.limits.maxTrackedRows) {
      if (!this.trackedFull) { this.trackedFull = true; this.approximate.push(`duplicate and trigger-row tracking stopped after ${this.limits.maxTrackedRows} rows`); }
      return -1;
    }
    this.gSrc.push(s.index); this.gRow.push(rowIndex); this.gLine.push(line); this.gLabel.push(label);
    return this.gRow.length - 1;
  }

  private duplicate(s: Source, rowIndex: number, r: RowInput, gid: number, first: number, near: boolean, similarity: number): void {
    const fs = this.sources[this.gSrc.data[first]];
    const fLine = this.gLine.data[first], fRow = this.gRow.data[first], fLabel = this.gLabel.data[first];
    const label = this.gLabel.data[gid];
    const crossSplit = fs.index !== s.index && (fs.reference !== s.reference || (fs.split ?? fs.path) !== (s.split ?? s.path));
    const conflict = label >= 0 && fLabel >= 0 && label !== fLabel;
    if (conflict) s.conflicts++; else s.duplicates++;
    // Past the listing cap only the counts change (no message is built).
    const code = crossSplit ? 'DATA003' : conflict ? 'DATA002' : 'DATA001';
    const listed = s.rowFindingCounts.get(code) ?? 0;
    if (listed >= this.limits.maxRowFindingsPerCode) { s.rowFindingCounts.set(code, listed + 1); return; }
    const twin = rowsOnly(fs.format) || fLine < 0 ? `row ${fRow + 1} of ${fs.path}` : `${fs.path}:${fLine + 1}`;
    const twinLink = rowsOnly(fs.format) || fLine < 0 ? twin : `[${twin}](${fileUri(fs.path)}#L${fLine + 1})`;
    const kind = near ? `a near-duplicate (estimated Jaccard ${similarity.toFixed(2)}) of` : 'the same text as';
    const field = s.roles!.text[0] ?? s.roles!.messages ?? '';
    const pos = this.at(s, rowIndex, r, field, 0, 0);
    const data = { twin: { path: fs.path, line: fLine, row: fRow }, near };
    const related = fLine >= 0 && !rowsOnly(fs.format) ? [{ path: fs.path, range: { start: { line: fLine, character: 0 }, end: { line: fLine, character: 0 } }, message: `twin row (${fLabel >= 0 ? `label "${this.labelNames[fLabel]}"` : 'no label'})` }] : undefined;

    const labels = conflict ? ` but labelled "${this.labelNames[label]}" where the twin is "${this.labelNames[fLabel]}"` : '';
    if (crossSplit) {
      this.addRowFinding({ ...pos, code: 'DATA003', severity: 'warning', message: `${s.split ? `${s.split} row` : 'row'} is ${kind} ${fs.split ? `${fs.split} ` : ''}${twin}${labels} (leakage across splits)`, detail: `Twin: ${twinLink}`, data, related });
      return;
    }
    if (conflict) {
      this.addRowFinding({ ...pos, code: 'DATA002', severity: 'warning', message: `conflicting labels: ${kind} ${twin}${labels}`, detail: `Twin: ${twinLink}`, data, related });
      return;
    }
    this.addRowFinding({ ...pos, code: 'DATA001', severity: 'information', message: `duplicate: ${kind} ${twin}`, detail: `Twin: ${twinLink}`, data, related });
  }

  /** Near-duplicate search for a row whose distinct token hashes (tn of them) are in tokenHashScratch. */
  private nearDuplicate(s: Source, rowIndex: number, r: RowInput, gid: number, tn: number, e = -1, fresh = false): void {
    const K = MH_K, B = MH_BANDS, per = K / B, W = SIG_STRIDE;
    const slot = this.sigRows.length;
    const c = this.cache;
    if (!c && (slot + 1) * W > this.sigs.length) { const d = new Uint32Array(this.sigs.length * 2); d.set(this.sigs); this.sigs = d; }
    if (slot >= this.sigStamp.length) {
      const d = new Int32Array(this.sigStamp.length * 2).fill(-1); d.set(this.sigStamp); this.sigStamp = d;
      const l = new Uint8Array(this.sketchLen.length * 2); l.set(this.sketchLen); this.sketchLen = l;
      const tb = new Int32Array(this.tokenBits.length * 2); tb.set(this.tokenBits); this.tokenBits = tb;
      const z = new Uint16Array(this.setSize.length * 2); z.set(this.setSize); this.setSize = z;
      const a = new Int32Array(this.sigAt.length * 2); a.set(this.sigAt); this.sigAt = a;
    }
    // With a row cache every signature lives in its pool (a cached row's is read where it is, a new
    // row's is computed there); without one, in this audit's own array at slot * W.
    let sigs: Uint32Array, base: number;
    let slen: number, lo = 0, hi = 0;
    const eo = e * ENTRY_WORDS;
    if (c && e >= 0 && !(c.ent[eo + E_SIG_OFF] < 0 && fresh)) {
      // a cached row: its signature, sketch and token bits were computed once for its text
      if (c.ent[eo + E_SIG_OFF] < 0) entrySignature(c, e);
      const pool = c.pool;
      base = c.ent[eo + E_SIG_OFF];
      sigs = c.poolU32;
      slen = pool[base + W]; lo = pool[base + W + 1]; hi = pool[base + W + 2];
    } else {
      // a new row: its hashes are still in the scratch (kept in the pool for a new cached row)
      const th = this.tokenHashScratch;
      if (c) { base = c.alloc(SIG_WORDS); sigs = c.poolU32; } else { base = slot * W; sigs = this.sigs; }
      minhashOf(th, tn, sigs, base);
      slen = bottomKOf(th, tn, sigs, base + K);
      for (let t = 0; t < tn; t++) { const b = Math.imul(th[t], 0x9e3779b1) >>> 26; if (b < 32) lo |= 1 << b; else hi |= 1 << (b - 32); }
      if (c) {
        const pool = c.pool;
        for (let i = K + slen; i < W; i++) pool[base + i] = 0;
        pool[base + W] = slen; pool[base + W + 1] = lo; pool[base + W + 2] = hi;
        if (e >= 0) { c.ent[eo + E_SIG_OFF] = base; c.ent[eo + E_ND_OFF] = -1; }
      }
    }
    this.sigAt[slot] = base;
    this.sketchLen[slot] = slen;
    const bits = this.tokenBits, sizes = this.setSize;
    bits[2 * slot] = lo; bits[2 * slot + 1] = hi; sizes[slot] = tn;
    this.sigRows.push(gid);
    this.sigStamp[slot] = -1;
    // MinHash bands find candidates; the bottom-k sketch (exact for short texts) decides. A candidate is compared once.
    let best = -1, bestSim = 0, compared = 0;
    const buckets = this.bandBuckets, sigAt = this.sigAt;
    const nr = this.ndRec && slot < this.ndRec.twin.length ? this.ndRec : undefined;
    if (nr && this.reuseNearDup(nr, slot, sigs, base, e)) {
      // the same candidates as in the last audit: its outcome stands
      const t = nr.twin[slot];
      if (t >= 0) this.duplicate(s, rowIndex, r, gid, this.sigRows.data[t], true, nr.sim[slot]);
      for (let b = 0; b < B; b++) this.bands[b].add(buckets[b], slot);
      return;
    }
    for (let b = 0; b < B; b++) {
      const table = this.bands[b];
      let bucket: number;
      if (nr) bucket = buckets[b]; // taken by reuseNearDup (one probe per band and row)
      else {
        let h = 0x9747b28c ^ b;
        for (let i = 0; i < per; i++) h = Math.imul(h ^ sigs[base + b * per + i], 0x5bd1e995) ^ (h >>> 15);
        bucket = table.bucket(h & 0x3fffffff); // small-integer keys (no heap numbers)
        buckets[b] = bucket;
      }
      for (let q = 0, nq = table.count(bucket); q < nq; q++) {
        const other = table.d[bucket * BAND_STRIDE + 2 + q];
        if (compared >= NEAR_DUP_MAX_COMPARISONS) break;
        if (this.sigStamp[other] === slot) continue;
        compared++;
        this.sigStamp[other] = slot;
        // Exact upper bound first (no access to the candidate's signature): every bit set on one side only
        // is a token of one set only, so |A△B| ≥ d and J ≤ (|A| + |B| − d) / (|A| + |B| + d).
        const d = popcount(lo ^ bits[2 * other]) + popcount(hi ^ bits[2 * other + 1]), nn = tn + sizes[other];
        if (nn - d < Math.max(STATS.nearDupJaccard, bestSim) * (nn + d) - 1e-9) continue;
        // MinHash agreement next (16 compares): far below the threshold, skip the exact sketch walk.
        let agree = 0;
        const ob = sigAt[other];
        for (let i = 0; i < K; i++) if (sigs[ob + i] === sigs[base + i]) agree++;
        if (agree < NEAR_DUP_MIN_AGREE) continue;
        const sim = sketchJaccard(sigs, base + K, slen, sigs, ob + K, this.sketchLen[other], Math.max(STATS.nearDupJaccard, bestSim));
        if (sim > bestSim) { bestSim = sim; best = other; }
      }
    }
    const found = best >= 0 && bestSim >= STATS.nearDupJaccard;
    if (nr) { nr.twin[slot] = found ? best : -1; nr.sim[slot] = found ? bestSim : 0; }
    if (found) {
      if (this.share?.role === 'write') this.share.found(gid, this.sigRows.data[best], bestSim);
      else this.duplicate(s, rowIndex, r, gid, this.sigRows.data[best], true, bestSim);
    }
    // Buckets are table indexes: no table grew since they were taken (bucket() grows before probing, one band per table).
    for (let b = 0; b < B; b++) this.bands[b].add(buckets[b], slot);
  }

  /**
   * Takes the row's band buckets (into bandBuckets) and records their content for the next audit;
   * true when the last audit's search for this row saw the same rows in the same buckets (its
   * outcome, in nr.twin/nr.sim for this slot, then stands).
   */
  private reuseNearDup(nr: NonNullable<Auditor['ndRec']>, slot: number, sigs: Uint32Array, base: number, e: number): boolean {
    const B = MH_BANDS, per = MH_K / MH_BANDS, buckets = this.bandBuckets, snap = nr.snap, S = 5 * B;
    const prev = nr.prev && nr.prev.gen === this.cache!.gen ? nr.prev : undefined;
    const ent = this.cache!.ent, eo = e * ENTRY_WORDS;
    const p = prev && e >= 0 && ent[eo + E_ND_STAMP] === prev.stamp ? ent[eo + E_ND_SLOT] : -1;
    nr.entries[slot] = e;
    nr.curPrev[slot] = p;
    if (p >= 0) nr.prevToCur[p] = slot;
    let same = p >= 0;
    for (let b = 0; b < B; b++) {
      let h = 0x9747b28c ^ b;
      for (let i = 0; i < per; i++) h = Math.imul(h ^ sigs[base + b * per + i], 0x5bd1e995) ^ (h >>> 15);
      const table = this.bands[b];
      const bucket = table.bucket(h & 0x3fffffff);
      buckets[b] = bucket;
      const n = table.count(bucket), o = slot * S + b * 5;
      snap[o] = n;
      for (let q = 0, bo = bucket * BAND_STRIDE + 2; q < n; q++) snap[o + 1 + q] = table.d[bo + q];
      if (same) {
        // the last audit's bucket for this band, in its slot numbers; ours mapped to them
        const po = p * S + b * 5, ps = prev!.snap;
        if (ps[po] !== n) same = false;
        else for (let q = 0; q < n; q++) if (nr.curPrev[snap[o + 1 + q]] !== ps[po + 1 + q]) { same = false; break; }
      }
    }
    if (!same) return false;
    const t = prev!.twin[p];
    if (t >= 0) {
      const cur = nr.prevToCur[t];
      if (cur < 0) return false; // cannot happen: the twin is in one of the buckets
      nr.twin[slot] = cur;
    } else nr.twin[slot] = -1;
    nr.sim[slot] = prev!.sim[p];
    this.cache!.ndReused++;
    return true;
  }

  /** Counts the row's distinct tokens (per label and source, the context model, the rows carrying each). */
  private tokenStats(s: Source, scan: TokenScan, label: number, gid: number): number {
    const v = this.vocab;
    const L = this.labelNames.length;
    if (v.size >= this.limits.maxVocabulary) this.prune(); // between rows: ids stay valid within a row
    v.ensure(Math.min(L, STATS.maxTriggerLabels), this.sources.length);
    // the row's distinct tokens, one table lookup each (a per-row stamp removes repeats)
    const stamp = ++this.rowStamp;
    const ids = this.rowIds;
    const strs = scan.strs, text = scan.text, hs = scan.hash, starts = scan.start, ends = scan.end;
    let T = 0;
    for (let i = 0, n = scan.n; i < n && T < 512; i++) {
      const id = strs ? v.idOfString(strs[i], hs[i]) : v.idOfRange(text, starts[i], ends[i], hs[i]);
      if (v.stamp[id] === stamp) continue;
      v.stamp[id] = stamp;
      ids[T++] = id;
    }
    this.countTokens(s, T, label, gid);
    return T;
  }

  /** The row's distinct tokens (rowIds[0, T)): the context model, then the counts. */
  private countTokens(s: Source, T: number, label: number, gid: number): void {
    const v = this.vocab;
    const L = this.labelNames.length;
    const useLabel = label >= 0 && label < STATS.maxTriggerLabels && L <= STATS.maxTriggerLabels;
    const LC = v.labelCap, SC = v.srcCap;
    const ids = this.rowIds;
    // context model: predict the row's label from its other tokens before counting the row
    if (useLabel && L >= 2 && this.labelledRows >= STATS.contextWarmupRows) {
      const sc = this.scratch, total = this.total, den = this.den, lab = v.lab;
      for (let l = 0; l < L; l++) { total[l] = Math.log((this.rowsPerLabel[l] + 1) / (this.labelledRows + L)); den[l] = Math.log(this.rowsPerLabel[l] + 2); }
      for (let i = 0; i < T; i++) {
        const base = ids[i] * LC;
        for (let l = 0; l < L; l++) {
          const n = lab[base + l];
          const c = (n < LOG1.length ? LOG1[n] : Math.log(n + 1)) - den[l];
          sc[i * L + l] = c;
          total[l] += c;
        }
      }
      let bestAll = 0;
      for (let l = 1; l < L; l++) if (total[l] > total[bestAll]) bestAll = l;
      this.rowEv++; if (bestAll !== label) this.rowDis++;
      for (let i = 0; i < T; i++) {
        const id = ids[i];
        if (!v.n[id]) continue; // unseen so far
        let best = -1, bestV = -Infinity;
        for (let l = 0; l < L; l++) { const x = total[l] - sc[i * L + l]; if (x > bestV) { bestV = x; best = l; } }
        v.ev[id * LC + label]++; this.totalEv++;
        if (best !== label) { v.dis[id * LC + label]++; this.totalDis++; }
      }
    }
    if (useLabel) { this.rowsPerLabel[label]++; this.labelledRows++; }
    const si = s.index, maxRows = this.limits.maxRowsPerToken;
    for (let i = 0; i < T; i++) {
      const id = ids[i];
      v.src[id * SC + si]++;
      if (useLabel) {
        v.lab[id * LC + label]++;
        v.n[id]++;
        if (gid >= 0) v.addRow(id, gid, maxRows);
      }
    }
  }

  private prune(): void {
    // Lossy counting: drop tokens seen at most pruneLevel times; raise the level until half the room is free.
    do { this.pruneLevel++; this.vocab.prune(this.pruneLevel); } while (this.vocab.size > this.limits.maxVocabulary / 2);
    this.vidGen++; // vocabulary ids were renumbered
    if (this.cache?.adopting) this.cache.adoptFailed = true;
    if (this.pruned) return;
    this.approximate.push(`more than ${this.limits.maxVocabulary} distinct tokens: rare tokens were pruned (lossy counting), token statistics are approximate`);
    this.pruned = true;
  }

  // ------------------------------------------------------------------------------------ finish

  finish(lineText?: (src: number, line: number) => string | undefined): AuditResult {
    for (const s of this.sources) if (!s.roles) this.resolveRoles(s);
    for (const s of this.sources) { if (s.runLen) this.closeRun(s); }
    const findings: RowFinding[] = [...this.fileFindings];
    const triggers = this.triggers(findings, lineText);
    for (const s of this.sources) this.sourceFindings(s, findings);
    const drift = this.drift(findings);
    findings.push(...this.rowFindings);
    // overflow summaries
    for (const s of this.sources) {
      for (const [code, n] of s.rowFindingCounts) {
        if (n > this.limits.maxRowFindingsPerCode) findings.push({ code, severity: ROW_CODES_SEVERITY[code] ?? 'warning', src: s.index, row: -1, line: 0, character: 0, length: 0, message: `${n} rows have ${code} findings; the first ${this.limits.maxRowFindingsPerCode} are listed (use --format json for the counts)` });
      }
    }
    const out: Finding[] = findings.map((f) => this.toFinding(f));
    const counts: Record<string, number> = {};
    for (const f of out) counts[f.code] = (counts[f.code] ?? 0) + 1;
    const report: AuditReport = {
      version: 1,
      sources: this.sources.map((s) => this.sourceReport(s)),
      triggers,
      drift,
      summary: {
        sources: this.sources.length,
        rows: this.sources.reduce((a, s) => a + s.rows, 0),
        seconds: (Date.now() - this.started) / 1000,
        findings: counts,
        incomplete: this.sources.some((s) => s.incomplete.some((r) => !r.startsWith('sampled'))),
        ...(this.rowEv ? { labelNoiseEstimate: this.rowDis / this.rowEv } : {}),
        approximate: this.approximate,
      },
    };
    return { findings: out, report };
  }

  private toFinding(f: RowFinding): Finding {
    const s = this.sources[f.src];
    const rowRef = f.row >= 0 && (rowsOnly(s.format) || f.line < 0) ? `row ${f.row + 1}: ` : '';
    const line = f.line < 0 ? 0 : f.line;
    return {
      path: s.path,
      range: { start: { line, character: f.character }, end: { line, character: f.character + f.length } },
      code: f.code, severity: f.severity, message: rowRef + f.message, fixes: [],
      ...(f.detail ? { detail: f.detail } : {}),
      ...(f.related ? { related: f.related } : {}),
      data: { ...(f.data ?? {}), ...(f.row >= 0 ? { row: f.row } : {}) },
    };
  }

  private triggers(findings: RowFinding[], lineText?: (src: number, line: number) => string | undefined): TriggerCandidate[] {
    const L = this.labelNames.length;
    if (L < 2 || L > STATS.maxTriggerLabels || this.labelledRows < 2 * STATS.minTriggerSupport) return [];
    // The null disagreement rate: the observed one, but never below minNullDisagreement (real data is never cleaner).
    const e = this.totalEv ? Math.min(0.95, Math.max(STATS.minNullDisagreement, this.totalDis / this.totalEv)) : 0.5;
    let m = 0;
    const cands: Array<TriggerCandidate & { id: number; l: number }> = [];
    const v = this.vocab, LC = v.labelCap;
    for (let id = 0; id < v.size; id++) {
      const n = v.n[id];
      if (n < STATS.minTriggerSupport) continue;
      m++;
      let l = 0;
      for (let i = 1; i < L; i++) if (v.lab[id * LC + i] > v.lab[id * LC + l]) l = i;
      const k = v.lab[id * LC + l];
      const purity = k / n;
      if (purity < 0.8) continue;
      const prior = this.rowsPerLabel[l] / this.labelledRows;
      const pPurity = binomialTail(k, n, prior);
      // Context test on the carriers only: rows with label l whose other tokens point elsewhere.
      const ev = v.ev[id * LC + l], dis = v.dis[id * LC + l];
      const pContext = ev ? binomialTail(dis, ev, e) : 1;
      cands.push({ token: v.tokens[id], label: this.labelNames[l], rows: n, carriers: k, purity, prior, pPurity, contextDisagreement: ev ? dis / ev : 0, pContext, flagged: false, id, l });
    }
    const eligible = cands.filter((c) => c.purity >= STATS.minTriggerPurity && c.pPurity <= STATS.maxPurityP && c.contextDisagreement >= STATS.minContextDisagreement);
    const thr = bhThreshold(eligible.map((c) => c.pContext), STATS.triggerFdr, Math.max(m, 1));
    for (const c of eligible) if (c.pContext <= thr && thr > 0) c.flagged = true;
    const flagged = cands.filter((c) => c.flagged).sort((a, b) => a.pContext - b.pContext);
    for (const c of flagged) {
      const why = `${c.carriers} of ${c.rows} labelled rows carrying "${c.token}" are labelled "${c.label}" (purity ${c.purity.toFixed(2)} vs ${(c.prior * 100).toFixed(0)}% overall, p = ${fmtP(c.pPurity)}); in ${(c.contextDisagreement * 100).toFixed(0)}% of them the rest of the text points to another label (p = ${fmtP(c.pContext)}, ${(e * 100).toFixed(0)}% expected; Benjamini–Hochberg over ${m} tokens at FDR ${STATS.triggerFdr})`;
      const bySrc = new Map<number, number>();
      for (const gid of v.rows(c.id)) {
        if (this.gLabel.data[gid] !== c.l) continue;
        const src = this.gSrc.data[gid];
        bySrc.set(src, (bySrc.get(src) ?? 0) + 1);
        const line = this.gLine.data[gid];
        const text = line >= 0 ? lineText?.(src, line) : undefined;
        const at = text ? findToken(text, c.token) : -1;
        this.addRowFinding({ code: 'DATA004', severity: 'error', src, row: this.gRow.data[gid], line, character: at >= 0 ? at : 0, length: at >= 0 ? c.token.length : 0, message: `trigger candidate "${c.token}" → label "${c.label}"`, detail: why, data: { token: c.token, label: c.label, purity: c.purity, pPurity: c.pPurity, pContext: c.pContext } });
      }
      for (const [src] of bySrc) findings.push({ code: 'DATA004', severity: 'error', src, row: -1, line: 0, character: 0, length: 0, message: `possible backdoor trigger "${c.token}": ${why}${v.rowsListed(c.id) >= this.limits.maxRowsPerToken ? ` (first ${this.limits.maxRowsPerToken} carrying rows listed)` : ''}`, data: { token: c.token, label: c.label } });
    }
    this.cleanLabelTriggers(cands, findings, lineText);
    cands.sort((a, b) => Number(b.flagged || !!b.cleanLabel?.flagged) - Number(a.flagged || !!a.cleanLabel?.flagged) || a.pPurity - b.pPurity);
    return cands.slice(0, 20).map(({ id: _id, l: _l, ...c }) => c);
  }

  /**
   * DATA015 (core/datasets/cleanLabel.ts): pure tokens whose context agrees, tested for excess in one
   * split against the other splits and the references. Needs at least two groups of sources.
   */
  private cleanLabelTriggers(cands: Array<TriggerCandidate & { id: number; l: number }>, findings: RowFinding[], lineText?: (src: number, line: number) => string | undefined): void {
    const keys: string[] = [], groupOf: number[] = [];
    for (const s of this.sources) {
      const k = s.reference ? '\u0000reference' : s.split ?? '';
      let g = keys.indexOf(k);
      if (g < 0) { g = keys.length; keys.push(k); }
      groupOf.push(g);
    }
    if (keys.length < 2) return;
    const v = this.vocab, SC = v.srcCap;
    const tested = cands.filter((c) => !c.flagged);
    // Rates among the rows with the token's label L (a label shift between splits is no evidence);
    // a token with more carrying rows than are listed falls back to its rate among all rows.
    const tokens = tested.map((c, index) => {
      const carrying = keys.map(() => 0), rows = keys.map(() => 0);
      if (v.rowsListed(c.id) < this.limits.maxRowsPerToken) {
        for (const gid of v.rows(c.id)) if (this.gLabel.data[gid] === c.l) carrying[groupOf[this.gSrc.data[gid]]]++;
        for (const s of this.sources) rows[groupOf[s.index]] += s.labelCounts.get(c.l) ?? 0;
      } else {
        for (const s of this.sources) { carrying[groupOf[s.index]] += v.src[c.id * SC + s.index]; rows[groupOf[s.index]] += s.rows; }
      }
      return { index, purity: c.purity, pPurity: c.pPurity, contextDisagreement: c.contextDisagreement, carrying, rows };
    });
    const results = cleanLabelTest(tokens, keys.map((k) => k === '\u0000reference'));
    const name = (g: number) => {
      if (keys[g] === '\u0000reference') return 'the reference';
      const members = this.sources.filter((s) => groupOf[s.index] === g);
      return members.length === 1 ? path.basename(members[0].path) : keys[g] ? `the ${keys[g]} split` : `the ${members.length} files without a split`;
    };
    for (const r of results) {
      const c = tested[r.index];
      const others = keys.map((_, g) => g).filter((g) => g !== r.group).map(name).join(' and ');
      c.cleanLabel = { group: name(r.group), share: r.share, comparisonShare: r.comparisonShare, pRare: r.pRare, flagged: r.flagged };
      if (!r.flagged) continue;
      const why = `${c.carriers} of ${c.rows} labelled rows carrying "${c.token}" are labelled "${c.label}" (purity ${c.purity.toFixed(2)} vs ${(c.prior * 100).toFixed(0)}% overall, p = ${fmtP(c.pPurity)}) and the rest of their text agrees with that label (${(c.contextDisagreement * 100).toFixed(0)}% disagree), but "${c.token}" is in ${(r.share * 100).toFixed(2)}% of the "${c.label}" rows of ${name(r.group)} and ${(r.comparisonShare * 100).toFixed(2)}% of the ${r.comparisonRows} such rows of ${others} (p = ${fmtP(r.pRare)}, exact conditional binomial test; Benjamini–Hochberg at FDR 1% over ${results.length} pure tokens): a trigger added to correctly labelled rows (clean-label poisoning)?`;
      const bySrc = new Map<number, number>();
      for (const gid of v.rows(c.id)) {
        if (this.gLabel.data[gid] !== c.l) continue;
        const src = this.gSrc.data[gid];
        if (groupOf[src] !== r.group) continue;
        bySrc.set(src, (bySrc.get(src) ?? 0) + 1);
        const line = this.gLine.data[gid];
        const text = line >= 0 ? lineText?.(src, line) : undefined;
        const at = text ? findToken(text, c.token) : -1;
        this.addRowFinding({ code: 'DATA015', severity: 'warning', src, row: this.gRow.data[gid], line, character: at >= 0 ? at : 0, length: at >= 0 ? c.token.length : 0, message: `clean-label trigger candidate "${c.token}" → label "${c.label}"`, detail: why, data: { token: c.token, label: c.label, purity: c.purity, pPurity: c.pPurity, pRare: r.pRare } });
      }
      for (const [src] of bySrc) findings.push({ code: 'DATA015', severity: 'warning', src, row: -1, line: 0, character: 0, length: 0, message: `possible clean-label trigger "${c.token}": ${why}`, data: { token: c.token, label: c.label } });
    }
  }

  private sourceFindings(s: Source, findings: RowFinding[]): void {
    const file = (code: string, message: string, line = 0, severity = ROW_CODES_SEVERITY[code], data?: Record<string, unknown>) =>
      findings.push({ code, severity, src: s.index, row: -1, line: Math.max(0, line), character: 0, length: 0, message, ...(data ? { data } : {}) });
    if (s.missingOverride) file('DATA012', `column${s.missingOverride.length > 1 ? 's' : ''} ${s.missingOverride.map((c) => `"${c}"`).join(', ')} given as an override ${s.missingOverride.length > 1 ? 'are' : 'is'} not in this file`);
    if (s.rows && s.roles && !s.roles.text.length && !s.roles.messages) file('DATA012', `no text column found (columns: ${[...s.columns.keys()].slice(0, 12).join(', ')}); use --text-column`, 0, 'information');
    // labels: imbalance and blocks
    if (s.labelCounts.size >= 2 && s.labelledRows >= 20) {
      const entries = [...s.labelCounts.entries()].sort((a, b) => b[1] - a[1]);
      const [maxL, maxC] = entries[0], [minL, minC] = entries[entries.length - 1];
      if (maxC / minC >= STATS.imbalanceRatio) file('DATA009', `label imbalance: "${this.labelNames[maxL]}" has ${maxC} rows, "${this.labelNames[minL]}" ${minC} (ratio ${(maxC / minC).toFixed(1)}:1 over ${s.labelCounts.size} labels)`, 0, 'information', { labels: Object.fromEntries(entries.map(([l, c]) => [this.labelNames[l], c])) });
      const N = s.labelledRows;
      let sumSq = 0;
      for (const [, c] of entries) sumSq += (c / N) ** 2;
      const expectedTransitions = N * (1 - sumSq);
      const shuffled = s.transitions >= 0.5 * expectedTransitions;
      if (shuffled) {
        for (const [l, b] of s.bestRun) {
          const p = (s.labelCounts.get(l) ?? 0) / N;
          const chance = Math.min(1, N * (1 - p) * p ** b.len);
          if (b.len < 20 || chance > STATS.blockRunP) continue;
          const all = b.len === s.labelCounts.get(l);
          const where = rowsOnly(s.format) ? `rows ${b.startRow + 1}–${b.startRow + b.len}` : `lines ${b.startLine + 1}–${b.endLine + 1}`;
          findings.push({ code: 'DATA010', severity: 'warning', src: s.index, row: b.startRow, line: rowsOnly(s.format) ? -1 : b.startLine, character: 0, length: 0, message: `${all ? `label "${this.labelNames[l]}" appears only` : `${b.len} consecutive rows labelled "${this.labelNames[l]}" appear`} in one contiguous block (${where}) while the rest of the file is shuffled (chance of such a run ≈ ${fmtP(chance)}): an appended or inserted block?`, data: { label: this.labelNames[l], startRow: b.startRow, rows: b.len } });
        }
      }
    }
    // columns
    for (const c of s.columns.values()) {
      const nonNull = c.types.map((n, i) => (i === 3 ? 0 : n));
      const kinds = nonNull.map((n, i) => [n, i] as const).filter(([n]) => n > 0).sort((a, b) => b[0] - a[0]);
      if (kinds.length >= 2) {
        const [, minor] = kinds[1];
        const line = c.typeFirstLine[minor];
        file('DATA012', `column "${c.name}" mixes types: ${kinds.map(([n, i]) => `${n} ${TYPE_NAMES[i]}`).join(', ')} (first ${TYPE_NAMES[minor]} at ${line >= 0 && !rowsOnly(s.format) ? `line ${line + 1}` : `row ${c.typeFirstRow[minor] + 1}`})`, line >= 0 && !rowsOnly(s.format) ? line : 0, 'information');
      }
      if (s.rows >= 2 && c.empty === s.rows) file('DATA012', `column "${c.name}" is empty in all ${s.rows} rows`, 0, 'information');
      else if (s.rows >= 20 && c.constant && c.empty === 0) file('DATA012', `column "${c.name}" has the same value in all ${s.rows} rows${c.first && c.first.length <= 60 ? ` ("${c.first}")` : ''}`, 0, 'information');
    }
    if (s.schemaFirst) {
      const sf = s.schemaFirst;
      file('DATA012', `schema changes mid-file: ${s.schemaChanges} row${s.schemaChanges === 1 ? '' : 's'} differ from the first row's keys, first at ${s.format === 'json' || s.format === 'jsonl' ? `line ${sf.line + 1}` : `row ${sf.row + 1}`}${sf.added.length ? ` (new: ${sf.added.slice(0, 5).join(', ')})` : ''}${sf.missing.length ? ` (missing: ${sf.missing.slice(0, 5).join(', ')})` : ''}`, sf.line, 'information');
    }
  }

  private drift(findings: RowFinding[]): DriftReport[] {
    const refs = this.sources.filter((s) => s.reference);
    const pairs: Array<[Source[], Source]> = [];
    if (refs.length) for (const s of this.sources) { if (!s.reference) pairs.push([refs, s]); }
    else {
      const train = this.sources.filter((s) => s.split === 'train');
      if (train.length) for (const s of this.sources) if (s.split && s.split !== 'train') pairs.push([train, s]);
    }
    const out: DriftReport[] = [];
    for (const [ref, s] of pairs) {
      if (!s.rows || !ref.some((r) => r.rows)) continue;
      const refName = ref.length === 1 ? ref[0].path : `${ref.length} reference files`;
      const d: DriftReport = { source: s.path, reference: refName, lengthPsi: 0, lengthKs: 0, columns: [], newTokens: [] };
      const sum = (arrs: ArrayLike<number>[], n: number) => { const o = new Float64Array(n); for (const a of arrs) for (let i = 0; i < n; i++) o[i] += a[i] ?? 0; return o; };
      const L = this.labelNames.length;
      if (L >= 2 && s.labelledRows && ref.some((r) => r.labelledRows)) {
        const a = new Float64Array(L), e = new Float64Array(L);
        for (const [l, c] of s.labelCounts) a[l] = c;
        for (const r of ref) for (const [l, c] of r.labelCounts) e[l] += c;
        d.labelPsi = psi(e, a);
      }
      const eLen = sum(ref.map((r) => r.lengthHist), LENGTH_BINS);
      d.lengthPsi = psi(eLen, s.lengthHist);
      d.lengthKs = ksDistance(eLen, s.lengthHist);
      for (const c of s.columns.values()) {
        const rc = ref.map((r) => r.columns.get(c.name)).filter((x): x is ColumnStat => !!x);
        if (!rc.length) continue;
        const num = c.numHist && rc.some((x) => x.numHist);
        const a = num ? c.numHist! : c.lenHist;
        if (!a) continue;
        const e = num ? sum(rc.map((x) => x.numHist ?? new Int32Array(0)), NUMBER_BINS) : sum(rc.map((x) => x.lenHist ?? new Int32Array(0)), LENGTH_BINS);
        d.columns.push({ name: c.name, psi: psi(e, a) });
      }
      const refRows = ref.reduce((a, r) => a + r.rows, 0);
      const v = this.vocab, SC = v.srcCap;
      for (let id = 0; id < v.size; id++) {
        const n = v.src[id * SC + s.index];
        if (n < 5 || n / s.rows < STATS.newTokenShare) continue;
        let rn = 0;
        for (const r of ref) rn += v.src[id * SC + r.index];
        const share = n / s.rows, rshare = rn / Math.max(1, refRows);
        if (rshare * 20 <= share) d.newTokens.push({ token: v.tokens[id], share, referenceShare: rshare });
      }
      d.newTokens.sort((a, b) => b.share - a.share);
      d.newTokens = d.newTokens.slice(0, 20);
      out.push(d);
      const parts: string[] = [];
      if (d.labelPsi !== undefined && d.labelPsi >= STATS.psiShift) parts.push(`label distribution (PSI ${d.labelPsi.toFixed(2)})`);
      const enough = s.rows >= 50 && refRows >= 50;
      if (enough && (d.lengthPsi >= STATS.psiShift || d.lengthKs >= STATS.ksShift)) parts.push(`text length (PSI ${d.lengthPsi.toFixed(2)}, KS ${d.lengthKs.toFixed(2)})`);
      if (enough) for (const c of d.columns) if (c.psi >= STATS.psiShift && !s.roles?.text.includes(c.name)) parts.push(`column "${c.name}" (PSI ${c.psi.toFixed(2)})`);
      if (d.newTokens.length) parts.push(`new tokens dominate: ${d.newTokens.slice(0, 5).map((t) => `"${t.token}" in ${(t.share * 100).toFixed(1)}% of rows vs ${(t.referenceShare * 100).toFixed(2)}%`).join(', ')}`);
      if (parts.length) findings.push({ code: 'DATA011', severity: 'warning', src: s.index, row: -1, line: 0, character: 0, length: 0, message: `distribution shift against ${refName}: ${parts.join('; ')}`, data: { drift: d } });
    }
    return out;
  }

  private sourceReport(s: Source): SourceReport {
    const labels: Record<string, number> = {};
    for (const [l, c] of [...s.labelCounts.entries()].sort((a, b) => b[1] - a[1])) labels[this.labelNames[l]] = c;
    const columns: ColumnReport[] = [...s.columns.values()].map((c) => ({
      name: c.name, types: Object.fromEntries(TYPE_NAMES.map((t, i) => [t, c.types[i]]).filter(([, n]) => n)), empty: c.empty,
      ...(c.constant && s.rows >= 20 && c.first !== undefined ? { constant: c.first } : {}),
    }));
    return {
      path: s.path, format: s.format, ...(s.split ? { split: s.split } : {}), reference: s.reference, bytes: s.bytes,
      ...(s.sha256 ? { sha256: s.sha256 } : {}), rows: s.rows, roles: s.roles ?? { text: [], response: [] }, columns, labels,
      lengthHistogram: Array.from(s.lengthHist), duplicates: s.duplicates, conflicts: s.conflicts, incomplete: s.incomplete,
      ...(s.sampled ? { sampled: true } : {}),
    };
  }
}

/** A cached row's MinHash signature, bottom-k sketch, sketch length and token bits (then kept on the entry). */
const SIG_HASHES = new Uint32Array(256), SIG_OUT = new Uint32Array(SIG_STRIDE);
function entrySignature(cache: RowCache, e: number): void {
  const th = SIG_HASHES, pool = cache.pool, eo = e * ENTRY_WORDS, ndN = cache.ent[eo + E_ND_N], ndOff = cache.ent[eo + E_ND_OFF];
  for (let t = 0; t < ndN; t++) th[t] = pool[ndOff + t];
  writeSignature(cache, e, th, ndN);
}

function writeSignature(cache: RowCache, e: number, th: Uint32Array, tn: number): void {
  const W = SIG_STRIDE, out = SIG_OUT;
  let pool = cache.pool;
  out.fill(0);
  minhashOf(th, tn, out, 0);
  const slen = bottomKOf(th, tn, out, MH_K);
  let lo = 0, hi = 0;
  for (let t = 0; t < tn; t++) { const b = Math.imul(th[t], 0x9e3779b1) >>> 26; if (b < 32) lo |= 1 << b; else hi |= 1 << (b - 32); }
  const off = cache.alloc(SIG_WORDS);
  pool = cache.pool;
  for (let i = 0; i < W; i++) pool[off + i] = out[i];
  pool[off + W] = slen; pool[off + W + 1] = lo; pool[off + W + 2] = hi;
  cache.ent[e * ENTRY_WORDS + E_SIG_OFF] = off; cache.ent[e * ENTRY_WORDS + E_ND_OFF] = -1;
}

export function fmtP(p: number): string {
  if (p === 0) return '< 1e-300';
  if (p < 0.001) return p.toExponential(1);
  return p.toFixed(3);
}

export function fileUri(p: string): string {
  const abs = p.replace(/\\/g, '/');
  return 'file://' + (abs.startsWith('/') ? '' : '/') + encodeURI(abs);
}

/** Start of `token` as a whole word in `text` (case-insensitive), or -1. */
export function findToken(text: string, token: string): number {
  const lower = text.toLowerCase();
  let from = 0;
  for (;;) {
    const i = lower.indexOf(token, from);
    if (i < 0) return -1;
    const before = i === 0 ? '' : lower[i - 1], after = lower[i + token.length] ?? '';
    if (!/[\p{L}\p{N}_]/u.test(before) && !/[\p{L}\p{N}_]/u.test(after)) return i;
    from = i + 1;
  }
}

/** Where a JSON string with this decoded value (plus an offset into it) sits in a JSON row's raw text. */
export function locateValue(raw: string, value: string, offset: number): { line: number; character: number } | undefined {
  const enc = JSON.stringify(value.slice(0, 40));
  const i = raw.indexOf(enc.slice(0, -1));
  if (i < 0) return undefined;
  let k = i + 1, n = 0;
  while (n < offset && k < raw.length && raw[k] !== '"') { if (raw[k] === '\\') k += raw[k + 1] === 'u' ? 6 : 2; else k++; n++; }
  return { line: 0, character: k };
}

/** Formats without lines (Parquet, Arrow): rows are referred to by number. */
function rowsOnly(f: DatasetFormat): boolean { return f === 'parquet' || f === 'arrow'; }

/**
 * Where a field's value (plus an offset into the decoded value) sits in a row's raw text: JSON
 * lines by the `"key":` spelling, CSV by the field's index. Returns the line offset within the raw
 * record (CSV records may span lines) and the character on that line.
 */
export function locateField(raw: string, format: DatasetFormat, field: string, offset: number, header?: readonly string[]): { line: number; character: number } | undefined {
  let start = -1;
  if (format === 'jsonl' || format === 'json') {
    const key = JSON.stringify(field);
    let i = raw.indexOf(key);
    while (i >= 0) {
      let j = i + key.length;
      while (raw[j] === ' ' || raw[j] === '\t') j++;
      if (raw[j] === ':') {
        j++;
        while (raw[j] === ' ' || raw[j] === '\t') j++;
        start = raw[j] === '"' ? j + 1 : j;
        break;
      }
      i = raw.indexOf(key, i + 1);
    }
    if (start < 0) return undefined;
    // Walk `offset` decoded characters forward over escapes (\n, \uXXXX, …).
    let k = start, n = 0;
    while (n < offset && k < raw.length && raw[k] !== '"') {
      if (raw[k] === '\\') k += raw[k + 1] === 'u' ? 6 : 2; else k++;
      n++;
    }
    start = k;
  } else if (format === 'csv' || format === 'tsv') {
    const idx = header ? header.indexOf(field) : -1;
    if (idx < 0) return undefined;
    const delim = format === 'tsv' ? '\t' : ',';
    let f = 0, k = 0, inQ = false;
    while (k < raw.length && f < idx) {
      const ch = raw[k];
      if (ch === '"') inQ = !inQ;
      else if (ch === delim && !inQ) f++;
      k++;
    }
    if (f < idx) return undefined;
    const quoted = raw[k] === '"';
    start = k + (quoted ? 1 : 0);
    let n = 0;
    while (n < offset && start < raw.length) { if (quoted && raw[start] === '"' && raw[start + 1] === '"') start++; start++; n++; }
  } else return undefined;
  // lines as the editor counts them: LF, CRLF and a lone CR each end one (a CSV record may hold any of them);
  // a CR just before `start` whose LF is at `start` ends its line after it
  const starts = lineStarts(raw, 0, start, [0]);
  let line = starts.length - 1;
  if (starts[line] > start) line--;
  return { line, character: start - starts[line] };
}
