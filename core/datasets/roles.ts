/**
 * Column roles from names and values: which columns are input text, answers, the label, an id, a
 * split, or a chat `messages` list. Decided on the first rows of a source; overrides win.
 */
import type { ColumnRoles, DatasetSettings } from './types';

const TEXT_NAMES = ['text', 'sentence', 'sentence1', 'sentence2', 'content', 'review', 'document', 'comment', 'tweet', 'prompt', 'question', 'instruction', 'input', 'query', 'body', 'context', 'passage', 'premise', 'hypothesis', 'title', 'abstract', 'description', 'utterance', 'message', 'source', 'article', 'code'];
const RESPONSE_NAMES = ['output', 'response', 'completion', 'answer', 'answers', 'chosen', 'rejected', 'target_text', 'reply', 'assistant', 'solution', 'summary'];
const LABEL_NAMES = ['label', 'labels', 'class', 'target', 'sentiment', 'category', 'y', 'gold_label', 'class_label', 'label_id', 'is_spam', 'toxic', 'polarity', 'intent', 'emotion', 'stars', 'rating', 'score'];
const ID_NAMES = ['id', 'idx', 'index', 'uid', 'uuid', 'guid', 'row_id', 'example_id', '_id', 'key'];
const SPLIT_NAMES = ['split', 'fold', 'subset', 'partition'];
const MESSAGES_NAMES = ['messages', 'conversations', 'conversation', 'chat', 'dialog', 'dialogue', 'turns'];

function isTurnList(v: unknown): boolean {
  if (!Array.isArray(v) || !v.length) return false;
  const t = v[0];
  return !!t && typeof t === 'object' && !Array.isArray(t) && (('role' in t && 'content' in t) || ('from' in t && 'value' in t));
}

export function inferRoles(sample: ReadonlyArray<Record<string, unknown>>, overrides: DatasetSettings = {}): ColumnRoles {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of sample) for (const k of Object.keys(r)) if (!seen.has(k)) { seen.add(k); names.push(k); }
  const lower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const byName = (list: string[]) => list.map((n) => lower.get(n)).filter((x): x is string => x !== undefined);
  const stats = new Map<string, { strings: number; totalLen: number; distinct: Set<string>; numbers: number; ints: number; turns: number; values: number }>();
  for (const n of names) stats.set(n, { strings: 0, totalLen: 0, distinct: new Set(), numbers: 0, ints: 0, turns: 0, values: 0 });
  for (const r of sample) {
    for (const n of names) {
      const v = r[n];
      if (v === null || v === undefined) continue;
      const s = stats.get(n)!;
      s.values++;
      if (typeof v === 'string') { s.strings++; s.totalLen += v.length; if (s.distinct.size <= 60) s.distinct.add(v); }
      else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') { s.numbers++; if (typeof v !== 'number' || Number.isInteger(v)) s.ints++; if (s.distinct.size <= 60) s.distinct.add(String(v)); }
      else if (isTurnList(v)) s.turns++;
    }
  }
  const roles: ColumnRoles = { text: [], response: [] };
  const messages = overrides.messagesColumn ?? names.find((n) => stats.get(n)!.turns > 0 && (MESSAGES_NAMES.includes(n.toLowerCase()) || stats.get(n)!.turns >= stats.get(n)!.values / 2));
  if (messages) roles.messages = messages;
  const used = new Set<string>(messages ? [messages] : []);
  const isStringCol = (n: string) => { const s = stats.get(n); return !!s && s.strings > 0 && s.strings >= s.values / 2; };
  // A named label column may have up to 50 values; an unnamed one must repeat its values (≤ a third of the rows).
  const isCategorical = (n: string, named = false) => {
    const s = stats.get(n);
    if (!s || !s.values) return false;
    const cap = named ? 50 : Math.max(2, Math.min(50, Math.ceil(s.values / 3)));
    if (s.distinct.size > cap) return false;
    if (s.numbers >= s.values / 2) return s.ints === s.numbers;
    return s.strings > 0 && s.totalLen / s.strings <= 40;
  };
  // label
  if (overrides.labelColumn) roles.label = overrides.labelColumn;
  else roles.label = byName(LABEL_NAMES).find((n) => isCategorical(n, true) && !used.has(n));
  if (roles.label) used.add(roles.label);
  roles.id = overrides.idColumn ?? byName(ID_NAMES).find((n) => !used.has(n));
  if (roles.id) used.add(roles.id);
  roles.split = byName(SPLIT_NAMES).find((n) => !used.has(n) && isCategorical(n, true));
  if (roles.split) used.add(roles.split);
  if (overrides.textColumns?.length) roles.text = [...overrides.textColumns];
  else {
    roles.text = byName(TEXT_NAMES).filter((n) => !used.has(n) && isStringCol(n));
    if (!roles.text.length && !messages) {
      // The string column with the longest values that is not categorical.
      const cands = names.filter((n) => !used.has(n) && isStringCol(n) && !RESPONSE_NAMES.includes(n.toLowerCase()));
      cands.sort((a, b) => stats.get(b)!.totalLen / stats.get(b)!.strings - stats.get(a)!.totalLen / stats.get(a)!.strings);
      const best = cands.find((n) => !isCategorical(n) || stats.get(n)!.totalLen / stats.get(n)!.strings > 40);
      if (best) roles.text = [best];
    }
  }
  for (const n of roles.text) used.add(n);
  roles.response = byName(RESPONSE_NAMES).filter((n) => !used.has(n) && isStringCol(n));
  for (const n of roles.response) used.add(n);
  if (!roles.label && !overrides.labelColumn) {
    // An unnamed low-cardinality column next to text (e.g. a CSV "text,y" with another name).
    const cand = names.find((n) => !used.has(n) && isCategorical(n) && (stats.get(n)!.distinct.size >= 2));
    if (cand && roles.text.length && names.length <= 4) roles.label = cand;
  }
  return roles;
}

export const KNOWN_ROLES = new Set(['system', 'user', 'assistant', 'tool', 'function', 'human', 'gpt', 'bot', 'model', 'ipython', 'developer', 'observation', 'function_call', 'tool_call', 'chatgpt']);
export function turnRole(role: string): 'system' | 'user' | 'assistant' | 'tool' | 'other' {
  const r = role.toLowerCase();
  if (r === 'system' || r === 'developer') return 'system';
  if (r === 'user' || r === 'human') return 'user';
  if (r === 'assistant' || r === 'gpt' || r === 'bot' || r === 'model' || r === 'chatgpt') return 'assistant';
  if (r === 'tool' || r === 'function' || r === 'ipython' || r === 'observation' || r === 'function_call' || r === 'tool_call') return 'tool';
  return 'other';
}
