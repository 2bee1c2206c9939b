/**
 * Static review of a Jinja chat template (GGUF `tokenizer.chat_template`,
 * Hugging Face `tokenizer_config.json`). The template is tokenized and parsed
 * with @huggingface/jinja — never rendered. Findings:
 *  - sandbox-escape patterns (dunder attributes, attr/getattr filters, names
 *    assembled from strings, escaped underscores) → critical;
 *  - URLs, encoded blobs, invisible characters or instruction-like text → medium.
 * The parser rejects some valid Python-Jinja (e.g. the empty tuple `()` used by
 * CVE-2024-34359), so the token stream is always checked as well.
 */
import type * as Jinja from './jinja-parser';

/** @huggingface/jinja is loaded by the first chat template (GGUF, tokenizer_config.json), not when the scanner loads. */
let jinjaModule: typeof Jinja | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jinja = (): typeof Jinja => (jinjaModule ??= require('./jinja-parser') as typeof Jinja);

/** Templates longer than this are not analysed (reported as unparsable). */
export const TEMPLATE_MAX_CHARS = 1024 * 1024;
/** AST nodes visited per template. */
export const TEMPLATE_MAX_AST_NODES = 200_000;

export interface TemplateIssue { severity: 'critical' | 'medium'; kind: 'escape' | 'hidden' | 'unparsable'; message: string; evidence?: string }

const DUNDER = /__[A-Za-z0-9_]*__/;
const DANGEROUS_NAMES = new Set(['__class__', '__globals__', '__subclasses__', '__builtins__', '__import__', '__mro__', '__base__', '__bases__', '__init__', '__dict__', '__getattribute__', '__code__', '__func__', '__self__', '__module__', '__loader__', '__spec__']);
const ATTR_FILTERS = new Set(['attr', 'getattr']);
/** Method names that only make sense as code execution when called from a template. */
const EXEC_METHODS = new Set(['popen', 'system', 'spawn', 'exec', 'eval', 'import_module', 'load_module', 'check_output', 'getoutput']);
const ESCAPED_UNDERSCORE = /\\x5f|\\u005f|\\U0000005f|\\137|\\N\{LOW LINE\}/i;

