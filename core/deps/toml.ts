/**
 * TOML manifests with positions: pyproject.toml (PEP 621, PEP 735, Poetry, uv), Pipfile,
 * and lockfiles (uv.lock, poetry.lock, pylock.toml, pdm.lock, Pipfile.lock).
 */
import { parseTOML, getStaticTOMLValue, type AST } from 'toml-eslint-parser';
import type { AnalysisContext, AnalysisResult } from '../analysis';
import { LineIndex } from '../text';
import type { Range, TextEdit } from '../types';
import { checkSizeAndBinary } from './limits';
import { clampedRange, FindingSink, type DepEntry, type EntryContext, type SpecFormat } from './model';
import { isValidClauseVersion, normalizeName } from './pep440';
import { parseRequirement } from './pep508';
import { checkDirectUrl, checkDuplicatePair, checkEntry, checkIndexOption } from './rules';

type TNode =
  | { kind: 'table'; entries: Map<string, TNode>; node: AST.TOMLNode }
  | { kind: 'array'; items: TNode[]; node: AST.TOMLNode }
  | { kind: 'value'; value: unknown; node: AST.TOMLNode };

function keyNames(k: AST.TOMLKey): string[] {
  return k.keys.map((x) => (x.type === 'TOMLBare' ? x.name : x.value));
}

function convert(v: AST.TOMLContentNode): TNode {
  if (v.type === 'TOMLArray') return { kind: 'array', items: v.elements.map(convert), node: v };
  if (v.type === 'TOMLInlineTable') {
    const t: TNode = { kind: 'table', entries: new Map(), node: v };
    for (const kv of v.body) insertKeyValue(t, kv);
    return t;
  }
  return { kind: 'value', value: (v as AST.TOMLValue).value, node: v };
}

function childTable(t: TNode & { kind: 'table' }, key: string, node: AST.TOMLNode): TNode & { kind: 'table' } {
  let c = t.entries.get(key);
  if (c?.kind === 'array') c = c.items[c.items.length - 1];
  if (!c || c.kind !== 'table') { c = { kind: 'table', entries: new Map(), node }; t.entries.set(key, c); }
  return c as TNode & { kind: 'table' };
}

function insertKeyValue(t: TNode & { kind: 'table' }, kv: AST.TOMLKeyValue): void {
  const names = keyNames(kv.key);
  let cur = t;
  for (const n of names.slice(0, -1)) cur = childTable(cur, n, kv);
  cur.entries.set(names[names.length - 1], convert(kv.value));
}

/** Parse TOML into a positioned tree, or an error with its offset. */
export function parseTomlTree(text: string): { root: TNode & { kind: 'table' }; ast: AST.TOMLProgram } | { error: string; offset: number } {
  let ast: AST.TOMLProgram;
  try { ast = parseTOML(text); } catch (e) {
    const err = e as { message: string; index?: number };
    return { error: err.message.replace(/\s*\(\d+:\d+\)$/, ''), offset: typeof err.index === 'number' ? err.index : 0 };
  }
  const root: TNode & { kind: 'table' } = { kind: 'table', entries: new Map(), node: ast };
  for (const item of ast.body[0].body) {
    if (item.type === 'TOMLKeyValue') { insertKeyValue(root, item); continue; }
    const names = keyNames(item.key);
    let cur = root;
    for (const n of names.slice(0, -1)) cur = childTable(cur, n, item);
    const last = names[names.length - 1];
    let table: TNode & { kind: 'table' };
    if (item.kind === 'array') {
      let arr = cur.entries.get(last);
      if (!arr || arr.kind !== 'array') { arr = { kind: 'array', items: [], node: item }; cur.entries.set(last, arr); }
      table = { kind: 'table', entries: new Map(), node: item };
      arr.items.push(table);
    } else table = childTable(cur, last, item);
    for (const kv of item.body) insertKeyValue(table, kv);
  }
  return { root, ast };
}

