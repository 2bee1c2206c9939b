/**
 * JIT warm-up for the Python analysis. The first analysis in a process runs cold: V8 has compiled
 * neither our rule code nor tree-sitter's hot wasm functions at full speed, and a 5,000-line module
 * then takes ~3× its warm time. The language server calls this in idle time after start-up, in
 * small steps, so the first file a user opens is analyzed at (nearly) warm speed.
 */
import type { AnalysisContext } from '../analysis';
import { defaultConfig } from '../config';
import { analyzePython, forgetPython } from './index';

const WARMUP_KEY = '/__modelvet_warmup__.py';

/** A representative module: imports, classes, functions, loads, Hub calls, a download and taint. */
function sampleModule(variant: number): string {
  const out = [
    'import os', 'import json', 'import pickle', 'import numpy as np', 'import torch', 'import yaml',
    'from transformers import AutoModel, AutoTokenizer', 'from huggingface_hub import hf_hub_download', '',
  ];
  for (let i = 0; i < 40; i++) {
    const n = i + variant * 40;
    out.push(
      `class Block${n}(torch.nn.Module):`, `    def __init__(self, dim=${n % 64 + 1}):`, '        super().__init__()', '        self.proj = torch.nn.Linear(dim, dim)', '',
      `def step_${n}(batch, path):`, '    state = torch.load(path)', '    arr = np.load(path, allow_pickle=True)', '    return state, arr', '',
      `tok_${n} = AutoTokenizer.from_pretrained("org/model-${n}")`,
      `p_${n} = hf_hub_download("org/model-${n}", "weights.bin")`, `obj_${n} = pickle.loads(open(p_${n}, "rb").read())`,
      `cfg_${n} = yaml.load(open("c.yml"))`, `value_${n} = json.loads(os.environ.get("X", "{}"))`, '',
    );
  }
  return out.join('\n') + '\n';
}

const ctx: AnalysisContext = {
  config: defaultConfig(),
  fs: { readText: () => undefined, exists: () => false },
  project: { lockedVersions: new Map(), installedVersions: new Map(), versionFloor: () => undefined },
};

/** Run one warm-up step (a few tens of ms); returns false when there are no more steps. */
export function warmUpPythonStep(step: number): boolean {
  if (step >= 3) return false;
  let text = sampleModule(step);
  analyzePython(WARMUP_KEY, text, ctx);
  // A few edits too: the incremental path (segments, chunk reuse) is what typing runs.
  for (let i = 0; i < 4; i++) {
    const at = text.indexOf('\n', (text.length >> 1) + i * 50);
    text = text.slice(0, at) + ' ' + text.slice(at);
    analyzePython(WARMUP_KEY, text, ctx);
  }
  forgetPython(WARMUP_KEY);
  return true;
}
