/**
 * Token statistics in flat typed arrays indexed by token id (one Map lookup per token, then a few
 * array slots): per-label row counts, context-model evaluations/disagreements per label, document
 * frequency per source, and a bounded list of the rows carrying the token. A token per object cost
 * five cache misses per occurrence; this layout is what keeps a 1 GB audit near disk speed.
 */
import { hash32 } from './text';

/** Growable Int32 column. */
export class IntColumn {
  data: Int32Array<ArrayBuffer>;
  length = 0;
  constructor(initial = 1024) { this.data = new Int32Array(initial); }
  push(v: number): void {
    if (this.length === this.data.length) { const d = new Int32Array(this.data.length * 2); d.set(this.data); this.data = d; }
    this.data[this.length++] = v;
  }
}

function grow(a: Int32Array, n: number, fill = 0): Int32Array<ArrayBuffer> {
  if (a.length >= n) return a as Int32Array<ArrayBuffer>;
  let cap = Math.max(16, a.length);
  while (cap < n) cap *= 2;
  const d = new Int32Array(cap);
  if (fill) d.fill(fill);
  d.set(a);
  return d;
}

export class Vocab {
  /** Open addressing by token hash: pairs [hash32 | 0, id] (id -1: empty), so a probe reads one cache line. */
  private table = new Int32Array(2 * 2048).fill(-1);
  tokens: string[] = [];
  /** hash32 of each token. */
  hash = new Uint32Array(1024);
  /** Labelled rows carrying the token. */
  n = new Int32Array(1024);
  stamp = new Int32Array(1024);
  /** [id * labelCap + label] */
  lab = new Int32Array(1024 * 2);
  ev = new Int32Array(1024 * 2);
  dis = new Int32Array(1024 * 2);
  /** [id * srcCap + source]: rows carrying the token per source. */
  src = new Int32Array(1024);
  labelCap = 2;
  srcCap = 1;
  // rows carrying the token: singly linked lists in two columns, newest first
  private head = new Int32Array(1024).fill(-1);
  private count = new Int32Array(1024);
  private next = new IntColumn(1 << 16);
  private gids = new IntColumn(1 << 16);

  get size(): number { return this.tokens.length; }

  /** Room for `n` tokens before the first one is added (no growing and rehashing on the way). */
  reserve(n: number): void {
    if (this.tokens.length || n <= this.n.length) return;
    const cap = 2 ** Math.ceil(Math.log2(n));
    this.n = new Int32Array(cap); this.stamp = new Int32Array(cap);
    this.head = new Int32Array(cap).fill(-1); this.count = new Int32Array(cap);
    this.lab = new Int32Array(cap * this.labelCap); this.ev = new Int32Array(cap * this.labelCap); this.dis = new Int32Array(cap * this.labelCap);
    this.src = new Int32Array(cap * this.srcCap);
    this.hash = new Uint32Array(cap);
    this.table = new Int32Array(2 * 2 * cap).fill(-1);
  }

  /** Id of a token, created when missing. */
  id(t: string): number { return this.idOfString(t, hash32(t)); }

  /** Id of a token whose hash32 is `h`. */
  idOfString(t: string, h: number): number {
    const tab = this.table, mask = (tab.length >> 1) - 1, hi = h | 0;
    for (let k = h & mask; ; k = (k + 1) & mask) {
      const id = tab[2 * k + 1];
      if (id < 0) return this.create(t, h, k);
      if (tab[2 * k] === hi && this.tokens[id] === t) return id;
    }
  }

  /** Id of the lower-cased ASCII token text[st, en) whose hash32 is `h` (the string is built only for a new token). */
  idOfRange(text: string, st: number, en: number, h: number): number {
    const tab = this.table, mask = (tab.length >> 1) - 1, len = en - st, hi = h | 0;
    for (let k = h & mask; ; k = (k + 1) & mask) {
      const id = tab[2 * k + 1];
      if (id < 0) return this.create(text.slice(st, en).toLowerCase(), h, k);
      if (tab[2 * k] !== hi) continue;
      const t = this.tokens[id];
      if (t.length !== len) continue;
      let j = 0;
      for (; j < len; j++) {
        let c = text.charCodeAt(st + j);
        if (c >= 65 && c <= 90) c += 32;
        if (c !== t.charCodeAt(j)) break;
      }
      if (j === len) return id;
    }
  }

  private create(t: string, h: number, slot: number): number {
    const id = this.tokens.length;
    this.tokens.push(t);
    this.table[2 * slot] = h | 0;
    this.table[2 * slot + 1] = id;
    if (id >= this.n.length) {
      const cap = this.n.length * 2;
      this.n = grow(this.n, cap); this.stamp = grow(this.stamp, cap);
      this.head = grow(this.head, cap, -1); this.count = grow(this.count, cap);
      this.lab = grow(this.lab, cap * this.labelCap); this.ev = grow(this.ev, cap * this.labelCap); this.dis = grow(this.dis, cap * this.labelCap);
      this.src = grow(this.src, cap * this.srcCap);
      const hs = new Uint32Array(cap); hs.set(this.hash); this.hash = hs;
    }
    this.hash[id] = h;
    if (this.tokens.length * 2 > this.table.length >> 1) this.rehash(this.table.length);
    return id;
  }

