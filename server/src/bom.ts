/**
 * "ModelVet: Generate AI-BOM…": the server half. Builds the CycloneDX ML-BOM with core/bom (OMS
 * digests, scan verdicts, card, licenses) and writes it atomically; an existing file is replaced only
 * with `force`. Never throws to the client: failures are `{ ok: false, reason }`.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildBom } from '../../core/bom/index';
import { writeFileAtomic } from '../../core/signing/sign';
import type { GenerateBomParams, GenerateBomResult } from '../../core/protocol';

export async function generateBom(p: Partial<GenerateBomParams> | undefined, isCancelled: () => boolean): Promise<GenerateBomResult> {
  if (!p || typeof p.target !== 'string' || typeof p.output !== 'string' || !path.isAbsolute(p.target) || !path.isAbsolute(p.output)) {
    return { ok: false, reason: 'expected { target, output } with absolute paths' };
  }
  try { if (!statSync(p.target).isDirectory()) return { ok: false, reason: `${p.target} is not a folder` }; } catch { return { ok: false, reason: `${p.target}: no such folder` }; }
  if (existsSync(p.output) && !p.force) return { ok: false, reason: `${path.basename(p.output)} already exists`, exists: true };
  try {
    const xml = p.format === 'xml' || (p.format === undefined && /\.xml$/i.test(p.output));
    // Dataset audits are CPU-bound on this thread: the editor lists datasets with digests only (docs/provenance.md).
    const r = await buildBom(p.target, { reproducible: p.reproducible === true, xml, auditDatasets: false });
    if (isCancelled()) return { ok: false, reason: 'cancelled', cancelled: true };
    writeFileAtomic(p.output, xml ? r.xml! : r.json, { force: p.force === true });
    const libraries = (r.document.components ?? []).filter((c: { type?: string }) => c.type === 'library').length;
    return { ok: true, output: p.output, models: r.models.length, files: r.models.reduce((a, m) => a + m.files, 0), libraries, warnings: r.warnings };
  } catch (e) {
    return { ok: false, reason: (e as Error)?.message ?? String(e) };
  }
}
