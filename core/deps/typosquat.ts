/**
 * DEP001 name-confusion detection against the popular-package corpus.
 * A precomputed deletion-neighbourhood index answers "is this name one edit away
 * from a popular name?" with a handful of map lookups (no scan of the corpus).
 */
import popular from '../data/popular-packages.json';
import mlPackages from '../data/ml-packages.json';
import confusions from '../data/name-confusions.json';
import { normalizeName } from './pep440';

export type ConfusionKind =
  | 'placeholder' | 'malicious' | 'homoglyph' | 'separator' | 'affix' | 'python-affix' | 'swapped-words'
  | 'omitted-char' | 'repeated-char' | 'extra-char' | 'swapped-chars' | 'keyboard-typo' | 'substituted-char';

export interface Confusion {
  /** The package the user most likely meant (PEP 503 normalized). */
  intended: string;
  kind: ConfusionKind;
  /** Human explanation, e.g. "one character omitted". */
  reason: string;
  /** Data source for placeholder/malicious rows. */
  source?: string;
}

/** Names shorter than this are not edit-distance targets: too many real short names are one edit apart. */
export const MIN_TYPO_TARGET_LENGTH = 5;
/** Edit-distance targets: this many of the most downloaded names, plus the curated ML list. */
export const TYPO_TARGET_TOP = 5000;
/** Affix targets (e.g. `torch-nightly`): this many of the most downloaded names, plus the ML list. */
export const AFFIX_TARGET_TOP = 3000;
/** Longest name checked (PEP 508 names are short; anything longer is not worth the work). */
export const MAX_NAME_LENGTH = 200;

const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
const HOMOGLYPHS: Record<string, string> = {
  'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'х': 'x', 'у': 'y', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'һ': 'h', 'ԁ': 'd', 'ɡ': 'g', 'ı': 'i', 'ο': 'o', 'α': 'a', 'ν': 'v',
};
const PREFIXES = ['python-', 'python', 'py-', 'py', 'torch-', 'tf-'];
const SUFFIXES = ['-python', 'python', '-py', 'py', '-nightly', '-dev', '-gpu', '-cpu', '-sdk', '-ai', '-api', '-lib', '-client'];
const CUDA_SUFFIX = /-cu\d{2,3}$/;

/** What a popular or curated name needs (most names in a manifest): cheap, built first. */
interface BaseIndex {
  rank: Map<string, number>;
  ml: Set<string>;
  /** Popular or curated: never reported as a squat of another popular name. */
  known: Set<string>;
  curated: Map<string, Confusion>;
}

/** The neighbourhoods, built on the first name that is neither known nor curated. */
interface Index extends BaseIndex {
  ultra: Map<string, string>;
  /** Hash of each one-character deletion of a target → targets (candidates are verified, so collisions are harmless). */
  deletions: HashMultimap;
  /** Hash of each target → targets. */
  targetHashes: HashMultimap;
  typoTargets: Set<string>;
  affixTargets: Set<string>;
  sortedWords: Map<string, string>;
}

let baseIndex: BaseIndex | undefined;
let index: Index | undefined;

/** Separator-free form with look-alike characters folded (PyPI refuses new names that collide under it). */
export function ultraNormalize(name: string): string {
  const lower = name.toLowerCase();
  if (/^[a-z0-9._-]*$/.test(lower)) return lower.replace(/[-_.]/g, '').replace(/[li]/g, '1').replace(/o/g, '0');
  let s = '';
  for (const ch of lower) {
    const c = HOMOGLYPHS[ch] ?? ch;
    if (c === '-' || c === '_' || c === '.') continue;
    s += c === 'l' || c === 'i' ? '1' : c === 'o' ? '0' : c;
  }
  return s;
}

function better(idx: BaseIndex, a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  const ma = idx.ml.has(a), mb = idx.ml.has(b);
  if (ma !== mb) return ma;
  return (idx.rank.get(a) ?? Infinity) < (idx.rank.get(b) ?? Infinity);
}

