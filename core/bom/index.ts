/**
 * AI-BOM: a CycloneDX 1.6 (or 1.5) ML-BOM of a model folder or a project, built with
 * `@cyclonedx/cyclonedx-library` models and its JSON serializer (sorted lists). The library has no
 * model-card model, so the `modelCard` object (task, architecture, datasets, metrics, considerations
 * from the card and config.json) is added to the normalized JSON of each `machine-learning-model`
 * component; the result validates against the library's bundled CycloneDX JSON schema (tests).
 *
 * File digests come from the OMS manifest (core/signing computeManifest), so the BOM and a model
 * signature name the same bytes; the OMS root digest is a property of each model.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { PackageURL } from 'packageurl-js';
import { Bom, Component, ExternalReference, LicenseExpression, NamedLicense, Property, SpdxLicense } from '@cyclonedx/cyclonedx-library/Models';
import { ComponentType, ExternalReferenceType, HashAlgorithm } from '@cyclonedx/cyclonedx-library/Enums';
import { JsonSerializer, JSON as CdxJson } from '@cyclonedx/cyclonedx-library/Serialize';
import { Spec1dot5, Spec1dot6 } from '@cyclonedx/cyclonedx-library/Spec';
import { getStaticTOMLValue, parseTOML } from 'toml-eslint-parser';
import { computeManifest, omsDigest } from '../signing/index';
import { scanPathsParallel, DEFAULT_FILE_TIMEOUT_MS } from '../scan/parallel';
import type { FileReport } from '../scan/types';
import { findModelFolders } from '../cards/find';
import { hubRepoSnapshot, isModelFolder, listNames, readModelFacts, type ModelFacts } from '../cards/model';
import { buildLicenseTable, localDatasetLicense, readTextFile, type LicenseRow } from '../licenses/table';
import type { NormalizedLicense } from '../licenses/spdx';
import { TOOL_VERSION } from '../version';
import { digestFiles, isSignatureFile, listModelFiles, type FileDigest } from './digest';
import { dataObject, describeDatasets, findDatasets, type DatasetEntry } from './datasets';

export type BomSpec = '1.6' | '1.5';

export interface BomOptions {
  spec?: BomSpec;
  /** Also serialize the BOM as CycloneDX XML (`xml` in the result). */
  xml?: boolean;
  /** Stable output: serial number derived from the content, timestamp from SOURCE_DATE_EPOCH or none. */
  reproducible?: boolean;
  /** Run the model scanner for per-file verdicts and finding codes (default true). */
  scan?: boolean;
  /** site-packages folders for dependency licenses (default: the project's virtual environments). */
  sitePackages?: string[];
  /** Per-file scan time limit (ms). */
  fileTimeoutMs?: number;
  /** Projects: list the dataset files and folders found in the project (default true). */
  datasets?: boolean;
  /** Audit those datasets (`modelvet audit-data`) when they are small enough (default true). */
  auditDatasets?: boolean;
  now?: Date;
}

export interface BomModelSummary { dir: string; name: string; files: number; bytes: number; rootDigest?: string; verdict?: string }

export interface BomResult {
  /** The CycloneDX JSON document (the string is what `modelvet bom` writes). */
  json: string;
  /** The same BOM as CycloneDX XML (with `xml: true`): same serial number, timestamp and content. */
  xml?: string;
  document: Record<string, any>;
  models: BomModelSummary[];
  /** Per-file digests of every model (relative to each model folder). */
  digests: Map<string, FileDigest[]>;
  /** Dataset files and folders of the project, with digests and audit outcomes. */
  datasets: DatasetEntry[];
  warnings: string[];
}

const VERDICT_RANK: Record<string, number> = { safe: 0, unscannable: 1, suspicious: 2, malicious: 3 };
/** Formats whose tensor shapes sit in a small header (read for the parameter count even with `scan: false`). */
const HEADER_FORMATS = /\.(safetensors|gguf)$/i;

function licenseOf(l: NormalizedLicense | undefined, name?: string, link?: string) {
  if (!l || l.how === 'unknown') {
    if (name || link) return new NamedLicense(name ?? 'other', link ? { url: link } : {});
    return undefined;
  }
  if (l.spdx) return /\s/.test(l.spdx) ? new LicenseExpression(l.spdx) : new SpdxLicense(l.spdx);
  return new NamedLicense(l.hub ? l.display : name ?? l.raw, link ? { url: link } : {});
}

function prop(c: Component, name: string, value: string | number | undefined): void {
  if (value === undefined || value === '') return;
  c.properties.add(new Property(name, String(value)));
}

