/**
 * Hugging Face model folders (a FolderCheck): remote code (`auto_map`,
 * cross-repository `owner/repo--module.Class` references, custom pipelines),
 * Python files next to weights, dataset loading scripts, tokenizer tampering
 * signs and chat templates in tokenizer_config.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FolderCheck, ScanContext } from '../format';
import { reviewChatTemplate } from './chat-template';

/** JSON config files read per folder are capped at this size. */
export const HF_MAX_CONFIG_BYTES = 64 * 1024 * 1024;
/** Bytes of a .py file read to recognise a dataset builder. */
const PY_SNIFF_BYTES = 64 * 1024;
const CONFIG_FILES = ['config.json', 'tokenizer_config.json', 'preprocessor_config.json', 'processor_config.json', 'feature_extractor_config.json', 'image_processor_config.json', 'video_preprocessor_config.json'];
const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt|h5|keras|onnx|gguf|msgpack|pb|tflite|ot|model)$/i;
/** Special-token spellings: <s>, </s>, <|endoftext|>, [CLS], <unk>, <|im_start|>, ▁<extra_id_0> … */
const MARKER_TOKEN = /^(<\/?\|?[^<>]{1,40}\|?>|\[[A-Za-z_0-9]{1,20}\])$/;
const ORDINARY_WORD = /^\s?[A-Za-z]{2,20}$/;

