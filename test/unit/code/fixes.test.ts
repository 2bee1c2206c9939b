import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePython, initPythonParser } from '../../../core/code/index';
import { applyEdits } from '../../../core/code/edits';
import { LineIndex } from '../../../core/text';
import { makeCtx } from './helpers';

before(async () => { await initPythonParser(); });

let counter = 0;
/** Analyse `src`, apply the fix whose title matches, return the new text. */
function fix(src: string, code: string, title: RegExp, ctx = makeCtx()): string {
  const findings = analyzePython(`/ws/fix${counter++}.py`, src, ctx).findings.filter((f) => f.code === code);
  assert.equal(findings.length, 1, `one ${code} finding in:\n${src}\ngot ${JSON.stringify(findings.map((f) => f.message))}`);
  const chosen = findings[0].fixes.find((f) => title.test(f.title));
  assert.ok(chosen, `fix ${title} among ${findings[0].fixes.map((f) => f.title).join(', ')}`);
  return applyEdits(src, chosen.edits, new LineIndex(src));
}

const ADD_WEIGHTS_ONLY: Array<[string, string]> = [
  ['import torch\nx = torch.load(p)\n', 'import torch\nx = torch.load(p, weights_only=True)\n'],
  ['import torch\nx = torch.load()\n', 'import torch\nx = torch.load(weights_only=True)\n'],
  ['import torch\nx = torch.load(p, )\n', 'import torch\nx = torch.load(p, weights_only=True)\n'],
  ['import torch\nx = torch.load(p, map_location="cpu")\n', 'import torch\nx = torch.load(p, map_location="cpu", weights_only=True)\n'],
  ['import torch\nx = torch.load(\n    p,\n    map_location="cpu",\n)\n', 'import torch\nx = torch.load(\n    p,\n    map_location="cpu",\n    weights_only=True,\n)\n'],
  ['import torch\nx = torch.load(\n    p,\n    map_location="cpu"\n)\n', 'import torch\nx = torch.load(\n    p,\n    map_location="cpu",\n    weights_only=True\n)\n'],
  ['import torch\nx = torch.load(p, **kw)\n', 'import torch\nx = torch.load(p, **kw, weights_only=True)\n'],
  ['import torch\r\nx = torch.load(\r\n    p,\r\n)\r\n', 'import torch\r\nx = torch.load(\r\n    p,\r\n    weights_only=True,\r\n)\r\n'],
];

test('LOAD001 "Add weights_only=True" produces valid calls', () => {
  for (const [src, want] of ADD_WEIGHTS_ONLY) {
    assert.equal(fix(src, 'LOAD001', /Add weights_only/), want);
  }
});

test('LOAD001 "Set weights_only=True" replaces an explicit False', () => {
  assert.equal(fix('import torch\nx = torch.load(p, weights_only=False)\n', 'LOAD001', /Set weights_only/), 'import torch\nx = torch.load(p, weights_only=True)\n');
});

test('LOAD001 SafeTensors fix: import added once, sibling .safetensors name, after docstring/__future__', () => {
  assert.equal(fix('import torch\nx = torch.load("ckpt/model.pt", map_location="cpu")\n', 'LOAD001', /SafeTensors/),
    'import safetensors.torch\nimport torch\nx = safetensors.torch.load_file("ckpt/model.safetensors")\n');
  assert.equal(fix('"""Doc."""\nfrom __future__ import annotations\nimport torch\nx = torch.load(path)\n', 'LOAD001', /SafeTensors/),
    '"""Doc."""\nfrom __future__ import annotations\nimport safetensors.torch\nimport torch\nx = safetensors.torch.load_file(path)\n');
  assert.equal(fix('import safetensors.torch\nimport torch\nx = torch.load(\'w.bin\')\n', 'LOAD001', /SafeTensors/),
    'import safetensors.torch\nimport torch\nx = safetensors.torch.load_file(\'w.safetensors\')\n');
  assert.equal(fix('def f():\n    import torch\n    return torch.load("a.pth")\n', 'LOAD001', /SafeTensors/),
    'import safetensors.torch\ndef f():\n    import torch\n    return safetensors.torch.load_file("a.safetensors")\n');
});