function buildBaseIndex(): BaseIndex {
  const rank = new Map<string, number>();
  (popular.names as string[]).forEach((n, i) => { if (!rank.has(n)) rank.set(n, i); });
  const ml = new Set((mlPackages.names as string[]).map(normalizeName));
  const curated = new Map<string, Confusion>();
  for (const e of confusions.entries) {
    curated.set(normalizeName(e.name), { intended: normalizeName(e.intended), kind: e.kind as ConfusionKind, reason: e.kind === 'malicious' ? 'a known malicious package' : 'a placeholder name, not the real project', source: e.source });
  }
  const known = new Set<string>([...rank.keys(), ...ml]);
  for (const c of curated.keys()) known.delete(c);
  return { rank, ml, known, curated };
}

function buildIndex(base: BaseIndex): Index {
  const { rank, ml, known } = base;
  const deletions = new HashMultimapBuilder(), targetHashes = new HashMultimapBuilder();
  const idx: Index = { ...base, ultra: new Map(), deletions: EMPTY_MULTIMAP, targetHashes: EMPTY_MULTIMAP, typoTargets: new Set(), affixTargets: new Set(), sortedWords: new Map() };
  for (const n of known) {
    const u = ultraNormalize(n);
    if (better(idx, n, idx.ultra.get(u))) idx.ultra.set(u, n);
    const r = rank.get(n) ?? Infinity;
    if (ml.has(n) || r < TYPO_TARGET_TOP) {
      if (n.length >= MIN_TYPO_TARGET_LENGTH) {
        idx.typoTargets.add(n);
        const hashes = deletionHashes(n);
        targetHashes.add(hashes.full, n);
        for (const d of hashes.deletions) deletions.add(d, n);
      }
    }
    if (ml.has(n) || r < AFFIX_TARGET_TOP) idx.affixTargets.add(n);
    if (n.includes('-')) {
      const key = n.split('-').sort().join('-');
      if (better(idx, n, idx.sortedWords.get(key))) idx.sortedWords.set(key, n);
    }
  }
  idx.deletions = deletions.build();
  idx.targetHashes = targetHashes.build();
  return idx;
}

/**
 * hash → names, as two typed arrays sorted by hash (8 bytes an entry). The ~55,000 deletion hashes
 * as a Map of arrays cost several MB of the language server's heap; lookups are a binary search.
 * A name appears once per hash, in the order it was added.
 */
interface HashMultimap {
  get(hash: number): string[] | undefined;
  /** Call `fn` for each name under `hash` (no array allocated: this is the per-name hot path). */
  each(hash: number, fn: (name: string) => void): void;
}
const EMPTY_MULTIMAP: HashMultimap = { get: () => undefined, each: () => undefined };
/** Names per index: 2^20 leaves room (15,000 today) and keeps hash × 2^20 + index exact in a double. */
const MAX_MULTIMAP_NAMES = 1 << 20;

class HashMultimapBuilder {
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  private keys: number[] = [];
  add(hash: number, name: string): void {
    let i = this.nameIndex.get(name);
    if (i === undefined) {
      if (this.names.length >= MAX_MULTIMAP_NAMES) return;
      i = this.names.length; this.names.push(name); this.nameIndex.set(name, i);
    }
    this.keys.push((hash >>> 0) * MAX_MULTIMAP_NAMES + i);
  }
  build(): HashMultimap {
    const sorted = Float64Array.from(this.keys).sort();
    const hashes = new Uint32Array(sorted.length), refs = new Uint32Array(sorted.length);
    let n = 0;
    for (let k = 0; k < sorted.length; k++) {
      if (k > 0 && sorted[k] === sorted[k - 1]) continue; // the same name twice under one hash
      hashes[n] = Math.floor(sorted[k] / MAX_MULTIMAP_NAMES); refs[n] = sorted[k] % MAX_MULTIMAP_NAMES; n++;
    }
    const names = this.names;
    this.keys = [];
    const h = hashes.subarray(0, n), r = refs.subarray(0, n);
    const first = (key: number) => {
      let lo = 0, hi = h.length;
      while (lo < hi) { const mid = (lo + hi) >>> 1; if (h[mid] < key) lo = mid + 1; else hi = mid; }
      return lo;
    };
    return {
      get(hash: number): string[] | undefined {
        const key = hash >>> 0;
        const out: string[] = [];
        for (let k = first(key); k < h.length && h[k] === key; k++) out.push(names[r[k]]);
        return out.length ? out : undefined;
      },
      each(hash: number, fn: (name: string) => void): void {
        const key = hash >>> 0;
        for (let k = first(key); k < h.length && h[k] === key; k++) fn(names[r[k]]);
      },
    };
  }
}

