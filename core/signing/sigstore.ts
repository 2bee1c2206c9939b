/**
 * Keyless (Sigstore) bundles, verified OFFLINE with @sigstore/verify against a trusted root: the bundled
 * public-good one (trustedRoot.ts, from @sigstore/tuf) or one the user supplies (`--trusted-root ROOT.json`,
 * the Sigstore TrustedRoot JSON, e.g. for a private instance): Fulcio chain, SCTs,
 * transparency-log inclusion (promise/proof), timestamps, the DSSE signature and the identity policy.
 * Nothing is fetched: no TUF update, no Rekor lookup.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';

export { bundledTrustedRoot, describeTrustedRoot } from './trustedRoot';
export type { TrustedRootInfo } from './trustedRoot';

export interface SigstorePolicy { identity: string; issuer: string }

export interface SigstoreOutcome { ok: boolean; reason?: string; identity?: string; issuer?: string }

/** Verifies the whole bundle (including the DSSE signature) against `trustedRoot` and the policy. */
export function verifySigstoreBundle(bundleJson: unknown, trustedRootJson: unknown, policy: SigstorePolicy): SigstoreOutcome {
  let bundle;
  try { bundle = bundleFromJSON(bundleJson); } catch (e) { return { ok: false, reason: `not a valid Sigstore bundle: ${(e as Error).message}` }; }
  let trust;
  try { trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRootJson)); } catch (e) { return { ok: false, reason: `trusted root is not a Sigstore TrustedRoot: ${(e as Error).message}` }; }
  try {
    const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
    const signer = verifier.verify(toSignedEntity(bundle), { subjectAlternativeName: policy.identity, extensions: { issuer: policy.issuer } });
    return { ok: true, identity: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, reason: `${err.code ? err.code + ': ' : ''}${err.message}` };
  }
}
