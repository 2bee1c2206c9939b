/**
 * What a model folder says about itself: its card (README.md front matter and sections), `config.json`,
 * an adapter config, and — for a Hugging Face cache snapshot — the repo id and commit from the path.
 * Shared by the card rules (CARD…), the license table (LIC…) and the AI-BOM.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { normalizeLicense, type NormalizedLicense } from '../licenses/spdx';
import { parseCard, stringList, type ParsedCard } from './frontmatter';

/** Largest config.json / adapter_config.json read. */
export const MAX_CONFIG_JSON_BYTES = 4 * 1024 * 1024;
/** Entries listed when deciding whether a folder holds a model. */
export const MAX_FOLDER_ENTRIES = 10_000;
/** Characters kept from one card section (considerations in the BOM). */
export const MAX_SECTION_CHARS = 2_000;

/** Weight and model file extensions (what makes a folder a model folder, and what the card's format claims are checked against). */
export const MODEL_FILE_RE = /\.(safetensors|bin|pt|pth|ckpt|pkl|pickle|joblib|npy|npz|h5|hdf5|keras|onnx|gguf|ggml|pb|tflite|mlmodel|msgpack|nemo)$/i;

export interface ReadText { (file: string): string | undefined }

export interface HubSnapshot { org?: string; name: string; sha: string }

export interface ModelMetric { type: string; value: string; dataset?: string; datasetType?: string; task?: string }

export interface ModelFacts {
  dir: string;
  /** File names in the folder (not recursive), sorted. */
  names: string[];
  cardFile?: string;
  card?: ParsedCard;
  config?: Record<string, any>;
  adapter?: Record<string, any>;
  hub?: HubSnapshot;
  /** The checked-out commit when the folder is a git clone of the model repository (`.git` inside it). */
  gitCommit?: string;
  license?: NormalizedLicense;
  licenseName?: string;
  licenseLink?: string;
  datasets: string[];
  baseModels: string[];
  /** The base model the folder's own files name: an adapter's `base_model_name_or_path`, or a fine-tune's config.json. */
  declaredBase?: { id: string; from: 'adapter_config.json' | 'config.json'; key: string };
  libraryName?: string;
  task?: string;
  modelType?: string;
  architecture?: string;
  tags: string[];
  metrics: ModelMetric[];
  /** Sections of the card body by topic (text under the matching heading, capped). */
  sections: { intendedUse?: string; outOfScope?: string; limitations?: string; bias?: string };
}

/** `…/models--org--name/snapshots/<sha>` (the Hugging Face cache layout) → repo id and commit. */
export function hubSnapshotOf(dir: string): HubSnapshot | undefined {
  const parts = path.resolve(dir).split(path.sep);
  const i = parts.lastIndexOf('snapshots');
  if (i < 1 || i !== parts.length - 2) return undefined;
  const sha = parts[i + 1];
  const m = /^models--(.+)$/.exec(parts[i - 1]);
  if (!m || !/^[0-9a-f]{40}$/.test(sha)) return undefined;
  const segs = m[1].split('--');
  return segs.length >= 2 ? { org: segs[0], name: segs.slice(1).join('--'), sha } : { name: segs[0], sha };
}

/**
 * A Hugging Face cache repo folder (`models--org--name`) → the snapshot its `refs/main` names
 * (`snapshots/<sha>`), when both exist; otherwise undefined.
 */
export function hubRepoSnapshot(dir: string, read: ReadText): string | undefined {
  if (!/^models--.+/.test(path.basename(dir))) return undefined;
  const sha = read(path.join(dir, 'refs', 'main'))?.trim();
  if (!sha || !/^[0-9a-f]{40}$/.test(sha)) return undefined;
  const snap = path.join(dir, 'snapshots', sha);
  return listNames(snap).length ? snap : undefined;
}

