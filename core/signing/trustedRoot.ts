/**
 * The Sigstore trusted root ModelVet ships: the public-good instance's TrustedRoot, taken from the TUF
 * seed of `@sigstore/tuf` (Sigstore's own JS client; its `seeds.json` has one entry per TUF repository, and
 * that entry's `targets` embed `trusted_root.json`, base64). esbuild inlines the JSON into the bundles at
 * build time, so nothing is read from node_modules or fetched at run time (no TUF update). It is refreshed
 * by bumping `@sigstore/tuf` (docs/signing.md, "The bundled trusted root").
 */
import seeds from '@sigstore/tuf/seeds.json';
import { version as tufVersion } from '@sigstore/tuf/package.json';
import { SigningError } from './errors';

/** Where the bundled root comes from, as the output names it. */
export const BUNDLED_ROOT_SOURCE = `@sigstore/tuf ${tufVersion}`;

export interface TrustedRootInfo {
  /** The Sigstore TrustedRoot JSON. */
  json: unknown;
  /** "bundled from @sigstore/tuf 5.0.1" or the file it was read from. */
  source: string;
  /** Earliest start of any key's validity window (ISO date), if the root names one. */
  validFrom?: string;
  /** Latest end of a window; undefined when some key has no end (still current). */
  validUntil?: string;
  /** Counts of what it trusts. */
  counts: { certificateAuthorities: number; tlogs: number; ctlogs: number; timestampAuthorities: number };
  /** One line for the output: source, validity and contents. */
  description: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const day = (iso: string) => iso.slice(0, 10);

/** Validity windows and contents of a TrustedRoot (for the output: which root, valid when). */
export function describeTrustedRoot(json: unknown, source: string): TrustedRootInfo {
  const r = isObj(json) ? json : {};
  const cas = list(r.certificateAuthorities), tlogs = list(r.tlogs), ctlogs = list(r.ctlogs), tsas = list(r.timestampAuthorities);
  const windows: unknown[] = [
    ...cas.map((c) => (isObj(c) ? c.validFor : undefined)),
    ...tsas.map((c) => (isObj(c) ? c.validFor : undefined)),
    ...[...tlogs, ...ctlogs].map((l) => (isObj(l) && isObj(l.publicKey) ? l.publicKey.validFor : undefined)),
  ];
  let from: string | undefined, until: string | undefined, open = false;
  for (const w of windows) {
    const start = isObj(w) && typeof w.start === 'string' && !Number.isNaN(Date.parse(w.start)) ? w.start : undefined;
    const end = isObj(w) && typeof w.end === 'string' && !Number.isNaN(Date.parse(w.end)) ? w.end : undefined;
    if (start && (!from || Date.parse(start) < Date.parse(from))) from = start;
    if (!end) open = true;
    else if (!until || Date.parse(end) > Date.parse(until)) until = end;
  }
  const validUntil = open ? undefined : until;
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  const counts = { certificateAuthorities: cas.length, tlogs: tlogs.length, ctlogs: ctlogs.length, timestampAuthorities: tsas.length };
  const validity = from ? `valid ${day(from)} → ${validUntil ? day(validUntil) : 'no end date'}` : 'no validity windows';
  const contents = [n(cas.length, 'certificate authority', 'certificate authorities'), n(tlogs.length, 'transparency log', 'transparency logs'),
    n(ctlogs.length, 'CT log', 'CT logs'), n(tsas.length, 'timestamp authority', 'timestamp authorities')].join(', ');
  return { json, source, validFrom: from && day(from), validUntil: validUntil && day(validUntil), counts, description: `${source}, ${validity} (${contents})` };
}

let bundled: TrustedRootInfo | undefined;

/**
 * The bundled public-good TrustedRoot. The seed file has exactly one TUF repository (its key is that
 * repository's address, which ModelVet neither writes nor uses): its trusted_root.json is taken.
 */
export function bundledTrustedRoot(): TrustedRootInfo {
  if (bundled) return bundled;
  const entries = Object.values(seeds as Record<string, unknown>);
  const targets = entries.length === 1 && isObj(entries[0]) ? entries[0].targets : undefined;
  const b64 = isObj(targets) ? targets['trusted_root.json'] : undefined;
  if (typeof b64 !== 'string') throw new SigningError('usage', `${BUNDLED_ROOT_SOURCE} carries no single trusted_root.json target: pass --trusted-root ROOT.json`, 'no-bundled-root');
  let json: unknown;
  try { json = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')); } catch {
    throw new SigningError('usage', `${BUNDLED_ROOT_SOURCE}: its trusted_root.json is not JSON: pass --trusted-root ROOT.json`, 'no-bundled-root');
  }
  bundled = describeTrustedRoot(json, `bundled from ${BUNDLED_ROOT_SOURCE}`);
  return bundled;
}
