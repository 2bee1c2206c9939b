/**
 * Issue #15 item 2's count, both ways: the editor and `modelvet check` report the same findings (code,
 * position, message) for every manifest and Python file of the bundled example — one diagnostic per cause in
 * both (41 for the whole example, 12 on requirements.txt; 49 and 18 before the issue).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LspTestClient, ROOT } from '../helpers/lsp-client';

const EXAMPLE = path.join(ROOT, 'examples', 'ml-project');

test('example: the server and the CLI report the same findings, file by file', async () => {
  let out = '';
  try { out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'modelvet.js'), 'check', EXAMPLE, '--format', 'json'], { encoding: 'utf8', cwd: ROOT }); } catch (e) { out = (e as { stdout: string }).stdout; }
  const cli = (JSON.parse(out) as { findings: Array<{ path: string; code: string; message: string; range: { start: { line: number; character: number } } }> }).findings;
  assert.equal(cli.length, 41, 'the whole example');
  const c = await LspTestClient.start({ root: EXAMPLE });
  try {
    let total = 0;
    for (const [rel, lang] of [['requirements.txt', 'pip-requirements'], ['requirements/base.txt', 'pip-requirements'], ['pyproject.toml', 'toml'], ['Pipfile', 'toml'], ['environment.yml', 'yaml'], ['src/train.py', 'python']]) {
      const uri = c.open(rel, readFileSync(path.join(EXAMPLE, rel), 'utf8'), lang);
      const server = (await c.pull(uri)).map((d) => `${d.range.start.line}:${d.range.start.character} ${d.code} ${d.message}`).sort();
      const mine = cli.filter((f) => path.resolve(ROOT, f.path) === path.join(EXAMPLE, rel)).map((f) => `${f.range.start.line}:${f.range.start.character} ${f.code} ${f.message}`).sort();
      assert.deepEqual(server, mine, rel);
      if (rel === 'requirements.txt') assert.equal(server.length, 12);
      total += server.length;
      c.close(uri);
    }
    assert.equal(total, cli.filter((f) => !f.path.endsWith('.ipynb')).length, 'every non-notebook file of the example was compared');
  } finally { await c.stop(); }
});
