/**
 * The in-toto Statement v1 that OMS signs, and the Sigstore bundle v0.3 around it: what ModelVet writes
 * (the spec's form, structured exactly like `model_signing` 1.x output) and the strict reading of what
 * either tool wrote (accepting `model_signing`'s known quirks).
 */
import { DIGEST_HEX_LENGTH, HASH_TYPES, type HashType } from './hashing';
import { MAX_IGNORE_PATHS, MAX_RESOURCES, MAX_SHARD_SIZE } from './limits';
import { parseShardName, rootDigestOf, type Manifest, type Resource, type Serialization } from './manifest';
import { unsafeNameReason } from './paths';
import { SigningError } from './errors';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const BUNDLE_MEDIA_TYPES_ACCEPTED = [BUNDLE_MEDIA_TYPE, 'application/vnd.dev.sigstore.bundle+json;version=0.3'];
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
export const LEGACY_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';

export interface Statement {
  _type: string;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: { serialization: Serialization; resources: Resource[] };
}

/** The statement ModelVet signs for a manifest (key order as model_signing's usual output). */
export function statementFor(m: Manifest): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: m.modelName, digest: { sha256: m.rootDigest } }],
    predicateType: PREDICATE_TYPE,
    predicate: { serialization: m.serialization, resources: m.resources },
  };
}

/** What a checked statement says about the model. */
export interface SignedManifest {
  modelName: string;
  rootDigest: string;
  serialization: Serialization;
  hashType: HashType;
  /** Listed resources (bundle order). */
  resources: Resource[];
  /** Distinct file names the resources cover. */
  files: string[];
  /** The pre-1.0 format (`https://model_signing/Digests/v0.1`): files as subjects, no root digest signed. */
  legacy?: boolean;
}

/**
 * The format model_signing 0.2 wrote and 1.x still verifies: every file is a subject with its sha256, no
 * predicate, no serialization (files, sha256, no symlinks) and no root digest.
 */
function checkLegacyStatement(st: Record<string, unknown>): SignedManifest {
  const subjects = st.subject;
  if (!Array.isArray(subjects)) fail('legacy statement has no subject list');
  const list = subjects as unknown[];
  if (list.length > MAX_RESOURCES) throw new SigningError('limit', `more than ${MAX_RESOURCES} subjects in the signature`, 'limit');
  const out: Resource[] = [];
  const seen = new Set<string>();
  for (const s of list) {
    const name = isObj(s) ? s.name : undefined;
    const digest = isObj(s) && isObj(s.digest) ? s.digest.sha256 : undefined;
    if (typeof name !== 'string') fail('a legacy subject has no name');
    const why = unsafeNameReason(name);
    if (why) fail(`unsafe resource name ${JSON.stringify(name)}: ${why}`, 'unsafe-name');
    if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) fail(`subject ${JSON.stringify(name)} digest.sha256 is not 64 lowercase hex digits`, 'resource');
    if (seen.has(name as string)) fail(`subject ${JSON.stringify(name)} is listed twice`, 'resource');
    seen.add(name as string);
    out.push({ name: name as string, algorithm: 'sha256', digest: digest as string });
  }
  return {
    modelName: '', rootDigest: rootDigestOf(out.map((r) => r.digest)), hashType: 'sha256', resources: out, files: [...seen], legacy: true,
    serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: [] },
  };
}

