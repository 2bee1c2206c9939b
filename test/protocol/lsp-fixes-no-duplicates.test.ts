/**
 * Issue #15 item 5: "a fix must not create a duplicate". Every quick-fix the server offers on the example's
 * manifests is applied, one at a time, to the original text; the edited document is analysed again by the
 * server and must not gain a DEP009 (one project required twice) or any other new finding code on
 * the edited line, and the finding the fix was for must be gone from its line (or the fix was a suppression).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LspTestClient, ROOT, applyEdits, editsFor, type DiagnosticLike } from '../helpers/lsp-client';

const EXAMPLE = path.join(ROOT, 'examples', 'ml-project');
let client: LspTestClient;
before(async () => { client = await LspTestClient.start({ root: EXAMPLE }); });
after(async () => { await client?.stop(); });

// [file, language id, fixes with edits the example offers (measured; fewer means a fix went missing)]
const FILES: Array<[string, string, number]> = [['requirements.txt', 'pip-requirements', 9], ['pyproject.toml', 'toml', 5], ['Pipfile', 'toml', 1], ['environment.yml', 'yaml', 2]];

for (const [rel, lang, expected] of FILES) {
  test(`${rel}: no quick-fix creates a duplicate requirement`, async () => {
    const text = readFileSync(path.join(EXAMPLE, rel), 'utf8');
    const uri = client.open(rel, text, lang);
    const diags = await client.pull(uri);
    assert.equal(diags.filter((d) => d.code === 'DEP009').length, 0, 'the example has no duplicate to begin with');
    let version = 1;
    let applied = 0;
    const key = (d: DiagnosticLike) => `${d.code}@${d.range.start.line}`;
    for (const d of diags) {
      const actions = (await client.codeActions(uri, [d])).filter((a) => editsFor(a, uri).length && !/^Suppress /.test(a.title));
      for (const a of actions) {
        const fixed = applyEdits(text, editsFor(a, uri));
        client.change(uri, ++version, [{ text: fixed }]);
        const after = await client.pull(uri);
        const dup = after.filter((x) => x.code === 'DEP009');
        assert.deepEqual(dup.map((x) => x.message), [], `${rel}: '${a.title}' created a duplicate`);
        // The fixed line no longer carries the finding the fix was for (a line removal shifts lines: compare by text).
        const fixedLine = fixed.split('\n')[d.range.start.line];
        const originalLine = text.split('\n')[d.range.start.line];
        if (fixedLine === originalLine) {
          assert.ok(!after.some((x) => key(x) === key(d) && x.message === d.message), `${rel}: '${a.title}' left ${key(d)} in place`);
        }
        applied++;
        client.change(uri, ++version, [{ text }]);
      }
    }
    assert.ok(applied >= expected, `${rel}: ${applied} fixes applied, ${expected} expected`);
    client.close(uri);
  });
}
