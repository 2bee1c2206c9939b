/**
 * CARD rules: diagnostics on the `README.md` (model card) of a model folder — a folder with weight
 * files, a transformers `config.json` with `architectures`, an adapter or a diffusers index. Other
 * README files get no findings. Quick-fixes insert a front-matter skeleton with the missing keys.
 */
import path from 'node:path';
import type { AnalysisContext, AnalysisResult } from '../analysis';
export { cardRules } from './meta';
import type { Finding, Fix, Range, Severity } from '../types';
import { lookalikeOrg } from '../hub/typosquat';
import { isModelFolder, listNames, readModelFacts, type ModelFacts } from './model';
import { licenseFindings } from '../licenses/rules';
import type { LicenseRow } from '../licenses/table';


const TOP: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** What the files say the card's `library_name` should be (used in the skeleton). */
function inferredLibrary(f: ModelFacts): string | undefined {
  if (f.names.includes('adapter_config.json')) return 'peft';
  if (f.names.includes('model_index.json')) return 'diffusers';
  if (f.names.includes('config.json') && f.architecture) return 'transformers';
  if (f.names.some((n) => n.endsWith('.gguf'))) return 'gguf';
  return undefined;
}

function adapterBase(f: ModelFacts): string | undefined {
  return f.declaredBase?.id;
}

function yamlScalar(s: string): string { return /^[A-Za-z0-9._/-]+$/.test(s) ? s : JSON.stringify(s); }

/** The front-matter lines for every missing key. */
export function skeletonLines(f: ModelFacts): string[] {
  const d = f.card?.data ?? {};
  const lines: string[] = [];
  if (d.license === undefined || d.license === null || d.license === '') lines.push('license:  # TODO: an SPDX id (apache-2.0, mit, …) or a Hub license id (llama3.1, gemma, openrail, …)');
  const base = adapterBase(f);
  if (base && !f.baseModels.length) lines.push(`base_model: ${yamlScalar(base)}`);
  if (!f.datasets.length && d.datasets === undefined) lines.push('datasets: []  # TODO: the training datasets (Hub dataset ids)');
  const lib = inferredLibrary(f);
  if (lib && d.library_name === undefined) lines.push(`library_name: ${lib}`);
  return lines;
}

function skeletonFix(f: ModelFacts): Fix | undefined {
  const lines = skeletonLines(f);
  if (!lines.length || f.card?.error) return undefined;
  if (!f.card?.hasFrontMatter) {
    return { title: 'Insert model-card front matter', edits: [{ range: TOP, newText: `---\n${lines.join('\n')}\n---\n\n` }], isPreferred: true };
  }
  const at = { line: f.card.closeLine!, character: 0 };
  const keys = lines.map((l) => l.split(':')[0]).join(', ');
  return { title: `Add the missing model-card keys (${keys})`, edits: [{ range: { start: at, end: at }, newText: lines.join('\n') + '\n' }], isPreferred: true };
}

const SECTION_LABELS: Record<keyof ModelFacts['sections'], string> = {
  intendedUse: 'Intended use', outOfScope: 'Out-of-scope use', limitations: 'Limitations', bias: 'Bias and risks',
};

/** Claims (library_name / tags) → the file test that backs them. */
const FORMAT_CLAIMS: Array<[string, string, (names: string[]) => boolean]> = [
  ['safetensors', '.safetensors files', (n) => n.some((x) => x.endsWith('.safetensors') || x.endsWith('.safetensors.index.json'))],
  ['gguf', '.gguf files', (n) => n.some((x) => x.endsWith('.gguf'))],
  ['onnx', '.onnx files', (n) => n.some((x) => x.endsWith('.onnx'))],
  ['peft', 'adapter_config.json', (n) => n.includes('adapter_config.json')],
  ['diffusers', 'model_index.json', (n) => n.includes('model_index.json')],
  ['transformers', 'config.json', (n) => n.includes('config.json')],
  ['keras', 'Keras files (.keras, .h5 or a SavedModel)', (n) => n.some((x) => /\.(keras|h5|hdf5)$/.test(x) || x === 'saved_model.pb')],
];

