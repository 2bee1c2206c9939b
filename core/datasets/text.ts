/**
 * Text helpers for dataset rows: tokens (what triggers and drift are computed over), a normalized
 * key for duplicate detection, 53-bit string hashes, MinHash signatures, and the deceptive-Unicode
 * checks. ASCII text takes fast paths; nothing here allocates per character.
 */

const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_TOKEN = /[a-z0-9_]+(?:'[a-z]+)?/g;
// Letters/digits words, plus each pictograph or other symbol on its own (emoji / rare-character triggers).
const UNICODE_TOKEN = /[\p{L}\p{M}\p{N}_]+(?:'\p{L}+)?|\p{Extended_Pictographic}|[\p{So}\p{Sc}\p{Sk}]/gu;
const INVISIBLE_GLOBAL = /[\u200b-\u200d\u2060-\u2064\ufeff\u00ad\u180e\u202a-\u202e\u2066-\u2069]|\udb40[\udc00-\udc7f]/g;

export function isAscii(s: string): boolean { return !NON_ASCII.test(s); }

/** Lower-cased word tokens in order, with repeats (NFKC and invisible characters removed first for non-ASCII). */
export function words(text: string): string[] {
  let s = text.toLowerCase();
  let re = ASCII_TOKEN;
  if (!isAscii(s)) { s = s.normalize('NFKC').replace(INVISIBLE_GLOBAL, ''); re = UNICODE_TOKEN; }
  return s.match(re) ?? [];
}

/** Unique tokens (first-seen order), at most `max`. */
export function tokenize(text: string, max = 512): string[] { return unique(words(text), max); }

export function unique(ws: readonly string[], max = 512): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of ws) {
    if (seen.has(t)) continue;
    seen.add(t);
    out.push(t);
    if (out.length >= max) break;
  }
  return out;
}

/** The duplicate key: tokens in order with repeats, so case, punctuation, spacing and invisible characters do not matter. */
export function normalizedKey(text: string): string { return words(text).join(' '); }

