/**
 * OpenSSF Model Signing (OMS v1.0) for ModelVet: manifests (file/shard hashing), signing and
 * verification of Sigstore bundles, interoperable with `model_signing` 1.x.
 *
 * For other code (AI-BOM, provenance): `computeManifest(folder, opts)` gives the OMS root digest
 * (`manifest.rootDigest`, hex; `omsDigest()` formats `sha256:<hex>`) and per-file digests
 * (`manifest.files[].digest`, SHA-256 hex by default: equal to a Hugging Face LFS oid).
 */
export { computeManifest, rootDigestOf, parseShardName, shardName } from './manifest';
export type { Manifest, ManifestFile, ManifestOptions, Resource, Serialization, SerializationMethod } from './manifest';
export { HASH_TYPES, defaultJobs } from './hashing';
export type { HashType } from './hashing';
export { SigningError } from './errors';
export { GIT_PATHS, unsafeNameReason } from './paths';

/** `sha256:<hex>`: how attestations name a model by its OMS root digest. */
export function omsDigest(m: { rootDigest: string }): string { return `sha256:${m.rootDigest}`; }