test('LOAD003, LOAD004, LOAD006, LOAD007 value flips', () => {
  assert.equal(fix('import numpy as np\na = np.load(f, allow_pickle=True)\n', 'LOAD003', /allow_pickle=False/), 'import numpy as np\na = np.load(f, allow_pickle=False)\n');
  assert.equal(fix('m = X.from_pretrained(d, trust_remote_code=True)\n', 'LOAD004', /trust_remote_code=False/), 'm = X.from_pretrained(d, trust_remote_code=False)\n');
  assert.equal(fix('m = f(d, use_safetensors=False)\n', 'LOAD006', /use_safetensors=True/), 'm = f(d, use_safetensors=True)\n');
  assert.equal(fix('import keras\nm = keras.models.load_model(p, safe_mode=False)\n', 'LOAD007', /safe_mode=True/), 'import keras\nm = keras.models.load_model(p, safe_mode=True)\n');
});

test('LOAD006 hf_hub_download filename fix picks the safetensors name', () => {
  const pre = 'from huggingface_hub import hf_hub_download as dl\n';
  const rev = ', revision="0123456789abcdef"';
  assert.equal(fix(`${pre}p = dl("o/m", filename="pytorch_model.bin"${rev})\n`, 'LOAD006', /Download/), `${pre}p = dl("o/m", filename="model.safetensors"${rev})\n`);
  assert.equal(fix(`${pre}p = dl("o/m", "pytorch_model-00001-of-00002.bin"${rev})\n`, 'LOAD006', /Download/), `${pre}p = dl("o/m", "model-00001-of-00002.safetensors"${rev})\n`);
  assert.equal(fix(`${pre}p = dl("o/m", filename="unet/diffusion.ckpt"${rev})\n`, 'LOAD006', /Download/), `${pre}p = dl("o/m", filename="unet/diffusion.safetensors"${rev})\n`);
});

test('LOAD008 yaml.safe_load fix keeps the module alias and drops the Loader', () => {
  assert.equal(fix('import yaml as y\nc = y.load(open(p), Loader=y.Loader)\n', 'LOAD008', /safe_load/), 'import yaml as y\nc = y.safe_load(open(p))\n');
  assert.equal(fix('import yaml\nfor d in yaml.unsafe_load_all(s): pass\n', 'LOAD008', /safe_load_all/), 'import yaml\nfor d in yaml.safe_load_all(s): pass\n');
});

test('LOAD005 pin from the local Hub cache (HF_HUB_CACHE), and a resolve fix otherwise', () => {
  const sha = 'a'.repeat(40);
  const old = { ...process.env };
  try {
    process.env.HF_HUB_CACHE = '/cache/hub';
    const ctx = makeCtx({ files: { '/cache/hub/models--org--m/refs/main': sha + '\n', '/cache/hub/datasets--org--d/refs/v2': 'b'.repeat(40) } });
    assert.equal(fix('from transformers import AutoModel\nm = AutoModel.from_pretrained("org/m")\n', 'LOAD005', /Pin revision/, ctx),
      `from transformers import AutoModel\nm = AutoModel.from_pretrained("org/m", revision="${sha}")\n`);
    assert.equal(fix('from datasets import load_dataset\nd = load_dataset("org/d", revision="v2")\n', 'LOAD005', /Pin revision/, ctx),
      `from datasets import load_dataset\nd = load_dataset("org/d", revision="${'b'.repeat(40)}")\n`);
    assert.equal(fix('import timm\nm = timm.create_model("hf-hub:org/m")\n', 'LOAD005', /Pin revision/, ctx),
      `import timm\nm = timm.create_model("hf-hub:org/m@${sha}")\n`);
    delete process.env.HF_HUB_CACHE;
    process.env.HF_HOME = '/home/hf';
    const ctx2 = makeCtx({ files: { '/home/hf/hub/models--org--m/refs/main': sha } });
    assert.match(analyzePython('/ws/p.py', 'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/m")\n', ctx2).findings[0].fixes[0].title, /local Hub cache/);
    // Not cached: an online-resolve fix with empty edits and a template.
    const f = analyzePython('/ws/q.py', 'from transformers import AutoModel\nm = AutoModel.from_pretrained("org/other")\n', makeCtx()).findings[0];
    assert.equal(f.fixes[0].edits.length, 0);
    assert.equal(f.fixes[0].resolve?.kind, 'hub-pin');
    const data = f.fixes[0].resolve!.data as { repoId: string; kind: string; editTemplate: Array<{ newText: string }> };
    assert.equal(data.repoId, 'org/other');
    assert.equal(data.kind, 'model');
    assert.equal(data.editTemplate[0].newText, ', revision="{sha}"');
  } finally {
    for (const k of ['HF_HUB_CACHE', 'HF_HOME']) { if (old[k] === undefined) delete process.env[k]; else process.env[k] = old[k]; }
  }
});
