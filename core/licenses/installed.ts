/**
 * Licenses of installed Python distributions, read offline from `site-packages` the way pip-licenses
 * does (`--from=mixed`, with PEP 639's `License-Expression` first): `*.dist-info/METADATA` or
 * `*.egg-info/PKG-INFO` headers only — `License-Expression`, else the `License ::` trove classifiers,
 * else the free-text `License` field. Nothing is imported or executed.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { normalizeName } from '../deps/pep440';
import { anyOf, normalizeLicense, type NormalizedLicense } from './spdx';

/** Distributions read per site-packages folder; more are reported as a truncated table. */
export const MAX_DISTRIBUTIONS = 5_000;
/** Bytes of a METADATA/PKG-INFO file read for its headers (the body, usually the README, is skipped). */
export const MAX_METADATA_HEADER_BYTES = 256 * 1024;
/** Header values kept per field (a `License:` field may hold a whole license text). */
export const MAX_HEADER_VALUE = 64 * 1024;
const FIRST_READ = 16 * 1024;

export type LicenseSource = 'License-Expression' | 'classifier' | 'License' | 'lockfile' | 'manifest' | 'card' | 'index' | 'none';

export interface InstalledDistribution {
  name: string;
  /** PEP 503 normalized name. */
  norm: string;
  version?: string;
  license: NormalizedLicense;
  /** Which metadata field gave the license. */
  source: LicenseSource;
  /** The METADATA / PKG-INFO file the facts came from. */
  file: string;
  /** The raw fields, for reports and tests. */
  fields: { licenseExpression?: string; license?: string; classifiers: string[] };
}

export interface InstalledScan { distributions: InstalledDistribution[]; truncated: boolean; errors: string[] }

/** RFC 822 style headers (METADATA is email.message format): repeated keys kept in order, continuation lines joined. */
export function parseMetadataHeaders(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  // Values as importlib.metadata gives them: continuation lines kept, dedented together (its
  // textwrap.dedent(' ' * 8 + value) undoes setuptools' 8-space indentation).
  const raw: Array<[string, string[]]> = [];
  let cur: string[] | undefined;
  let size = 0;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && cur) {
      if ((size += line.length) < MAX_HEADER_VALUE) cur.push(line);
      continue;
    }
    const m = /^([A-Za-z0-9-]+):[ \t]?(.*)$/.exec(line);
    if (!m) { cur = undefined; continue; }
    cur = [m[2].slice(0, MAX_HEADER_VALUE)];
    size = cur[0].length;
    raw.push([m[1].toLowerCase(), cur]);
  }
  for (const [key, lines] of raw) {
    let value = lines[0];
    if (lines.length > 1) {
      const rest = lines.slice(1);
      const indent = Math.min(8, ...rest.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length));
      value = [lines[0], ...rest.map((l) => (l.trim() ? l.slice(indent) : ''))].join('\n');
    }
    const list = out.get(key) ?? [];
    list.push(value);
    out.set(key, list);
  }
  return out;
}

/** The license of one distribution from its headers (pip-licenses' mixed mode, License-Expression first). */
export function licenseFromHeaders(h: Map<string, string[]>): { license: NormalizedLicense; source: LicenseSource; fields: InstalledDistribution['fields'] } {
  // `fields` keeps the values as importlib.metadata returns them; decisions use the trimmed text.
  const rawExpression = h.get('license-expression')?.[0];
  const rawLicense = h.get('license')?.[0];
  const licenseExpression = rawExpression?.trim() || undefined;
  const license = rawLicense?.trim() || undefined;
  const classifiers = (h.get('classifier') ?? []).map((c) => c.trim()).filter((c) => c.startsWith('License ::'));
  const fields = { licenseExpression: rawExpression, license: rawLicense, classifiers };
  if (licenseExpression) return { license: normalizeLicense(licenseExpression), source: 'License-Expression', fields };
  // A License field that already is a valid SPDX expression is more exact than the trove classifiers.
  const field = license ? normalizeLicense(license) : undefined;
  if (field?.how === 'exact') return { license: field, source: 'License', fields };
  const fromClassifiers = classifiers
    .map((c) => c.split('::').map((s) => s.trim()))
    .filter((parts) => parts.length > 2 || (parts.length === 2 && parts[1] !== 'OSI Approved'))
    .map((parts) => normalizeLicense(parts[parts.length - 1]));
  const cl = fromClassifiers.length ? anyOf(fromClassifiers) : undefined;
  if (cl && cl.how === 'ambiguous' && field?.spdx && field.category === cl.category) {
    // "BSD License" (classifier) + "License: new BSD": the field names the exact license of the family.
    return { license: field, source: 'License', fields };
  }
  if (cl && cl.how !== 'unknown') return { license: cl, source: 'classifier', fields };
  if (field) return { license: field, source: 'License', fields };
  return { license: cl ?? normalizeLicense(''), source: 'none', fields };
}

function readHeaderText(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    let buf = Buffer.allocUnsafe(FIRST_READ);
    let n = readSync(fd, buf, 0, buf.length, 0);
    let text = buf.toString('utf8', 0, n);
    if (n === buf.length && !/\r?\n\r?\n/.test(text)) {
      buf = Buffer.allocUnsafe(MAX_METADATA_HEADER_BYTES);
      n = readSync(fd, buf, 0, buf.length, 0);
      text = buf.toString('utf8', 0, n);
    }
    return text;
  } catch { return undefined; } finally { if (fd !== undefined) closeSync(fd); }
}

/** The metadata file of a `*.dist-info` / `*.egg-info` entry (egg-info may be a file itself). */
function metadataFile(sp: string, entry: string): string | undefined {
  const p = path.join(sp, entry);
  if (entry.endsWith('.dist-info')) return path.join(p, 'METADATA');
  if (entry.endsWith('.egg-info')) {
    try { return statSync(p).isDirectory() ? path.join(p, 'PKG-INFO') : p; } catch { return undefined; }
  }
  return undefined;
}

/** Every distribution in the given site-packages folders (first folder wins for a name). */
export function readInstalledLicenses(sitePackages: string[]): InstalledScan {
  const seen = new Set<string>();
  const distributions: InstalledDistribution[] = [];
  const errors: string[] = [];
  let truncated = false;
  for (const sp of sitePackages) {
    let entries: string[];
    try { entries = readdirSync(sp).sort(); } catch { continue; }
    let count = 0;
    for (const e of entries) {
      if (!e.endsWith('.dist-info') && !e.endsWith('.egg-info')) continue;
      if (++count > MAX_DISTRIBUTIONS) { truncated = true; break; }
      const file = metadataFile(sp, e);
      const text = file && readHeaderText(file);
      if (!file || text === undefined) { errors.push(`${path.join(sp, e)}: no readable METADATA`); continue; }
      const h = parseMetadataHeaders(text);
      const name = h.get('name')?.[0]?.trim();
      if (!name) { errors.push(`${file}: no Name header`); continue; }
      const norm = normalizeName(name);
      if (seen.has(norm)) continue;
      seen.add(norm);
      const { license, source, fields } = licenseFromHeaders(h);
      distributions.push({ name, norm, version: h.get('version')?.[0]?.trim() || undefined, license, source, file, fields });
    }
  }
  distributions.sort((a, b) => (a.norm < b.norm ? -1 : a.norm > b.norm ? 1 : 0));
  return { distributions, truncated, errors };
}
