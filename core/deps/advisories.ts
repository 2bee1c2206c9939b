/**
 * DEP006/DEP007 data: curated compromised releases and ML advisories, plus OSV
 * records read offline from a folder of JSON files or an `all.zip` dump.
 */
import { readdirSync, readFileSync, statSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import advisoryData from '../data/advisories.json';
import compromisedData from '../data/compromised.json';
import { normalizeName } from './pep440';

export interface Advisory {
  id: string;
  aliases: string[];
  package: string;
  /** PEP 440 specifier sets; a version is affected when it satisfies any of them. */
  affected: string[];
  /** Exact affected versions (OSV `versions`). */
  versions: string[];
  fixed?: string;
  summary: string;
  source: 'curated' | 'osv';
}

export interface CompromisedRelease { package: string; versions: string[]; fixed?: string; summary: string; source: string }
export interface MaliciousPackage { package: string; summary: string; source: string }

/** Limits for OSV dumps: they are user-supplied files and may be hostile. */
export const OSV_MAX_ZIP_BYTES = 2 * 1024 * 1024 * 1024;
export const OSV_MAX_ENTRIES = 1_000_000;
export const OSV_MAX_RECORD_BYTES = 8 * 1024 * 1024;
export const OSV_MAX_FOLDER_FILES = 200_000;

const curatedByPackage = new Map<string, Advisory[]>();
for (const a of advisoryData.advisories) {
  const pkg = normalizeName(a.package);
  const list = curatedByPackage.get(pkg) ?? [];
  list.push({ id: a.id, aliases: (a as { aliases?: string[] }).aliases ?? [], package: pkg, affected: a.affected, versions: [], fixed: a.fixed, summary: a.summary, source: 'curated' });
  curatedByPackage.set(pkg, list);
}
export const compromisedReleases = new Map<string, CompromisedRelease>(compromisedData.releases.map((r) => [normalizeName(r.package), r as CompromisedRelease]));
export const maliciousPackages = new Map<string, MaliciousPackage>(compromisedData.malicious.map((r) => [normalizeName(r.package), r]));

interface OsvCacheEntry { key: string; byPackage: Map<string, Advisory[]>; errors: string[] }
const osvCache = new Map<string, OsvCacheEntry>();

/** Problems met while reading OSV dumps (shown once by the caller). */
export function osvErrors(paths: string[]): string[] {
  return paths.flatMap((p) => osvCache.get(p)?.errors ?? []);
}

/** Curated advisories plus OSV ones for a package (normalized name). */
export function advisoriesFor(pkg: string, osvPaths: readonly string[]): Advisory[] {
  const out = [...(curatedByPackage.get(pkg) ?? [])];
  for (const p of osvPaths) {
    for (const a of loadOsv(p).byPackage.get(pkg) ?? []) {
      if (!out.some((o) => o.id === a.id || o.aliases.includes(a.id) || a.aliases.includes(o.id))) out.push(a);
    }
  }
  return out;
}

function loadOsv(p: string): OsvCacheEntry {
  let key = 'missing';
  try { const st = statSync(p); key = `${st.mtimeMs}:${st.size}`; } catch { /* reported below */ }
  const cached = osvCache.get(p);
  if (cached && cached.key === key) return cached;
  const entry: OsvCacheEntry = { key, byPackage: new Map(), errors: [] };
  osvCache.set(p, entry);
  try {
    const st = statSync(p);
    if (st.isDirectory()) readOsvFolder(p, entry);
    else readOsvZip(p, entry);
  } catch (e) {
    entry.errors.push(`${p}: ${(e as Error).message}`);
  }
  return entry;
}

function readOsvFolder(dir: string, entry: OsvCacheEntry): void {
  let count = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (++count > OSV_MAX_FOLDER_FILES) { entry.errors.push(`${dir}: more than ${OSV_MAX_FOLDER_FILES} files; the rest were skipped`); return; }
      const f = path.join(d, e.name);
      if (e.isDirectory()) stack.push(f);
      else if (e.isFile() && e.name.endsWith('.json')) {
        try {
          if (statSync(f).size > OSV_MAX_RECORD_BYTES) { entry.errors.push(`${f}: too large`); continue; }
          addOsvRecord(readFileSync(f, 'utf8'), entry);
        } catch (err) { entry.errors.push(`${f}: ${(err as Error).message}`); }
      }
    }
  }
}

