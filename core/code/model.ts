/**
 * A flow-light model of one Python module: scopes, the names each scope binds
 * (imports, assignments, definitions, parameters) and every call, built from a
 * single tree-sitter query pass. Name resolution turns an expression such as
 * `t.serialization.load` into the qualified name `torch.serialization.load`
 * when — and only when — every part of it comes from an import.
 */
import type { Node, Tree } from 'web-tree-sitter';
import type { ParsedModule } from './parser';
import { isDefinitionSegment, segmentAt, segmentEnd, type ParseRange, type Segments } from './segments';

/** Upper bound on nodes visited by any one helper walk (defends against pathological input). */
export const MAX_HELPER_WALK = 10_000;
/** Upper bound on attribute-chain length we resolve (a.b.c...). */
export const MAX_ATTRIBUTE_DEPTH = 64;

export type ScopeKind = 'module' | 'function' | 'class' | 'lambda';

export interface Binding {
  /** Start offset of the binding statement (for "last binding before use"). */
  at: number;
  kind: 'import' | 'none' | 'value' | 'other';
  /** For imports: the qualified name the local name stands for. */
  qualified?: string;
  /** For assignments: the value expression (`name = value`, or `a, b = value` with unpacked=true). */
  value?: Node;
  unpacked?: boolean;
}

export interface Scope {
  kind: ScopeKind;
  /** Node id of the defining function/class/lambda (0 for the module). */
  id: number;
  start: number;
  end: number;
  parent?: Scope;
  model: ModuleModel;
}

/**
 * The model is lazy: nothing walks the whole tree. Calls are found from the
 * text (a callee name followed by `(`) and mapped to nodes; the bindings of a
 * name are computed on first lookup from that name's occurrences. Cost scales
 * with the number of relevant names, not with file size — which is what keeps
 * re-analysis after an edit cheap.
 */
export interface ModuleModel {
  parsed: ParsedModule;
  text: string;
  module: Scope;
  /** Every local name bound by an import anywhere (aliases make any name a possible callee). */
  importedNames: Set<string>;
  /** Top-level import statements, for placing a new import. */
  topLevelImports: Node[];
  /**
   * Calls whose callee's last name is in `names` (and that `accept` keeps, judged from the text
   * alone: the chain's root identifier, undefined when it is not a plain name), or that contain a
   * match of `keywordRe`. Sorted by position.
   */
  callsNamed(names: Set<string>, keywordRe?: RegExp, accept?: (root: string | undefined, last: string, at: number) => boolean, within?: readonly [number, number]): Array<{ node: Node; scope: Scope }>;
  /**
   * What this model's users scanned the text for, so that an edit can be shown not to change any scan:
   * `words` (keywords, matched anywhere), `calls` (names found as `name(`), `bindings` (names whose
   * occurrences were classified; only occurrences that may bind count, see mayBindAt).
   */
  watched: { words: Set<string>; calls: Set<string>; bindings: Set<string> };
  /** Scan the text once for calls of any of `names`; later callsNamed() with a subset reuse the scan. */
  primeCallNames(names: Set<string>): void;
  /** The import bindings of a name (any scope), without scanning its other occurrences. */
  importsOf(name: string): Binding[];
  /** The scope a node belongs to. */
  scopeOf(node: Node): Scope;
  /** All bindings of a name, with their scopes. */
  bindingsOf(name: string): Array<{ scope: Scope; binding: Binding }>;
  /** The same, grouped by scope (in position order, `none` bindings left out): what `lookup` needs. */
  bindingsByScope(name: string): Map<Scope, Binding[]>;
  /** The named node at a text span, or null when that part of the text was not parsed (recorded in `coverage.misses`). */
  nodeAt(start: number, end: number): Node | null;
  /**
   * Every Hub call, in position order, recorded by a complete rule pass over this model (the rules
   * see a superset of the calls the Hub references need), so the references need no second pass.
   */
  hubCalls?: Array<{ call: Node; hub: import('./hub').HubCall }>;
  /** The Hub calls of the last pass limited to one statement (RuleInput.within). */
  hubCallsWithin?: Array<{ call: Node; hub: import('./hub').HubCall }>;
  /** Could the statement around `offset` contain `needle`? (Exact for a partial parse; true for a full one.) */
  statementMayContain(offset: number, needle: string): boolean;
}