function readJson(dir: string, name: string, report: (rel: string) => ScanContext): unknown {
  const p = path.join(dir, name);
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return undefined;
    if (st.size > HF_MAX_CONFIG_BYTES) { report(name).incomplete('HF004', `${name} is ${st.size} bytes, above the ${HF_MAX_CONFIG_BYTES}-byte limit`); return undefined; }
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    report(name).finding('HF004', 'medium', `${name} cannot be parsed: ${String((e as Error).message).slice(0, 100)}`);
    return undefined;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function reviewAutoMap(name: string, cfg: Obj, ctx: ScanContext): void {
  const refs: string[] = [];
  const collect = (v: unknown) => { if (typeof v === 'string') refs.push(v); else if (Array.isArray(v)) v.forEach(collect); };
  if (isObj(cfg.auto_map)) for (const v of Object.values(cfg.auto_map)) collect(v);
  if (isObj(cfg.custom_pipelines)) for (const p of Object.values(cfg.custom_pipelines)) if (isObj(p) && typeof p.impl === 'string') refs.push(p.impl);
  if (!refs.length) return;
  const cross = refs.filter((r) => r.includes('--'));
  ctx.finding('HF001', 'high', `${name} maps classes to code shipped with the model (needs trust_remote_code=True)`, {}, refs.slice(0, 10).join(', '));
  for (const r of cross.slice(0, 10)) ctx.finding('HF002', 'high', `${name} pulls code from another repository: '${r.split('--')[0]}'`, {}, r);
}

function reviewTokenizer(dir: string, files: readonly string[], report: (rel: string) => ScanContext): void {
  const specialById = new Map<number, { content: string; special: boolean }>();
  if (files.includes('tokenizer.json')) {
    const tok = readJson(dir, 'tokenizer.json', report);
    if (isObj(tok)) {
      const ctx = report('tokenizer.json');
      const issues: string[] = [];
      const idToContent = new Map<number, string>();
      const model = isObj(tok.model) ? tok.model : undefined;
      if (model && isObj(model.vocab)) {
        let dupIds = 0;
        for (const [content, id] of Object.entries(model.vocab)) {
          if (typeof id !== 'number') continue;
          if (idToContent.has(id)) { if (dupIds++ < 5) issues.push(`vocab id ${id} is used by both ${JSON.stringify(idToContent.get(id))} and ${JSON.stringify(content)}`); }
          else idToContent.set(id, content);
        }
      } else if (model && Array.isArray(model.vocab)) {
        model.vocab.forEach((e, i) => { if (Array.isArray(e) && typeof e[0] === 'string') idToContent.set(i, e[0]); });
      }
      const added = Array.isArray(tok.added_tokens) ? tok.added_tokens.filter(isObj) : [];
      const seenAdded = new Map<number, string>();
      for (const t of added) {
        const id = t.id, content = t.content;
        if (typeof id !== 'number' || typeof content !== 'string') continue;
        if (seenAdded.has(id)) issues.push(`added token id ${id} is used twice (${JSON.stringify(seenAdded.get(id))} and ${JSON.stringify(content)})`);
        seenAdded.set(id, content);
        const vocabContent = idToContent.get(id);
        if (vocabContent !== undefined && vocabContent !== content) issues.push(`added token ${JSON.stringify(content)} reuses id ${id} of vocabulary entry ${JSON.stringify(vocabContent)}`);
        if (t.special === true && ORDINARY_WORD.test(content)) issues.push(`special added token ${JSON.stringify(content)} looks like an ordinary word`);
        specialById.set(id, { content, special: t.special === true });
      }
      for (const i of issues.slice(0, 20)) ctx.finding('HF004', 'medium', `tokenizer.json: ${i}`);
    }
  }
  if (files.includes('tokenizer_config.json')) {
    const cfg = readJson(dir, 'tokenizer_config.json', report);
    if (isObj(cfg)) {
      const ctx = report('tokenizer_config.json');
      reviewAutoMap('tokenizer_config.json', cfg, ctx);
      if (isObj(cfg.added_tokens_decoder)) {
        for (const [idText, t] of Object.entries(cfg.added_tokens_decoder)) {
          if (!isObj(t) || typeof t.content !== 'string') continue;
          const id = Number(idText);
          const other = specialById.get(id);
          if (other && other.content !== t.content) ctx.finding('HF004', 'medium', `token ${id} is ${JSON.stringify(t.content)} here but ${JSON.stringify(other.content)} in tokenizer.json`);
          else if (other && other.special !== (t.special === true)) ctx.finding('HF004', 'medium', `special flag of token ${id} ${JSON.stringify(t.content)} differs from tokenizer.json`);
          else if (!other && t.special === false && MARKER_TOKEN.test(t.content) && /^(<\/?s>|<unk>|<pad>|<mask>|\[(PAD|UNK|CLS|SEP|MASK)\]|<\|endoftext\|>)$/.test(t.content)) {
            ctx.finding('HF004', 'medium', `control token ${JSON.stringify(t.content)} (id ${id}) is marked non-special`);
          }
        }
      }
      const templates: [string, string][] = [];
      if (typeof cfg.chat_template === 'string') templates.push(['chat_template', cfg.chat_template]);
      else if (Array.isArray(cfg.chat_template)) for (const t of cfg.chat_template) if (isObj(t) && typeof t.template === 'string') templates.push([`chat_template[${String(t.name)}]`, t.template]);
      for (const [label, tpl] of templates) {
        for (const issue of reviewChatTemplate(tpl)) {
          ctx.finding(issue.kind === 'escape' ? 'HF006' : 'HF007', issue.kind === 'escape' ? 'critical' : 'medium', `tokenizer_config.json ${label}: ${issue.message}`, {}, issue.evidence);
        }
      }
    }
  }
  // A standalone chat_template.jinja (newer transformers) gets the same review.
  for (const f of files.filter((x) => /^chat_template.*\.jinja$/.test(x))) {
    try {
      const p = path.join(dir, f);
      if (fs.statSync(p).size > HF_MAX_CONFIG_BYTES) continue;
      for (const issue of reviewChatTemplate(fs.readFileSync(p, 'utf8'))) report(f).finding(issue.kind === 'escape' ? 'HF006' : 'HF007', issue.kind === 'escape' ? 'critical' : 'medium', `${f}: ${issue.message}`, {}, issue.evidence);
    } catch { /* unreadable: the file scan reports it */ }
  }
}

function isDatasetScript(dir: string, file: string): boolean {
  if (path.basename(file, '.py') === path.basename(dir)) return true;
  try {
    const fd = fs.openSync(path.join(dir, file), 'r');
    try {
      const buf = Buffer.alloc(PY_SNIFF_BYTES);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return /\b(GeneratorBasedBuilder|ArrowBasedBuilder|DatasetBuilder|BuilderConfig)\b/.test(buf.toString('utf8', 0, n));
    } finally { fs.closeSync(fd); }
  } catch { return false; }
}

export const hfFolderCheck: FolderCheck = {
  id: 'hf-model-folder',
  check(dir, files, report) {
    const hasWeights = files.some((f) => WEIGHT_FILE.test(f));
    const hasTokenizer = files.includes('tokenizer.json') || files.includes('tokenizer_config.json');
    // Only a transformers-style config makes a folder a model folder (plenty of projects have a config.json).
    let hfConfig = false;
    for (const name of CONFIG_FILES) {
      if (name === 'tokenizer_config.json' || !files.includes(name)) continue;
      const cfg = readJson(dir, name, report);
      if (!isObj(cfg)) continue;
      if (name === 'config.json') hfConfig = 'model_type' in cfg || 'architectures' in cfg || 'auto_map' in cfg || '_name_or_path' in cfg;
      if (name === 'config.json' && !hfConfig) continue;
      reviewAutoMap(name, cfg, report(name));
    }
    const isModelFolder = hfConfig || hasTokenizer;
    if (isModelFolder) reviewTokenizer(dir, files, report);
    for (const f of files.filter((x) => x.endsWith('.py'))) {
      if (isDatasetScript(dir, f)) report(f).finding('HF005', 'medium', `'${f}' is a dataset loading script (datasets runs it with trust_remote_code)`);
      else if (hfConfig || (hasTokenizer && hasWeights)) report(f).finding('HF003', 'medium', `Python file '${f}' ships next to the model weights (custom model/pipeline code)`);
    }
  },
};
