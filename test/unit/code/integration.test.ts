import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeText, analyzeNotebookText } from '../../../core/analyze';
import { initPythonParser } from '../../../core/code/index';
import { makeCtx } from './helpers';

before(async () => { await initPythonParser(); });

test('core/analyze routes .py files here and honours suppressions and Bandit/Ruff equivalents', () => {
  const src = [
    'import torch, pickle, yaml',
    'a = torch.load(p)',
    'b = torch.load(p)  # modelvet: ignore[LOAD001]',
    'c = torch.load(p)  # nosec B614',
    'd = pickle.loads(x)  # noqa: S301',
    'e = yaml.load(s)  # noqa: S506',
    'f = pickle.loads(x)  # nosec B506',
  ].join('\n');
  const got = analyzeText('/ws/s.py', src, makeCtx()).findings.map((f) => `${f.code}@${f.range.start.line}`);
  assert.deepEqual(got, ['LOAD001@1', 'LOAD002@6']);
});

test('.ipynb text: cell indexes and cell-relative lines', () => {
  const nb = JSON.stringify({ cells: [
    { cell_type: 'code', source: ['import joblib\n', '!ls\n'] },
    { cell_type: 'markdown', source: ['joblib.load("x")'] },
    { cell_type: 'code', source: ['\n', 'm = joblib.load("m.joblib")\n'] },
  ], metadata: { kernelspec: { language: 'python' } } });
  const fs = analyzeNotebookText('/ws/n.ipynb', nb, makeCtx()).findings;
  assert.deepEqual(fs.map((f) => [f.code, f.cell, f.range.start.line, f.range.start.character]), [['LOAD002', 2, 1, 4]]);
});

test('CRLF files get CRLF in inserted lines', () => {
  const src = 'import torch\r\nx = torch.load("a.pt")\r\n';
  const f = analyzeText('/ws/crlf.py', src, makeCtx()).findings[0];
  const st = f.fixes.find((x) => /SafeTensors/.test(x.title))!;
  assert.equal(st.edits[0].newText, 'import safetensors.torch\r\n');
});

test('initPythonParser with a directory lacking the .wasm files falls back to node_modules', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `require(${JSON.stringify(require.resolve('../../../core/code/index'))}).initPythonParser('/nonexistent-dir').then(() => console.log('ok'), (e) => console.log('fail', e.message))`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'ok', r.stderr);
});