const HASH_BASE = 0x01000193;

/**
 * Polynomial hashes (mod 2^32) of a string and of each of its one-character deletions,
 * computed without building the deleted strings: hashing fresh strings dominated the lookup.
 */
export function deletionHashes(s: string): { full: number; deletions: number[] } {
  const n = s.length;
  const suffix = new Array<number>(n + 1);
  const pow = new Array<number>(n + 1);
  pow[0] = 1;
  for (let k = 1; k <= n; k++) pow[k] = Math.imul(pow[k - 1], HASH_BASE);
  suffix[n] = 0;
  for (let j = n - 1; j >= 0; j--) suffix[j] = (Math.imul(s.charCodeAt(j), pow[n - 1 - j]) + suffix[j + 1]) | 0;
  const deletions: number[] = [];
  let prefix = 0;
  for (let i = 0; i < n; i++) {
    deletions.push((Math.imul(prefix, pow[n - 1 - i]) + suffix[i + 1]) | 0);
    prefix = (Math.imul(prefix, HASH_BASE) + s.charCodeAt(i)) | 0;
  }
  return { full: prefix, deletions };
}

function getBaseIndex(): BaseIndex {
  return (baseIndex ??= buildBaseIndex());
}

function getIndex(): Index {
  return (index ??= buildIndex(getBaseIndex()));
}

/** Build the index now (the server does this at startup so the first keystroke does not pay for it). */
export function warmTyposquatIndex(): void { getIndex(); }

export function isKnownPackage(name: string): boolean {
  return getBaseIndex().known.has(normalizeName(name));
}

function keyboardNeighbours(a: string, b: string): boolean {
  for (let r = 0; r < KEYBOARD_ROWS.length; r++) {
    const i = KEYBOARD_ROWS[r].indexOf(a);
    if (i < 0) continue;
    for (let r2 = Math.max(0, r - 1); r2 <= Math.min(KEYBOARD_ROWS.length - 1, r + 1); r2++) {
      const j = KEYBOARD_ROWS[r2].indexOf(b);
      if (j >= 0 && Math.abs(j - i) <= 1 && !(r2 === r && j === i)) return true;
    }
  }
  return false;
}

/** Classify a one-edit difference between `typed` and `target` (both normalized), or undefined if not one edit. */
function classifyEdit(typed: string, target: string): { kind: ConfusionKind; reason: string } | undefined {
  const lt = typed.length, lg = target.length;
  if (lt === lg) {
    const diffs: number[] = [];
    for (let i = 0; i < lt && diffs.length <= 2; i++) if (typed[i] !== target[i]) diffs.push(i);
    if (diffs.length === 1) {
      const i = diffs[0];
      if (keyboardNeighbours(target[i], typed[i])) return { kind: 'keyboard-typo', reason: `'${typed[i]}' typed instead of the neighbouring key '${target[i]}'` };
      return { kind: 'substituted-char', reason: `'${typed[i]}' instead of '${target[i]}'` };
    }
    if (diffs.length === 2 && diffs[1] === diffs[0] + 1 && typed[diffs[0]] === target[diffs[1]] && typed[diffs[1]] === target[diffs[0]]) {
      return { kind: 'swapped-chars', reason: `'${target[diffs[0]]}${target[diffs[1]]}' swapped` };
    }
    return undefined;
  }
  if (lt === lg - 1 || lt === lg + 1) {
    const [long, short] = lt > lg ? [typed, target] : [target, typed];
    let i = 0;
    while (i < short.length && short[i] === long[i]) i++;
    if (long.slice(i + 1) !== short.slice(i)) return undefined;
    const ch = long[i];
    const repeated = long[i - 1] === ch || long[i + 1] === ch;
    if (lt > lg) return repeated ? { kind: 'repeated-char', reason: `'${ch}' repeated` } : { kind: 'extra-char', reason: `extra '${ch}'` };
    return repeated ? { kind: 'omitted-char', reason: `doubled '${ch}' written once` } : { kind: 'omitted-char', reason: `'${ch}' omitted` };
  }
  return undefined;
}

const cache = new Map<string, Confusion | null>();
const MAX_CACHE = 50_000;