/**
 * Which parts of the text a partial parse covered. The model consults the tree only at text
 * offsets; an offset outside the parsed ranges is recorded as a miss, and the caller parses the
 * missing statements and runs again, so the result equals a full parse's.
 */
export interface Coverage {
  segments: Segments;
  ranges: ParseRange[];
  /** Offsets the analysis needed that were not parsed. */
  misses: number[];
}

/** Text the model and the rules always scan for, whatever names they look up. */
const WATCHED_ALWAYS = ['import', 'content', 'trust_remote_code', 'use_safetensors', 'shelve', 'global', 'nonlocal', ':=', 'def', 'class', 'lambda', 'async'];

function isCovered(ranges: ParseRange[], offset: number): boolean {
  let lo = 0, hi = ranges.length - 1;
  if (hi < 0) return false;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ranges[mid].startIndex <= offset) lo = mid; else hi = mid - 1; }
  return offset >= ranges[lo].startIndex && offset < ranges[lo].endIndex;
}

/** JavaScript's `\\w` (ASCII letters, digits, underscore), as the regular expressions it replaces used. */
const isAsciiWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
const isWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 127;

/** The keyword just before `at` (skipping spaces), e.g. `def` in `def load(`. */
function previousWord(text: string, at: number): string {
  let j = at - 1;
  while (j >= 0 && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j--;
  const end = j + 1;
  while (j >= 0 && isWordChar(text.charCodeAt(j))) j--;
  return text.slice(j + 1, end);
}

/**
 * Can this occurrence of a name be a binding of it? Decided from the next token, exactly:
 * `name.` is always a use (attribute access; `import a.b` is handled as an import), and
 * `name(`/`name[` is a use unless it follows `def`/`class` (a definition, `def f[T]()`).
 */
export function mayBindAt(text: string, at: number, length: number): boolean {
  let j = at + length;
  while (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9) j++;
  const c = text.charCodeAt(j);
  if (c === 46) return false; // '.'
  if (c === 40 || c === 91) { const w = previousWord(text, at); return w === 'def' || w === 'class'; } // '(' '['
  return true;
}

const BUILTINS = new Set(['eval', 'exec', 'open', 'compile', '__import__']);
const SCOPE_NODE: Record<string, ScopeKind> = { function_definition: 'function', class_definition: 'class', lambda: 'lambda' };
const PATTERN_NODES = new Set(['pattern_list', 'tuple_pattern', 'list_pattern', 'expression_list', 'tuple', 'list', 'parenthesized_expression', 'list_splat_pattern', 'list_splat']);
const PARAMETER_NODES = new Set(['parameters', 'lambda_parameters']);
/** Upper bound on occurrences examined per name (pathological files are analysed partially). */
export const MAX_OCCURRENCES_PER_NAME = 20_000;
/** Upper bound on parent steps when climbing from a token to its statement. */
export const MAX_CLIMB = 400;

/** Identifiers bound by an assignment/for target (tuples, lists, starred), iteratively. */
export function targetNames(target: Node): Node[] {
  const out: Node[] = [];
  const stack: Node[] = [target];
  let visited = 0;
  while (stack.length && visited++ < MAX_HELPER_WALK) {
    const n = stack.pop()!;
    if (n.type === 'identifier') out.push(n);
    else if (PATTERN_NODES.has(n.type) || n.type === 'as_pattern_target') for (const c of n.namedChildren) if (c) stack.push(c);
  }
  return out;
}

function importBindings(node: Node, add: (name: string, b: Binding) => void): void {
  const at = node.startIndex;
  if (node.type === 'import_statement') {
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'dotted_name') {
        // `import a.b.c` binds `a` to the package `a`.
        const first = child.namedChildren[0];
        if (first) add(first.text, { at, kind: 'import', qualified: first.text });
      } else if (child.type === 'aliased_import') {
        const name = child.childForFieldName('name');
        const alias = child.childForFieldName('alias');
        if (name && alias) add(alias.text, { at, kind: 'import', qualified: name.text.replace(/\s+/g, '') });
      }
    }
    return;
  }
  const moduleNode = node.childForFieldName('module_name');
  if (!moduleNode) return;
  const relative = moduleNode.type === 'relative_import';
  const moduleName = moduleNode.text.replace(/\s+/g, '');
  for (const child of node.childrenForFieldName('name')) {
    if (!child) continue;
    let name: Node | null = child, local: Node | null = child;
    if (child.type === 'aliased_import') { name = child.childForFieldName('name'); local = child.childForFieldName('alias'); }
    if (!name || !local) continue;
    const localName = local.type === 'dotted_name' ? local.namedChildren[0]?.text ?? local.text : local.text;
    // A relative import is the user's own code: it shadows, it never resolves to a library.
    if (relative) add(localName, { at, kind: 'other' });
    else add(localName, { at, kind: 'import', qualified: `${moduleName}.${name.text.replace(/\s+/g, '')}` });
  }
}

