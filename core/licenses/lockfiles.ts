/**
 * Packages pinned by a lockfile with their artifact hashes (uv.lock, poetry.lock, pdm.lock, pylock.toml,
 * Pipfile.lock). Versions come from the same formats core/deps reads; this adds the hashes the BOM
 * records. None of these formats carries a license, so the license table joins them with the installed
 * environment.
 */
import { getStaticTOMLValue, parseTOML } from 'toml-eslint-parser';
import { normalizeName } from '../deps/pep440';
import { checkSizeAndBinary } from '../deps/limits';

/** Packages read per lockfile. */
export const MAX_LOCKED_PACKAGES = 20_000;
/** Hashes kept per package (one per wheel; some packages publish hundreds). */
export const MAX_HASHES_PER_PACKAGE = 64;

export interface LockedPackage { name: string; norm: string; version: string; hashes: string[]; file: string }

function hashOf(v: unknown): string | undefined {
  if (typeof v === 'string') { const m = /^sha256[:=]([0-9a-f]{64})$/i.exec(v.trim()); return m?.[1].toLowerCase(); }
  if (v && typeof v === 'object' && typeof (v as any).sha256 === 'string') return hashOf(`sha256:${(v as any).sha256}`);
  return undefined;
}

export function parseLockedPackages(file: string, text: string): { packages: LockedPackage[] } | { error: string } {
  const problem = checkSizeAndBinary(text);
  if (problem) return { error: problem };
  const base = file.replace(/\\/g, '/').split('/').pop()!.toLowerCase();
  const packages: LockedPackage[] = [];
  const push = (name: unknown, version: unknown, hashes: Array<string | undefined>) => {
    if (typeof name !== 'string' || typeof version !== 'string' || packages.length >= MAX_LOCKED_PACKAGES) return;
    const hs = [...new Set(hashes.filter((h): h is string => !!h))].sort().slice(0, MAX_HASHES_PER_PACKAGE);
    packages.push({ name, norm: normalizeName(name), version: version.replace(/^===?/, ''), hashes: hs, file });
  };
  if (base === 'pipfile.lock') {
    let data: any;
    try { data = JSON.parse(text); } catch (e) { return { error: `invalid JSON: ${(e as Error).message}` }; }
    for (const section of ['default', 'develop']) {
      const t = data?.[section];
      if (!t || typeof t !== 'object') continue;
      for (const [name, v] of Object.entries(t as Record<string, any>)) push(name, v?.version, Array.isArray(v?.hashes) ? v.hashes.map(hashOf) : []);
    }
    return { packages };
  }
  let data: any;
  try { data = getStaticTOMLValue(parseTOML(text)); } catch (e) { return { error: `invalid TOML: ${(e as Error).message}` }; }
  const list: any[] = Array.isArray(data?.package) ? data.package : Array.isArray(data?.packages) ? data.packages : [];
  for (const p of list) {
    const hashes: Array<string | undefined> = [];
    const artifacts = [p?.sdist, p?.archive, ...(Array.isArray(p?.wheels) ? p.wheels : []), ...(Array.isArray(p?.files) ? p.files : [])];
    for (const a of artifacts) if (a && typeof a === 'object') hashes.push(hashOf(a.hash) ?? hashOf(a.hashes));
    push(p?.name, p?.version, hashes);
  }
  return { packages };
}