function get(t: TNode | undefined, ...keys: string[]): TNode | undefined {
  let cur = t;
  for (const k of keys) {
    if (!cur || cur.kind !== 'table') return undefined;
    cur = cur.entries.get(k);
  }
  return cur;
}
function str(t: TNode | undefined): string | undefined {
  return t?.kind === 'value' && typeof t.value === 'string' ? t.value : undefined;
}

/** `[tool.modelvet]` from a pyproject.toml text as a plain object (for mergeConfig), or undefined. */
export function readToolConfig(text: string): Record<string, unknown> | undefined {
  if (checkSizeAndBinary(text)) return undefined;
  try {
    const v = getStaticTOMLValue(parseTOML(text)) as { tool?: { modelvet?: unknown } };
    const c = v?.tool?.modelvet;
    return c && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>) : undefined;
  } catch { return undefined; }
}

/** Where a TOML string's content sits in the text, when it maps 1:1 (no escapes). */
function stringContent(text: string, n: AST.TOMLNode): { start: number; end: number } | undefined {
  const [s, e] = n.range;
  const v = n.type === 'TOMLValue' && typeof (n as AST.TOMLValue).value === 'string' ? (n as AST.TOMLStringValue) : undefined;
  if (!v || v.multiline) return undefined;
  if (text.slice(s + 1, e - 1) !== v.value) return undefined;
  return { start: s + 1, end: e - 1 };
}

/** Convert a Poetry version constraint to a PEP 440 specifier set; undefined when it cannot be read. */
export function poetryToPep440(c: string): string | undefined {
  const s = c.trim();
  if (s === '' || s === '*') return '';
  if (s.includes('||')) return undefined;
  const parts = s.split(/\s*,\s*|\s+(?=[<>=!~^])/).filter(Boolean);
  const out: string[] = [];
  for (const p0 of parts) {
    const p = p0.replace(/\s+/g, '');
    let m: RegExpExecArray | null;
    if ((m = /^\^(\d+(?:\.\d+)*)(.*)$/.exec(p))) {
      const rel = m[1].split('.').map(Number);
      const i = rel.findIndex((x) => x !== 0);
      const idx = i < 0 ? rel.length - 1 : i;
      const upper = rel.slice(0, idx + 1);
      upper[idx]++;
      out.push(`>=${m[1]}${m[2]}`, `<${upper.join('.')}`);
    } else if ((m = /^~(?!=)(\d+(?:\.\d+)*)(.*)$/.exec(p))) {
      const rel = m[1].split('.').map(Number);
      const upper = rel.length >= 2 ? [rel[0], rel[1] + 1] : [rel[0] + 1];
      out.push(`>=${m[1]}${m[2]}`, `<${upper.join('.')}`);
    } else if (/^(~=|===|==|!=|<=|>=|<|>)/.test(p)) out.push(p);
    else if (/^\d/.test(p)) out.push(`==${p}`);
    else return undefined;
  }
  for (const o of out) {
    const m = /^(~=|===|==|!=|<=|>=|<|>)(.+)$/.exec(o);
    if (!m || !isValidClauseVersion(m[1], m[2])) return undefined;
  }
  return out.join(',');
}

type Sink = FindingSink;

function isLibrary(root: TNode, ctx: AnalysisContext): boolean {
  if (ctx.config.projectKind !== 'auto') return ctx.config.projectKind === 'library';
  const poetry = get(root, 'tool', 'poetry');
  const packageMode = get(poetry, 'package-mode');
  if (packageMode?.kind === 'value' && packageMode.value === false) return false;
  return !!get(root, 'build-system') && (!!get(root, 'project', 'name') || !!get(poetry, 'name'));
}

