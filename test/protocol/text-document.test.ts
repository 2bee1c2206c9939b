/**
 * The server's text documents (server/src/textDocument.ts: a faster line index) against
 * vscode-languageserver-textdocument's, which they replace: the same text, line count, positions
 * and offsets after every change of random edit sequences over CR, LF and CRLF text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { lineOffsets, ServerTextDocuments } from '../../server/src/textDocument';

function rng(seed: number) {
  let x = seed >>> 0;
  return () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
}

const PIECES = ['a', 'bc', '{"t":1}', '\n', '\r\n', '\r', '\n\n', '\r\r\n', 'é', '😀', ' '];
function randomText(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

function sameDocs(a: TextDocument, b: TextDocument, r: () => number, what: string): void {
  assert.equal(b.getText(), a.getText(), `${what}: text`);
  assert.equal(b.lineCount, a.lineCount, `${what}: lineCount`);
  assert.equal(b.version, a.version, `${what}: version`);
  const len = a.getText().length;
  for (let k = 0; k < 25; k++) {
    const off = Math.floor(r() * (len + 3)) - 1;
    assert.deepEqual(b.positionAt(off), a.positionAt(off), `${what}: positionAt(${off})`);
    const pos = { line: Math.floor(r() * (a.lineCount + 2)) - 1, character: Math.floor(r() * 12) - 1 };
    assert.equal(b.offsetAt(pos), a.offsetAt(pos), `${what}: offsetAt(${JSON.stringify(pos)})`);
    const end = { line: pos.line + Math.floor(r() * 3), character: Math.floor(r() * 12) };
    assert.equal(b.getText({ start: pos, end }), a.getText({ start: pos, end }), `${what}: getText(range)`);
  }
}

test('line starts: CR, LF and CRLF, as the library counts them', () => {
  for (const s of ['', 'a', '\n', '\r', '\r\n', '\n\r', 'a\r\nb\rc\n\nd\r\r\ne', 'x\r', '\r\r', '\n\n\n', 'a\r\n']) {
    const lib = TextDocument.create('file:///x', 'plaintext', 1, s);
    const ours = ServerTextDocuments.create('file:///x', 'plaintext', 1, s);
    assert.equal(ours.lineCount, lib.lineCount, JSON.stringify(s));
    for (let off = 0; off <= s.length; off++) assert.deepEqual(ours.positionAt(off), lib.positionAt(off), `${JSON.stringify(s)} @${off}`);
  }
  assert.deepEqual(lineOffsets('a\nb\r\nc\rd', true), [0, 2, 5, 7]);
  assert.deepEqual(lineOffsets('x\ny', false, 10), [12]);
  assert.deepEqual(lineOffsets('', true, 3), [3]);
});

test('random edit sequences: same text, lines, positions and offsets as vscode-languageserver-textdocument', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    const initial = randomText(r, 40 + Math.floor(r() * 200));
    const lib = TextDocument.create('file:///d.jsonl', 'jsonl', 1, initial);
    const ours = ServerTextDocuments.create('file:///d.jsonl', 'jsonl', 1, initial);
    // half the documents get a position query before their first change, half are first built by an edit
    if (seed % 2) sameDocs(lib, ours, r, `seed ${seed} initial`);
    for (let v = 2; v < 40; v++) {
      const changes = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
        if (r() < 0.05) return { text: randomText(r, Math.floor(r() * 60)) };
        const lines = lib.lineCount;
        const a = { line: Math.floor(r() * (lines + 1)), character: Math.floor(r() * 10) };
        const b = r() < 0.3 ? a : { line: Math.max(0, a.line + Math.floor(r() * 5) - 2), character: Math.floor(r() * 10) };
        // many-line insertions too (the library splices, or concatenates past 10,000 new lines)
        const text = r() < 0.02 ? '\n'.repeat(10_001) : randomText(r, Math.floor(r() * 8));
        return { range: { start: a, end: b }, text };
      });
      TextDocument.update(lib, changes, v);
      ServerTextDocuments.update(ours, changes, v);
      sameDocs(lib, ours, r, `seed ${seed} v${v}`);
    }
  }
});

test('a 50,000-line buffer (LF, and LF mixed with CRLF): the same line index and edit', () => {
  const lf = Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ text: `row ${i} of the review set`, label: i % 2 })).join('\n') + '\n';
  const mixed = Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ text: `row ${i}`, label: i % 2 }) + (i % 7 ? '\n' : '\r\n')).join('');
  for (const s of [lf, mixed]) {
    const lib = TextDocument.create('file:///big.jsonl', 'jsonl', 1, s);
    const ours = ServerTextDocuments.create('file:///big.jsonl', 'jsonl', 1, s);
    assert.equal(ours.lineCount, lib.lineCount);
    for (const off of [0, 1, 1000, s.length >> 1, s.length - 1, s.length]) assert.deepEqual(ours.positionAt(off), lib.positionAt(off));
    const edit = [{ range: { start: { line: 25_000, character: 0 }, end: { line: 25_000, character: 0 } }, text: ' ' }];
    TextDocument.update(lib, edit, 2);
    ServerTextDocuments.update(ours, edit, 2);
    assert.equal(ours.getText(), lib.getText());
    assert.deepEqual(ours.positionAt(s.length >> 1), lib.positionAt(s.length >> 1));
  }
});
