/**
 * Per-row work of an editor audit, kept between audits of the same document: the parsed record,
 * the row's own findings (deceptive Unicode, injections, commands, chat format; positions relative
 * to the row), its text length, duplicate key, distinct tokens and near-duplicate signature. A
 * re-audit after an edit parses, tokenizes and hashes only the rows whose text changed; the
 * statistics over the whole file (columns, labels and label runs, the online context model and
 * triggers, first-seen duplicates and near-duplicate buckets) are rebuilt in row order from these
 * features, so the findings are those of a fresh audit (test/unit/datasets/incremental.test.ts
 * compares them after random edits).
 *
 * Rows are matched without hashing every line: the new text is compared with the previous one
 * (common prefix and suffix, memcmp speed), lines inside them are the previous audit's rows at the
 * same (or shifted) line, and only lines in between are looked up by their text among the previous
 * lines in between (moved or pasted rows).
 *
 * Features depend on the column roles, the options and the limits: when any of those changes the
 * features are recomputed (records are kept while the limits stay). Memory is bounded by the named
 * limits below; past them rows are audited without the cache.
 */
import type { Severity } from '../types';
import { MINHASH_K, SKETCH_K } from './text';
import { Vocab } from './vocab';

/** Rows a cache keeps (a longer document is audited without caching the rest). */
export const ROW_CACHE_MAX_ROWS = 200_000;
/** Characters of row text a cache keeps. */
export const ROW_CACHE_MAX_CHARS = 24 * 1024 * 1024;
/** Numbers (token ids, hashes, signatures) a cache reserves up front for a new document. */
export const ROW_CACHE_MAX_POOL = 1 << 23;
/** Distinct tokens a cache interns; beyond it the cache starts over at the next audit. */
export const ROW_CACHE_MAX_TOKENS = 1_000_000;

/** A row finding with its position relative to the row's first line. */
export interface RelFinding {
  code: string;
  severity: Severity;
  lineOff: number;
  character: number;
  length: number;
  message: string;
  detail?: string;
  data?: Record<string, unknown>;
}

export const NO_FINDINGS: readonly RelFinding[] = Object.freeze([]);

/**
 * A cached row is an index into the cache's entry columns (no object per row: 50,000 row objects
 * cost ~9 MB of heap that every scavenge copied, twice, while a first audit filled the cache). The
 * numbers of entry `e` are `RowCache.ent[e * ENTRY_WORDS + E_*]`; its record is `RowCache.records[e]`,
 * its row findings `RowCache.pre[e]`.
 */
export const ENTRY_WORDS = 16;
/** Feature generation the fields below belong to (-1: not computed). */
export const E_GEN = 0;
/** Characters of the row's text. */
export const E_CHARS = 1;
export const E_PRIMARY_LEN = 2;
/** 1: the row has a primary text. */
export const E_HAS_PRIMARY = 3;
/** Number of tokens of the exact-duplicate key (0: no key); the key itself is RowCache.keys[e]. */
export const E_KEY_N = 4;
/** pool[tokOff, tokOff + tokN): interned ids (RowCache.intern) of the row's first 512 distinct tokens, in first-seen order (-1: none). */
export const E_TOK_OFF = 5;
export const E_TOK_N = 6;
/** pool[ndOff, ndOff + ndN): distinct token hashes for the near-duplicate signature. */
export const E_ND_OFF = 7;
export const E_ND_N = 8;
/** pool[sigOff, + SIG_WORDS): MinHash signature + bottom-k sketch, sketch length, the two token-bit words (computed when first needed; -1: not yet). */
export const E_SIG_OFF = 9;
/** The row's near-duplicate slot in the audit whose search is RowCache.nd (valid when the stamp is nd.stamp). */
export const E_ND_SLOT = 10;
export const E_ND_STAMP = 11;

/** A copy of `s` that does not keep a larger string alive (slices of a document share its memory). */
export function detach(s: string): string { return s.length < 13 ? s : (' ' + s).slice(1); }

const BLOCK = 1 << 16;
/** Numbers of a cached signature: MinHash (16) + bottom-k sketch (32), sketch length, two token-bit words. */
export const SIG_WORDS = MINHASH_K + SKETCH_K + 3;

