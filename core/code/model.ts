/**
 * A flow-light model of one Python module: scopes, the names each scope binds
 * (imports, assignments, definitions, parameters) and every call, built from a
 * single tree-sitter query pass. Name resolution turns an expression such as
 * `t.serialization.load` into the qualified name `torch.serialization.load`
 * when — and only when — every part of it comes from an import.
 */
import type { Node, Tree } from 'web-tree-sitter';
import { getStructureQuery } from './parser';

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
  start: number;
  end: number;
  parent?: Scope;
  bindings: Map<string, Binding[]>;
}

export interface ModuleModel {
  tree: Tree;
  text: string;
  module: Scope;
  calls: Array<{ node: Node; scope: Scope }>;
  /** Every local name bound by an import anywhere (aliases make any name a possible callee). */
  importedNames: Set<string>;
  /** Top-level import statements, for placing a new import. */
  topLevelImports: Node[];
  /** Innermost scope containing an offset. */
  scopeAt(offset: number): Scope;
}

const BUILTINS = new Set(['eval', 'exec', 'open', 'compile', '__import__']);

function addBinding(scope: Scope, name: string, b: Binding): void {
  const list = scope.bindings.get(name);
  if (list) list.push(b); else scope.bindings.set(name, [b]);
}

/** Identifiers bound by an assignment/for target (tuples, lists, starred), iteratively. */
export function targetNames(target: Node): Node[] {
  const out: Node[] = [];
  const stack: Node[] = [target];
  let visited = 0;
  while (stack.length && visited++ < MAX_HELPER_WALK) {
    const n = stack.pop()!;
    switch (n.type) {
      case 'identifier': out.push(n); break;
      case 'pattern_list': case 'tuple_pattern': case 'list_pattern': case 'expression_list':
      case 'tuple': case 'list': case 'parenthesized_expression': case 'list_splat_pattern':
      case 'as_pattern_target': case 'list_splat':
        for (const c of n.namedChildren) if (c) stack.push(c);
        break;
      default: break; // attribute / subscript targets bind no name
    }
  }
  return out;
}

function isNoneLiteral(n: Node | null): boolean { return !!n && n.type === 'none'; }

function importBindings(node: Node, scope: Scope): void {
  const at = node.startIndex;
  if (node.type === 'import_statement') {
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'dotted_name') {
        // `import a.b.c` binds `a` to the package `a`.
        const first = child.namedChildren[0];
        if (first) addBinding(scope, first.text, { at, kind: 'import', qualified: first.text });
      } else if (child.type === 'aliased_import') {
        const name = child.childForFieldName('name');
        const alias = child.childForFieldName('alias');
        if (name && alias) addBinding(scope, alias.text, { at, kind: 'import', qualified: name.text.replace(/\s+/g, '') });
      }
    }
    return;
  }
  // import_from_statement
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
    if (relative) addBinding(scope, localName, { at, kind: 'other' });
    else addBinding(scope, localName, { at, kind: 'import', qualified: `${moduleName}.${name.text.replace(/\s+/g, '')}` });
  }
}

function parameterBindings(params: Node | null, scope: Scope): void {
  if (!params) return;
  for (const p of params.namedChildren) {
    if (!p) continue;
    let id: Node | null = null;
    if (p.type === 'identifier') id = p;
    else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') id = p.childForFieldName('name');
    else if (p.type === 'typed_parameter' || p.type === 'list_splat_pattern' || p.type === 'dictionary_splat_pattern') id = p.namedChildren.find((c) => c?.type === 'identifier') ?? null;
    if (id && id.type === 'identifier') addBinding(scope, id.text, { at: scope.start, kind: 'other' });
  }
}