const IDENT_CHAR = /[\w]/;

/** The first identifier of the dotted chain ending at `at` (`a.b.c` → `a`), read backwards from the text. */
export function chainRoot(text: string, at: number): string | undefined {
  let start = at;
  let end = at;
  while (end < text.length && IDENT_CHAR.test(text[end])) end++;
  for (let steps = 0; steps < MAX_ATTRIBUTE_DEPTH; steps++) {
    let j = start - 1;
    while (j >= 0 && (text[j] === ' ' || text[j] === '\t')) j--;
    if (j < 0 || text[j] !== '.') return text.slice(start, end);
    j--;
    while (j >= 0 && (text[j] === ' ' || text[j] === '\t')) j--;
    const idEnd = j + 1;
    while (j >= 0 && IDENT_CHAR.test(text[j])) j--;
    if (j + 1 === idEnd) return undefined; // `f().load(` or `x[0].load(`: not a plain chain
    start = j + 1;
    end = idEnd;
  }
  return undefined;
}

function escapeRegExp(s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

export function buildModel(parsedOrTree: ParsedModule | Tree, text: string, isCancelled?: () => boolean, coverage?: Coverage): ModuleModel {
  const parsed: ParsedModule = 'trees' in parsedOrTree ? parsedOrTree : { trees: [parsedOrTree], starts: [0] };
  const roots = parsed.trees.map((t) => t.rootNode);
  /** The root of the tree (chunk) that holds `offset`. */
  const rootAt = (offset: number): Node => {
    let lo = 0, hi = parsed.starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (parsed.starts[mid] <= offset) lo = mid; else hi = mid - 1; }
    return roots[lo];
  };
  const covered = (offset: number) => !coverage || isCovered(coverage.ranges, offset);
  const watched = { words: new Set<string>(WATCHED_ALWAYS), calls: new Set<string>(), bindings: new Set<string>() };
  // The rules and the Hub references look up the same call sites: one tree query per span.
  const nodeCache = new Map<number, Node | null>();
  const nodeAt = (start: number, end: number): Node | null => {
    if (!covered(start)) { coverage!.misses.push(start); return null; }
    if (end - start >= 64) return rootAt(start).namedDescendantForIndex(start, end);
    const key = start * 64 + (end - start);
    let n = nodeCache.get(key);
    if (n === undefined) { n = rootAt(start).namedDescendantForIndex(start, end); nodeCache.set(key, n); }
    return n;
  };
  /**
   * A name occurring in an unparsed definition (`def`/`class`) can only bind in that definition's own
   * scopes — which no analysed code can see — unless it is the definition's name, or the statement
   * declares `global`/`nonlocal` or uses `:=` (decorators, defaults). Such occurrences need no parse.
   */
  const closedDefinitionCache = new Map<number, boolean>();
  const invisibleBinding = (at: number): boolean => {
    if (!coverage) return false;
    const seg = segmentAt(coverage.segments, at);
    let closed = closedDefinitionCache.get(seg);
    if (closed === undefined) {
      closed = isDefinitionSegment(text, coverage.segments, seg);
      if (closed) {
        const body = text.slice(coverage.segments.starts[seg], segmentEnd(coverage.segments, seg));
        closed = !/\b(?:global|nonlocal)\b|:=/.test(body);
      }
      closedDefinitionCache.set(seg, closed);
    }
    if (!closed) return false;
    const w = previousWord(text, at);
    return w !== 'def' && w !== 'class';
  };
  const scopes = new Map<number, Scope>();
  const importsByName = new Map<string, Array<{ scope: Scope; binding: Binding }>>();
  const bindingCache = new Map<string, Array<{ scope: Scope; binding: Binding }>>();
  const topLevelImports: Node[] = [];
  const model = { parsed, text } as ModuleModel;
  const module: Scope = { kind: 'module', id: 0, start: 0, end: Math.max(text.length, roots[roots.length - 1]?.endIndex ?? 0), model };

  // Iterative (no recursion): nesting depth is attacker-controlled.
  const scopeOf = (node: Node): Scope => {
    const chain: Node[] = [];
    let found: Scope = module;
    let n: Node | null = node.parent;
    for (let i = 0; n && i < MAX_CLIMB * 16; i++, n = n.parent) {
      if (!SCOPE_NODE[n.type]) continue;
      const existing = scopes.get(n.id);
      if (existing) { found = existing; break; }
      chain.push(n);
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const c = chain[i];
      const scope: Scope = { kind: SCOPE_NODE[c.type], id: c.id, start: c.startIndex, end: c.endIndex, parent: found, model };
      scopes.set(c.id, scope);
      found = scope;
    }
    return found;
  };

  // Imports: found from the text, so no full-tree walk is needed.
  const seenImports = new Set<number>();
  for (let at = text.indexOf('import'); at >= 0; at = text.indexOf('import', at + 1)) {
    if ((at > 0 && isAsciiWordChar(text.charCodeAt(at - 1))) || isAsciiWordChar(text.charCodeAt(at + 6))) continue;
    const m = { index: at };
    if (!covered(m.index)) { coverage!.misses.push(m.index); continue; }
    let n: Node | null = rootAt(m.index).descendantForIndex(m.index, m.index + 6);
    for (let i = 0; n && i < 4 && n.type !== 'import_statement' && n.type !== 'import_from_statement'; i++) n = n.parent;
    if (!n || (n.type !== 'import_statement' && n.type !== 'import_from_statement') || seenImports.has(n.id)) continue;
    seenImports.add(n.id);
    const scope = scopeOf(n);
    if (n.parent?.type === 'module') topLevelImports.push(n);
    importBindings(n, (name, binding) => {
      const list = importsByName.get(name) ?? [];
      list.push({ scope, binding });
      importsByName.set(name, list);
    });
  }

  /** Classify one occurrence of a name: a binding (with its scope) or a use (undefined). */
  const classify = (id: Node): { scope: Scope; binding: Binding } | undefined => {
    const p = id.parent;
    if (!p) return undefined;
    switch (p.type) {
      case 'function_definition': case 'class_definition':
        if (p.childForFieldName('name')?.id === id.id) return { scope: scopeOf(p), binding: { at: p.startIndex, kind: 'other' } };
        return undefined;
      case 'default_parameter': case 'typed_default_parameter':
        if (p.childForFieldName('name')?.id !== id.id) return undefined;
        return { scope: scopeOf(p), binding: { at: 0, kind: 'other' } };
      case 'typed_parameter':
        return p.namedChildren[0]?.id === id.id ? { scope: scopeOf(p), binding: { at: 0, kind: 'other' } } : undefined;
      case 'list_splat_pattern': case 'dictionary_splat_pattern':
        if (p.parent && PARAMETER_NODES.has(p.parent.type)) return { scope: scopeOf(p), binding: { at: 0, kind: 'other' } };
        break;
      case 'named_expression':
        return p.childForFieldName('name')?.id === id.id ? { scope: scopeOf(p), binding: { at: p.startIndex, kind: 'other' } } : undefined;
      case 'as_pattern_target':
        return { scope: scopeOf(p), binding: { at: p.startIndex, kind: 'other' } };
      default:
        if (PARAMETER_NODES.has(p.type)) return { scope: scopeOf(p), binding: { at: 0, kind: 'other' } };
    }
    // Assignment / for targets, possibly through tuple and list patterns.
    let child: Node = id;
    let holder: Node | null = p;
    let unpacked = false;
    for (let i = 0; holder && PATTERN_NODES.has(holder.type) && i < MAX_CLIMB; i++) { child = holder; holder = holder.parent; unpacked = true; }
    if (!holder) return undefined;
    if (holder.type === 'assignment' && holder.childForFieldName('left')?.id === child.id) {
      const right = holder.childForFieldName('right');
      if (!unpacked && right?.type === 'none') return { scope: scopeOf(holder), binding: { at: holder.startIndex, kind: 'none' } };
      return { scope: scopeOf(holder), binding: { at: holder.startIndex, kind: 'value', value: right ?? undefined, unpacked } };
    }
    if ((holder.type === 'for_statement' || holder.type === 'for_in_clause') && holder.childForFieldName('left')?.id === child.id) {
      return { scope: scopeOf(holder), binding: { at: holder.startIndex, kind: 'other' } };
    }
    if (holder.type === 'augmented_assignment' && holder.childForFieldName('left')?.id === child.id) {
      return { scope: scopeOf(holder), binding: { at: holder.startIndex, kind: 'other' } };
    }
    return undefined;
  };

  const bindingsOf = (name: string): Array<{ scope: Scope; binding: Binding }> => {
    const cached = bindingCache.get(name);
    if (cached) return cached;
    watched.bindings.add(name);
    const out = [...(importsByName.get(name) ?? [])];
    if (/^[A-Za-z_]\w*$/.test(name)) {
      // indexOf (a native substring search) with the boundary checks done by hand: a regex with a
      // lookbehind re-ran over the whole text for every name looked up.
      let seen = 0;
      for (let at = text.indexOf(name); at >= 0 && seen < MAX_OCCURRENCES_PER_NAME; at = text.indexOf(name, at + 1)) {
        const before = at > 0 ? text.charCodeAt(at - 1) : 32;
        if (isAsciiWordChar(before) || before === 46 || isAsciiWordChar(text.charCodeAt(at + name.length))) continue;
        seen++;
        if (!mayBindAt(text, at, name.length)) continue;
        if (!covered(at) && invisibleBinding(at)) continue;
        const id = nodeAt(at, at + name.length);
        if (!id || id.type !== 'identifier' || id.startIndex !== at || id.endIndex !== at + name.length) continue;
        const b = classify(id);
        if (b) out.push(b);
      }
    }
    out.sort((a, b) => a.binding.at - b.binding.at);
    bindingCache.set(name, out);
    return out;
  };

  /** One text scan for several callsNamed() calls: primeCallNames(union) scans once, later calls filter. */
  let primed: { names: Set<string>; matches: Array<{ index: number; name: string }> } | undefined;
  const scanCallNames = (names: Set<string>): Array<{ index: number; name: string }> => {
    const out: Array<{ index: number; name: string }> = [];
    for (const n of names) watched.calls.add(n);
    const alternatives = [...names].filter((n) => /^[A-Za-z_]\w*$/.test(n)).map(escapeRegExp);
    if (!alternatives.length) return out;
    // `\\b` before a name that starts with a word character is `(?<!\\w)`, and V8 scans it twice as fast.
    const re = new RegExp(`\\b(${alternatives.join('|')})[ \\t]*\\(`, 'g');
    for (let m = re.exec(text); m; m = re.exec(text)) out.push({ index: m.index, name: m[1] });
    return out;
  };
  const primeCallNames = (names: Set<string>): void => { primed = { names, matches: scanCallNames(names) }; };
  const callsNamed = (names: Set<string>, keywordRe?: RegExp, accept?: (root: string | undefined, last: string, at: number) => boolean, within?: readonly [number, number]): Array<{ node: Node; scope: Scope }> => {
    const inSpan = (at: number) => !within || (at >= within[0] && at < within[1]);
    const found = new Map<number, Node>();
    let matches: Array<{ index: number; name: string }>;
    if (primed && [...names].every((n) => primed!.names.has(n))) matches = primed.matches.filter((m) => names.has(m.name));
    else matches = scanCallNames(names);
    {
      let count = 0;
      for (const m of matches) {
        if ((++count & 1023) === 0 && isCancelled?.()) break;
        if (!inSpan(m.index)) continue;
        if (accept && !accept(chainRoot(text, m.index), m.name, m.index)) continue;
        const id = nodeAt(m.index, m.index + m.name.length);
        if (!id || id.type !== 'identifier' || id.startIndex !== m.index) continue;
        // Positions, not field lookups (each lookup makes a node): in `object.attribute` the attribute is
        // the child that ends the node; in `function(arguments)` the function is the child that starts it.
        let callee: Node = id;
        const p = id.parent;
        if (p?.type === 'attribute' && p.endIndex === id.endIndex && p.startIndex < id.startIndex) callee = p;
        const call = callee.parent;
        if (call?.type === 'call' && call.startIndex === callee.startIndex && callee.endIndex < call.endIndex) found.set(call.id, call);
      }
    }
    if (keywordRe) {
      const re = new RegExp(keywordRe.source, 'g');
      for (let m = re.exec(text); m; m = re.exec(text)) {
        if (!inSpan(m.index)) continue;
        const id = nodeAt(m.index, m.index + 1);
        const kw = id?.parent;
        const call = kw?.type === 'keyword_argument' ? kw.parent?.parent : undefined;
        if (call?.type === 'call') found.set(call.id, call);
      }
    }
    return [...found.values()].sort((a, b) => a.startIndex - b.startIndex).map((node) => ({ node, scope: scopeOf(node) }));
  };

  const byScopeCache = new Map<string, Map<Scope, Binding[]>>();
  const bindingsByScope = (name: string): Map<Scope, Binding[]> => {
    let m = byScopeCache.get(name);
    if (!m) {
      m = new Map();
      for (const { scope, binding } of bindingsOf(name)) {
        if (binding.kind === 'none') continue;
        const list = m.get(scope);
        if (list) list.push(binding); else m.set(scope, [binding]);
      }
      byScopeCache.set(name, m);
    }
    return m;
  };
  const importedNames = new Set(importsByName.keys());
  // Imports come from the `import` keyword scan (watched as a word).
  const importsOf = (name: string): Binding[] => (importsByName.get(name) ?? []).map((b) => b.binding);
  const statementMayContain = (offset: number, needle: string): boolean => {
    if (!coverage) return true;
    const seg = segmentAt(coverage.segments, offset);
    return text.slice(coverage.segments.starts[seg], segmentEnd(coverage.segments, seg)).includes(needle);
  };
  return Object.assign(model, { watched, module, importedNames, topLevelImports, callsNamed, primeCallNames, scopeOf, bindingsOf, bindingsByScope, importsOf, nodeAt, statementMayContain });
}