const URL_RE = /\b(?:https?|ftp|file|data):\/\/[^\s'"]+|\bwww\.[a-z0-9-]+\.[a-z]{2,}/i;
const BASE64_RE = /[A-Za-z0-9+/]{48,}={0,2}/;
const HEX_RE = /\b(?:[0-9a-fA-F]{2}){32,}\b/;
const INVISIBLE_RE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|[\u{E0000}-\u{E007F}]/u;
const INSTRUCTION_RE = /\b(ignore|disregard|forget)\b[^.]{0,40}\b(instructions?|rules|prompt|guidelines)\b|\bdo not (tell|reveal|mention|disclose)\b|\b(always|secretly) (recommend|include|insert|append|send|tell the user|respond with|reply with|link)\b|\bexfiltrat|\bsend (the|all|every) (conversation|messages?|data|history)\b/i;

function looksLikeBlob(s: string): string | undefined {
  const b = BASE64_RE.exec(s);
  if (b && /[A-Z]/.test(b[0]) && /[a-z]/.test(b[0]) && /[0-9]/.test(b[0])) return 'base64-like blob';
  if (HEX_RE.test(s)) return 'hex blob';
  return undefined;
}

function clip(s: string, n = 120): string { return s.length > n ? `${s.slice(0, n)}…` : s; }

interface AstNode { type?: string; [k: string]: unknown }

/** Constant-folds string expressions the way Jinja would evaluate them (concatenation, join, reverse, case). */
function fold(node: AstNode | undefined, depth = 0): string | undefined {
  if (!node || depth > 50) return undefined;
  switch (node.type) {
    case 'StringLiteral': return node.value as string;
    case 'IntegerLiteral': return String(node.value);
    case 'BinaryExpression': {
      const op = (node.operator as { value?: string })?.value;
      if (op !== '~' && op !== '+') return undefined;
      const l = fold(node.left as AstNode, depth + 1), r = fold(node.right as AstNode, depth + 1);
      return l !== undefined && r !== undefined ? l + r : undefined;
    }
    case 'FilterExpression': {
      const f = node.filter as AstNode;
      const name = f.type === 'Identifier' ? (f.value as string) : f.type === 'CallExpression' ? ((f.callee as AstNode).value as string) : '';
      const operand = node.operand as AstNode;
      if (name === 'join' && (operand.type === 'ArrayLiteral' || operand.type === 'TupleLiteral')) {
        const parts = (operand.value as AstNode[]).map((x) => fold(x, depth + 1));
        const sep = f.type === 'CallExpression' ? fold(((f.args as AstNode[]) ?? [])[0], depth + 1) ?? '' : '';
        return parts.every((p) => p !== undefined) ? parts.join(sep) : undefined;
      }
      const inner = fold(operand, depth + 1);
      if (inner === undefined) return undefined;
      if (name === 'reverse') return [...inner].reverse().join('');
      if (name === 'lower') return inner.toLowerCase();
      if (name === 'upper') return inner.toUpperCase();
      if (name === 'string' || name === 'trim') return inner;
      return undefined;
    }
    case 'CallExpression': {
      // 'sep'.join([...]) and 'x'.format(...) / 'x'.replace(...)
      const callee = node.callee as AstNode;
      if (callee.type !== 'MemberExpression' || (callee.computed as boolean)) return undefined;
      const method = (callee.property as AstNode).value as string;
      const obj = fold(callee.object as AstNode, depth + 1);
      const args = (node.args as AstNode[]) ?? [];
      if (method === 'join' && obj !== undefined && args[0] && (args[0].type === 'ArrayLiteral' || args[0].type === 'TupleLiteral')) {
        const parts = (args[0].value as AstNode[]).map((x) => fold(x, depth + 1));
        return parts.every((p) => p !== undefined) ? parts.join(obj) : undefined;
      }
      if (method === 'replace' && obj !== undefined) {
        const a = fold(args[0], depth + 1), b = fold(args[1], depth + 1);
        return a !== undefined && b !== undefined ? obj.split(a).join(b) : undefined;
      }
      return undefined;
    }
    default: return undefined;
  }
}

/** Reviews a template; returns issues (empty for a clean template). */
export function reviewChatTemplate(template: string): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const seen = new Set<string>();
  const add = (i: TemplateIssue) => { const k = `${i.kind}:${i.message}`; if (!seen.has(k) && issues.length < 50) { seen.add(k); issues.push(i); } };
  const escape = (message: string, evidence?: string) => add({ severity: 'critical', kind: 'escape', message, evidence });
  const hidden = (text: string) => {
    const url = URL_RE.exec(text);
    if (url) add({ severity: 'medium', kind: 'hidden', message: `template emits a URL: ${clip(url[0], 80)}`, evidence: clip(text) });
    const blob = looksLikeBlob(text);
    if (blob) add({ severity: 'medium', kind: 'hidden', message: `template contains a ${blob}`, evidence: clip(text) });
    if (INVISIBLE_RE.test(text)) add({ severity: 'medium', kind: 'hidden', message: 'template contains invisible/bidirectional Unicode characters', evidence: clip(JSON.stringify(text)) });
    const ins = INSTRUCTION_RE.exec(text);
    if (ins) add({ severity: 'medium', kind: 'hidden', message: `template injects instruction-like text: "${clip(ins[0], 60)}"`, evidence: clip(text) });
  };
  const checkName = (name: string, how: string) => {
    if (DANGEROUS_NAMES.has(name) || DUNDER.test(name)) escape(`${how} '${clip(name, 60)}' (Jinja sandbox escape)`);
  };

  if (template.length > TEMPLATE_MAX_CHARS) {
    add({ severity: 'medium', kind: 'unparsable', message: `template is ${template.length} characters, above the ${TEMPLATE_MAX_CHARS} limit` });
    if (DUNDER.test(template)) escape('template text contains a dunder name');
    return issues;
  }
  if (ESCAPED_UNDERSCORE.test(template)) escape('escaped underscore in a string literal (obfuscated dunder name)', clip(ESCAPED_UNDERSCORE.exec(template)![0]));

  // 1) Token stream (always; works even when the parser rejects the template).
  let tokens: { value: string; type: string }[] | undefined;
  try { tokens = jinja().tokenize(template) as { value: string; type: string }[]; } catch (e) {
    add({ severity: 'medium', kind: 'unparsable', message: `template cannot be tokenized: ${clip(String((e as Error).message), 100)}` });
  }
  if (tokens) {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.type === 'Identifier') {
        checkName(t.value, 'access to');
        const prev = tokens[i - 1]?.type, next = tokens[i + 1]?.type;
        if (ATTR_FILTERS.has(t.value) && (prev === 'Pipe' || next === 'OpenParen')) escape(`'${t.value}' filter/function (dynamic attribute access)`);
        if (EXEC_METHODS.has(t.value) && prev === 'Dot' && next === 'OpenParen') escape(`call of '.${t.value}()' from a template`);
      } else if (t.type === 'StringLiteral') {
        if (DUNDER.test(t.value)) escape(`string literal '${clip(t.value, 60)}' names a dunder attribute`);
        if (/%c|\{:c\}/.test(t.value)) escape('character-code format string (names assembled from numbers)', clip(t.value));
        hidden(t.value);
      } else if (t.type === 'Text') hidden(t.value);
    }
    // Names assembled from adjacent string pieces: 'o' ~ 's', '__cla' + 'ss__', ['__', 'class', '__']|join.
    let run = '';
    const flush = () => { if (run && (DUNDER.test(run) || DUNDER.test([...run].reverse().join('')))) escape(`name assembled from strings: '${clip(run, 60)}'`); run = ''; };
    for (const t of tokens) {
      if (t.type === 'StringLiteral') run += t.value;
      else if (t.type === 'CloseExpression' || t.type === 'CloseStatement' || t.type === 'Text') flush();
    }
    flush();
  }

  // 2) AST (when the parser accepts it): member properties, filters, constant folding.
  if (tokens) {
    let program: AstNode | undefined;
    try { program = jinja().parse(tokens as never) as unknown as AstNode; } catch (e) {
      add({ severity: 'medium', kind: 'unparsable', message: `template cannot be parsed: ${clip(String((e as Error).message), 100)}` });
    }
    if (program) {
      let budget = TEMPLATE_MAX_AST_NODES;
      const stack: AstNode[] = [program];
      while (stack.length) {
        const n = stack.pop()!;
        if (--budget < 0) { add({ severity: 'medium', kind: 'unparsable', message: 'template AST above the node limit' }); break; }
        if (n.type === 'MemberExpression') {
          const prop = n.property as AstNode;
          const name = (n.computed as boolean) ? fold(prop) : (prop.value as string);
          if (name !== undefined) checkName(name, 'attribute access');
        } else if (n.type === 'BinaryExpression' || n.type === 'FilterExpression' || n.type === 'CallExpression') {
          const v = fold(n);
          if (v !== undefined && (DUNDER.test(v) || EXEC_METHODS.has(v))) escape(`name assembled from strings: '${clip(v, 60)}'`);
        }
        for (const [k, v] of Object.entries(n)) {
          if (k === 'operator') continue;
          if (Array.isArray(v)) { for (const x of v) if (x && typeof x === 'object') stack.push(x as AstNode); }
          else if (v instanceof Map) { for (const [a, b] of v) { stack.push(a as AstNode, b as AstNode); } }
          else if (v && typeof v === 'object') stack.push(v as AstNode);
        }
      }
    }
  }
  return issues;
}
