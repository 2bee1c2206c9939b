/** Documentation of the CARD rules (no analysis code: `modelvet rules` loads only this). */
import type { RuleMeta } from '../rules/registry';
import type { Severity } from '../types';

export const cardRules: RuleMeta[] = [
  rule('CARD001', 'missing-front-matter', 'warning', 'A model card (README.md of a model folder) without YAML front matter.',
    'The front matter (`---` block at the top) is the machine-readable part of a model card: the license, base model, training datasets and evaluation results that the Hub, `huggingface_hub.ModelCard`, ModelVet\'s AI-BOM and any auditor read. Without it none of that is recorded.',
    '```markdown\n# My model\nFine-tuned on our data.\n```',
    'Quick-fix: **Insert model-card front matter** adds a `---` block with `license`, `datasets`, `base_model` (from an adapter config) and `library_name` (from the files) for you to fill in.'),
  rule('CARD002', 'invalid-front-matter', 'warning', 'The model card\'s front matter is not valid YAML, not a mapping, unterminated or over a size limit.',
    'A broken block is ignored by every reader, so the card effectively has no metadata; ModelVet reports where the YAML parser stopped instead of guessing.',
    '```markdown\n---\nlicense: [apache-2.0\n---\n```',
    'Fix the YAML at the reported position (close the list, quote values with `:`), and close the block with `---`.'),
  rule('CARD003', 'missing-license', 'warning', 'A model card without `license` (or `license: other` without `license_name` / `license_link`).',
    'No license means no permission to use the model; `other` without a name and link tells nobody which terms apply. The license also feeds the LIC rules and the AI-BOM.',
    '```yaml\n---\nlibrary_name: transformers\n---\n```',
    'Add `license:` with an SPDX id (`apache-2.0`, `mit`) or a Hub license id (`llama3.1`, `gemma`, `openrail`). Quick-fix: inserts the missing keys into the front matter.'),
  rule('CARD004', 'missing-base-model', 'warning', 'A fine-tune or adapter whose card does not name its `base_model`.',
    'An adapter (`adapter_config.json` with `base_model_name_or_path`) only works on top of its base model, and a fine-tune (a `config.json` whose `base_model` / `base_model_name_or_path` names one, or whose `_name_or_path` — the id transformers records when a model is loaded — is another Hub model than this one) inherits its base\'s license and risks; the card should say which one, so lineage can be traced. The AI-BOM records the dependency either way (with `modelvet:base-model:source` when only the files name it). A `_name_or_path` that is a local path (`outputs/…`, `checkpoint-…`, an absolute path) or the model\'s own id is not a base.',
    'A folder with `adapter_config.json` naming `meta-llama/Llama-3.1-8B`, or a `config.json` with `"_name_or_path": "meta-llama/Llama-3.1-8B"` in a folder `my-chat-model`, and a card without `base_model:`.',
    'Quick-fix: inserts `base_model:` with the value from the adapter config or config.json.'),
  rule('CARD005', 'missing-datasets', 'information', 'A model card that names no training `datasets`.',
    'Training data decides what a model knows, which licenses and privacy obligations it carries, and whether it may be poisoned; a card that does not say cannot be audited.',
    '```yaml\n---\nlicense: apache-2.0\n---\n```',
    'Add `datasets:` with the Hub ids (or names) of the training data. Quick-fix: inserts the key.'),
  rule('CARD006', 'missing-card-sections', 'information', 'A model card without sections on intended use, out-of-scope use, limitations, or bias and risks.',
    'These are the sections of the model-card template that tell a user what the model is for and where it fails; regulators and reviewers ask for exactly these.',
    'A card whose headings are only "Usage" and "Training".',
    'Add the missing sections (any heading mentioning "Intended use", "Out-of-scope", "Limitations", "Bias"/"Risks" counts). Quick-fix: appends the headings.'),
  rule('CARD007', 'metrics-without-dataset', 'warning', 'Evaluation results (`model-index` metrics, or `metrics:`) claimed without the dataset they were measured on.',
    'A number without its evaluation dataset cannot be checked or compared, and is a common way to overstate a model.',
    '```yaml\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n    metrics:\n    - {type: accuracy, value: 0.99}\n```',
    'Add `dataset: {type: …, name: …}` to each result (and `datasets:` for top-level `metrics:`).'),
  rule('CARD008', 'card-format-mismatch', 'warning', 'The card\'s `library_name` or tags claim a format the folder does not contain (card says safetensors, folder has only `.bin`).',
    'A card that promises SafeTensors while the folder ships pickle-based `.bin` files misleads users into treating unsafe files as safe; other mismatches (a `peft` card without an adapter config) point at a card copied from another repository.',
    '```yaml\n---\ntags: [safetensors]\n---\n```\nnext to only `pytorch_model.bin`.',
    'Ship the claimed files (convert with `modelvet convert`) or correct the card.'),
  rule('CARD009', 'base-model-lookalike', 'warning', 'A card `base_model` whose owner imitates a popular Hub organization (same index as HUB004).',
    'A fine-tune "based on" `meta-lIama/…` or `mistral-ai/…` borrows a trusted name; either the card is wrong or the base model came from an impostor.',
    '```yaml\nbase_model: meta-lllama/Llama-3.1-8B\n```',
    'Check the base model\'s real owner and correct `base_model`.'),
];

function rule(code: string, name: string, defaultSeverity: Severity, summary: string, why: string, example: string, fix: string): RuleMeta {
  return { code, name, category: 'card', defaultSeverity, summary, why, example, fix, references: ['Hugging Face Hub documentation: Model Cards (card metadata and template)', 'Mitchell et al., Model Cards for Model Reporting (2019)'] };
}