function relUrl(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join('/') || '.';
}

/** Parameter count from tensor headers: per format, summed over files; the largest format wins (a repo with .bin and .safetensors holds the weights twice). */
function parameterCount(reports: FileReport[]): number | undefined {
  const perFormat = new Map<string, number>();
  for (const r of reports) {
    if (!r.tensors?.length) continue;
    let n = 0;
    for (const t of r.tensors) n += t.shape.reduce((a, b) => a * b, 1);
    perFormat.set(r.format, (perFormat.get(r.format) ?? 0) + n);
  }
  return perFormat.size ? Math.max(...perFormat.values()) : undefined;
}

interface ModelEntry { facts: ModelFacts; component: Component; ref: string; datasetRefs: string[]; extra: ModelCardExtra }
interface ModelCardExtra { parameters?: number }

export async function buildBom(target: string, opts: BomOptions = {}): Promise<BomResult> {
  let abs = path.resolve(target);
  // A Hugging Face cache repo folder: the snapshot refs/main points at.
  abs = hubRepoSnapshot(abs, readTextFile) ?? abs;
  const st = statSync(abs);
  if (!st.isDirectory()) throw new Error(`${target} is not a folder`);
  const warnings: string[] = [];
  const read = readTextFile;
  const targetIsModel = isModelFolder(abs, listNames(abs), read);
  let folders: string[];
  if (targetIsModel) folders = [abs];
  else {
    const found = findModelFolders(abs, read);
    if (found.truncated) warnings.push('the search for model folders stopped at its limit; the BOM is incomplete');
    // A model folder inside another (diffusers sub-models) belongs to the outer one.
    folders = found.folders.filter((f, i, all) => !all.some((o, j) => j !== i && f.startsWith(o + path.sep)));
  }

  const bom = new Bom();
  bom.metadata.tools.components.add(new Component(ComponentType.Application, 'modelvet', { version: TOOL_VERSION, bomRef: 'tool:modelvet' }));
  const models: BomModelSummary[] = [];
  const digests = new Map<string, FileDigest[]>();
  const entries: ModelEntry[] = [];
  const usedRefs = new Set<string>();
  const uniqueRef = (r: string) => { let x = r, i = 2; while (usedRefs.has(x)) x = `${r}#${i++}`; usedRefs.add(x); return x; };
  const shared = new Map<string, Component>();
  /** Training datasets: bom-ref → name (their `data` object is added after serialization, like the model card). */
  const datasetNames = new Map<string, string>();

  for (const dir of folders) {
    const facts = readModelFacts(dir, read);
    const name = facts.hub?.name ?? path.basename(dir);
    const group = facts.hub?.org;
    // The commit: from the HF cache path, else from the folder's own git clone.
    const version = facts.hub?.sha ?? facts.gitCommit;
    const ref = uniqueRef(`model:${group ? `${group}/` : ''}${name}${version ? `@${version}` : ''}`);
    const c = new Component(ComponentType.MachineLearningModel, name, { bomRef: ref, group, version });
    if (facts.hub?.sha) c.purl = new PackageURL('huggingface', group ?? null, name, facts.hub.sha, null, null).toString();
    const lic = licenseOf(facts.license, facts.licenseName, facts.licenseLink);
    if (lic) c.licenses.add(lic);

    // Digests: the OMS manifest when it can be computed (the same bytes `modelvet sign` signs).
    const sigs = listNames(dir).filter(isSignatureFile);
    let fileDigests: FileDigest[] = [];
    let rootDigest: string | undefined;
    try {
      const m = await computeManifest(dir, { allowSymlinks: true, signaturePath: sigs.includes('model.sig') ? path.join(dir, 'model.sig') : undefined, ignorePaths: sigs });
      rootDigest = omsDigest(m);
      fileDigests = m.files.map((f) => ({ rel: f.name, abs: path.join(dir, ...f.name.split('/')), size: f.size, sha256: f.digest ?? '' }));
    } catch (e) {
      warnings.push(`${relUrl(abs, dir)}: no OMS manifest (${(e as Error).message}); file digests computed directly`);
      const listing = listModelFiles(dir);
      if (listing.truncated) warnings.push(`${relUrl(abs, dir)}: file limit reached; the BOM lists only part of the model`);
      const r = digestFiles(listing.files);
      fileDigests = r.digests;
      warnings.push(...r.errors);
    }
    digests.set(dir, fileDigests);
    prop(c, 'modelvet:oms:root-digest', rootDigest);

    let reports = new Map<string, FileReport>();
    // Without the scan, header-only formats are still read for the parameter count (no verdicts).
    const headersOnly = opts.scan === false;
    const toRead = headersOnly ? fileDigests.filter((f) => HEADER_FORMATS.test(f.rel)) : fileDigests;
    if (toRead.length) {
      const out = await scanPathsParallel(toRead.map((f) => f.abs), { hash: false, fileTimeoutMs: opts.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS });
      reports = new Map(out.files.map((r) => [path.resolve(r.path), r]));
    }
    let worst: string | undefined;
    const codes = new Set<string>();
    let bytes = 0;
    for (const f of fileDigests) {
      bytes += f.size;
      const fc = new Component(ComponentType.File, f.rel, { bomRef: `${ref}/file:${f.rel}` });
      if (f.sha256) fc.hashes.set(HashAlgorithm['SHA-256'], f.sha256);
      prop(fc, 'modelvet:size', f.size);
      const r = headersOnly ? undefined : reports.get(path.resolve(f.abs));
      if (r) {
        prop(fc, 'modelvet:scan:format', r.format);
        prop(fc, 'modelvet:scan:verdict', r.verdict);
        const fcodes = [...new Set(r.findings.map((x) => x.code))].sort();
        prop(fc, 'modelvet:scan:codes', fcodes.join(','));
        fcodes.forEach((x) => codes.add(x));
        if (worst === undefined || VERDICT_RANK[r.verdict] > VERDICT_RANK[worst]) worst = r.verdict;
      }
      c.components.add(fc);
    }
    prop(c, 'modelvet:scan:verdict', worst);
    prop(c, 'modelvet:scan:codes', [...codes].sort().join(','));
    for (const s of sigs) c.externalReferences.add(new ExternalReference(relUrl(abs, path.join(dir, s)), ExternalReferenceType.Attestation, { comment: 'model signature (OMS / Sigstore bundle)' }));
    if (facts.cardFile) c.externalReferences.add(new ExternalReference(relUrl(abs, facts.cardFile), ExternalReferenceType.ModelCard));

    // The card's base_model, else the base the folder's adapter / config.json names (lineage either way).
    const bases = facts.baseModels.length ? facts.baseModels : facts.declaredBase ? [facts.declaredBase.id] : [];
    for (const b of bases) {
      const bref = `model:${b}`;
      let bc = shared.get(bref);
      if (!bc) {
        const parts = b.split('/');
        bc = new Component(ComponentType.MachineLearningModel, parts.pop()!, { bomRef: uniqueRef(bref), group: parts.join('/') || undefined });
        if (parts.length === 1 && /^[\w.-]+$/.test(parts[0]) && /^[\w.-]+$/.test(bc.name)) bc.purl = new PackageURL('huggingface', parts[0], bc.name, null, null, null).toString();
        prop(bc, 'modelvet:role', 'base-model');
        if (!facts.baseModels.length) prop(bc, 'modelvet:base-model:source', `${facts.declaredBase!.from} ${facts.declaredBase!.key}`);
        shared.set(bref, bc);
        bom.components.add(bc);
      }
      c.dependencies.add(bc.bomRef);
    }
    const datasetRefs: string[] = [];
    for (const ds of facts.datasets) {
      const dref = `dataset:${ds}`;
      let dc = shared.get(dref);
      if (!dc) {
        dc = new Component(ComponentType.Data, ds, { bomRef: uniqueRef(dref) });
        prop(dc, 'modelvet:role', 'training-data');
        const local = localDatasetLicense(abs, ds, read, dir);
        const dl = licenseOf(local?.license);
        if (dl) dc.licenses.add(dl);
        shared.set(dref, dc);
        datasetNames.set(dc.bomRef.value!, ds);
        bom.components.add(dc);
      }
      datasetRefs.push(dc.bomRef.value!);
      c.dependencies.add(dc.bomRef);
    }
    const parameters = parameterCount([...reports.values()]);
    entries.push({ facts, component: c, ref, datasetRefs, extra: { parameters } });
    models.push({ dir, name: group ? `${group}/${name}` : name, files: fileDigests.length, bytes, rootDigest, verdict: worst });
  }

  // The project (or the model itself) is the BOM's subject.
  let root: Component;
  if (targetIsModel && entries.length === 1) {
    root = entries[0].component;
  } else {
    root = new Component(ComponentType.Application, projectName(abs), { bomRef: 'project' });
    for (const e of entries) { bom.components.add(e.component); root.dependencies.add(e.component.bomRef); }
  }
  bom.metadata.component = root;

  // The project's own dataset files and folders (docs/provenance.md).
  const dataObjects = new Map<string, Record<string, any>>();
  let datasetEntries: DatasetEntry[] = [];
  if (!targetIsModel && opts.datasets !== false) {
    const found = findDatasets(abs, folders);
    warnings.push(...found.warnings);
    await describeDatasets(found.entries, opts.auditDatasets !== false, warnings);
    datasetEntries = found.entries;
    for (const e of found.entries) {
      const dc = new Component(ComponentType.Data, e.rel, { bomRef: uniqueRef(`${e.kind === 'folder' ? 'data-folder' : 'data-file'}:${e.rel}`) });
      prop(dc, 'modelvet:role', 'project-data');
      const fileProps = (c: Component, f: DatasetEntry['files'][number]) => {
        if (f.sha256) c.hashes.set(HashAlgorithm['SHA-256'], f.sha256);
        prop(c, 'modelvet:size', f.size);
        prop(c, 'modelvet:dataset:format', f.format);
        prop(c, 'modelvet:dataset:split', f.split);
        prop(c, 'modelvet:dataset:rows', f.rows);
      };
      if (e.kind === 'file') fileProps(dc, e.files[0]);
      else {
        prop(dc, 'modelvet:size', e.files.reduce((n, f) => n + f.size, 0));
        prop(dc, 'modelvet:dataset:format', 'huggingface-folder');
        for (const f of e.files) {
          const fc = new Component(ComponentType.File, f.rel, { bomRef: `${dc.bomRef.value}/file:${f.rel}` });
          fileProps(fc, f);
          dc.components.add(fc);
        }
      }
      if (e.audit) {
        prop(dc, 'modelvet:dataset:complete', String(e.audit.complete));
        if (e.kind === 'folder') prop(dc, 'modelvet:dataset:rows', e.audit.rows);
        prop(dc, 'modelvet:dataset:findings', Object.entries(e.audit.findings).map(([c, n]) => `${c}=${n}`).join(',') || 'none');
        if (e.audit.incomplete.length) prop(dc, 'modelvet:dataset:incomplete', e.audit.incomplete.join('; ').slice(0, 1000));
      } else prop(dc, 'modelvet:dataset:audit', `not audited: ${e.notAudited}`);
      dataObjects.set(dc.bomRef.value!, dataObject(e));
      bom.components.add(dc);
      root.dependencies.add(dc.bomRef);
    }
  }

  // Python dependencies (projects; a model folder only when an environment is named).
  if (!targetIsModel || opts.sitePackages) {
    const table = buildLicenseTable(abs, { sitePackages: opts.sitePackages, models: false, read });
    warnings.push(...table.errors);
    for (const r of table.rows) {
      const lc = libraryComponent(r, uniqueRef);
      bom.components.add(lc);
      root.dependencies.add(lc.bomRef);
    }
  }

  const spec = opts.spec === '1.5' ? Spec1dot5 : Spec1dot6;
  const serializer = new JsonSerializer(new CdxJson.Normalize.Factory(spec));
  const doc = JSON.parse(serializer.serialize(bom, { sortLists: true })) as Record<string, any>;
  const cards = new Map(entries.map((e) => [e.ref, modelCardJson(e)]));
  const inject = (list: any[] | undefined) => {
    for (const c of list ?? []) {
      const card = cards.get(c['bom-ref']);
      if (card) c.modelCard = card;
      const ds = datasetNames.get(c['bom-ref']);
      if (ds !== undefined) c.data = [{ type: 'dataset', name: ds }];
      const dobj = dataObjects.get(c['bom-ref']);
      if (dobj) c.data = [dobj];
      inject(c.components);
    }
  };
  if (doc.metadata?.component) inject([doc.metadata.component]);
  inject(doc.components);

  finishHeader(doc, opts);
  let xml: string | undefined;
  if (opts.xml) {
    // The XML carries the JSON document's header, so both forms of one run name the same BOM.
    bom.serialNumber = doc.serialNumber;
    bom.version = doc.version;
    bom.metadata.timestamp = doc.metadata?.timestamp ? new Date(doc.metadata.timestamp) : undefined;
    const cardByRef = new Map([...cards].filter((e): e is [string, Record<string, any>] => !!e[1]));
    const xmlData = new Map<string, string | Record<string, any>>([...datasetNames, ...dataObjects]);
    xml = (require('./xml') as typeof import('./xml')).serializeXml(bom, spec, cardByRef, xmlData);
  }
  return { json: JSON.stringify(doc, null, 2) + '\n', xml, document: doc, models, digests, warnings, datasets: datasetEntries };
}