export function buildModel(tree: Tree, text: string, isCancelled?: () => boolean): ModuleModel {
  const root = tree.rootNode;
  const module: Scope = { kind: 'module', start: 0, end: Math.max(text.length, root.endIndex), bindings: new Map() };
  const scopes: Scope[] = [module];
  const calls: Array<{ node: Node; scope: Scope }> = [];
  const topLevelImports: Node[] = [];
  const captures = getStructureQuery().captures(root);
  // Captures arrive in document order; keep a stack of open scopes.
  const stack: Scope[] = [module];
  const current = (at: number): Scope => {
    while (stack.length > 1 && at >= stack[stack.length - 1].end) stack.pop();
    return stack[stack.length - 1];
  };
  let count = 0;
  for (const { name: capture, node } of captures) {
    if ((++count & 1023) === 0 && isCancelled?.()) break;
    const scope = current(node.startIndex);
    switch (capture) {
      case 'import': case 'import_from':
        importBindings(node, scope);
        if (scope === module && node.parent?.type === 'module') topLevelImports.push(node);
        break;
      case 'function': case 'class': case 'lambda': {
        const nameNode = node.childForFieldName('name');
        if (nameNode) addBinding(scope, nameNode.text, { at: node.startIndex, kind: 'other' });
        const kind: ScopeKind = capture === 'class' ? 'class' : capture === 'lambda' ? 'lambda' : 'function';
        const inner: Scope = { kind, start: node.startIndex, end: node.endIndex, parent: scope, bindings: new Map() };
        if (kind !== 'class') parameterBindings(node.childForFieldName('parameters'), inner);
        scopes.push(inner);
        stack.push(inner);
        break;
      }
      case 'call':
        calls.push({ node, scope });
        break;
      case 'assign': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (!left) break;
        for (const id of targetNames(left)) {
          const simple = left.type === 'identifier';
          addBinding(scope, id.text, simple && isNoneLiteral(right)
            ? { at: node.startIndex, kind: 'none' }
            : { at: node.startIndex, kind: 'value', value: right ?? undefined, unpacked: !simple });
        }
        break;
      }
      case 'target':
        for (const id of targetNames(node)) addBinding(scope, id.text, { at: node.startIndex, kind: 'other' });
        break;
    }
  }
  const importedNames = new Set<string>();
  for (const s of scopes) for (const [name, list] of s.bindings) if (list.some((b) => b.kind === 'import')) importedNames.add(name);
  const sortedScopes = scopes.slice(1).sort((a, b) => a.start - b.start);
  return {
    tree, text, module, calls, topLevelImports, importedNames,
    scopeAt(offset: number): Scope {
      let best = module;
      for (const s of sortedScopes) {
        if (s.start > offset) break;
        if (offset < s.end && s.start >= best.start) best = s;
      }
      return best;
    },
  };
}

/** The binding a name has at `offset` in `scope`, following Python's LEGB (class scopes are skipped from inside functions). */
export function lookup(name: string, scope: Scope, offset: number): Binding | undefined | 'unbound' {
  let s: Scope | undefined = scope;
  let first = true;
  while (s) {
    if (first || s.kind !== 'class') {
      const list = s.bindings.get(name)?.filter((b) => b.kind !== 'none');
      if (list && list.length) {
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
  for (let depth = 0; n && depth < MAX_ATTRIBUTE_DEPTH; depth++) {
    if (n.type === 'attribute') {
      const attr = n.childForFieldName('attribute');
      if (!attr) return undefined;
      parts.push(attr.text);
      n = n.childForFieldName('object');
      continue;
    }
    if (n.type === 'parenthesized_expression' && n.namedChildCount === 1) { n = n.namedChildren[0]; continue; }
    if (n.type !== 'identifier') return undefined;
    const binding = lookup(n.text, scope, n.startIndex);
    let base: string | undefined;
    if (binding === 'unbound') base = BUILTINS.has(n.text) ? `builtins.${n.text}` : undefined;
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
    if (n.type === 'attribute') { n = n.childForFieldName('object'); continue; }
    if (n.type !== 'identifier') return true;
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
    if (c.type === 'string_start') { raw = /r/i.test(c.text); if (/b/i.test(c.text)) return undefined; }
    else if (c.type === 'interpolation') return undefined;
    else if (c.type === 'string_content') out += c.text;
    else if (c.type === 'escape_sequence') out += raw ? c.text : unescape(c.text);
    else if (c.type === 'ERROR' || c.isMissing) return undefined;
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
