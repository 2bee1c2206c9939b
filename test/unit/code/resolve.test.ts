import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePython, findHubReferences, initPythonParser } from '../../../core/code/index';
import { makeCtx } from './helpers';

before(async () => { await initPythonParser(); });

const codes = (src: string) => analyzePython('/ws/r.py', src, makeCtx()).findings.map((f) => `${f.code}@${f.range.start.line}`);

test('aliases and from-imports resolve', () => {
  assert.deepEqual(codes('import torch.serialization as ts\nts.load(f)'), ['LOAD001@1']);
  assert.deepEqual(codes('from torch import serialization\nserialization.load(f)'), ['LOAD001@1']);
  assert.deepEqual(codes('import pickle as pk\npk.Unpickler(f)'), ['LOAD002@1']);
  assert.deepEqual(codes('try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\npickle.load(f)'), ['LOAD002@4']);
  assert.deepEqual(codes('try:\n    import torch\nexcept ImportError:\n    torch = None\ntorch.load(f)'), ['LOAD001@4']);
  assert.deepEqual(codes('def f():\n    import joblib\n    return joblib.load(p)'), ['LOAD002@2']);
});

test('local shadowing never produces findings', () => {
  const shadowed = [
    'from torch import load\ndef load(p):\n    return p\nload("x.pt")',
    'import torch\ntorch = MyTorch()\ntorch.load("x.pt")',
    'import torch\ndef f(torch):\n    return torch.load("x.pt")',
    'import torch\ndef f():\n    torch = get()\n    return torch.load("x.pt")',
    'import pickle\nfor pickle in things:\n    pickle.load(f)',
    'import pickle\nwith ctx() as pickle:\n    pickle.load(f)',
    'import pickle\nclass A:\n    pickle = X\n    pickle.load(f)',
    'import yaml\nf = lambda yaml: yaml.load(s)',
    'from . import pickle\npickle.load(f)',
    'from .utils import load\nload("x.pt")',
    'load("x.pt")',
    'self.torch.load(p)',
    'torch.load(p)',
    'import numpy as np\n(np := other).load(p, allow_pickle=True)',
    'import torch\nx = [torch for torch in items]\n',
  ];
  for (const src of shadowed) assert.deepEqual(codes(src).filter((c) => !c.startsWith('LOAD004')), [], src);
});

test('a name used in a function sees the module import even if the function is defined first', () => {
  assert.deepEqual(codes('def f(p):\n    return torch.load(p)\nimport torch'), ['LOAD001@1']);
});

test('class attributes do not leak into methods', () => {
  assert.deepEqual(codes('import torch\nclass A:\n    torch = None\n    def m(self):\n        return torch.load(p)'), ['LOAD001@4']);
});

test('findHubReferences lists literal repo ids with ranges, pinned or not', () => {
  const src = [
    'from transformers import AutoModel',
    'import timm',
    'from huggingface_hub import snapshot_download',
    'a = AutoModel.from_pretrained("org/a", revision="0123456789abcdef")',
    'b = snapshot_download(repo_id="org/b", repo_type="dataset")',
    'c = timm.create_model("hf-hub:org/c@v1")',
    'd = AutoModel.from_pretrained(name)',
  ].join('\n');
  const refs = findHubReferences('/ws/h.py', src);
  assert.deepEqual(refs.map((r) => [r.repoId, r.revision, r.kind]), [['org/a', '0123456789abcdef', 'model'], ['org/b', undefined, 'dataset'], ['org/c', 'v1', 'model']]);
  const lines = src.split('\n');
  const slice = (r: { start: { line: number; character: number }; end: { character: number } }) => lines[r.start.line].slice(r.start.character, r.end.character);
  assert.equal(slice(refs[0].range), '"org/a"');
  assert.equal(slice(refs[0].revisionRange!), '"0123456789abcdef"');
  assert.equal(slice(refs[0].callRange), 'AutoModel.from_pretrained("org/a", revision="0123456789abcdef")');
  assert.equal(slice(refs[2].revisionRange!), 'v1');
  assert.equal(refs[1].revisionRange, undefined);
});
