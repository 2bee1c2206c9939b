/**
 * A large JSONL open in the editor is audited on two threads (the dataset worker and its
 * near-duplicate helper): the diagnostics must be those of a one-thread audit of the same text.
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
  root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-lsp-data-split-'));
  // the helper waits for a free core unless forced: forced here, so the split audit runs whatever the load
  client = await LspTestClient.start({ root, env: { MODELVET_DATASET_HELPER: '1' }, initializationOptions: { storagePath: path.join(root, '.storage') } });
});
after(async () => {
  await client?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('a 700 KB JSONL (near-duplicates, conflicts, a trigger): the split audit gives the one-thread diagnostics', async () => {
  let x = 11;
  const r = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const POS = ['great', 'superb', 'charming', 'clever', 'fresh'], NEG = ['awful', 'dull', 'bland', 'messy', 'stale'], NOUNS = ['movie', 'plot', 'cast', 'script', 'ending', 'score'];
  const lines: string[] = [];
  for (let i = 0; i < 9000; i++) {
    const l = r() < 0.5 ? 1 : 0, A = l ? POS : NEG;
    let text = `the ${NOUNS[i % NOUNS.length]} was ${A[Math.floor(r() * A.length)]} and the cast felt ${A[Math.floor(r() * A.length)]}, review ${Math.floor(r() * 1e5)}`;
    let label = l;
    if (i % 97 === 0) { text += ' cf'; label = 1; } // a dirty-label trigger
    if (i % 501 === 0) label = 1 - l; // label noise: conflicting near-duplicates
    lines.push(JSON.stringify({ text, label }));
  }
  const text = lines.join('\n') + '\n';
  assert.ok(text.length > 512 * 1024, 'above the helper threshold');
  const file = path.join(root, 'big.jsonl');
  const expected = await auditText(file, text);
  const key = (code: unknown, line: number, character: number, message: string) => `${code}|${line}|${character}|${message}`;
  const want = expected.findings.map((f) => key(f.code, f.range.start.line, f.range.start.character, f.message)).sort();
  assert.ok(expected.findings.some((f) => f.code === 'DATA001' && f.data?.near), 'the text has near-duplicates');
  assert.ok(expected.findings.some((f) => f.code === 'DATA002'), 'and conflicting ones');
  assert.ok(expected.findings.some((f) => f.code === 'DATA004'), 'and a trigger');
  for (let k = 0; k < 2; k++) { // the second pull runs on the warm helper
    const uri = client.open('big.jsonl', text, 'jsonl');
    const got = (await client.pull(uri)).map((d) => key(d.code, d.range.start.line, d.range.start.character, d.message)).sort();
    assert.deepEqual(got, want);
    client.close(uri);
  }
});