/** A minimal zip reader (central directory + stored/deflated entries) with size limits. */
function readOsvZip(file: string, entry: OsvCacheEntry): void {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > OSV_MAX_ZIP_BYTES) throw new Error(`zip larger than ${OSV_MAX_ZIP_BYTES} bytes`);
    const read = (pos: number, len: number): Buffer => {
      if (pos < 0 || len < 0 || pos + len > size) throw new Error('truncated zip');
      const b = Buffer.alloc(len);
      readSync(fd, b, 0, len, pos);
      return b;
    };
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = read(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
    const total = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (total === 0xffff || cdOffset === 0xffffffff) throw new Error('zip64 archives are not supported');
    if (total > OSV_MAX_ENTRIES) throw new Error(`more than ${OSV_MAX_ENTRIES} entries`);
    const cd = read(cdOffset, cdSize);
    let p = 0;
    for (let n = 0; n < total; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt central directory');
      const method = cd.readUInt16LE(p + 10);
      const compSize = cd.readUInt32LE(p + 20);
      const rawSize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28), extraLen = cd.readUInt16LE(p + 30), commentLen = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (!name.endsWith('.json')) continue;
      if (rawSize > OSV_MAX_RECORD_BYTES || compSize > OSV_MAX_RECORD_BYTES) { entry.errors.push(`${file}: ${name} too large; skipped`); continue; }
      const lh = read(localOffset, 30);
      if (lh.readUInt32LE(0) !== 0x04034b50) { entry.errors.push(`${file}: ${name}: bad local header`); continue; }
      const dataStart = localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
      const comp = read(dataStart, compSize);
      let raw: Buffer;
      if (method === 0) raw = comp;
      else if (method === 8) raw = inflateRawSync(comp, { maxOutputLength: OSV_MAX_RECORD_BYTES });
      else { entry.errors.push(`${file}: ${name}: unsupported compression ${method}`); continue; }
      try { addOsvRecord(raw.toString('utf8'), entry); } catch (err) { entry.errors.push(`${file}: ${name}: ${(err as Error).message}`); }
    }
  } finally { closeSync(fd); }
}

/** Turn one OSV record into advisories for its PyPI packages. */
export function addOsvRecord(json: string, entry: { byPackage: Map<string, Advisory[]> }): void {
  const rec = JSON.parse(json);
  if (!rec || typeof rec.id !== 'string' || !Array.isArray(rec.affected)) return;
  if (rec.withdrawn) return;
  for (const aff of rec.affected) {
    if (aff?.package?.ecosystem !== 'PyPI' || typeof aff.package.name !== 'string') continue;
    const pkg = normalizeName(aff.package.name);
    const affected: string[] = [];
    let fixed: string | undefined;
    for (const r of Array.isArray(aff.ranges) ? aff.ranges : []) {
      if (r?.type !== 'ECOSYSTEM' || !Array.isArray(r.events)) continue;
      let introduced: string | undefined;
      for (const ev of r.events) {
        if (typeof ev?.introduced === 'string') introduced = ev.introduced;
        else if (typeof ev?.fixed === 'string' || typeof ev?.last_affected === 'string') {
          const lo = introduced && introduced !== '0' ? `>=${introduced},` : '';
          affected.push(typeof ev.fixed === 'string' ? `${lo}<${ev.fixed}` : `${lo}<=${ev.last_affected}`);
          if (typeof ev.fixed === 'string') fixed = ev.fixed;
          introduced = undefined;
        }
      }
      if (introduced !== undefined) affected.push(introduced === '0' ? '>=0' : `>=${introduced}`);
    }
    const versions = Array.isArray(aff.versions) ? aff.versions.filter((v: unknown) => typeof v === 'string') : [];
    if (!affected.length && !versions.length) continue;
    const summary = typeof rec.summary === 'string' ? rec.summary : typeof rec.details === 'string' ? rec.details.split('\n')[0].slice(0, 200) : rec.id;
    const list = entry.byPackage.get(pkg) ?? [];
    list.push({ id: rec.id, aliases: Array.isArray(rec.aliases) ? rec.aliases : [], package: pkg, affected, versions, fixed, summary, source: 'osv' });
    entry.byPackage.set(pkg, list);
  }
}
