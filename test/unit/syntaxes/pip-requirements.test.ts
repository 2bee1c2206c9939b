import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

const root = path.resolve(__dirname, '../../..');
const grammarPath = path.join(root, 'syntaxes/pip-requirements.tmLanguage.json');
let grammar: vsctm.IGrammar;

before(async () => {
  const require = createRequire(__filename);
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (s: string[]) => new oniguruma.OnigScanner(s), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (scope === 'source.pip-requirements' ? vsctm.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath) : null),
  });
  grammar = (await registry.loadGrammar('source.pip-requirements'))!;
  assert.ok(grammar);
});

/** Tokenize lines in sequence; return [text, scopes] pairs per line. */
function tokens(lines: string[]): Array<Array<[string, string[]]>> {
  let stack = vsctm.INITIAL;
  return lines.map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes] as [string, string[]]);
  });
}

function scopeOf(line: Array<[string, string[]]>, text: string): string[] {
  const t = line.find(([s]) => s === text);
  assert.ok(t, `no token '${text}' in ${JSON.stringify(line.map((x) => x[0]))}`);
  return t![1];
}
function has(line: Array<[string, string[]]>, text: string, scope: string) {
  const scopes = scopeOf(line, text);
  assert.ok(scopes.some((s) => s.startsWith(scope)), `'${text}' has ${scopes.join(' ')}, expected ${scope}`);
}

test('grammar file is valid JSON with the expected scope name', () => {
  const g = JSON.parse(readFileSync(grammarPath, 'utf8'));
  assert.equal(g.scopeName, 'source.pip-requirements');
});

test('requirement: name, extras, specifiers, marker, trailing comment', () => {
  const [l] = tokens(['requests[security,socks]>=2.8.1,==2.8.* ; python_version < "3.8" and os_name == \'nt\'  # pinned']);
  has(l, 'requests', 'entity.name.type.package');
  has(l, 'security', 'variable.parameter.extra');
  has(l, '>=', 'keyword.operator.comparison');
  has(l, '2.8.1', 'constant.numeric.version');
  has(l, '2.8.*', 'constant.numeric.version');
  has(l, 'python_version', 'support.variable.marker');
  has(l, 'and', 'keyword.operator.logical');
  has(l, '"3.8"', 'string.quoted.double');
  has(l, "'nt'", 'string.quoted.single');
  has(l, '#', 'comment.line.number-sign');
  has(l, ' pinned', 'comment.line.number-sign');
});

test('options: includes, index urls, trusted host, hashes, flags, env vars', () => {
  const ls = tokens([
    '-r base.txt',
    '--constraint=constraints.txt',
    '--extra-index-url https://example.invalid/simple',
    '-i ${PIP_INDEX_URL}',
    '--trusted-host example.invalid',
    'numpy==1.26.4 \\',
    '    --hash=sha256:0123abcd',
    '--pre',
  ]);
  has(ls[0], '-r', 'keyword.other.option.include');
  has(ls[0], 'base.txt', 'string.unquoted.path');
  has(ls[1], '--constraint', 'keyword.other.option.include');
  has(ls[1], 'constraints.txt', 'string.unquoted.path');
  has(ls[2], '--extra-index-url', 'keyword.other.option.index');
  has(ls[2], 'https://example.invalid/simple', 'markup.underline.link');
  has(ls[3], '${PIP_INDEX_URL}', 'variable.other.environment');
  has(ls[4], 'example.invalid', 'markup.underline.link');
  has(ls[5], 'numpy', 'entity.name.type.package');
  has(ls[5], '\\', 'constant.character.escape.line-continuation');
  has(ls[6], '--hash', 'keyword.other.option.hash');
  has(ls[6], '0123abcd', 'constant.other.hash');
  has(ls[7], '--pre', 'keyword.other.option');
});

test('URLs: direct references, bare URLs, editable VCS, "#" inside a URL is not a comment', () => {
  const ls = tokens([
    'mylib @ git+https://example.invalid/org/mylib@main#egg=mylib',
    'https://example.invalid/pkg-1.0.tar.gz#sha256=abc',
    '-e git+https://example.invalid/o/r.git@v1#egg=r',
    '# just a comment',
  ]);
  has(ls[0], 'mylib', 'entity.name.type.package');
  has(ls[0], '@', 'keyword.operator.direct-reference');
  has(ls[0], 'git+https://example.invalid/org/mylib@main#egg=mylib', 'markup.underline.link');
  has(ls[1], 'https://example.invalid/pkg-1.0.tar.gz#sha256=abc', 'markup.underline.link');
  has(ls[2], '-e', 'keyword.other.option.editable');
  has(ls[2], 'git+https://example.invalid/o/r.git@v1#egg=r', 'markup.underline.link');
  has(ls[3], ' just a comment', 'comment.line');
});