function libraryComponent(r: LicenseRow, uniqueRef: (r: string) => string): Component {
  const c = new Component(ComponentType.Library, r.name, { version: r.version, bomRef: uniqueRef(`pypi:${r.name.toLowerCase()}${r.version ? `@${r.version}` : ''}`) });
  try { c.purl = new PackageURL('pypi', null, r.name, r.version ?? null, null, null).toString(); } catch { /* a name purl cannot hold */ }
  const lic = licenseOf(r.license);
  if (lic) c.licenses.add(lic);
  prop(c, 'modelvet:license:source', r.source);
  if (r.license.how === 'ambiguous' || (r.license.how === 'unknown' && r.license.raw)) prop(c, 'modelvet:license:declared', r.license.raw);
  const hashes = r.hashes ?? [];
  if (hashes.length === 1) c.hashes.set(HashAlgorithm['SHA-256'], hashes[0]);
  else for (const h of hashes) prop(c, 'modelvet:lock:artifact-sha256', h);
  return c;
}

function projectName(dir: string): string {
  const f = path.join(dir, 'pyproject.toml');
  if (existsSync(f)) {
    try {
      const v: any = getStaticTOMLValue(parseTOML(readTextFile(f) ?? ''));
      const n = v?.project?.name ?? v?.tool?.poetry?.name;
      if (typeof n === 'string' && n.trim()) return n.trim();
    } catch { /* fall back to the folder name */ }
  }
  return path.basename(dir);
}

