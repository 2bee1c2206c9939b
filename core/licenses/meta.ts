/** Documentation of the LIC rules (no analysis code: `modelvet rules` loads only this). */
import type { RuleMeta } from '../rules/registry';

export const licenseRules: RuleMeta[] = [
  {
    code: 'LIC001', name: 'denied-license', category: 'license', defaultSeverity: 'error',
    summary: 'A dependency, model or dataset whose license the project\'s license policy denies, or that is not on its allow list.',
    why: 'A license policy is how a team writes down what it may ship: an AGPL dependency in a hosted product, a `cc-by-nc-4.0` model in a paid app or a Llama-licensed model where the legal review has not cleared it are findings a compliance reviewer asks about. ModelVet checks the same table it prints with `modelvet licenses`, offline; in the editor and in `modelvet check` it also reports it on the manifest line (requirements, pyproject.toml, Pipfile, environment.yml) that declares a dependency installed in the project\'s environment, and on a model card\'s `license`.',
    example: '```toml\n[tool.modelvet]\nlicenses = { deny = ["AGPL-3.0-only", "cc-by-nc-4.0"], allow = [] }\n```\nA model card with `license: cc-by-nc-4.0` or an installed package with `License-Expression: AGPL-3.0-only` is reported.',
    fix: 'Replace the dependency or model, obtain a license exception and add the id to `allow`, or change the policy (`modelvet.licenses.allow` / `deny`, or `[tool.modelvet] licenses`). Entries are SPDX ids (`GPL-2.0+` ranges work), SPDX expressions, or Hub license ids such as `llama3` or `openrail`. An expression is denied only when every way to comply with it needs a denied license (`MIT OR GPL-3.0-only` passes a GPL deny).',
    references: ['SPDX License List', 'SPDX specification: license expressions (Annex D)', 'Hugging Face Hub documentation: Licenses'],
    equivalents: ['liccheck (authorized / unauthorized packages)', 'Trivy license scanning (license policy)'],
  },
  {
    code: 'LIC002', name: 'unknown-license', category: 'license', defaultSeverity: 'warning',
    summary: 'A model or dataset with no license in its card, or a dependency whose metadata names no recognizable license.',
    why: 'No license means no permission: a model card without `license:` or a package whose `License` field is empty or `UNKNOWN` cannot be cleared for use. Unrecognized free text (a whole license file pasted into `License:`) needs a human to read it. Dependencies are reported as information, models and datasets as warnings.',
    example: '```yaml\n---\nlibrary_name: transformers\n---\n```\nA model card without a `license:` key; or `License: UNKNOWN` in a package\'s METADATA.',
    fix: 'Add `license:` to the card (an SPDX id such as `apache-2.0`, or a Hub id such as `llama3.1`; for `other`, add `license_name` and `license_link`: the custom license then goes by its `license_name` in the table, the BOM and the policy, and an allow-list entry with that name marks it as reviewed). For a dependency, check its repository and record the decision in the policy.',
    references: ['Hugging Face Hub documentation: Model Cards, card metadata', 'Python core metadata specification: License-Expression (PEP 639)'],
    equivalents: ['pip-licenses (UNKNOWN rows)'],
  },
  {
    code: 'LIC003', name: 'noncommercial-in-application', category: 'license', defaultSeverity: 'warning',
    summary: 'A model or dataset under a non-commercial license (cc-by-nc-*, research-only licenses) in a project declared as an application.',
    why: 'Non-commercial licenses (`cc-by-nc-4.0`, `cc-by-nc-sa-4.0`, `deepfloyd-if-license`, `fair-noncommercial-research-license`, …) forbid the use most applications are built for. The rule runs when the project declares `projectKind = "application"` (setting `modelvet.projectKind`, or `project-kind` in `[tool.modelvet]`).',
    example: '```yaml\n---\nlicense: cc-by-nc-4.0\n---\n```\nin a model folder of a project with `[tool.modelvet] project-kind = "application"`.',
    fix: 'Use a model or dataset with a license that allows commercial use, or get a commercial license from the rights holder and record it in `licenses.allow`.',
    references: ['Creative Commons Attribution-NonCommercial 4.0 (CC BY-NC 4.0) legal code', 'Hugging Face Hub documentation: Licenses'],
  },
  {
    code: 'LIC004', name: 'copyleft-in-library', category: 'license', defaultSeverity: 'warning',
    summary: 'A strong-copyleft dependency (GPL, AGPL, …) in a project that is a library.',
    why: 'A library is combined into other people\'s programs: a GPL or AGPL dependency imposes its terms on every downstream user, which most library users do not expect. Weak copyleft (LGPL, MPL) is not reported. The project is a library when `projectKind` says so or, with `auto`, when its pyproject.toml has a `[build-system]` and a `[project]` name. Reported by `modelvet licenses`, and in the editor and `modelvet check` on the manifest line that declares an installed copyleft dependency.',
    example: 'An installed dependency with `Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)` in a project with a `[build-system]` and `[project] name = "mylib"`.',
    fix: 'Replace the dependency, make it optional (an extra), or choose a compatible license for the library.',
    references: ['GNU GPL FAQ: If a library is released under the GPL, does that mean that any software which uses it has to be under the GPL?'],
  },
  {
    code: 'LIC005', name: 'license-changed', category: 'license', defaultSeverity: 'warning',
    summary: 'A dependency whose newest release has another license than the locked or pinned version (online: `modelvet licenses --online`, and in the editor with `modelvet.online.enabled` in a trusted workspace).',
    why: 'Projects relicense (Elasticsearch, Redis, HashiCorp tools, several ML libraries): the next routine upgrade would bring new terms with it. Comparing the locked version\'s METADATA with the newest release\'s, both from the package index, catches this before the upgrade.',
    example: 'uv.lock pins `somelib==1.4.0` (`License-Expression: Apache-2.0`); the index\'s newest release 2.0.0 says `BUSL-1.1`.',
    fix: 'Review the new license before upgrading; pin below the change or replace the dependency if it is not acceptable. Only runs with online features on: `modelvet licenses --online` (the index from `--index-url`, `PIP_INDEX_URL` or pip.conf), or the editor with `modelvet.online.enabled` in a trusted workspace (the index from `modelvet.online.indexUrl`, else `PIP_INDEX_URL` or pip.conf). The editor reports it on the requirements / pyproject / Pipfile / environment.yml line of a dependency with a version (the line\'s `==` pin, else the lockfile\'s, else the installed one): diagnostics never wait for the index; the lookup runs in the background and the diagnostics refresh when it answers. Metadata comes through the PEP 691 JSON API and PEP 658/714 `.metadata` files, cached for a day; `modelvet check` stays offline and does not report it.',
    references: ['PEP 691: JSON-based Simple API', 'PEP 658 / PEP 714: serving distribution metadata in the Simple API', 'Python core metadata specification: License-Expression (PEP 639)'],
  },
];