/** The binding a name has at `offset` in `scope`, following Python's LEGB (class scopes are skipped from inside functions). */
export function lookup(name: string, scope: Scope, offset: number): Binding | undefined | 'unbound' {
  const byScope = scope.model.bindingsByScope(name);
  if (!byScope.size) return 'unbound';
  let s: Scope | undefined = scope;
  let first = true;
  while (s) {
    if (first || s.kind !== 'class') {
      const list = byScope.get(s);
      if (list?.length) {
        if (first) {
          let before: Binding | undefined;
          for (const b of list) if (b.at < offset) before = b;
          // A name assigned anywhere in a function is local there, even before the assignment.
          return before ?? list[list.length - 1];
        }
        return list[list.length - 1];
      }
    }
    first = false;
    s = s.parent;
  }
  return 'unbound';
}

/**
 * The qualified name of an expression (`np.load` → `numpy.load`), or undefined
 * when any part of it is not an import (a local, a parameter, a call result…).
 */
export function qualifiedName(expr: Node | null, scope: Scope): string | undefined {
  const parts: string[] = [];
  let n: Node | null = expr;
  // Every `.type`, `.text` and field lookup is a call into the parser's wasm: each is read once.
  for (let depth = 0; n && depth < MAX_ATTRIBUTE_DEPTH; depth++) {
    const type = n.type;
    if (type === 'attribute') {
      const attr = n.childForFieldName('attribute');
      if (!attr) return undefined;
      parts.push(attr.text);
      n = n.childForFieldName('object');
      continue;
    }
    if (type === 'parenthesized_expression' && n.namedChildCount === 1) { n = n.namedChildren[0]; continue; }
    if (type !== 'identifier') return undefined;
    const name = n.text;
    const binding = lookup(name, scope, n.startIndex);
    let base: string | undefined;
    if (binding === 'unbound') base = BUILTINS.has(name) ? `builtins.${name}` : undefined;
    else if (binding?.kind === 'import') base = binding.qualified;
    if (!base) return undefined;
    parts.push(base);
    return parts.reverse().join('.');
  }
  return undefined;
}