export function analyzeTomlManifest(kind: 'pyproject' | 'pipfile', filePath: string, text: string, ctx: AnalysisContext): AnalysisResult {
  const sink = new FindingSink(filePath);
  const problem = checkSizeAndBinary(text);
  const lines = new LineIndex(text);
  if (problem) {
    sink.add('DEP008', 'warning', lines.rangeOf(0, 0), `${problem}; the file was not analyzed`);
    return { findings: sink.findings, dependsOn: [] };
  }
  const parsed = parseTomlTree(text);
  if ('error' in parsed) {
    sink.add('DEP008', 'warning', clampedRange(lines, parsed.offset, Math.min(text.length, parsed.offset + 1)), `invalid TOML: ${parsed.error}`);
    return { findings: sink.findings, dependsOn: [] };
  }
  const w = new TomlWalker(text, lines, sink, ctx);
  if (kind === 'pyproject') w.pyproject(parsed.root);
  else w.pipfile(parsed.root);
  return { findings: sink.findings, dependsOn: [] };
}

class TomlWalker {
  constructor(readonly text: string, readonly lines: LineIndex, readonly sink: Sink, readonly ctx: AnalysisContext) {}

  range(n: AST.TOMLNode): Range { return this.lines.rangeOf(n.range[0], n.range[1]); }