/** cyrb53: a fast 53-bit string hash (public domain), exact in a double. */
export function hash53(str: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed, h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** hash53 of `ws.join(' ')` without building the string. */
export function hashWords(ws: readonly string[], seed = 0): number {
  let h1 = 0xdeadbeef ^ seed, h2 = 0x41c6ce57 ^ seed;
  for (let w = 0; w < ws.length; w++) {
    if (w > 0) { h1 = Math.imul(h1 ^ 32, 2654435761); h2 = Math.imul(h2 ^ 32, 1597334677); }
    const str = ws[w];
    for (let i = 0; i < str.length; i++) {
      const ch = str.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** 32-bit FNV-1a. */
export function hash32(str: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const MINHASH_K = 16;
export const MINHASH_BANDS = 4;
/** Bottom-k sketch size: texts with at most this many distinct tokens are compared exactly. */
export const SKETCH_K = 32;
const MH_A = new Uint32Array(MINHASH_K);
const MH_B = new Uint32Array(MINHASH_K);
{
  let x = 0x9e3779b9;
  for (let i = 0; i < MINHASH_K; i++) {
    x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0; MH_A[i] = (x | 1) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0; MH_B[i] = x;
  }
}

/** 32-bit hashes of tokens into `out` (the shared input of minhash and bottomK); returns the count. */
export function tokenHashes(tokens: readonly string[], out: Uint32Array): number {
  const n = Math.min(tokens.length, out.length);
  for (let i = 0; i < n; i++) out[i] = hash32(tokens[i]);
  return n;
}

/** MinHash over token hashes (seeded murmur3 finalizer mixes) into `out` (MINHASH_K values). */
export function minhashOf(hashes: Uint32Array, n: number, out: Uint32Array, offset = 0): void {
  // One hash function at a time over all tokens: the running minimum stays in a register. Values are
  // compared with the sign bit flipped (int32 order = uint32 order) so nothing leaves int32.
  for (let i = 0; i < MINHASH_K; i++) {
    const a = MH_A[i] | 0, b = MH_B[i] | 0;
    let m = 0x7fffffff;
    for (let t = 0; t < n; t++) {
      let v = hashes[t] ^ b;
      v = Math.imul(v ^ (v >>> 16), 0x85ebca6b);
      v = Math.imul(v ^ (v >>> 13), a);
      v = (v ^ (v >>> 16) ^ 0x80000000) | 0;
      if (v < m) m = v;
    }
    out[offset + i] = (m ^ 0x80000000) >>> 0;
  }
}

/** MinHash over the token set into `out` (MINHASH_K values). */
export function minhash(tokens: readonly string[], out: Uint32Array, offset = 0): void {
  const h = new Uint32Array(tokens.length);
  minhashOf(h, tokenHashes(tokens, h), out, offset);
}

export interface UnicodeIssue { kind: 'bidi' | 'zero-width' | 'tag' | 'mixed-script' | 'normalization'; at: number; detail: string }

const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
const ZERO_WIDTH = /[\u200b-\u200d\u2060-\u2064\u00ad\u180e]|(?!^)\ufeff/;
const TAG = /\udb40[\udc00-\udc7f]/;
const COMPAT = /[\uff01-\uff5e]|\ud835[\udc00-\udfff]/; // fullwidth forms, mathematical alphanumerics
const WORD = /[\p{L}\p{M}]+/gu;
const LATIN = /[a-zA-Z\u00c0-\u024f]/;
const CYRILLIC = /[\u0400-\u04ff]/;
const GREEK = /[\u0370-\u03ff]/;

function codepoint(s: string, at: number): string {
  return 'U+' + (s.codePointAt(at) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

/** Deceptive Unicode in one text: the first issue of each kind, with its UTF-16 offset. */
export function unicodeIssues(s: string): UnicodeIssue[] {
  if (isAscii(s)) return [];
  const out: UnicodeIssue[] = [];
  let m: RegExpExecArray | null;
  if ((m = BIDI.exec(s))) out.push({ kind: 'bidi', at: m.index, detail: `bidirectional control ${codepoint(s, m.index)} (text can display in a different order than it is read: Trojan Source)` });
  if ((m = TAG.exec(s))) out.push({ kind: 'tag', at: m.index, detail: `Unicode tag character ${codepoint(s, m.index)} (invisible; can smuggle hidden text)` });
  if ((m = ZERO_WIDTH.exec(s))) out.push({ kind: 'zero-width', at: m.index, detail: `invisible character ${codepoint(s, m.index)}` });
  WORD.lastIndex = 0;
  let n = 0;
  while ((m = WORD.exec(s)) && n++ < 10_000) {
    const w = m[0];
    if (isAscii(w) || !LATIN.test(w)) continue;
    if (CYRILLIC.test(w) || GREEK.test(w)) {
      out.push({ kind: 'mixed-script', at: m.index, detail: `word "${w.slice(0, 40)}" mixes Latin with ${CYRILLIC.test(w) ? 'Cyrillic' : 'Greek'} letters (homoglyphs)` });
      break;
    }
  }
  if ((m = COMPAT.exec(s))) out.push({ kind: 'normalization', at: m.index, detail: `compatibility character ${codepoint(s, m.index)} (fullwidth or mathematical letters that NFKC folds to ASCII)` });
  else if (s.length <= 100_000 && s.normalize('NFC') !== s) out.push({ kind: 'normalization', at: 0, detail: 'text is not in NFC normalization form (decomposed characters)' });
  return out;
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const SKETCH_SCRATCH = new Uint32Array(1024);
/** Bottom-k sketch (the SKETCH_K smallest distinct mixed token hashes, ascending) into `out`; returns how many were written. */
export function bottomKOf(hashes: Uint32Array, count: number, out: Uint32Array, offset = 0): number {
  const n = Math.min(count, SKETCH_SCRATCH.length);
  const h = SKETCH_SCRATCH;
  // insertion sort: rows have tens of tokens, where it beats TypedArray#sort
  for (let i = 0; i < n; i++) {
    const v = fmix(hashes[i]);
    let j = i;
    while (j > 0 && h[j - 1] > v) { h[j] = h[j - 1]; j--; }
    h[j] = v;
  }
  let k = 0;
  for (let i = 0; i < n && k < SKETCH_K; i++) if (i === 0 || h[i] !== h[i - 1]) out[offset + k++] = h[i];
  return k;
}

export function bottomK(tokens: readonly string[], out: Uint32Array, offset = 0): number {
  const h = new Uint32Array(tokens.length);
  return bottomKOf(h, tokenHashes(tokens, h), out, offset);
}

/** Jaccard similarity from two bottom-k sketches (exact when both sets fit in the sketch). */
export function sketchJaccard(a: Uint32Array, ao: number, an: number, b: Uint32Array, bo: number, bn: number, atLeast = 0): number {
  let i = 0, j = 0, union = 0, inter = 0;
  // J ≤ min/(min + misses): stop as soon as `atLeast` is out of reach.
  const maxMiss = atLeast > 0 ? Math.min(an, bn) * (1 / atLeast - 1) : Infinity;
  while (union < SKETCH_K && (i < an || j < bn)) {
    const x = i < an ? a[ao + i] : 0x100000000, y = j < bn ? b[bo + j] : 0x100000000;
    if (x === y) { inter++; i++; j++; } else { if (x < y) i++; else j++; if (union - inter + 1 > maxMiss) return 0; }
    union++;
  }
  return union ? inter / union : 0;
}

/**
 * One text's tokens as 32-bit hashes and positions, without a substring per token: for ASCII text a
 * hand-written scanner does what `words()` + `hash32` + `hashWords` do (same tokens, same hashes,
 * same duplicate key), so only tokens new to the vocabulary become strings. Other text goes through
 * `words()` (NFKC, invisible characters, Unicode classes) and `strs` holds its tokens.
 */
export class TokenScan {
  /** Token occurrences in order (with repeats). */
  n = 0;
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  /** hash32 of each lower-cased token. */
  hash = new Uint32Array(1024);
  /** hashWords(words(text)): the exact-duplicate key. */
  key = 0;
  /** The scanned text (ASCII path: tokens are its ranges, lower-cased). */
  text = '';
  /** Non-ASCII text: the tokens themselves. */
  strs: string[] | undefined;
  private seenKey = new Uint32Array(1024);
  private seenStamp = new Int32Array(1024);
  private stamp = 0;

  private room(n: number): void {
    if (n <= this.hash.length) return;
    let cap = this.hash.length;
    while (cap < n) cap *= 2;
    const s = new Int32Array(cap), e = new Int32Array(cap), h = new Uint32Array(cap);
    s.set(this.start); e.set(this.end); h.set(this.hash);
    this.start = s; this.end = e; this.hash = h;
  }

  scan(text: string): void {
    this.text = text;
    if (NON_ASCII.test(text)) {
      const ws = words(text);
      this.strs = ws;
      this.room(ws.length);
      for (let i = 0; i < ws.length; i++) this.hash[i] = hash32(ws[i]);
      this.n = ws.length;
      this.key = hashWords(ws);
      return;
    }
    this.strs = undefined;
    let h1 = 0xdeadbeef, h2 = 0x41c6ce57, n = 0;
    const L = text.length;
    let i = 0;
    while (i < L) {
      let c = text.charCodeAt(i);
      // [a-z0-9_] after lower-casing
      if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95)) { i++; continue; }
      const st = i;
      if (n > 0) { h1 = Math.imul(h1 ^ 32, 2654435761); h2 = Math.imul(h2 ^ 32, 1597334677); }
      let f = 0x811c9dc5;
      for (; i < L; i++) {
        c = text.charCodeAt(i);
        if (c >= 65 && c <= 90) c += 32;
        else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95)) break;
        f = Math.imul(f ^ c, 16777619);
        h1 = Math.imul(h1 ^ c, 2654435761); h2 = Math.imul(h2 ^ c, 1597334677);
      }
      // (?:'[a-z]+)?
      if (i + 1 < L && text.charCodeAt(i) === 39) {
        const d = text.charCodeAt(i + 1);
        if ((d >= 97 && d <= 122) || (d >= 65 && d <= 90)) {
          f = Math.imul(f ^ 39, 16777619);
          h1 = Math.imul(h1 ^ 39, 2654435761); h2 = Math.imul(h2 ^ 39, 1597334677);
          for (i++; i < L; i++) {
            c = text.charCodeAt(i);
            if (c >= 65 && c <= 90) c += 32;
            else if (!(c >= 97 && c <= 122)) break;
            f = Math.imul(f ^ c, 16777619);
            h1 = Math.imul(h1 ^ c, 2654435761); h2 = Math.imul(h2 ^ c, 1597334677);
          }
        }
      }
      if (n === this.hash.length) this.room(n + 1);
      this.start[n] = st; this.end[n] = i; this.hash[n] = f >>> 0;
      n++;
    }
    this.n = n;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.key = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }

  /** Token i as a string (lower-cased). */
  token(i: number): string { return this.strs ? this.strs[i] : this.text.slice(this.start[i], this.end[i]).toLowerCase(); }

  /** Hashes of the distinct tokens (first-seen order, distinct by hash) into `out`, at most `max`; returns the count. */
  distinct(out: Uint32Array, max: number): number {
    const stamp = ++this.stamp, keys = this.seenKey, stamps = this.seenStamp, mask = keys.length - 1;
    const lim = Math.min(max, out.length, keys.length >> 2);
    let k = 0;
    for (let i = 0; i < this.n && k < lim; i++) {
      const h = this.hash[i];
      let j = h & mask;
      for (; stamps[j] === stamp; j = (j + 1) & mask) if (keys[j] === h) break;
      if (stamps[j] === stamp) continue;
      stamps[j] = stamp; keys[j] = h;
      out[k++] = h;
    }
    return k;
  }
}
