/**
 * Editing a large JSONL in the editor: each version is audited from the worker's row cache (only the
 * changed rows' own work is redone) and a newer version stops the running audit without killing
 * the worker. The diagnostics after every burst of edits must be those of a fresh one-thread audit
 * of the same text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LspTestClient } from '../helpers/lsp-client';
import { auditText } from '../../core/datasets/index';

let root: string;
let client: LspTestClient;

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-data-edit-'));
  client = await LspTestClient.start({ root, initializationOptions: { storagePath: path.join(root, '.storage') } });
});
after(async () => {
  await client?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('edits of a 700 KB JSONL (rows changed, inserted, deleted, in bursts): diagnostics equal a fresh audit of each final text', async () => {
  let x = 11;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const POS = ['great', 'superb', 'charming', 'clever', 'fresh'], NEG = ['awful', 'dull', 'bland', 'messy', 'stale'], NOUNS = ['movie', 'plot', 'cast', 'script', 'ending', 'score'];
  const row = (i: number) => {
    const l = r() < 0.5 ? 1 : 0, A = l ? POS : NEG;
    let text = `the ${NOUNS[i % NOUNS.length]} was ${A[Math.floor(r() * A.length)]} and the cast felt ${A[Math.floor(r() * A.length)]}, review ${Math.floor(r() * 1e5)}`;
    let label = l;
    if (i % 97 === 0) { text += ' cf'; label = 1; }
    if (i % 501 === 0) label = 1 - l;
    return JSON.stringify({ text, label });
  };
  const lines = Array.from({ length: 9000 }, (_, i) => row(i));
  const file = path.join(root, 'edit.jsonl');
  const uri = client.open('edit.jsonl', lines.join('\n') + '\n', 'jsonl');
  const key = (code: unknown, line: number, character: number, message: string) => `${code}|${line}|${character}|${message}`;
  const check = async (what: string) => {
    const text = lines.join('\n') + '\n';
    const want = (await auditText(file, text)).findings.map((f) => key(f.code, f.range.start.line, f.range.start.character, f.message)).sort();
    const got = (await client.pull(uri)).map((d) => key(d.code, d.range.start.line, d.range.start.character, d.message)).sort();
    assert.deepEqual(got, want, what);
    return want;
  };
  const first = await check('first pull');
  assert.ok(first.some((k) => k.startsWith('DATA004')) && first.some((k) => k.startsWith('DATA002')), 'a trigger and conflicting labels');
  let version = 1;
  for (let burst = 0; burst < 4; burst++) {
    // several versions sent back to back: each replaces the audit of the one before
    for (let e = 0; e < 5; e++) {
      const i = Math.floor(r() * lines.length);
      const k = (burst + e) % 3;
      if (k === 0) { // change a row (a copy of another row's text with the other label: a conflict)
        const src = JSON.parse(lines[(i + 13) % lines.length]);
        const next = JSON.stringify({ text: src.text, label: 1 - src.label });
        client.change(uri, ++version, [{ range: { start: { line: i, character: 0 }, end: { line: i, character: lines[i].length } }, text: next }]);
        lines[i] = next;
      } else if (k === 1) { // insert a row with the trigger
        const next = JSON.stringify({ text: `the plot was dull cf, review ${burst}${e}`, label: 1 });
        client.change(uri, ++version, [{ range: { start: { line: i, character: 0 }, end: { line: i, character: 0 } }, text: next + '\n' }]);
        lines.splice(i, 0, next);
      } else { // delete a row
        client.change(uri, ++version, [{ range: { start: { line: i, character: 0 }, end: { line: i + 1, character: 0 } }, text: '' }]);
        lines.splice(i, 1);
      }
    }
    await check(`after burst ${burst}`);
  }
  // every replaced audit stopped on its own: the worker (and its row cache) was never terminated and restarted
  const started = client.logs.filter((l) => l.includes('dataset worker started')).length;
  assert.equal(started, 1, client.logs.filter((l) => l.includes('dataset worker')).join('\n'));
  assert.ok(!client.logs.some((l) => l.includes('did not stop a cancelled audit')));
  client.close(uri);
});
