/**
 * A strict JSON walker that reports duplicate object keys, which JSON.parse
 * silently resolves (last wins) while other parsers keep the first: a
 * parser-differential smuggling channel. Also enforces a nesting limit.
 */
export const JSON_MAX_DEPTH = 64;

export interface JsonKeyReport {
  /** Duplicate keys as "path.key". */
  duplicates: string[];
  /** Syntax error or limit, when the text is not acceptable JSON. */
  error?: string;
}

export function checkJsonKeys(text: string, maxDepth = JSON_MAX_DEPTH, maxDuplicates = 20): JsonKeyReport {
  const duplicates: string[] = [];
  let i = 0;
  const n = text.length;
  class JsonError extends Error {}
  const fail = (msg: string): never => { throw new JsonError(`${msg} at ${i}`); };
  const ws = () => { while (i < n) { const c = text.charCodeAt(i); if (c === 32 || c === 9 || c === 10 || c === 13) i++; else break; } };
  const str = (): string => {
    if (text[i] !== '"') fail('expected string');
    const s = i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) { i++; return JSON.parse(text.slice(s, i)) as string; }
      if (c === 92) { i += 2; continue; }
      if (c < 0x20) fail('control character in string');
      i++;
    }
    return fail('unterminated string');
  };
  const value = (path: string, depth: number): void => {
    if (depth > maxDepth) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        const k = str();
        if (keys.has(k)) { if (duplicates.length < maxDuplicates) duplicates.push(path ? `${path}.${k}` : k); } else keys.add(k);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        value(path ? `${path}.${k}` : k, depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail("expected ',' or '}'");
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (let idx = 0; ; idx++) {
        value(`${path}[${idx}]`, depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail("expected ',' or ']'");
      }
    } else if (c === '"') {
      str();
    } else {
      const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
      if (!m) fail('unexpected token');
      i += m![0].length;
    }
  };
  try {
    value('', 0);
    ws();
    if (i !== n) fail('trailing data');
  } catch (e) {
    if (e instanceof JsonError || e instanceof SyntaxError) return { duplicates, error: e.message };
    throw e;
  }
  return { duplicates };
}
