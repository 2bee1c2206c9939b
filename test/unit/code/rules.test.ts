import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePython, initPythonParser, codeRules } from '../../../core/code/index';
import { diffFindings, makeCtx, parseMarkers, readFixture } from './helpers';

before(async () => { await initPythonParser(); });

const WORKSPACE_FILES = { '/ws/models/local/config.json': '{}' };

for (let n = 1; n <= 8; n++) {
  const code = `LOAD00${n}`;
  test(`${code} fixture: every marked range is found, nothing else`, () => {
    const { text, expected } = parseMarkers(readFixture(`${code}.py`));
    assert.ok(expected.some((e) => e.code === code), 'fixture has positives');
    const findings = analyzePython(`/ws/${code}.py`, text, makeCtx({ files: WORKSPACE_FILES })).findings;
    assert.equal(diffFindings(findings, expected), '');
  });
}

test('marker parser: strips markers and pairs ranges with codes', () => {
  const { text, expected } = parseMarkers('x = [|torch.load|](p)  # expect: LOAD001:error');
  assert.equal(text, 'x = torch.load(p)  # expect: LOAD001:error');
  assert.deepEqual(expected, [{ line: 0, start: 4, end: 14, code: 'LOAD001', severity: 'error' }]);
  assert.throws(() => parseMarkers('x = [|a|]'), /1 ranges but 0/);
});

test('LOAD001 drops to information when torch >= 2.6 is required, not for older floors', () => {
  const src = 'import torch\nstate = torch.load("m.pt")\n';
  const sev = (floor?: string) => analyzePython('/ws/a.py', src, makeCtx({ floors: floor ? { torch: floor } : {} })).findings[0]?.severity;
  assert.equal(sev('2.6.0'), 'information');
  assert.equal(sev('2.7'), 'information');
  assert.equal(sev('2.5.1'), 'warning');
  assert.equal(sev(undefined), 'warning');
  assert.equal(sev('not a version'), 'warning');
});

test('LOAD001 SafeTensors fix carries convertFrom when the checkpoint exists in the workspace', () => {
  const src = 'import torch\nstate = torch.load("ckpt/model.pt")\n';
  const withFile = analyzePython('/ws/train.py', src, makeCtx({ files: { '/ws/ckpt/model.pt': 'x' } })).findings[0];
  assert.deepEqual(withFile.data, { convertFrom: '/ws/ckpt/model.pt' });
  const without = analyzePython('/ws/train2.py', src, makeCtx()).findings[0];
  assert.equal(without.data, undefined);
});

test('taint-lite: several download sources raise severity and say so', () => {
  const cases = [
    'from huggingface_hub import snapshot_download\nimport os, torch\nd = snapshot_download("org/m", revision="0123456789abcdef")\nx = torch.load(os.path.join(d, "w.pt"))\n',
    'import torch, requests\nr = requests.get(url)\nwith open("w.pt", "wb") as fh:\n    fh.write(r.content)\nx = torch.load("w.pt")\n',
    'import torch\nimport wget\np = wget.download(url)\nx = torch.load(p)\n',
    'import torch\ntorch.hub.download_url_to_file(url, dst)\nx = torch.load(dst)\n',
    'import pickle, urllib.request\nurllib.request.urlretrieve(url, "m.pkl")\nx = pickle.load(open("m.pkl", "rb"))\n',
  ];
  for (const src of cases) {
    const f = analyzePython('/ws/t.py', src, makeCtx()).findings.find((x) => x.code === 'LOAD001' || x.code === 'LOAD002');
    assert.ok(f, src);
    assert.equal(f.severity, 'error', src);
    assert.match(f.message, /downloaded file/, src);
    assert.equal(f.data?.downloaded, true);
  }
  // Not downloaded: a different function's variable, or a plain path.
  const clean = 'from huggingface_hub import hf_hub_download\nimport torch\ndef a():\n    p = hf_hub_download("org/m", "w.pt", revision="0123456789abcdef")\ndef b(p):\n    return torch.load(p)\n';
  const f = analyzePython('/ws/c.py', clean, makeCtx()).findings.find((x) => x.code === 'LOAD001')!;
  assert.equal(f.severity, 'warning');
  assert.doesNotMatch(f.message, /downloaded/);
});

test('LOAD005 data carries repoId, kind and revision', () => {
  const src = 'from datasets import load_dataset\nfrom transformers import AutoModel\nd = load_dataset("org/data")\nm = AutoModel.from_pretrained("org/m", revision="v1.0")\n';
  const fs = analyzePython('/ws/h.py', src, makeCtx()).findings.filter((f) => f.code === 'LOAD005');
  assert.deepEqual(fs.map((f) => f.data), [{ repoId: 'org/data', kind: 'dataset' }, { repoId: 'org/m', kind: 'model', revision: 'v1.0' }]);
});

test('every code rule has complete documentation', () => {
  for (const r of codeRules) {
    for (const field of ['summary', 'why', 'example', 'fix'] as const) assert.ok(r[field].length > 20, `${r.code}.${field}`);
    assert.equal(r.category, 'code');
  }
  assert.deepEqual(codeRules.map((r) => r.code), ['LOAD000', 'LOAD001', 'LOAD002', 'LOAD003', 'LOAD004', 'LOAD005', 'LOAD006', 'LOAD007', 'LOAD008']);
  const docs = JSON.stringify(codeRules);
  assert.doesNotMatch(docs, /huggingface\.co|pypi\.org|pythonhosted|download\.pytorch/);
  for (const [code, eq] of [['LOAD001', 'B614'], ['LOAD002', 'S301'], ['LOAD005', 'B615'], ['LOAD008', 'S506']]) {
    assert.ok(codeRules.find((r) => r.code === code)!.equivalents!.join(' ').includes(eq), `${code} names ${eq}`);
  }
});