/**
 * The confusion for a package name, or undefined when the name is fine
 * (popular itself, curated ML, or not close to anything popular).
 */
export function checkPackageName(rawName: string): Confusion | undefined {
  if (!rawName || rawName.length > MAX_NAME_LENGTH) return undefined;
  const hit = cache.get(rawName);
  if (hit !== undefined) return hit ?? undefined;
  const result = computeConfusion(rawName);
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(rawName, result ?? null);
  return result;
}

function computeConfusion(rawName: string): Confusion | undefined {
  const base = getBaseIndex();
  const name = normalizeName(rawName);
  const curated = base.curated.get(name);
  if (curated) return curated;
  if (base.known.has(name)) return undefined;
  const idx = getIndex();

  // Homoglyphs and separator/case tricks: same ultra-normalized form as a known name.
  const u = ultraNormalize(name);
  const twin = idx.ultra.get(u);
  if (twin && twin !== name) {
    const kind: ConfusionKind = name.replace(/-/g, '') === twin.replace(/-/g, '') ? 'separator' : 'homoglyph';
    return { intended: twin, kind, reason: kind === 'homoglyph' ? 'look-alike characters (l/1/i, o/0, non-Latin letters)' : 'different word separators' };
  }

  // Swapped hyphen-separated words: `dateutil-python` for `python-dateutil`.
  if (name.includes('-')) {
    const sw = idx.sortedWords.get(name.split('-').sort().join('-'));
    if (sw && sw !== name) return { intended: sw, kind: 'swapped-words', reason: 'the same words in a different order' };
  }

  // Affixes: `py`/`python` prefix or suffix, `-nightly`, `-gpu`, `-cu121`, `torch-`, `tf-` …
  const affix = affixBase(idx, name);
  if (affix) return affix;

  // One edit away from a popular target (deletion neighbourhoods).
  let best: string | undefined;
  let bestEdit: { kind: ConfusionKind; reason: string } | undefined;
  const consider = (target: string) => {
    if (target === name || !better(idx, target, best)) return;
    const edit = classifyEdit(name, target);
    if (edit) { best = target; bestEdit = edit; }
  };
  if (name.length >= MIN_TYPO_TARGET_LENGTH - 1) {
    const h = deletionHashes(name);
    // typed = target minus one char.
    idx.deletions.each(h.full, consider);
    for (const d of h.deletions) {
      // typed = target plus one char.
      idx.targetHashes.each(d, consider);
      // same length: substitution or adjacent swap.
      idx.deletions.each(d, consider);
    }
  }
  if (best && bestEdit) return { intended: best, kind: bestEdit.kind, reason: bestEdit.reason };
  return undefined;
}

function affixBase(idx: Index, name: string): Confusion | undefined {
  let bestBase: string | undefined;
  let bestWhy: (() => string) | undefined;
  const tryBase = (raw: string, why: () => string) => {
    let base = raw;
    if (base.charCodeAt(0) === 45 || base.charCodeAt(base.length - 1) === 45) base = base.replace(/^-+|-+$/g, '');
    if (base.length < 3 || !idx.affixTargets.has(base)) return;
    if (better(idx, base, bestBase)) { bestBase = base; bestWhy = why; }
  };
  for (const p of PREFIXES) if (name.startsWith(p) && name.length > p.length + 2) tryBase(name.slice(p.length), () => `'${p}' prefix added`);
  for (const x of SUFFIXES) if (name.endsWith(x) && name.length > x.length + 2) tryBase(name.slice(0, -x.length), () => `'${x}' suffix added`);
  if (name.includes('-cu')) {
    const cu = CUDA_SUFFIX.exec(name);
    if (cu) tryBase(name.slice(0, cu.index), () => `'${cu[0]}' suffix added`);
  }
  // Prefix/suffix removed: `dateutil` for `python-dateutil`.
  tryBase('python-' + name, () => "'python-' prefix missing");
  tryBase('py' + name, () => "'py' prefix missing");
  tryBase(name + '-python', () => "'-python' suffix missing");
  tryBase(name + 'py', () => "'py' suffix missing");
  if (!bestBase || !bestWhy) return undefined;
  const reason = bestWhy();
  const kind: ConfusionKind = /py/.test(reason) ? 'python-affix' : 'affix';
  return { intended: bestBase, kind, reason };
}
