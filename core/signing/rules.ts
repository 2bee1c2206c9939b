/** Documentation of the model-signing codes (SIG001, SIG002): OpenSSF Model Signing in the editor. */
import type { RuleMeta } from '../rules/registry';

export const signingRules: RuleMeta[] = [
  {
    code: 'SIG001',
    name: 'model-signature-invalid',
    category: 'signing',
    summary: 'A `model.sig` in the workspace does not verify with the configured key or CA: the message names the failed check or the changed, missing and unsigned files.',
    why: 'An OpenSSF Model Signing (OMS) signature is only worth something if it is checked. A model folder whose files changed after signing '
      + '(a swapped weight file, an added `.py` that `trust_remote_code` would import, a removed tokenizer file) or whose signature was made by '
      + 'another key or a certificate that does not chain to your CA must not be loaded as "the signed model". ModelVet re-hashes every file '
      + 'the signature lists (in worker threads) and checks the bundle, the DSSE signature, the statement and the certificate chain '
      + '(validity, key usage, code-signing EKU). Reported only when `modelvet.signing.publicKey` or `modelvet.signing.certificateChain` is set; '
      + 'in Restricted Mode only your user settings count, so a repository cannot choose the key it is checked against.',
    example: '```text\nmodels/bert/model.sig  SIG001 Model signature does not verify: changed: model.safetensors; unsigned: extra.py\n```',
    fix: 'Find out why the files changed. If the change is intended, sign again (*ModelVet: Sign Model Folder…* or '
      + '`modelvet sign models/bert --key KEY.pem --force`); if not, restore the files from the source you trust. '
      + '`modelvet verify models/bert --key PUBLIC.pem` prints the same report in a terminal (exit code 1).',
    references: ['OpenSSF Model Signing specification v1.0', 'sigstore/model-transparency (model_signing)', 'DSSE: Dead Simple Signing Envelope', 'in-toto Statement v1'],
    defaultSeverity: 'error',
  },
  {
    code: 'SIG002',
    name: 'model-unsigned',
    category: 'signing',
    summary: 'A model folder in the workspace has no `model.sig` that verifies (with `modelvet.signing.requireSignature` on).',
    why: 'Teams that sign every model they publish or accept can make the editor insist on it: a model folder without a valid signature is '
      + 'either unreviewed or changed since review. Off by default.',
    example: '```text\nmodels/llama/config.json  SIG002 Model folder models/llama has no model.sig that verifies\n```',
    fix: 'Sign the folder (*ModelVet: Sign Model Folder…*, `modelvet sign`) or obtain the publisher\'s signature and key, then verify it.',
    references: ['OpenSSF Model Signing specification v1.0'],
    defaultSeverity: 'warning',
    optIn: true,
  },
];