/** The root identifier of an attribute chain and whether it is bound by user code (not an import). */
export function rootIsLocal(expr: Node | null, scope: Scope): boolean {
  let n: Node | null = expr;
  for (let depth = 0; n && depth < MAX_ATTRIBUTE_DEPTH; depth++) {
    const type = n.type;
    if (type === 'attribute') { n = n.childForFieldName('object'); continue; }
    if (type !== 'identifier') return true;
    const b = lookup(n.text, scope, n.startIndex);
    return b !== 'unbound' && b?.kind !== 'import';
  }
  return true;
}

// ---- call arguments and literals -------------------------------------------------

export interface CallArgs {
  call: Node;
  list: Node | null;
  positional: Node[];
  keywords: Map<string, { arg: Node; value: Node }>;
  hasStarArgs: boolean;
  hasStarStarKwargs: boolean;
}

export function callArgs(call: Node): CallArgs {
  const list = call.childForFieldName('arguments');
  const out: CallArgs = { call, list: list?.type === 'argument_list' ? list : null, positional: [], keywords: new Map(), hasStarArgs: false, hasStarStarKwargs: false };
  if (!out.list) return out;
  for (const a of out.list.namedChildren) {
    if (!a || a.type === 'comment') continue;
    if (a.type === 'keyword_argument') {
      const name = a.childForFieldName('name');
      const value = a.childForFieldName('value');
      if (name && value) out.keywords.set(name.text, { arg: a, value });
    } else if (a.type === 'list_splat') out.hasStarArgs = true;
    else if (a.type === 'dictionary_splat') out.hasStarStarKwargs = true;
    else if (!out.hasStarArgs) out.positional.push(a);
  }
  return out;
}