const fail = (message: string, code = 'statement'): never => { throw new SigningError('verify', message, code); };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the decoded statement: types, subject, predicate, every resource name and digest, and the root digest. */
export function checkStatement(raw: unknown): SignedManifest {
  if (!isObj(raw)) fail('the signed payload is not a JSON object');
  const st = raw as Record<string, unknown>;
  if (st._type !== STATEMENT_TYPE) fail(`statement _type is ${JSON.stringify(st._type)}, expected ${STATEMENT_TYPE}`, 'statement-type');
  if (st.predicateType === LEGACY_PREDICATE_TYPE) return checkLegacyStatement(st);
  if (st.predicateType !== PREDICATE_TYPE) fail(`predicate type is ${JSON.stringify(st.predicateType)}, expected ${PREDICATE_TYPE}`, 'predicate-type');
  const subject = st.subject;
  if (!Array.isArray(subject) || subject.length !== 1 || !isObj(subject[0])) fail('statement must have exactly one subject');
  const s0 = (subject as unknown[])[0] as Record<string, unknown>;
  const subjectDigest = isObj(s0.digest) ? s0.digest.sha256 : undefined;
  if (typeof subjectDigest !== 'string' || !/^[0-9a-f]{64}$/.test(subjectDigest)) fail('subject digest.sha256 is missing or not 64 lowercase hex digits');
  const modelName = typeof s0.name === 'string' ? s0.name : '';
  const pred = st.predicate;
  if (!isObj(pred)) fail('statement has no predicate');
  const p = pred as Record<string, unknown>;
  const ser = p.serialization;
  if (!isObj(ser)) fail('predicate has no serialization');
  const se = ser as Record<string, unknown>;
  const method = se.method;
  if (method !== 'files' && method !== 'shards') fail(`unsupported serialization method ${JSON.stringify(method)}`, 'serialization');
  const hashType = se.hash_type;
  if (typeof hashType !== 'string' || !(HASH_TYPES as readonly string[]).includes(hashType)) fail(`unsupported hash type ${JSON.stringify(hashType)} (supported: ${HASH_TYPES.join(', ')})`, 'serialization');
  const allowSymlinks = se.allow_symlinks === undefined ? false : se.allow_symlinks;
  if (typeof allowSymlinks !== 'boolean') fail('serialization allow_symlinks is not a boolean', 'serialization');
  const ignoreRaw = se.ignore_paths ?? [];
  if (!Array.isArray(ignoreRaw) || ignoreRaw.length > MAX_IGNORE_PATHS || ignoreRaw.some((x) => typeof x !== 'string')) fail('serialization ignore_paths is not a list of names', 'serialization');
  for (const ip of ignoreRaw as string[]) { const r = unsafeNameReason(ip); if (r) fail(`unsafe ignore path ${JSON.stringify(ip)}: ${r}`, 'unsafe-name'); }
  const serialization: Serialization = { method: method as 'files' | 'shards', hash_type: hashType as HashType, allow_symlinks: allowSymlinks as boolean, ignore_paths: ignoreRaw as string[] };
  let shardSize: number | undefined;
  if (method === 'shards') {
    // model_signing 1.1 writes the shard size as a float (1000000000.0): any integral number is accepted.
    shardSize = se.shard_size as number;
    if (typeof shardSize !== 'number' || !Number.isSafeInteger(shardSize) || shardSize < 1 || shardSize > MAX_SHARD_SIZE) fail('serialization shard_size is not a positive integer', 'serialization');
    serialization.shard_size = shardSize;
  }
  const resources = p.resources;
  if (!Array.isArray(resources)) fail('predicate has no resources list');
  const list = resources as unknown[];
  if (list.length > MAX_RESOURCES) throw new SigningError('limit', `more than ${MAX_RESOURCES} resources in the signature`, 'limit');
  const hexLen = DIGEST_HEX_LENGTH[hashType as HashType];
  const seen = new Set<string>();
  const files = new Set<string>();
  const out: Resource[] = [];
  const shardAlgo = `${hashType}-sharded-${shardSize}`;
  for (const r of list) {
    if (!isObj(r)) fail('a resource is not an object');
    const { name, algorithm, digest } = r as Record<string, unknown>;
    if (typeof name !== 'string') fail('a resource has no name');
    let file = name as string;
    if (method === 'shards') {
      const sh = parseShardName(file);
      if (!sh) fail(`resource ${JSON.stringify(name)} is not a shard name (path:start:end)`, 'resource');
      if (sh!.start % shardSize! !== 0 || sh!.end - sh!.start > shardSize!) fail(`shard ${JSON.stringify(name)} does not match the shard size ${shardSize}`, 'resource');
      file = sh!.file;
    }
    // model_signing names the only resource of a single-file model "." (the file relative to itself).
    const why = file === '.' ? undefined : unsafeNameReason(file);
    if (why) fail(`unsafe resource name ${JSON.stringify(name)}: ${why}`, 'unsafe-name');
    // model_signing 1.1 names the shard algorithm "sha256-sharded-<size>"; the spec repeats hash_type.
    if (algorithm !== hashType && !(method === 'shards' && algorithm === shardAlgo)) fail(`resource ${JSON.stringify(name)} has algorithm ${JSON.stringify(algorithm)}, expected ${hashType}`, 'resource');
    if (typeof digest !== 'string' || digest.length !== hexLen || !/^[0-9a-f]+$/.test(digest)) fail(`resource ${JSON.stringify(name)} digest is not ${hexLen} lowercase hex digits`, 'resource');
    if (seen.has(name as string)) fail(`resource ${JSON.stringify(name)} is listed twice`, 'resource');
    seen.add(name as string);
    files.add(file);
    out.push({ name: name as string, algorithm: algorithm as string, digest: digest as string });
  }
  if (files.has('.') && files.size > 1) fail('resource "." (a single-file model) listed together with other files', 'resource');
  // The root digest is recomputed in the listed order (model_signing sorts by path components, the spec by code point).
  const recomputed = rootDigestOf(out.map((r) => r.digest));
  if (recomputed !== subjectDigest) fail(`subject digest ${subjectDigest} does not match the root digest of the listed resources (${recomputed})`, 'root-digest');
  return { modelName, rootDigest: subjectDigest as string, serialization, hashType: hashType as HashType, resources: out, files: [...files] };
}