/** Length of the common prefix of a and b. */
export function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i + BLOCK <= n && a.slice(i, i + BLOCK) === b.slice(i, i + BLOCK)) i += BLOCK;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Length of the common suffix of a and b, at most `max`. */
export function commonSuffix(a: string, b: string, max: number): number {
  const n = Math.min(a.length, b.length, max);
  let i = 0;
  while (i + BLOCK <= n && a.slice(a.length - i - BLOCK, a.length - i) === b.slice(b.length - i - BLOCK, b.length - i)) i += BLOCK;
  while (i < n && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++;
  return i;
}

function countNewlines(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * The near-duplicate search of the last completed audit, by slot (the order rows entered the search):
 * the content of the row's four band buckets when it searched (count and slots, 5 numbers a band),
 * and its outcome (the twin's slot or -1, the similarity). A later audit reuses a row's outcome when
 * its buckets hold the same rows in the same order: the same candidates, compared the same way.
 */
export interface NearDupRecord { gen: number; stamp: number; snap: Int32Array; twin: Int32Array; sim: Float64Array; slots: number }

export class RowCache {
  /** The last completed audit's near-duplicate search (audits without the helper thread only). */
  nd?: NearDupRecord;
  private ndStamps = 0;
  /** A stamp for a new near-duplicate record. */
  stampNearDup(): number { return ++this.ndStamps; }
  /** Token strings of all cached rows (ids are this cache's, not an audit's vocabulary). */
  intern = new Vocab();
  /** Per-row numbers (token ids, hashes, signatures) of all entries side by side: no typed array or list per row for the collector to copy. */
  pool: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  /** The same memory as unsigned numbers (signatures and sketches are compared as uint32 in place, without a copy per audit). */
  poolU32 = new Uint32Array(this.pool.buffer);
  private used = 0;
  /** Entry columns (ENTRY_WORDS numbers per entry, E_* offsets), the exact-duplicate keys, records and row findings by entry. */
  ent = new Int32Array(ENTRY_WORDS * 1024);
  keys = new Float64Array(1024);
  records: Array<Record<string, unknown>> = [];
  pre: Array<readonly RelFinding[] | undefined> = [];
  private entries = 0;
  private baseKey?: string;
  private featKey?: string;
  /** Current feature generation. */
  gen = 0;
  // the previous completed audit: its text and its entries by line (-1: none)
  private prevText?: string;
  private prev = new Int32Array(0);
  // the audit in progress
  private text = '';
  private next = new Int32Array(0);
  private nextRows = 0;
  private nextChars = 0;
  /** Lines below `headLines` are the previous audit's same lines; lines from `tailFrom` on are its lines shifted by `shift`. */
  private headLines = 0;
  private tailFrom = Infinity;
  private shift = 0;
  /** Previous lines between head and tail, by text (built when first needed). */
  private middle?: Map<string, number>;
  private midOld?: { fromChar: number; toChar: number; fromLine: number };
  /** Rows found / computed in the current audit, and near-duplicate outcomes reused. */
  hits = 0;
  misses = 0;
  ndReused = 0;
  /**
   * The cache was empty when this audit began: rows record the audit's own vocabulary ids, and that
   * vocabulary becomes `intern` when the audit ends (no second token table is built on a first audit).
   */
  adopting = false;
  /** An adopting audit could not keep its ids (its vocabulary was pruned): the features are dropped at the end. */
  adoptFailed = false;
  private internStamp = 0;

  /** A fresh stamp for de-duplicating a row's tokens in `intern` (never reused across audits). */
  stampIntern(): number { return ++this.internStamp; }

  /** An earlier audit of the document completed: most rows of the next one come from the cache. */
  get warm(): boolean { return this.prevText !== undefined; }

  /** Calls fn once for each entry kept from the last completed audit. */
  forEachKept(fn: (e: number) => void): void {
    const seen = new Uint8Array(this.entries), prev = this.prev;
    for (let i = 0; i < prev.length; i++) { const e = prev[i]; if (e >= 0 && !seen[e]) { seen[e] = 1; fn(e); } }
  }

  /** Rows kept from the last completed audit. */
  get size(): number { let n = 0; for (let i = 0; i < this.prev.length; i++) if (this.prev[i] >= 0) n++; return n; }

  /** Start an audit of `text` (`lines` lines) with these limits and thread role (another key: start over). */
  begin(baseKey: string, text: string, lines: number, poolWords = 0): void {
    if (baseKey !== this.baseKey || this.intern.size > ROW_CACHE_MAX_TOKENS) this.clear();
    if (this.used === 0 && poolWords > this.pool.length) this.setPool(new Int32Array(2 ** Math.ceil(Math.log2(Math.min(poolWords, ROW_CACHE_MAX_POOL)))));
    const rows = Math.min(lines, ROW_CACHE_MAX_ROWS);
    if (this.entries === 0 && rows > this.keys.length) this.growEntries(rows);
    this.baseKey = baseKey;
    this.text = text;
    this.next = new Int32Array(lines + 1).fill(-1);
    this.rawOk = true; this.rawMid = undefined; this.rawAll = undefined; this.headerKey = undefined;
    this.nextRows = 0; this.nextChars = 0;
    this.hits = 0; this.misses = 0; this.ndReused = 0;
    this.middle = undefined; this.midOld = undefined;
    this.adopting = this.prevText === undefined && this.intern.size === 0;
    this.adoptFailed = false;
    const old = this.prevText;
    this.headLines = 0; this.tailFrom = Infinity; this.shift = 0;
    if (old === undefined) return;
    const pre = commonPrefix(old, text);
    const suf = commonSuffix(old, text, Math.min(old.length, text.length) - pre);
    // a line is in the head when its newline is inside the common prefix
    this.headLines = countNewlines(text, 0, pre);
    // a line is in the tail when the newline before it is inside the common suffix
    const newTail = text.length - suf, oldTail = old.length - suf;
    const p = text.indexOf('\n', newTail);
    let oldTo = old.length;
    if (p >= 0) {
      this.tailFrom = this.headLines + countNewlines(text, pre, p) + 1;
      const pOld = p + (oldTail - newTail);
      this.shift = this.headLines + countNewlines(old, pre, pOld) + 1 - this.tailFrom;
      oldTo = pOld + 1;
    }
    this.midOld = { fromChar: pre, toChar: oldTo, fromLine: this.headLines };
  }

  /** The roles, options and limits features are computed with; another key invalidates all features. */
  features(key: string): void {
    if (key !== this.featKey) { this.featKey = key; this.gen++; }
  }

  /** The cached entry for line `line` whose text is `raw`, or -1. */
  get(line: number, raw: string): number {
    if (this.prevText === undefined) return -1; // a first audit: nothing to find (and no line text to hash)
    let e: number;
    if (line < this.headLines) e = line < this.prev.length ? this.prev[line] : -1;
    else if (line >= this.tailFrom) { const l = line + this.shift; e = l >= 0 && l < this.prev.length ? this.prev[l] : -1; }
    else e = this.middleMap().get(raw) ?? -1;
    if (e >= 0) { this.hits++; this.keep(line, e); }
    return e;
  }

  /**
   * get() for a record that may span lines (CSV/TSV: quoted fields with newlines), found by its text:
   * a previous record with the same raw text (and the same header, see useHeader) is the same record.
   * Where a record starts depends on the quotes before it, so a position is only a guess: the
   * previous record at the same (or shifted) line is taken when its text is this one, otherwise
   * the previous records between head and tail are looked up by text, and only a guess that
   * failed in the head or tail (a record that spans the edit) looks among all of them.
   */
  getRecord(line: number, raw: string): number {
    if (this.prevText === undefined || !this.rawOk) return -1;
    const prev = this.prev, rawOf = this.rawOf;
    let e = -1, inEnds = false;
    if (line < this.headLines) { inEnds = true; if (line < prev.length) e = prev[line]; }
    else if (line >= this.tailFrom) { inEnds = true; const l = line + this.shift; if (l >= 0 && l < prev.length) e = prev[l]; }
    if (e < 0 || rawOf[e] !== raw) {
      e = this.rawMap(false).get(raw) ?? -1;
      if (e < 0 && inEnds) e = this.rawMap(true).get(raw) ?? -1;
    }
    if (e >= 0) { this.hits++; this.keep(line, e); }
    return e;
  }

  /** The previous records by text: those between head and tail, or all of them. */
  private rawMap(all: boolean): Map<string, number> {
    const have = all ? this.rawAll : this.rawMid;
    if (have) return have;
    const m = new Map<string, number>(), prev = this.prev;
    const mo = this.midOld;
    let from = 0, to = prev.length;
    if (!all) { from = mo ? mo.fromLine : 0; to = this.tailFrom === Infinity ? prev.length : Math.min(prev.length, this.tailFrom + this.shift); }
    for (let i = from; i < to; i++) { const e = prev[i]; if (e >= 0) { const t = this.rawOf[e]; if (t !== undefined && !m.has(t)) m.set(t, e); } }
    if (all) this.rawAll = m; else this.rawMid = m;
    return m;
  }

  /** add() for a record looked up by getRecord() (its raw text is kept to compare with). */
  addRecord(line: number, raw: string, record: Record<string, unknown>): number {
    const e = this.add(line, raw, record);
    if (e >= 0) this.rawOf[e] = raw;
    return e;
  }

  /**
   * The CSV/TSV header the records are built with: another header than the previous audit's means
   * no previous record can be reused (their fields have other names).
   */
  useHeader(key: string): void {
    this.headerKey = key;
    if (key !== this.prevHeaderKey) { this.rawOk = false; this.nd = undefined; }
  }
  /** The header of the audit in progress, and of the last completed one. */
  private headerKey?: string;
  private prevHeaderKey?: string;
  /** CSV/TSV: each entry's raw record text; false while the header differs from the previous audit's. */
  rawOf: Array<string | undefined> = [];
  private rawOk = true;
  private rawMid?: Map<string, number>;
  private rawAll?: Map<string, number>;

  /** A new entry for a row (-1 when the cache is full). */
  add(line: number, raw: string, record: Record<string, unknown>): number {
    this.misses++;
    if (this.nextRows >= ROW_CACHE_MAX_ROWS || this.nextChars + raw.length > ROW_CACHE_MAX_CHARS || line >= this.next.length) return -1;
    const e = this.entries++;
    if (e >= this.keys.length) this.growEntries(e + 1);
    const ent = this.ent, o = e * ENTRY_WORDS;
    ent[o + E_GEN] = -1; ent[o + E_CHARS] = raw.length;
    ent[o + E_TOK_OFF] = -1; ent[o + E_ND_OFF] = -1; ent[o + E_SIG_OFF] = -1; ent[o + E_ND_SLOT] = -1; ent[o + E_ND_STAMP] = 0;
    this.records[e] = record;
    this.pre[e] = undefined;
    if (this.rawOf.length > e) this.rawOf[e] = undefined;
    this.keep(line, e);
    return e;
  }

  private growEntries(n: number): void {
    let cap = Math.max(1024, this.keys.length);
    while (cap < n) cap *= 2;
    const ent = new Int32Array(cap * ENTRY_WORDS); ent.set(this.ent.subarray(0, this.entries * ENTRY_WORDS)); this.ent = ent;
    const keys = new Float64Array(cap); keys.set(this.keys.subarray(0, this.entries)); this.keys = keys;
  }

  private keep(line: number, e: number): boolean {
    const chars = this.ent[e * ENTRY_WORDS + E_CHARS];
    if (this.nextRows >= ROW_CACHE_MAX_ROWS || this.nextChars + chars > ROW_CACHE_MAX_CHARS || line >= this.next.length) return false;
    this.next[line] = e;
    this.nextRows++;
    this.nextChars += chars;
    return true;
  }

  private middleMap(): Map<string, number> {
    if (this.middle) return this.middle;
    const m = new Map<string, number>();
    const old = this.prevText, mo = this.midOld;
    if (old !== undefined && mo) {
      // the previous text's lines between head and tail (a line cut by the prefix boundary starts before it)
      let start = mo.fromChar === 0 ? 0 : old.lastIndexOf('\n', mo.fromChar - 1) + 1;
      let line = mo.fromLine;
      while (start < mo.toChar && start <= old.length) {
        let end = old.indexOf('\n', start);
        if (end < 0) end = old.length;
        const e = line < this.prev.length ? this.prev[line] : -1;
        if (e >= 0) {
          let t = old.slice(start, end);
          if (t.endsWith('\r')) t = t.slice(0, -1);
          if (line === 0 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
          if (!m.has(t)) m.set(t, e);
        }
        start = end + 1;
        line++;
      }
    }
    this.middle = m;
    return m;
  }

  private setPool(p: Int32Array<ArrayBuffer>): void { this.pool = p; this.poolU32 = new Uint32Array(p.buffer, p.byteOffset, p.length); }

  /** Room for n numbers in `pool`; returns the offset (the pool may be replaced: read `pool` after calling). */
  alloc(n: number): number {
    if (this.used + n > this.pool.length) {
      let cap = this.pool.length;
      while (cap < this.used + n) cap *= 2;
      const p = new Int32Array(cap); p.set(this.pool.subarray(0, this.used)); this.setPool(p);
    }
    const off = this.used;
    this.used += n;
    return off;
  }

  /** The audit read the whole text: its rows are what the next audit starts from (`vocab`: the audit's vocabulary, for an adopting audit). */
  end(vocab?: Vocab): void {
    if (this.adopting) {
      if (this.adoptFailed || !vocab) this.gen++; // rows hold ids of a vocabulary that changed: recompute their features next time
      else {
        // the same ids in a table of its own (the audit's counters, row lists and spare room are not kept)
        const iv = new Vocab();
        iv.reserve(vocab.size);
        for (let i = 0; i < vocab.size; i++) iv.idOfString(detach(vocab.tokens[i]), vocab.hash[i]);
        this.intern = iv;
      }
      this.adopting = false;
    }
    this.prevText = this.text;
    this.prev = this.next;
    this.next = new Int32Array(0);
    this.rawMid = undefined; this.rawAll = undefined;
    this.prevHeaderKey = this.headerKey;
    this.middle = undefined;
    this.text = '';
    this.compact();
  }

  /** Drop entries and pool space of rows that left (when more than half of either is theirs). */
  private compact(): void {
    const prev = this.prev, W = ENTRY_WORDS, n = this.entries;
    // an entry can stand for several equal lines: count each once
    const remap = new Int32Array(n).fill(-1);
    let liveEntries = 0, live = 0;
    const ent = this.ent;
    for (let i = 0; i < prev.length; i++) {
      const e = prev[i];
      if (e < 0 || remap[e] >= 0) continue;
      remap[e] = liveEntries++;
      const o = e * W;
      live += (ent[o + E_TOK_OFF] >= 0 ? ent[o + E_TOK_N] : 0) + (ent[o + E_ND_OFF] >= 0 ? ent[o + E_ND_N] : 0) + (ent[o + E_SIG_OFF] >= 0 ? SIG_WORDS : 0);
    }
    const poolDead = this.used > 2 * live + (1 << 16);
    if (n > 2 * liveEntries + 1024 || poolDead) {
      // renumber the live entries in line order (their records and findings move with them)
      const ne = new Int32Array(Math.max(1024, liveEntries) * W), nk = new Float64Array(Math.max(1024, liveEntries));
      const nr: Array<Record<string, unknown>> = new Array(liveEntries), np: Array<readonly RelFinding[] | undefined> = new Array(liveEntries);
      const nw: Array<string | undefined> = this.rawOf.length ? new Array(liveEntries) : [];
      for (let e = 0; e < n; e++) {
        const to = remap[e];
        if (to < 0) continue;
        ne.set(ent.subarray(e * W, e * W + W), to * W);
        nk[to] = this.keys[e]; nr[to] = this.records[e]; np[to] = this.pre[e];
        if (this.rawOf.length) nw[to] = this.rawOf[e];
      }
      for (let i = 0; i < prev.length; i++) if (prev[i] >= 0) prev[i] = remap[prev[i]];

      this.ent = ne; this.keys = nk; this.records = nr; this.pre = np; this.rawOf = nw; this.entries = liveEntries;
    }
    if (!poolDead) return;
    const old = this.pool;
    const p = new Int32Array(Math.max(1 << 16, 2 ** Math.ceil(Math.log2(live + 1))));
    let at = 0;
    const move = (off: number, k: number) => { p.set(old.subarray(off, off + k), at); at += k; return at - k; };
    const e2 = this.ent;
    for (let e = 0; e < this.entries; e++) {
      const o = e * W;
      if (e2[o + E_TOK_OFF] >= 0) e2[o + E_TOK_OFF] = move(e2[o + E_TOK_OFF], e2[o + E_TOK_N]);
      if (e2[o + E_ND_OFF] >= 0) e2[o + E_ND_OFF] = move(e2[o + E_ND_OFF], e2[o + E_ND_N]);
      if (e2[o + E_SIG_OFF] >= 0) e2[o + E_SIG_OFF] = move(e2[o + E_SIG_OFF], SIG_WORDS);
    }
    this.setPool(p);
    this.used = at;
  }

  clear(): void {
    this.prev = new Int32Array(0); this.next = new Int32Array(0);
    this.prevText = undefined;
    this.middle = undefined;
    this.intern = new Vocab();
    this.nd = undefined;
    this.setPool(new Int32Array(1 << 16));
    this.used = 0;
    this.headerKey = undefined; this.prevHeaderKey = undefined; this.rawOf = []; this.rawMid = undefined; this.rawAll = undefined;
    this.ent = new Int32Array(ENTRY_WORDS * 1024); this.keys = new Float64Array(1024); this.records = []; this.pre = []; this.entries = 0;
    this.featKey = undefined;
    this.gen++;
  }
}
