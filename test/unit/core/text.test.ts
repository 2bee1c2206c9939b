import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex } from '../../../core/text';

test('LineIndex maps offsets and positions across \\n, \\r\\n and lone \\r', () => {
  const t = 'ab\r\ncd\ref\ngh';
  const li = new LineIndex(t);
  assert.equal(li.lineCount, 4);
  assert.deepEqual(li.positionAt(0), { line: 0, character: 0 });
  assert.deepEqual(li.positionAt(4), { line: 1, character: 0 });
  assert.deepEqual(li.positionAt(7), { line: 2, character: 0 });
  assert.deepEqual(li.positionAt(t.length), { line: 3, character: 2 });
  assert.equal(li.lineText(0), 'ab');
  assert.equal(li.lineText(1), 'cd');
  assert.equal(li.lineText(2), 'ef');
  assert.equal(li.offsetAt({ line: 2, character: 1 }), 8);
  // A character past the end of a line clamps to the line end, never into the next line.
  assert.equal(li.offsetAt({ line: 0, character: 99 }), 2);
});

test('LineIndex round-trips every offset', () => {
  const t = 'x = 1\n\n  y\r\nz\r\n';
  const li = new LineIndex(t);
  for (let o = 0; o <= t.length; o++) {
    const p = li.positionAt(o);
    const back = li.offsetAt(p);
    // Offsets inside a \r\n pair map to the end of the line.
    assert.ok(back === o || (t[o - 1] === '\r' && back === o - 1), `offset ${o} -> ${JSON.stringify(p)} -> ${back}`);
  }
});