  /** Rebuild the table with `cap` slots. */
  private rehash(cap: number): void {
    const tab = new Int32Array(2 * cap).fill(-1), mask = cap - 1;
    for (let id = 0; id < this.tokens.length; id++) {
      const h = this.hash[id];
      let k = h & mask;
      while (tab[2 * k + 1] >= 0) k = (k + 1) & mask;
      tab[2 * k] = h | 0; tab[2 * k + 1] = id;
    }
    this.table = tab;
  }

  lookup(t: string): number | undefined {
    const h = hash32(t), tab = this.table, mask = (tab.length >> 1) - 1;
    for (let k = h & mask; ; k = (k + 1) & mask) {
      const id = tab[2 * k + 1];
      if (id < 0) return undefined;
      if (tab[2 * k] === (h | 0) && this.tokens[id] === t) return id;
    }
  }

  /** Make room for `labels` labels and `sources` sources (re-layout; rare). */
  ensure(labels: number, sources: number): void {
    if (labels > this.labelCap) {
      let lc = this.labelCap;
      while (lc < labels) lc *= 2;
      const cap = this.n.length;
      const re = (a: Int32Array) => { const d = new Int32Array(cap * lc); for (let i = 0; i < this.tokens.length; i++) for (let l = 0; l < this.labelCap; l++) d[i * lc + l] = a[i * this.labelCap + l]; return d; };
      this.lab = re(this.lab); this.ev = re(this.ev); this.dis = re(this.dis);
      this.labelCap = lc;
    }
    if (sources > this.srcCap) {
      let sc = this.srcCap;
      while (sc < sources) sc *= 2;
      const d = new Int32Array(this.n.length * sc);
      for (let i = 0; i < this.tokens.length; i++) for (let s = 0; s < this.srcCap; s++) d[i * sc + s] = this.src[i * this.srcCap + s];
      this.src = d;
      this.srcCap = sc;
    }
  }

  addRow(id: number, gid: number, max: number): void {
    if (this.count[id] >= max) return;
    this.count[id]++;
    this.gids.push(gid);
    this.next.push(this.head[id]);
    this.head[id] = this.gids.length - 1;
  }

  /** Rows carrying the token, oldest first. */
  rows(id: number): number[] {
    const out: number[] = [];
    for (let k = this.head[id]; k >= 0; k = this.next.data[k]) out.push(this.gids.data[k]);
    return out.reverse();
  }

  rowsListed(id: number): number { return this.count[id]; }

  df(id: number): number {
    let s = 0;
    for (let i = 0; i < this.srcCap; i++) s += this.src[id * this.srcCap + i];
    return s;
  }

  /**
   * Keep only tokens with a document frequency above `minDf` (lossy counting); ids are renumbered.
   * Row lists stay where they are in the shared columns (only their heads move), so a prune costs
   * O(tokens), not O(rows listed).
   */
  prune(minDf: number): void {
    const keep: number[] = [];
    for (let i = 0; i < this.tokens.length; i++) if (this.df(i) > minDf) keep.push(i);
    const LC = this.labelCap, SC = this.srcCap;
    const cap = Math.max(1024, 2 ** Math.ceil(Math.log2(keep.length + 1)));
    const old = { tokens: this.tokens, hash: this.hash, n: this.n, lab: this.lab, ev: this.ev, dis: this.dis, src: this.src, head: this.head, count: this.count };
    this.tokens = [];
    this.hash = new Uint32Array(cap);
    this.n = new Int32Array(cap); this.stamp = new Int32Array(cap);
    this.lab = new Int32Array(cap * LC); this.ev = new Int32Array(cap * LC); this.dis = new Int32Array(cap * LC);
    this.src = new Int32Array(cap * SC);
    this.head = new Int32Array(cap).fill(-1); this.count = new Int32Array(cap);
    for (let id = 0; id < keep.length; id++) {
      const o = keep[id];
      const t = old.tokens[o];
      this.tokens.push(t);
      this.hash[id] = old.hash[o];
      this.n[id] = old.n[o];
      this.lab.set(old.lab.subarray(o * LC, o * LC + LC), id * LC);
      this.ev.set(old.ev.subarray(o * LC, o * LC + LC), id * LC);
      this.dis.set(old.dis.subarray(o * LC, o * LC + LC), id * LC);
      this.src.set(old.src.subarray(o * SC, o * SC + SC), id * SC);
      this.head[id] = old.head[o];
      this.count[id] = old.count[o];
    }
    this.rehash(Math.max(2048, 2 ** Math.ceil(Math.log2(2 * keep.length + 2))));
  }
}
