/**
 * OpenSSF Model Signing (OMS v1.0) for ModelVet: manifests (file/shard hashing), signing and
 * verification of Sigstore bundles, interoperable with `model_signing` 1.x.
 *
 * For other code (AI-BOM, provenance): `computeManifest(folder, opts)` gives the OMS root digest
 * (`manifest.rootDigest`, hex; `omsDigest()` formats `sha256:<hex>`) and per-file digests
 * (`manifest.files[].digest`, SHA-256 hex by default: equal to a Hugging Face LFS oid).
 */
export { computeManifest, rootDigestOf, parseShardName, shardName, MemoryDigestCache } from './manifest';
export type { DigestCache, Manifest, ManifestFile, ManifestOptions, Resource, Serialization, SerializationMethod } from './manifest';
export { HASH_TYPES, defaultJobs } from './hashing';
export type { HashType } from './hashing';
export { SigningError } from './errors';
export { GIT_PATHS, unsafeNameReason } from './paths';

/** `sha256:<hex>`: how attestations name a model by its OMS root digest. */
export function omsDigest(m: { rootDigest: string }): string { return `sha256:${m.rootDigest}`; }
export { signModel, buildBundle, writeFileAtomic } from './sign';
export type { SignOptions, SignResult } from './sign';
export { verifyModel, parseBundle, defaultSignaturePath } from './verify';
export type { VerifyOptions, VerifyReport, VerifyFailure, SignatureMethod } from './verify';
export { loadPrivateKey, loadPublicKey, generateKeyPair, keyHint, CURVES } from './keys';
export type { Curve } from './keys';
export { loadCertificates, verifyChain } from './x509';
export { pae } from './dsse';
export { checkStatement, statementFor, BUNDLE_MEDIA_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './statement';
