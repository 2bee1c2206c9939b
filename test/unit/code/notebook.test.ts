import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeNotebook, initPythonParser } from '../../../core/code/index';
import { maskCell, layoutNotebook } from '../../../core/code/notebook';
import { analyzePipInstall } from '../../../core/deps/index';
import { applyEdits } from '../../../core/code/edits';
import { LineIndex } from '../../../core/text';
import type { NotebookCellInput } from '../../../core/analysis';
import { makeCtx } from './helpers';

before(async () => { await initPythonParser(); });

const code = (text: string, languageId?: string): NotebookCellInput => ({ kind: 'code', text, languageId });
const md = (text: string): NotebookCellInput => ({ kind: 'markup', text });

test('imports in earlier cells apply to later cells; ranges are cell-relative', () => {
  const cells = [code('import torch as t\nimport numpy as np'), md('# Load'), code('x = 1\nstate = t.load("m.pt")\narr = np.load(p, allow_pickle=True)')];
  const findings = analyzeNotebook('/ws/nb.ipynb', cells, makeCtx());
  const byCode = Object.fromEntries(findings.map((f) => [f.code, f]));
  assert.equal(byCode.LOAD001.cell, 2);
  assert.deepEqual(byCode.LOAD001.range, { start: { line: 1, character: 8 }, end: { line: 1, character: 14 } });
  assert.equal(byCode.LOAD003.cell, 2);
  assert.deepEqual(byCode.LOAD003.range.start, { line: 2, character: 17 });
});

test('fix edits are cell-relative; the safetensors import goes to the top of the finding cell', () => {
  const cells = [code('import torch'), code('%matplotlib inline\nstate = torch.load(p)')];
  const f = analyzeNotebook('/ws/nb.ipynb', cells, makeCtx()).find((x) => x.code === 'LOAD001')!;
  const text = cells[1].text;
  const add = f.fixes.find((x) => /Add weights_only/.test(x.title))!;
  assert.equal(applyEdits(text, add.edits, new LineIndex(text)), '%matplotlib inline\nstate = torch.load(p, weights_only=True)');
  const st = f.fixes.find((x) => /SafeTensors/.test(x.title))!;
  assert.equal(applyEdits(text, st.edits, new LineIndex(text)), 'import safetensors.torch\n%matplotlib inline\nstate = safetensors.torch.load_file(p)');
});

test('magics, shell escapes and help are masked with same-length text', () => {
  const src = '%matplotlib inline\n!ls -la\nfiles = !ls\nx = %time 1\ntorch.load?\n??np.load\nif x:\n    !echo hi\n%ls\nprint(1)';
  const masked = maskCell(src).text;
  assert.equal(masked.length, src.length);
  const lines = masked.split('\n');
  assert.deepEqual(lines.map((l) => l.trimEnd()), ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'if x:', '    pass', '', 'print(1)']);
  // Non-Python cell magics mask the whole body; Python ones only the magic line.
  assert.deepEqual(maskCell('%%bash\nimport torch\ntorch.load(x)').text.split('\n').map((l) => l.trimEnd()), ['pass', 'pass', 'pass']);
  assert.equal(maskCell('%%time\ny = 2').text, 'pass  \ny = 2');
});

test('magic lines produce no parse errors or findings; non-python cells are skipped', () => {
  const cells = [
    code('%load_ext autoreload\n%autoreload 2\n!pip list\nout = !ls\nimport torch'),
    code('%%bash\npython -c "import torch; torch.load(1)"'),
    code('torch.load(p)', 'r'),
    code('%%time\nstate = torch.load(p)'),
  ];
  const findings = analyzeNotebook('/ws/nb.ipynb', cells, makeCtx());
  assert.deepEqual(findings.map((f) => [f.code, f.cell, f.range.start.line]), [['LOAD001', 3, 1]]);
  const layout = layoutNotebook(cells);
  assert.deepEqual(layout.cellStartLine, [0, 5, -1, 7]);
});

test('%pip / !pip / !python -m pip lines are passed to the dependency rules with the exact span', (t) => {
  const lines = ['%pip install reqeusts', '!pip install -q reqeusts', '!python -m pip install reqeusts'];
  const ctx = makeCtx();
  const direct = analyzePipInstall('/ws/nb.ipynb', lines[0], 0, '%pip install '.length, ctx);
  if (!direct.length) { t.skip('core/deps analyzePipInstall not implemented yet'); return; }
  const cells = lines.map((l) => code(`import os\n${l}`));
  const findings = analyzeNotebook('/ws/nb.ipynb', cells, ctx);
  lines.forEach((l, cell) => {
    const argsStart = /install\s*/.exec(l)!.index + /install\s*/.exec(l)![0].length;
    const expected = analyzePipInstall('/ws/nb.ipynb', l, 1, argsStart, ctx).map((f) => ({ ...f, cell }));
    assert.ok(expected.length > 0);
    assert.deepEqual(findings.filter((f) => f.cell === cell), expected);
    for (const f of expected) assert.equal(l.slice(f.range.start.character, f.range.end.character), 'reqeusts');
  });
});

test('taint flows across notebook cells', () => {
  const cells = [code('from huggingface_hub import hf_hub_download\nimport joblib'), code('p = hf_hub_download("org/m", "model.joblib", revision="0123456789abcdef")'), code('clf = joblib.load(p)')];
  const f = analyzeNotebook('/ws/nb.ipynb', cells, makeCtx()).find((x) => x.code === 'LOAD002')!;
  assert.equal(f.cell, 2);
  assert.equal(f.severity, 'error');
});