function modelCardJson(e: ModelEntry): Record<string, any> | undefined {
  const f = e.facts;
  const card: Record<string, any> = {};
  const mp: Record<string, any> = {};
  if (f.task) mp.task = f.task;
  if (f.modelType) mp.architectureFamily = f.modelType;
  if (f.architecture) mp.modelArchitecture = f.architecture;
  if (e.datasetRefs.length) mp.datasets = e.datasetRefs.map((ref) => ({ ref }));
  if (Object.keys(mp).length) card.modelParameters = mp;
  if (f.metrics.length) {
    card.quantitativeAnalysis = {
      performanceMetrics: f.metrics.map((m) => ({ type: m.type, value: m.value, ...(m.dataset ? { slice: m.dataset } : {}) })),
    };
  }
  const cons: Record<string, any> = {};
  if (f.sections.intendedUse) cons.useCases = [f.sections.intendedUse];
  if (f.sections.limitations) cons.technicalLimitations = [f.sections.limitations];
  if (f.sections.bias) cons.ethicalConsiderations = [{ name: f.sections.bias }];
  if (Object.keys(cons).length) card.considerations = cons;
  const props: Array<{ name: string; value: string }> = [];
  if (f.libraryName) props.push({ name: 'library_name', value: f.libraryName });
  if (f.license) props.push({ name: 'license', value: f.license.display });
  if (f.sections.outOfScope) props.push({ name: 'out-of-scope-use', value: f.sections.outOfScope });
  if (e.extra.parameters !== undefined) props.push({ name: 'parameters', value: String(e.extra.parameters) });
  for (const b of f.baseModels.length ? f.baseModels : f.declaredBase ? [f.declaredBase.id] : []) props.push({ name: 'base_model', value: b });
  if (props.length) card.properties = props;
  return Object.keys(card).length ? card : undefined;
}