export function analyzeCard(filePath: string, text: string, ctx: AnalysisContext): AnalysisResult {
  const dir = path.dirname(filePath);
  const names = listNames(dir);
  const self = path.resolve(filePath);
  const read = (p: string) => (path.resolve(p) === self ? text : ctx.fs.readText(p));
  if (!isModelFolder(dir, names, read)) return { findings: [], dependsOn: [] };
  if (!names.some((n) => path.join(dir, n) === self || n.toLowerCase() === path.basename(filePath).toLowerCase())) names.push(path.basename(filePath));
  const f = readModelFacts(dir, read, names);
  f.cardFile = filePath;
  const dependsOn = ['config.json', 'adapter_config.json'].filter((n) => names.includes(n)).map((n) => path.join(dir, n));
  const findings = cardFindings(filePath, f);
  // The card's license against the license policy (LIC001) and the project kind (LIC003), as `modelvet licenses` reports them.
  if (f.license && f.card && !f.card.error) {
    const r = f.card.keys.get('license');
    const row: LicenseRow = { kind: 'model', name: path.basename(dir), license: f.license, source: 'card', file: filePath, range: r ? { start: r.key.start, end: r.value?.end ?? r.key.end } : undefined };
    findings.push(...licenseFindings([row], { policy: ctx.config.licenses, projectKind: ctx.config.projectKind, isLibrary: false }).filter((x) => x.code !== 'LIC002'));
  }
  return { findings, dependsOn };
}