const GIT_SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** The commit `.git/HEAD` of a clone names (detached, a loose branch ref or packed-refs), read from files only. */
export function gitHead(dir: string, read: ReadText): string | undefined {
  const git = path.join(dir, '.git');
  let ref = read(path.join(git, 'HEAD'))?.trim();
  for (let depth = 0; ref && depth < 5; depth++) {
    if (GIT_SHA.test(ref)) return ref;
    const m = /^ref:\s*(refs\/[\w./-]+)$/.exec(ref);
    if (!m || m[1].includes('..')) return undefined;
    const loose = read(path.join(git, ...m[1].split('/')))?.trim();
    if (loose) { ref = loose; continue; }
    const packed = read(path.join(git, 'packed-refs'));
    const line = packed?.split(/\r?\n/).find((l) => l.endsWith(` ${m[1]}`));
    const sha = line?.split(' ')[0];
    return sha && GIT_SHA.test(sha) ? sha : undefined;
  }
  return undefined;
}

export function listNames(dir: string): string[] {
  try { return readdirSync(dir).slice(0, MAX_FOLDER_ENTRIES).sort(); } catch { return []; }
}

function readJson(file: string, read: ReadText): Record<string, any> | undefined {
  const t = read(file);
  if (t === undefined || t.length > MAX_CONFIG_JSON_BYTES) return undefined;
  try { const v = JSON.parse(t); return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined; } catch { return undefined; }
}

/** A folder holds a model: weight files, a transformers config with `architectures`, an adapter or a diffusers index. */
export function isModelFolder(dir: string, names: string[], read: ReadText): boolean {
  if (names.some((n) => MODEL_FILE_RE.test(n))) return true;
  if (names.includes('adapter_config.json') || names.includes('model_index.json')) return true;
  if (names.includes('config.json')) return Array.isArray(readJson(path.join(dir, 'config.json'), read)?.architectures);
  return false;
}

const SECTION_TOPICS: Array<[keyof ModelFacts['sections'], RegExp]> = [
  ['outOfScope', /out[- ]of[- ]scope|misuse|not intended/i],
  ['intendedUse', /intended use|^uses$|^use cases?$|direct use|downstream use|how to use|^usage$/i],
  ['limitations', /limitation/i],
  ['bias', /bias|risk|ethic|fairness/i],
];