/** serialNumber, version and timestamp: random and now, or (reproducible) derived from the content. */
function finishHeader(doc: Record<string, any>, opts: BomOptions): void {
  delete doc.serialNumber;
  doc.version = 1;
  if (doc.metadata) delete doc.metadata.timestamp;
  let timestamp: string | undefined;
  if (opts.reproducible) {
    const epoch = Number(process.env.SOURCE_DATE_EPOCH);
    if (Number.isFinite(epoch) && epoch >= 0 && process.env.SOURCE_DATE_EPOCH?.trim()) timestamp = new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  } else timestamp = (opts.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (timestamp) doc.metadata = { timestamp, ...(doc.metadata ?? {}) };
  let serial: string;
  if (opts.reproducible) {
    const h = createHash('sha256').update(JSON.stringify(doc)).digest('hex');
    // A name-based UUID (version 5 layout) of the content: the same inputs give the same serial number.
    serial = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  } else serial = randomUUID();
  const ordered: Record<string, any> = {};
  for (const k of ['$schema', 'bomFormat', 'specVersion']) if (k in doc) ordered[k] = doc[k];
  ordered.serialNumber = `urn:uuid:${serial}`;
  for (const [k, v] of Object.entries(doc)) if (!(k in ordered)) ordered[k] = v;
  for (const k of Object.keys(doc)) delete doc[k];
  Object.assign(doc, ordered);
}