  pyproject(root: TNode & { kind: 'table' }): void {
    const context: EntryContext = isLibrary(root, this.ctx) ? 'library' : 'application';
    const pep508Arrays: TNode[] = [];
    pep508Arrays.push(get(root, 'project', 'dependencies') as TNode);
    const opt = get(root, 'project', 'optional-dependencies');
    if (opt?.kind === 'table') pep508Arrays.push(...opt.entries.values());
    const groups = get(root, 'dependency-groups');
    if (groups?.kind === 'table') pep508Arrays.push(...groups.entries.values());
    const uvDev = get(root, 'tool', 'uv', 'dev-dependencies');
    if (uvDev) pep508Arrays.push(uvDev);
    for (const arr of pep508Arrays) {
      if (arr?.kind !== 'array') continue;
      const listed: Array<{ entry: DepEntry; marker: string; index: number }> = [];
      arr.items.forEach((item, index) => {
        if (item.kind !== 'value' || typeof item.value !== 'string') return;
        const e = this.pep508String(item, context);
        if (e) listed.push({ ...e, index });
      });
      this.duplicatesIn(arr, listed);
    }
    const poetry = get(root, 'tool', 'poetry');
    const poetryTables = [get(poetry, 'dependencies'), get(poetry, 'dev-dependencies')];
    const pg = get(poetry, 'group');
    if (pg?.kind === 'table') for (const g of pg.entries.values()) poetryTables.push(get(g, 'dependencies'));
    for (const t of poetryTables) {
      if (t?.kind !== 'table') continue;
      for (const [name, v] of t.entries) if (name.toLowerCase() !== 'python') this.tableStyleDep(name, v, context, 'poetry');
    }
    // Poetry sources.
    const psrc = get(poetry, 'source');
    if (psrc?.kind === 'array') {
      for (const s of psrc.items) {
        this.indexUrl(get(s, 'url'), '--index-url', '[[tool.poetry.source]] url');
        const priority = get(s, 'priority');
        const secondary = get(s, 'secondary');
        // A supplemental source is asked only for names the main index lacks: whoever registers such a
        // name on the main index wins (dependency confusion). `secondary = true` is the old spelling.
        if (str(priority) === 'supplemental' || (secondary?.kind === 'value' && secondary.value === true)) {
          const node = (priority ?? secondary)!.node;
          this.sink.add('DEP004', 'warning', this.range(node), `Poetry source '${str(get(s, 'name')) ?? '?'}' is supplemental: a package missing from the main index is fetched from it, so anyone who registers that name on the main index takes over (dependency confusion); use priority = "explicit" and name the source per package`);
        }
      }
    }
    // uv: sources, indexes, index options.
    const sources = get(root, 'tool', 'uv', 'sources');
    if (sources?.kind === 'table') {
      for (const [name, v] of sources.entries) {
        for (const src of v.kind === 'array' ? v.items : [v]) this.sourceTable(name, src, context);
      }
    }
    const indexes = get(root, 'tool', 'uv', 'index');
    if (indexes?.kind === 'array') {
      for (const ix of indexes.items) {
        const url = get(ix, 'url');
        const u = str(url);
        if (!u || !url) continue;
        const explicit = (get(ix, 'explicit') as { value?: unknown } | undefined)?.value === true;
        const isDefault = (get(ix, 'default') as { value?: unknown } | undefined)?.value === true;
        if (/^http:\/\//i.test(u)) this.indexUrl(url, '--index-url', '[[tool.uv.index]] url');
        else if (!explicit && !isDefault) {
          const nm = str(get(ix, 'name')) ?? u;
          this.sink.add('DEP004', 'warning', this.range(url.node), `uv index '${nm}' is not explicit: uv may resolve any package from it as well as from the default index (dependency confusion); set explicit = true and map packages to it in [tool.uv.sources]`, { data: { host: u } });
        }
      }
    }
    const extra = get(root, 'tool', 'uv', 'extra-index-url');
    if (extra?.kind === 'array') for (const e of extra.items) this.indexUrl(e, '--extra-index-url', 'tool.uv extra-index-url');
    this.indexUrl(get(root, 'tool', 'uv', 'index-url'), '--index-url', 'tool.uv index-url');
    const fl = get(root, 'tool', 'uv', 'find-links');
    if (fl?.kind === 'array') for (const e of fl.items) this.indexUrl(e, '--find-links', 'tool.uv find-links');
  }

  pipfile(root: TNode & { kind: 'table' }): void {
    for (const [section, t] of root.entries) {
      if (section === 'source' || section === 'requires' || section === 'scripts' || section === 'pipenv' || t.kind !== 'table') continue;
      for (const [name, v] of t.entries) this.tableStyleDep(name, v, 'application', 'pipfile');
    }
    const src = get(root, 'source');
    if (src?.kind === 'array') {
      for (const s of src.items) {
        const url = get(s, 'url');
        this.indexUrl(url, '--index-url', '[[source]] url');
        const verify = get(s, 'verify_ssl');
        if (verify?.kind === 'value' && verify.value === false) {
          this.sink.add('DEP004', 'warning', this.range(verify.node), `[[source]] '${str(get(s, 'name')) ?? str(url) ?? '?'}' has verify_ssl = false: pipenv does not check its TLS certificate, so anyone on the network path can serve packages; set verify_ssl = true and use https`);
        }
      }
    }
  }

  /** `label` names the setting in the file's own words (`[[source]] url` in a Pipfile), not pip's option. */
  indexUrl(n: TNode | undefined, option: '--index-url' | '--extra-index-url' | '--find-links', label: string): void {
    const u = str(n);
    if (!u || !n) return;
    checkIndexOption(option, u, this.range(n.node), this.sink, label);
  }

  /** The edit that removes array item `i` with its separating comma (and the whitespace up to the next item). */
  removeItemEdit(arr: TNode & { kind: 'array' }, i: number): TextEdit {
    const items = arr.items;
    const [s, e] = items[i].node.range;
    if (i + 1 < items.length) return { range: this.lines.rangeOf(s, items[i + 1].node.range[0]), newText: '' };
    if (i > 0) return { range: this.lines.rangeOf(items[i - 1].node.range[1], e), newText: '' };
    return { range: this.lines.rangeOf(s, e), newText: '' };
  }

  /** DEP009 within one dependency list, and DEP001 fixes that would duplicate a listed project (remove the item instead). */
  duplicatesIn(arr: TNode, listed: Array<{ entry: DepEntry; marker: string; index: number }>): void {
    if (arr.kind !== 'array' || listed.length < 2) return;
    const first = new Map<string, { entry: DepEntry; marker: string; index: number }>();
    const where = (e: DepEntry) => `line ${e.range.start.line + 1}`;
    for (const it of listed) {
      const key = `${it.entry.norm};${it.marker}`;
      const prev = first.get(key);
      if (!prev) { first.set(key, it); continue; }
      checkDuplicatePair(prev.entry, it.entry, where(prev.entry), this.sink, { title: `Remove this duplicate of ${where(prev.entry)}`, edits: [this.removeItemEdit(arr, it.index)] });
    }
    for (const f of this.sink.findings) {
      if (f.code !== 'DEP001' || typeof f.data?.intended !== 'string') continue;
      const own = listed.find((it) => it.entry.nameRange.start.line === f.range.start.line && it.entry.nameRange.start.character === f.range.start.character);
      const other = first.get(`${normalizeName(f.data.intended)};${own?.marker ?? ''}`);
      if (!own || !other) continue;
      f.fixes = [{ title: `Remove '${own.entry.name}' ('${other.entry.name}' is already listed on ${where(other.entry)})`, edits: [this.removeItemEdit(arr, own.index)], isPreferred: true }];
      f.message += `; '${other.entry.name}' is already listed on ${where(other.entry)}, so remove this one`;
    }
  }

  pep508String(item: TNode, context: EntryContext): { entry: DepEntry; marker: string } | undefined {
    const value = str(item) ?? '';
    const content = stringContent(this.text, item.node);
    const whole = this.range(item.node);
    const r = content ? parseRequirement(this.text, content.start, content.end) : parseRequirement(value);
    if (!r.ok) {
      this.sink.add('DEP008', 'warning', content ? clampedRange(this.lines, r.span.start, r.span.end) : whole, `cannot parse requirement '${value.slice(0, 80)}': ${r.error}`);
      return undefined;
    }
    const req = r.req;
    const at = (s: { start: number; end: number }) => (content ? this.lines.rangeOf(s.start, s.end) : whole);
    const afterName = req.extrasSpan?.end ?? req.nameSpan.end;
    const entry: DepEntry = {
      name: req.name, norm: normalizeName(req.name), nameRange: at(req.nameSpan), nameExplicit: true,
      spec: req.specifier, specFormat: 'pep508',
      specRange: content && req.specSpan ? at(req.specSpan) : undefined,
      specInsertAt: content && !req.specSpan && !req.url ? this.lines.positionAt(afterName) : undefined,
      url: req.url && req.urlSpan ? { url: req.url, range: at(req.urlSpan) } : undefined,
      hashed: false, context, range: whole,
    };
    checkEntry(entry, this.sink, this.ctx);
    return { entry, marker: (req.marker ?? '').replace(/\s+/g, '') };
  }

  /** Poetry / Pipfile style: `name = "spec"` or `name = { version = "…", git = "…", … }`. */
  tableStyleDep(name: string, v: TNode, context: EntryContext, format: SpecFormat): void {
    if (v.kind === 'array') { for (const item of v.items) this.tableStyleDep(name, item, context, format); return; }
    const nameNode = this.keyNodeFor(v) ?? v.node;
    const nameRange = this.range(nameNode);
    const base = { name, norm: normalizeName(name), nameRange, nameExplicit: true, specFormat: format, hashed: false, context, range: this.range(v.node) };
    let specNode: TNode | undefined;
    if (v.kind === 'value' && typeof v.value === 'string') specNode = v;
    else if (v.kind === 'table') {
      const url = str(get(v, 'git')) ?? str(get(v, 'url')) ?? str(get(v, 'file'));
      if (url) {
        const isGit = get(v, 'git') !== undefined;
        const ref = str(get(v, 'rev')) ?? str(get(v, 'ref')) ?? str(get(v, 'tag')) ?? str(get(v, 'branch'));
        const full = isGit ? `git+${url}${ref ? `@${ref}` : ''}` : url;
        const node = (get(v, 'git') ?? get(v, 'url') ?? get(v, 'file'))!.node;
        checkEntry({ ...base, spec: '', url: { url: full, range: this.range(node) } }, this.sink, this.ctx);
        return;
      }
      if (get(v, 'path') !== undefined) return;
      specNode = get(v, 'version');
      if (!specNode) {
        checkEntry({ ...base, spec: '' }, this.sink, this.ctx);
        return;
      }
    } else return;
    const raw = str(specNode);
    if (raw === undefined || !specNode) return;
    const spec = format === 'poetry' ? poetryToPep440(raw) : raw.trim() === '*' ? '' : normalizePep440(raw);
    if (spec === undefined) {
      this.sink.add('DEP008', 'warning', this.range(specNode.node), `cannot read version constraint '${raw.slice(0, 60)}' for '${name}'`);
      return;
    }
    const content = stringContent(this.text, specNode.node);
    checkEntry({ ...base, spec, specRange: content ? this.lines.rangeOf(content.start, content.end) : undefined }, this.sink, this.ctx);
  }

  /** `[tool.uv.sources]`: only git/url sources carry risk of their own (DEP005). */
  sourceTable(name: string, src: TNode, context: EntryContext): void {
    if (src.kind !== 'table') return;
    const urlNode = get(src, 'git') ?? get(src, 'url');
    const url = str(urlNode);
    if (!url || !urlNode) return;
    const ref = str(get(src, 'rev')) ?? str(get(src, 'tag')) ?? str(get(src, 'branch'));
    const full = get(src, 'git') ? `git+${url}${ref ? `@${ref}` : ''}` : url;
    const nameRange = this.range(this.keyNodeFor(src) ?? src.node);
    checkDirectUrl(full, this.range(urlNode.node), { name, norm: normalizeName(name), nameRange, nameExplicit: true, spec: '', specFormat: 'pep508', hashed: false, context, range: this.range(src.node) }, this.sink);
  }

  keyNodeFor(v: TNode): AST.TOMLNode | undefined {
    const parent = (v.node as { parent?: AST.TOMLNode }).parent;
    if (parent?.type === 'TOMLKeyValue') {
      const keys = (parent as AST.TOMLKeyValue).key.keys;
      return keys[keys.length - 1];
    }
    return undefined;
  }
}

function normalizePep440(raw: string): string | undefined {
  const parts = raw.split(',').map((p) => p.replace(/\s+/g, '')).filter(Boolean);
  for (const p of parts) {
    const m = /^(~=|===|==|!=|<=|>=|<|>)(.+)$/.exec(p);
    if (!m || !isValidClauseVersion(m[1], m[2])) return undefined;
  }
  return parts.join(',');
}

/** A locked release's sha256 digests (`sha256:<hex>`, pip's --hash spelling). */
export interface LockedHashes { version: string; hashes: string[] }
/** A VCS dependency the lockfile resolved to a commit. */
export interface LockedVcs { name: string; url: string; ref?: string; commit: string }
export interface LockfileData { versions: Map<string, string>; hashes: Map<string, LockedHashes>; vcs: LockedVcs[] }

/** Hash strings per lock entry read at most (a lock lists one per wheel tag). */
const MAX_HASHES_PER_PACKAGE = 512;
const SHA256_TEXT = /^sha256[:=]([0-9a-f]{64})$/i;
const FULL_COMMIT = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/i;

function pushHash(out: string[], h: unknown): void {
  if (out.length >= MAX_HASHES_PER_PACKAGE) return;
  if (typeof h === 'string') {
    const m = SHA256_TEXT.exec(h.trim());
    if (m) out.push(`sha256:${m[1].toLowerCase()}`);
  } else if (h && typeof h === 'object' && typeof (h as { sha256?: unknown }).sha256 === 'string') {
    pushHash(out, `sha256:${(h as { sha256: string }).sha256}`); // pylock.toml: hashes = { sha256 = "…" }
  }
}

/** Digests of one TOML lock entry: uv (`sdist.hash`, `wheels[].hash`), Poetry/PDM (`files[].hash`), pylock (`…hashes.sha256`). */
function entryHashes(p: any): string[] {
  const out: string[] = [];
  const files = [p?.sdist, ...(Array.isArray(p?.wheels) ? p.wheels : []), ...(Array.isArray(p?.files) ? p.files : [])];
  for (const f of files) {
    if (!f || typeof f !== 'object') continue;
    pushHash(out, f.hash);
    pushHash(out, f.hashes);
  }
  return [...new Set(out)];
}

/** A VCS lock entry: uv `source = { git = "URL?rev=REF#SHA" }`, Poetry `[package.source] type = "git"`, pylock `vcs = {…}`. */
function entryVcs(name: string, p: any): LockedVcs | undefined {
  const src = p?.source;
  if (typeof src?.git === 'string') {
    const m = /^([^?#]+)(?:\?([^#]*))?#([0-9a-f]{40,64})$/i.exec(src.git);
    if (m && FULL_COMMIT.test(m[3])) {
      const q = new URLSearchParams(m[2] ?? '');
      return { name, url: m[1], ref: q.get('rev') ?? q.get('tag') ?? q.get('branch') ?? undefined, commit: m[3].toLowerCase() };
    }
  }
  if (src?.type === 'git' && typeof src.url === 'string' && typeof src.resolved_reference === 'string' && FULL_COMMIT.test(src.resolved_reference)) {
    return { name, url: src.url, ref: typeof src.reference === 'string' ? src.reference : undefined, commit: src.resolved_reference.toLowerCase() };
  }
  const vcs = p?.vcs;
  if (vcs?.type === 'git' && typeof vcs.url === 'string' && typeof vcs['commit-id'] === 'string' && FULL_COMMIT.test(vcs['commit-id'])) {
    return { name, url: vcs.url, ref: typeof vcs['requested-revision'] === 'string' ? vcs['requested-revision'] : undefined, commit: vcs['commit-id'].toLowerCase() };
  }
  return undefined;
}

/** Exact versions (plus file digests and resolved VCS commits) from a lockfile; `error` when it cannot be parsed. */
export function parseLockfile(filePath: string, text: string): LockfileData | { error: string; offset: number } {
  const versions = new Map<string, string>();
  const hashes = new Map<string, LockedHashes>();
  const vcs: LockedVcs[] = [];
  const base = filePath.replace(/\\/g, '/').split('/').pop()!.toLowerCase();
  const problem = checkSizeAndBinary(text);
  if (problem) return { error: problem, offset: 0 };
  if (base === 'pipfile.lock') {
    let data: any;
    try { data = JSON.parse(text); } catch (e) { return { error: `invalid JSON: ${(e as Error).message}`, offset: 0 }; }
    for (const section of ['default', 'develop']) {
      const t = data?.[section];
      if (!t || typeof t !== 'object') continue;
      for (const [name, v] of Object.entries(t as Record<string, any>)) {
        const norm = normalizeName(name);
        const ver = typeof v?.version === 'string' ? v.version.replace(/^===?/, '') : undefined;
        if (ver) versions.set(norm, ver);
        if (ver && Array.isArray(v?.hashes) && !hashes.has(norm)) {
          const hs: string[] = [];
          for (const h of v.hashes) pushHash(hs, h);
          if (hs.length) hashes.set(norm, { version: ver, hashes: hs });
        }
        if (typeof v?.git === 'string' && typeof v?.ref === 'string' && FULL_COMMIT.test(v.ref)) vcs.push({ name: norm, url: v.git, commit: v.ref.toLowerCase() });
      }
    }
    return { versions, hashes, vcs };
  }
  let data: any;
  try { data = getStaticTOMLValue(parseTOML(text)); } catch (e) {
    const err = e as { message: string; index?: number };
    return { error: `invalid TOML: ${err.message}`, offset: typeof err.index === 'number' ? err.index : 0 };
  }
  const list = Array.isArray(data?.package) ? data.package : Array.isArray(data?.packages) ? data.packages : [];
  for (const p of list) {
    if (typeof p?.name !== 'string') continue;
    const norm = normalizeName(p.name);
    if (typeof p?.version === 'string') {
      versions.set(norm, p.version);
      const hs = entryHashes(p);
      if (hs.length && !hashes.has(norm)) hashes.set(norm, { version: p.version, hashes: hs });
    }
    const v = entryVcs(norm, p);
    if (v) vcs.push(v);
  }
  return { versions, hashes, vcs };
}
