/** Documentation of the Hub rules (HUB001–HUB004) and the remote-scan finding codes (HUB010, HUB011). */
import type { RuleMeta } from '../rules/registry';

export const hubRules: RuleMeta[] = [
  {
    code: 'HUB001',
    name: 'pickle-only-weights',
    category: 'hub',
    summary: 'The referenced Hub repo offers its weights only in pickle-based formats (no .safetensors file).',
    why: 'Pickle-based weights (`pytorch_model.bin`, `.pt`, `.ckpt`, `.pkl`, `.joblib`) can execute arbitrary code when they are loaded. '
      + 'A repo that also publishes SafeTensors lets you load plain tensors instead; a repo that only has pickles leaves you no safe option '
      + 'except scanning the files first. Needs online features (the file list comes from the Hub).',
    example: '```python\nfrom transformers import AutoModel\nmodel = AutoModel.from_pretrained("some-org/legacy-model")  # repo has only pytorch_model.bin\n```',
    fix: 'Prefer a repo (or a revision) that publishes `.safetensors` weights, or convert the weights yourself in an isolated environment and load the converted files. '
      + 'Before loading, run *ModelVet: Scan Hugging Face Repository…* (or `modelvet scan hf://org/name@revision`) and pin the scanned commit.',
    references: ['CVE-2025-32434 (torch.load weights_only bypass)', 'Hugging Face: Pickle scanning documentation', 'SafeTensors format specification'],
    defaultSeverity: 'warning',
  },
  {
    code: 'HUB002',
    name: 'revision-not-a-commit',
    category: 'hub',
    summary: 'The `revision=` of a Hub reference is a branch or tag name, not a 40-hex commit.',
    why: 'Branches and tags move: whoever controls the repo (or its compromised account) can push new weights or new remote code under the same name, '
      + 'and your code silently loads them next time. Only a full commit hash is immutable. Needs online features: reported once the Hub confirms '
      + 'that the name is a branch or tag, together with the commit it points to now (offline, LOAD005 reports moving revisions).',
    example: '```python\nmodel = AutoModel.from_pretrained("org/name", revision="main")\n```',
    fix: 'Replace the revision with the 40-hex commit you reviewed. The quick-fix replaces the branch or tag with the commit it currently points to on the Hub.',
    references: ['OpenSSF Scorecard: Pinned-Dependencies', 'Hugging Face Hub: revisions'],
    defaultSeverity: 'warning',
  },
  {
    code: 'HUB003',
    name: 'repo-not-found',
    category: 'hub',
    summary: 'The referenced Hub repo does not exist (the Hub answered 404).',
    why: 'A missing repo breaks the code, and worse: a deleted or renamed namespace can be re-registered by someone else, '
      + 'who then serves their own files under the name your code trusts ("namespace reuse"). Gated or private repos (401/403) are not reported. Needs online features.',
    example: '```python\nmodel = AutoModel.from_pretrained("renamed-org/model")\n```',
    fix: 'Check the name. If the repo moved, reference the new owner; pin a commit and keep a mirror of the files you depend on so that a re-registered namespace cannot serve you different weights.',
    references: ['Palo Alto Unit 42: Model Namespace Reuse (2025)'],
    defaultSeverity: 'warning',
  },
  {
    code: 'HUB004',
    name: 'owner-typosquat',
    category: 'hub',
    summary: 'The owner of a Hub repo id looks like a typo of a popular organization.',
    why: 'Attackers register look-alike organizations (one letter off, swapped letters, `0` for `o`, `rn` for `m`) and upload malicious copies of popular models. '
      + 'A typo in a `from_pretrained` call then loads the attacker\'s files. Works offline: compared against a curated list of popular organizations.',
    example: '```python\nmodel = AutoModel.from_pretrained("meta-lama/Llama-3.1-8B")\n```',
    fix: 'Correct the owner name to the organization you meant. If the look-alike owner is really the one you want, suppress the finding on that line with a comment explaining why.',
    references: ['JFrog: Malicious ML models on Hugging Face (2024)', 'Typosquatting on model hubs (Protect AI, 2024)'],
    defaultSeverity: 'warning',
  },
  {
    code: 'HUB010',
    name: 'hub-file-hash-mismatch',
    category: 'scan',
    summary: 'A file downloaded from the Hub does not match the hash the Hub lists for it (LFS sha256 or git blob id).',
    why: 'The Hub publishes the sha256 of every LFS file and the git object id of every small file. A download that does not match was altered on the way '
      + '(proxy, mirror, cache poisoning) or the listing and the content disagree: the bytes you would load are not the ones the repo records.',
    example: '```text\nmodelvet scan hf://org/name@<commit>\nHUB010 pytorch_model.bin: sha256 3f… does not match the Hub\'s LFS oid 9a…\n```',
    fix: 'Do not use the file. Download again from the official endpoint without intermediate caches, compare hashes, and report persistent mismatches to the repo owner and the Hub.',
    references: ['Git LFS specification: pointer files (oid sha256)'],
    defaultSeverity: 'error',
  },
  {
    code: 'HUB011',
    name: 'hub-file-not-scanned',
    category: 'scan',
    summary: 'A Hub file was not downloaded or not fully read (size cap, header limit, download error), so it could not be scanned.',
    why: 'A file that was not scanned is not known to be safe. The remote scan caps its cache size and header reads so that a hostile repo cannot fill the disk.',
    example: '```text\nmodelvet scan hf://org/huge-model\nHUB011 model.bin: not downloaded: would exceed the scan cache cap (10 GiB)\n```',
    fix: 'Raise the cache cap, free disk space, or download the file yourself and scan it locally with `modelvet scan PATH`.',
    references: [],
    defaultSeverity: 'warning',
  },
];