export function cardFindings(filePath: string, f: ModelFacts): Finding[] {
  const out: Finding[] = [];
  const card = f.card;
  if (!card) return out;
  const add = (code: string, severity: Severity, range: Range, message: string, fix?: Fix) =>
    out.push({ path: filePath, range, code, severity, message, fixes: fix ? [fix] : [] });
  if (card.skipped) { add('CARD002', 'warning', TOP, `Model card not analyzed: ${card.skipped}`); return out; }
  const fenceRange: Range = card.hasFrontMatter ? card.lines.rangeOf(0, 3) : TOP;
  const skeleton = skeletonFix(f);
  if (!card.hasFrontMatter) {
    add('CARD001', 'warning', TOP, 'This model card has no YAML front matter (license, base model, datasets are not recorded)', skeleton);
  } else if (card.error) {
    add('CARD002', 'warning', card.error.range, `Model card: ${card.error.message}`);
    return out;
  }
  const d = card.data ?? {};
  const keyRange = (k: string): Range => { const r = card.keys.get(k); return r ? { start: r.key.start, end: r.value?.end ?? r.key.end } : fenceRange; };
  if (card.hasFrontMatter) {
    if (d.license === undefined || d.license === null || d.license === '') add('CARD003', 'warning', keyRange('license'), 'The model card does not name a license', skeleton);
    else if (String(d.license).toLowerCase() === 'other' && (typeof d.license_name !== 'string' || typeof d.license_link !== 'string')) {
      const missingKeys = [
        ...(typeof d.license_name !== 'string' ? ['license_name:  # TODO: the license\'s short id (e.g. my-model-license)'] : []),
        ...(typeof d.license_link !== 'string' ? ['license_link:  # TODO: a link to the license text (LICENSE in this repository, or a URL)'] : []),
      ];
      const at = { line: card.closeLine!, character: 0 };
      add('CARD003', 'warning', keyRange('license'), '`license: other` without `license_name` and `license_link` does not say which terms apply',
        { title: `Add the missing model-card keys (${missingKeys.map((l) => l.split(':')[0]).join(', ')})`, edits: [{ range: { start: at, end: at }, newText: missingKeys.join('\n') + '\n' }], isPreferred: true });
    }
    const base = adapterBase(f);
    if (base && !f.baseModels.length) {
      const what = f.declaredBase!.from === 'adapter_config.json' ? `an adapter for ${base}` : `a model fine-tuned from ${base} (config.json \`${f.declaredBase!.key}\`)`;
      add('CARD004', 'warning', fenceRange, `This folder holds ${what}, but the card has no \`base_model\``, skeleton);
    }
    const closeRange: Range = card.closeLine !== undefined ? card.lines.rangeOf(card.lines.starts[card.closeLine], card.lines.starts[card.closeLine] + 3) : fenceRange;
    if (!f.datasets.length) add('CARD005', 'information', d.datasets !== undefined ? keyRange('datasets') : closeRange, 'The model card names no training datasets (`datasets`)', d.datasets === undefined ? skeleton : undefined);
  }
  const missing = (Object.keys(SECTION_LABELS) as Array<keyof ModelFacts['sections']>).filter((k) => f.sections[k] === undefined);
  if (missing.length) {
    const endLine = card.lines.starts.length - 1;
    const endChar = card.lines.lineText(endLine).length;
    const pos = { line: endLine, character: endChar };
    const lead = endChar > 0 ? '\n\n' : '\n';
    const body = missing.map((k) => `## ${SECTION_LABELS[k]}\n\nTODO\n`).join('\n');
    // On the card's first heading (its title), else where the body starts: not on the fence, where the key findings are.
    const h = card.headings[0];
    const sectionRange: Range = h ? { start: { line: h.line, character: 0 }, end: { line: h.line, character: card.lines.lineText(h.line).length } } : { start: { line: Math.min(card.bodyLine, endLine), character: 0 }, end: { line: Math.min(card.bodyLine, endLine), character: 0 } };
    add('CARD006', 'information', sectionRange, `The model card has no section on: ${missing.map((k) => SECTION_LABELS[k].toLowerCase()).join(', ')}`,
      { title: `Append the missing model-card sections (${missing.map((k) => SECTION_LABELS[k]).join(', ')})`, edits: [{ range: { start: pos, end: pos }, newText: lead + body }] });
  }
  const noDs = f.metrics.filter((m) => !m.dataset);
  if (noDs.length) add('CARD007', 'warning', keyRange('model-index'), `${noDs.length} evaluation result${noDs.length === 1 ? '' : 's'} (${[...new Set(noDs.map((m) => m.type))].slice(0, 5).join(', ')}) name${noDs.length === 1 ? 's' : ''} no evaluation dataset`);
  else if (!f.metrics.length && (Array.isArray(d.metrics) ? d.metrics.length : typeof d.metrics === 'string') && !f.datasets.length && d['model-index'] === undefined) {
    add('CARD007', 'warning', keyRange('metrics'), 'The card lists `metrics` but no dataset they were measured on (`model-index` results or `datasets`)');
  }
  const claims = new Set([...(f.libraryName ? [f.libraryName.toLowerCase()] : []), ...f.tags.map((t) => t.toLowerCase())]);
  for (const [claim, what, ok] of FORMAT_CLAIMS) {
    if (!claims.has(claim) || ok(f.names)) continue;
    const where = f.libraryName?.toLowerCase() === claim ? keyRange('library_name') : keyRange('tags');
    const pickle = f.names.filter((n) => /\.(bin|pt|pth|ckpt|pkl)$/.test(n));
    add('CARD008', 'warning', where, `The card claims ${claim}, but this folder has no ${what}${claim === 'safetensors' && pickle.length ? ` (only ${pickle.slice(0, 3).join(', ')})` : ''}`);
  }
  for (const b of f.baseModels) {
    const owner = b.includes('/') ? b.split('/')[0] : undefined;
    const real = owner && lookalikeOrg(owner);
    if (real) add('CARD009', 'warning', keyRange('base_model'), `base_model '${b}': the owner '${owner}' looks like the popular organization '${real}'`);
  }
  return out;
}
