/**
 * Named limits for everything the signing code reads from outside: model folders, signature bundles,
 * certificates. Hitting one is an explicit failure (never "verified", never a hang).
 */
/** Largest signature bundle (model.sig) read, in bytes. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** Largest decoded DSSE payload (the in-toto statement), in bytes. */
export const MAX_PAYLOAD_BYTES = 48 * 1024 * 1024;
/** Most resources (files or shards) in one manifest, on sign and on verify. */
export const MAX_RESOURCES = 500_000;
/** Deepest directory nesting walked below the model root. */
export const MAX_WALK_DEPTH = 64;
/** Longest resource name (UTF-8 bytes). */
export const MAX_NAME_BYTES = 4096;
/** Most certificates in a bundle chain or a --certificate-chain file. */
export const MAX_CHAIN_CERTS = 10;
/** Largest key / certificate / trusted-root file read. */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;
/** Most entries in ignore_paths. */
export const MAX_IGNORE_PATHS = 10_000;
/** Smallest and largest shard size accepted for the shards method. */
export const MIN_SHARD_SIZE = 4096;
export const MAX_SHARD_SIZE = 2 ** 50;
/** Default shard size of the shards method (the spec's and model_signing's). */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;
/** Read size of the hashing loop (double-buffered). */
export const HASH_CHUNK_BYTES = 1024 * 1024;
/** Most hashing worker threads. */
export const MAX_JOBS = 32;
/** Models up to this many bytes in total are hashed on the calling thread (a worker costs more to start). */
export const INLINE_HASH_MAX_BYTES = 16 * 1024 * 1024;
