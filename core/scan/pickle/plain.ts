/**
 * Reconstruct plain data from the symbolic value graph — only for the safe
 * subset (containers, numbers, strings, bytes and the allowlisted builtins that
 * rebuild them: `_codecs.encode`, `builtins.set/frozenset/bytearray`). Used by
 * the parse-equivalence tests and by converters. Output is a canonical JSON form:
 * dict → {dict: [[k, v], …]}, tuple → {tuple: […]}, set → {set: sorted […]},
 * bytes → {bytes: hex}, ints beyond ±2^53 → {int: "…"}.
 */
import { isGlobal, globalName, type PNode } from './vm';

export type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

export class NotPlain extends Error {}

function hex(b: Uint8Array): string { let s = ''; for (const x of b) s += x.toString(16).padStart(2, '0'); return s; }
function latin1Bytes(s: string): Uint8Array { const b = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff; return b; }

export function toPlain(n: PNode, depth = 0): Plain {
  if (depth > 200) throw new NotPlain('too deep');
  if (n === null || typeof n === 'boolean' || typeof n === 'string') return n;
  if (typeof n === 'number') return n;
  if (typeof n === 'bigint') return n >= -(2n ** 53n) && n <= 2n ** 53n ? Number(n) : { int: n.toString() };
  switch (n.kind) {
    case 'bytes': return { bytes: hex(n.data) };
    case 'list': return n.items.map((x) => toPlain(x, depth + 1));
    case 'tuple': return { tuple: n.items.map((x) => toPlain(x, depth + 1)) };
    case 'dict': return { dict: n.keys.map((k, i) => [toPlain(k, depth + 1), toPlain(n.values[i], depth + 1)]) };
    case 'set': return { set: sortCanon(n.items.map((x) => toPlain(x, depth + 1))) };
    case 'call': {
      const fn = isGlobal(n.fn) ? globalName(n.fn) : '';
      const a = n.args;
      if (fn === '_codecs.encode' && typeof a[0] === 'string') {
        if (a.length === 1 || a[1] === 'utf-8' || a[1] === 'utf8') return { bytes: hex(new TextEncoder().encode(a[0])) }; // codecs.encode's default is UTF-8
        if (a[1] === 'latin1' || a[1] === 'latin-1' || a[1] === 'iso-8859-1') return { bytes: hex(latin1Bytes(a[0])) };
        throw new NotPlain(`_codecs.encode with encoding ${String(a[1])}`);
      }
      if ((fn === 'builtins.set' || fn === 'builtins.frozenset') && a.length <= 1) {
        const items = a.length ? toPlain(a[0], depth + 1) : [];
        if (!Array.isArray(items)) throw new NotPlain('set of non-list');
        const extra = (n.items ?? []).map((x) => toPlain(x, depth + 1));
        return { set: sortCanon([...items, ...extra]) };
      }
      if (fn === 'builtins.bytes' && a.length === 0) return { bytes: '' }; // b'' in protocols 0-2
      if (fn === 'builtins.bytearray') {
        if (a.length === 0) return { bytes: '' };
        const inner = toPlain(a[0], depth + 1);
        if (inner && typeof inner === 'object' && !Array.isArray(inner) && typeof inner.bytes === 'string') return inner;
        if (typeof inner === 'string' && a[1] !== undefined) return { bytes: hex(latin1Bytes(inner)) };
      }
      throw new NotPlain(`call of ${fn || 'non-global'}`);
    }
    default: throw new NotPlain(n.kind);
  }
}

function sortCanon(xs: Plain[]): Plain[] {
  return xs.map((x) => [canonJson(x), x] as const).sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0)).map((p) => p[1]);
}

/** JSON with sorted object keys (Python's json.dumps(sort_keys=True) equivalent for our shapes). */
export function canonJson(x: Plain): string {
  if (x === null || typeof x !== 'object') return JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(canonJson).join(', ')}]`;
  return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}: ${canonJson(x[k])}`).join(', ')}}`;
}