/** Which topics a heading covers (a "Bias, Risks, and Limitations" heading covers two). */
export function headingTopics(text: string): Array<keyof ModelFacts['sections']> {
  const t = text.replace(/[*_`]/g, '').trim();
  return SECTION_TOPICS.filter(([, re]) => re.test(t)).map(([k]) => k);
}

export function readModelFacts(dir: string, read: ReadText, names = listNames(dir)): ModelFacts {
  const facts: ModelFacts = { dir, names, datasets: [], baseModels: [], tags: [], metrics: [], sections: {} };
  facts.hub = hubSnapshotOf(dir);
  if (!facts.hub) facts.gitCommit = gitHead(dir, read);
  if (names.includes('config.json')) facts.config = readJson(path.join(dir, 'config.json'), read);
  if (names.includes('adapter_config.json')) facts.adapter = readJson(path.join(dir, 'adapter_config.json'), read);
  const readme = names.find((n) => n.toLowerCase() === 'readme.md');
  if (readme) {
    facts.cardFile = path.join(dir, readme);
    const text = read(facts.cardFile);
    if (text !== undefined) facts.card = parseCard(text);
  }
  const d = facts.card?.data ?? {};
  if (d.license !== undefined && d.license !== null) {
    const raw = Array.isArray(d.license) ? stringList(d.license).join(' OR ') : String(d.license);
    facts.license = normalizeLicense(raw);
  }
  if (typeof d.license_name === 'string') facts.licenseName = d.license_name;
  if (typeof d.license_link === 'string') facts.licenseLink = d.license_link;
  // `license: other` + `license_name`: the custom license goes by its name (tables, policy entries, BOM).
  if (facts.license?.raw.toLowerCase() === 'other' && facts.licenseName?.trim()) {
    const name = facts.licenseName.trim().slice(0, 200);
    facts.license = { ...facts.license, hub: name.toLowerCase(), how: 'hub', display: name };
  }
  facts.datasets = stringList(d.datasets);
  facts.baseModels = stringList(d.base_model);
  facts.tags = stringList(d.tags);
  if (typeof d.library_name === 'string') facts.libraryName = d.library_name;
  if (typeof d.pipeline_tag === 'string') facts.task = d.pipeline_tag;
  const cfg = facts.config;
  if (typeof cfg?.model_type === 'string') facts.modelType = cfg.model_type;
  if (Array.isArray(cfg?.architectures) && typeof cfg.architectures[0] === 'string') facts.architecture = cfg.architectures[0];
  facts.metrics = modelIndexMetrics(d['model-index']);
  facts.declaredBase = declaredBaseOf(facts, dir);
  if (facts.card) facts.sections = cardSections(facts.card);
  return facts;
}

/** Folder names that make an `org/name` value a local path, not a Hub id (`outputs/checkpoint-500`). */
const LOCAL_DIR_NAMES = /^(outputs?|checkpoints?|ckpts?|models?|runs?|results?|tmp|temp|data|saved?_?models?|experiments?|logs?|\.+)$/i;
const HUB_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/**
 * The base model named by the files: an adapter config's `base_model_name_or_path`; else a
 * config.json `base_model` / `base_model_name_or_path`, or its `_name_or_path` (transformers records
 * the id a model was loaded from, so a model saved after fine-tuning `org/base` names `org/base`)
 * when that is a Hub id other than the folder's own.
 */
function declaredBaseOf(f: ModelFacts, dir: string): ModelFacts['declaredBase'] {
  const a = f.adapter?.base_model_name_or_path;
  if (typeof a === 'string' && a.trim()) return { id: a.trim(), from: 'adapter_config.json', key: 'base_model_name_or_path' };
  const cfg = f.config;
  if (!cfg) return undefined;
  for (const key of ['base_model', 'base_model_name_or_path']) {
    const v = cfg[key];
    if (typeof v === 'string' && HUB_ID.test(v.trim())) return { id: v.trim(), from: 'config.json', key };
  }
  const v = typeof cfg._name_or_path === 'string' ? cfg._name_or_path.trim() : '';
  if (!HUB_ID.test(v)) return undefined;
  const [org, name] = v.split('/');
  if (LOCAL_DIR_NAMES.test(org) || /^checkpoint/i.test(name)) return undefined;
  const own = f.hub ? `${f.hub.org ? `${f.hub.org}/` : ''}${f.hub.name}` : undefined;
  if (own?.toLowerCase() === v.toLowerCase() || name.toLowerCase() === path.basename(dir).toLowerCase()) return undefined;
  return { id: v, from: 'config.json', key: '_name_or_path' };
}

/** `model-index: [{name, results: [{task, dataset, metrics: [{type, value}]}]}]` → flat metrics. */
export function modelIndexMetrics(mi: unknown): ModelMetric[] {
  const out: ModelMetric[] = [];
  if (!Array.isArray(mi)) return out;
  for (const entry of mi.slice(0, 100)) {
    const results = Array.isArray(entry?.results) ? entry.results : [];
    for (const r of results.slice(0, 1000)) {
      const ds = r?.dataset && typeof r.dataset === 'object' ? r.dataset : undefined;
      const dsName = typeof ds?.name === 'string' ? ds.name : typeof ds?.type === 'string' ? ds.type : undefined;
      const task = typeof r?.task?.type === 'string' ? r.task.type : undefined;
      for (const m of Array.isArray(r?.metrics) ? r.metrics.slice(0, 1000) : []) {
        const type = typeof m?.type === 'string' ? m.type : typeof m?.name === 'string' ? m.name : undefined;
        if (!type || m?.value === undefined || m?.value === null) continue;
        out.push({ type, value: String(m.value), dataset: dsName, datasetType: typeof ds?.type === 'string' ? ds.type : undefined, task });
      }
    }
  }
  return out;
}

function cardSections(card: ParsedCard): ModelFacts['sections'] {
  const out: ModelFacts['sections'] = {};
  const hs = card.headings;
  for (let i = 0; i < hs.length; i++) {
    const topics = headingTopics(hs[i].text);
    if (!topics.length) continue;
    let end = card.lines.starts.length;
    for (let j = i + 1; j < hs.length; j++) if (hs[j].level <= hs[i].level) { end = hs[j].line; break; }
    const body: string[] = [];
    for (let l = hs[i].line + 1; l < end && body.join('\n').length < MAX_SECTION_CHARS; l++) body.push(card.lines.lineText(l));
    const text = body.join('\n').replace(/\n{3,}/g, '\n\n').trim().slice(0, MAX_SECTION_CHARS);
    for (const t of topics) if (out[t] === undefined) out[t] = text;
  }
  return out;
}
