/** Documentation for the code rules (LOAD000–LOAD008); `modelvet rules` and docs/rules/ render it. */
import type { RuleMeta } from '../rules/registry';

const py = (s: string) => '```python\n' + s.trim() + '\n```';

export const codeRuleMeta: RuleMeta[] = [
  {
    code: 'LOAD000', name: 'analysis-incomplete', category: 'code', defaultSeverity: 'information',
    summary: 'A Python file or notebook could not be analysed completely (too large, parse timed out).',
    why: 'ModelVet never reports a file it could not read as safe. When a named limit is hit (file size, parse time) the file gets this finding instead of silently passing; findings before the limit are still reported.',
    example: 'A generated 20 MB Python module.',
    fix: 'Exclude generated files from the check, or split the file. Nothing is wrong with the code itself.',
    references: [],
  },
  {
    code: 'LOAD001', name: 'torch-load-unsafe', category: 'code', defaultSeverity: 'warning',
    summary: '`torch.load` / `torch.serialization.load` without `weights_only=True` unpickles the checkpoint.',
    why: [
      '`torch.load` uses pickle unless `weights_only=True`: a checkpoint from an untrusted source can run arbitrary code the moment it is loaded.',
      '- Explicit `weights_only=False` is an **error**.',
      '- No `weights_only` is a **warning**; it drops to **information** when the workspace requires torch >= 2.6 (where the default became `True`), since older installs are still unsafe.',
      '- A computed `weights_only` or `**kwargs` is a warning ("cannot tell"): ModelVet never guesses non-literal arguments.',
      '- When the path comes from a download (`hf_hub_download`, `urlretrieve`, …) in the same function or notebook, the severity is raised one step.',
      '`torch.jit.load` (TorchScript archives) is deliberately **not** this rule.',
    ].join('\n'),
    example: py(`
import torch
state = torch.load("model.pt")                      # LOAD001 warning
state = torch.load("model.pt", weights_only=False)  # LOAD001 error
state = torch.load("model.pt", weights_only=True)   # ok
`),
    fix: 'Quick-fixes: **Add `weights_only=True`** (preferred; handles trailing commas and multi-line calls), or **Switch to SafeTensors**: `safetensors.torch.load_file(...)` (adds `import safetensors.torch`, and uses the `.safetensors` sibling name for a literal `.pt/.pth/.bin/.ckpt` path; when that checkpoint exists in the workspace the finding carries `data.convertFrom` so the editor can offer conversion).',
    references: ['CVE-2025-32434 (torch.load weights_only bypass, fixed in torch 2.6.0)', 'PyTorch docs: torch.load, "weights_only"'],
    equivalents: ['Bandit B614 (pytorch_load)', 'Semgrep trailofbits.python.pickles-in-pytorch'],
  },
  {
    code: 'LOAD002', name: 'pickle-deserialization', category: 'code', defaultSeverity: 'warning',
    summary: 'pickle-family deserialization (pickle, dill, cloudpickle, joblib, shelve, jsonpickle, pandas.read_pickle, marshal, mlflow load_model, skops with trusted types).',
    why: 'Every one of these APIs rebuilds arbitrary Python objects (or code objects, for marshal) from the input: `__reduce__` lets a file call any function, e.g. `os.system`. Covered: `pickle`/`cPickle`/`_pickle` `load`/`loads`/`Unpickler`, `dill`, `cloudpickle`, `shelve.open`, `jsonpickle.decode`, `pandas.read_pickle`, `joblib.load`, `marshal.load(s)`, `mlflow.<flavor>.load_model` (pickle underneath for most flavors) and `skops.io.load(..., trusted=...)` when anything is trusted (`True` or a non-empty list; a computed list is reported as "cannot tell"). Raised one step when the input comes from a download.',
    example: py(`
import joblib, pickle
model = joblib.load("model.joblib")          # LOAD002
obj = pickle.loads(blob)                     # LOAD002
`),
    fix: 'Store weights in SafeTensors, tabular data in Parquet/CSV, configs in JSON. For scikit-learn, `skops.io.load` with `trusted=None` after reviewing `skops.io.get_untrusted_types`. Only unpickle files you produced yourself and verify a hash first.',
    references: ['Python docs: pickle — "Warning: The pickle module is not secure"', 'Trail of Bits, "Never a dill moment: Exploiting machine learning pickle files" (2021)'],
    equivalents: ['Bandit B301 (pickle), B302 (marshal), B403', 'Ruff S301, S302', 'Semgrep trailofbits.python.pickles-in-pandas, scikit-joblib-load'],
  },
  {
    code: 'LOAD003', name: 'numpy-allow-pickle', category: 'code', defaultSeverity: 'warning',
    summary: '`numpy.load(..., allow_pickle=True)` unpickles object arrays.',
    why: 'With `allow_pickle=True`, `.npy`/`.npz` files may contain pickled object arrays, and loading them runs pickle with all its code-execution risks. The default has been `False` since NumPy 1.16.3 (CVE-2019-6446). A computed `allow_pickle` is reported as "cannot tell".',
    example: py(`
import numpy as np
arr = np.load("features.npy", allow_pickle=True)   # LOAD003
`),
    fix: 'Quick-fix: **Set `allow_pickle=False`** (preferred). Save plain numeric arrays instead of object arrays.',
    references: ['CVE-2019-6446 (numpy.load default allow_pickle)'],
    equivalents: ['Semgrep trailofbits.python.pickles-in-numpy'],
  },
  {
    code: 'LOAD004', name: 'remote-code', category: 'code', defaultSeverity: 'warning',
    summary: '`trust_remote_code=True` (any call) or `torch.hub.load`: runs Python code fetched from a repository.',
    why: '`trust_remote_code=True` makes transformers/datasets import Python files from the model or dataset repository; `torch.hub.load` imports the repository\'s `hubconf.py`. Whoever controls the repository (or a later commit of it) runs code on your machine. Only literal `True` is reported.',
    example: py(`
from transformers import AutoModel
m = AutoModel.from_pretrained("org/model", trust_remote_code=True)   # LOAD004
`),
    fix: 'Prefer architectures supported natively by the library. If remote code is required, review it and pin `revision="<commit sha>"` (see LOAD005) so the reviewed code is the code that runs. The quick-fix sets `trust_remote_code=False` (not preferred: the model may then fail to load).',
    references: ['Hugging Face transformers docs: "trust_remote_code"', 'PyTorch docs: torch.hub.load'],
    equivalents: ['none in Bandit/Ruff (gap)'],
  },
  {
    code: 'LOAD005', name: 'hub-unpinned-revision', category: 'code', defaultSeverity: 'warning',
    summary: 'A Hugging Face Hub download without an immutable `revision` (commit SHA).',
    why: 'Branches and tags on the Hub move: a repository owner (or an attacker with their token) can replace weights, configs or remote code after you reviewed them. Only a commit SHA (7–40 hex characters) pins the content. Recognised: `from_pretrained` on transformers/diffusers/peft/sentence-transformers classes (or names ending in an `Auto*`/`*Pipeline` class), `pipeline(model=...)`, `hf_hub_download`, `snapshot_download`, `load_dataset`, `SentenceTransformer(...)`, `timm.create_model("hf-hub:...")` — only when the repo id is a string literal that is not a local path. The finding carries `data: { repoId, revision?, kind }`.',
    example: py(`
from transformers import AutoModel
m = AutoModel.from_pretrained("org/model")                              # LOAD005
m = AutoModel.from_pretrained("org/model", revision="0123456789abcdef0123456789abcdef01234567")  # ok
`),
    fix: 'Quick-fix: **Pin `revision="<sha>"`** — offline, the SHA comes from the local Hub cache (`$HF_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`, file `models--org--name/refs/main`); otherwise the editor resolves the current commit online when you pick the fix.',
    references: ['Bandit B615 (huggingface_unsafe_download)', 'huggingface_hub docs: "revision" parameter'],
    equivalents: ['Bandit B615'],
  },
  {
    code: 'LOAD006', name: 'hub-pickle-weights', category: 'code', defaultSeverity: 'warning',
    summary: 'Pickle-format weights requested from the Hub: `use_safetensors=False`, or `hf_hub_download` of a .bin/.pt/.pth/.pkl/.ckpt/.joblib/.npy file.',
    why: 'Pickle-format weight files run code when loaded. Most Hub models also publish `.safetensors` weights, which are plain tensors and cannot execute anything.',
    example: py(`
from huggingface_hub import hf_hub_download
p = hf_hub_download("org/model", filename="pytorch_model.bin")   # LOAD006
`),
    fix: 'Quick-fixes: **Set `use_safetensors=True`**, or download the `.safetensors` file instead (`pytorch_model.bin` → `model.safetensors`; check that the repository has it).',
    references: ['Hugging Face docs: "Safetensors"'],
    equivalents: ['none in Bandit/Ruff (gap)'],
  },
  {
    code: 'LOAD007', name: 'keras-unsafe-deserialization', category: 'code', defaultSeverity: 'error',
    summary: 'Keras unsafe deserialization: `load_model(..., safe_mode=False)`, `enable_unsafe_deserialization()`, legacy `.h5` loads with `custom_objects`.',
    why: 'Keras Lambda layers store Python bytecode. `safe_mode=True` (the default in Keras 3) refuses to deserialize them; turning it off, or enabling unsafe deserialization globally, lets a model file run code. Legacy HDF5 files are outside safe_mode\'s protection.',
    example: py(`
import keras
m = keras.models.load_model("model.keras", safe_mode=False)   # LOAD007
`),
    fix: 'Quick-fix: **Set `safe_mode=True`**. Re-save legacy `.h5` models in the `.keras` format from a trusted environment and avoid Lambda layers.',
    references: ['CVE-2024-3660 (Keras Lambda layer code injection)', 'CVE-2025-1550 (Keras safe_mode bypass)'],
    equivalents: ['Semgrep trailofbits.python.pickles-in-keras (related)'],
  },
  {
    code: 'LOAD008', name: 'unsafe-yaml-or-eval', category: 'code', defaultSeverity: 'error',
    summary: '`yaml.load` without a safe Loader, `yaml.unsafe_load`, `yaml.full_load`, or `eval`/`exec` of text read from a file.',
    why: [
      'PyYAML\'s `Loader`/`UnsafeLoader` construct arbitrary Python objects (`!!python/object/apply:os.system`). `yaml.load` without `Loader=SafeLoader`/`CSafeLoader`/`BaseLoader` is an error; `yaml.unsafe_load` is an error.',
      '**Choice for `yaml.full_load` / `Loader=FullLoader`:** reported as a warning (information when the workspace requires PyYAML >= 5.4): FullLoader could run code before 5.4 (CVE-2020-1747, CVE-2020-14343) and is never needed for configuration data.',
      '`eval`/`exec` of text read from a file (`open(p).read()`, `Path(p).read_text()`, or a variable assigned from such a read or from `json.load` in the same function) executes the file: a config or model card becomes code.',
    ].join('\n\n'),
    example: py(`
import yaml
cfg = yaml.load(open("config.yaml"))            # LOAD008
exec(open("model_card.py").read())               # LOAD008
`),
    fix: 'Quick-fix: **Use `yaml.safe_load`** (preferred). Replace `eval` of data with `json.loads` or `ast.literal_eval`.',
    references: ['CVE-2017-18342 (PyYAML yaml.load)', 'CVE-2020-14343 (PyYAML FullLoader)'],
    equivalents: ['Bandit B506 (yaml_load), B307 (eval), B102 (exec)', 'Ruff S506, S307, S102'],
  },
];