/** A keyword argument or the positional argument at `index`. */
export function argument(args: CallArgs, keyword: string, index?: number): Node | undefined {
  const k = args.keywords.get(keyword);
  if (k) return k.value;
  return index !== undefined ? args.positional[index] : undefined;
}

export type Literal = { kind: 'bool'; value: boolean } | { kind: 'none' } | { kind: 'string'; value: string } | { kind: 'list'; length: number } | { kind: 'number'; value: number };

/** The value of a literal expression; undefined for anything computed (never guessed). */
export function literalValue(n: Node | null | undefined): Literal | undefined {
  if (!n) return undefined;
  switch (n.type) {
    case 'true': return { kind: 'bool', value: true };
    case 'false': return { kind: 'bool', value: false };
    case 'none': return { kind: 'none' };
    case 'integer': { const v = Number(n.text.replace(/_/g, '')); return Number.isFinite(v) ? { kind: 'number', value: v } : undefined; }
    case 'parenthesized_expression': return n.namedChildCount === 1 ? literalValue(n.namedChildren[0]) : undefined;
    case 'string': { const s = stringValue(n); return s === undefined ? undefined : { kind: 'string', value: s }; }
    case 'concatenated_string': {
      let acc = '';
      for (const c of n.namedChildren) { const s = c && c.type === 'string' ? stringValue(c) : undefined; if (s === undefined) return undefined; acc += s; }
      return { kind: 'string', value: acc };
    }
    case 'list': case 'tuple': case 'set': return { kind: 'list', length: n.namedChildren.filter((c) => c && c.type !== 'comment').length };
    default: return undefined;
  }
}

/** The contents of a string literal without interpolation; escapes are kept except the common quote/backslash ones. */
export function stringValue(n: Node): string | undefined {
  if (n.type !== 'string') return undefined;
  let out = '';
  let raw = false;
  for (const c of n.children) {
    if (!c) continue;
    const type = c.type; // one wasm call, not one per comparison
    if (type === 'string_start') { const t = c.text; raw = /r/i.test(t); if (/b/i.test(t)) return undefined; }
    else if (type === 'interpolation') return undefined;
    else if (type === 'string_content') out += c.text;
    else if (type === 'escape_sequence') out += raw ? c.text : unescape(c.text);
    else if (type === 'ERROR' || c.isMissing) return undefined;
  }
  return out;
}

function unescape(esc: string): string {
  const map: Record<string, string> = { '\\\\': '\\', "\\'": "'", '\\"': '"', '\\n': '\n', '\\t': '\t' };
  return map[esc] ?? esc;
}

/** The range of a string literal's contents (between the quotes). */
export function stringContentSpan(n: Node): { start: number; end: number } {
  const start = n.children.find((c) => c?.type === 'string_start');
  const end = n.children.find((c) => c?.type === 'string_end');
  return { start: start ? start.endIndex : n.startIndex, end: end ? end.startIndex : n.endIndex };
}
