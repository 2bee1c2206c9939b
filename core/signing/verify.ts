/**
 * OMS verification, every step of the spec: bundle media type → DSSE payload type → signature over the
 * PAE with the key / leaf certificate (chain to the given CA, validity, key usage) or the Sigstore
 * trust root → statement and predicate types → resource names and root digest → every resource
 * re-hashed from disk. The report names what failed: which file changed, which is extra, which is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto, { type KeyObject, X509Certificate } from 'node:crypto';
import { MAX_BUNDLE_BYTES, MAX_CHAIN_CERTS, MAX_PAYLOAD_BYTES } from './limits';
import { SigningError } from './errors';
import { DSSE_PAYLOAD_TYPE, decodeBase64, pae } from './dsse';
import { BUNDLE_MEDIA_TYPES_ACCEPTED, checkStatement, type SignedManifest } from './statement';
import { keyHint, verifyBytes } from './keys';
import { leafUsageProblem, subjectOf, verifyChain } from './x509';
import { computeManifest, parseShardName, type DigestCache, type Manifest } from './manifest';
import type { HashType } from './hashing';

export type SignatureMethod = 'key' | 'certificate' | 'sigstore';

export interface VerifyOptions {
  /** The signature bundle (default: MODEL/model.sig for a folder, MODEL.sig for a file). */
  signaturePath?: string;
  key?: KeyObject;
  /** Trusted CA certificates for the certificate method. */
  caCerts?: X509Certificate[];
  /**
   * Keyless: the expected identity and issuer, and the Sigstore TrustedRoot JSON to verify against
   * (default: the bundled public-good root, see trustedRoot.ts); `trustedRootSource` names it in the report.
   */
  sigstore?: { identity: string; issuer: string; trustedRoot?: unknown; trustedRootSource?: string };
  ignorePaths?: string[];
  /** Files on disk that the signature does not list are not an error (and are not read). */
  ignoreUnsignedFiles?: boolean;
  jobs?: number;
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Reuse digests of unchanged files (editor background checks only; see ManifestOptions.digestCache). */
  digestCache?: DigestCache;
  /** Time certificates must be valid at (default: now; bundles without trusted timestamps carry no signing time). */
  now?: Date;
}

export interface VerifyFailure {
  /** Which step: bundle, signature, key, chain, statement, files. */
  check: 'bundle' | 'signature' | 'key' | 'chain' | 'statement' | 'files';
  message: string;
  file?: string;
}

export interface VerifyReport {
  verified: boolean;
  model: string;
  signature: string;
  method?: SignatureMethod;
  modelName?: string;
  /** Root digest the signature names (hex). */
  rootDigest?: string;
  hashType?: HashType;
  /** The statement is model_signing's pre-1.0 format (files as subjects, no signed root digest). */
  legacy?: boolean;
  failures: VerifyFailure[];
  /** Files whose content differs from the signature. */
  changed: string[];
  /** Files the signature lists that are not on disk. */
  missing: string[];
  /** Files on disk the signature does not list. */
  extra: string[];
  signer?: { keyHint?: string; certificates?: string[]; identity?: string; issuer?: string };
  /** Keyless: the trusted root used (source, validity windows, contents), e.g. "bundled from @sigstore/tuf 5.0.1, valid …". */
  trustedRoot?: string;
  /** Files and bytes hashed. */
  files: number;
  bytes: number;
}

export function defaultSignaturePath(modelPath: string): string {
  const abs = path.resolve(modelPath);
  let dir = false;
  try { dir = fs.statSync(abs).isDirectory(); } catch { /* reported later */ }
  return dir ? path.join(abs, 'model.sig') : `${abs}.sig`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ParsedBundle {
  json: Record<string, unknown>;
  method: SignatureMethod;
  payload: Buffer;
  payloadType: string;
  signature: Buffer;
  hint?: string;
  rawKey?: Buffer;
  certificates: X509Certificate[];
}

/** Reads the bundle's structure; throws SigningError('verify') naming what is wrong. */
export function parseBundle(text: string): ParsedBundle {
  const bad = (m: string, code = 'bundle'): never => { throw new SigningError('verify', m, code); };
  if (!text.trim()) bad('the signature file is empty', 'empty');
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { bad(`the signature file is not JSON (${(e as Error).message})`); }
  if (!isObj(json)) bad('the signature file is not a JSON object');
  const b = json as Record<string, unknown>;
  if (typeof b.mediaType !== 'string' || !BUNDLE_MEDIA_TYPES_ACCEPTED.includes(b.mediaType)) bad(`bundle mediaType is ${JSON.stringify(b.mediaType)}, expected ${BUNDLE_MEDIA_TYPES_ACCEPTED[0]}`, 'media-type');
  const vm = b.verificationMaterial;
  if (!isObj(vm)) bad('bundle has no verificationMaterial', 'missing-verification-material');
  const env = b.dsseEnvelope;
  if (!isObj(env)) bad(b.messageSignature !== undefined ? 'bundle holds a message signature, not a DSSE envelope' : 'bundle has no dsseEnvelope', 'missing-envelope');
  const e = env as Record<string, unknown>;
  if (e.payloadType !== DSSE_PAYLOAD_TYPE) bad(`DSSE payloadType is ${JSON.stringify(e.payloadType)}, expected ${DSSE_PAYLOAD_TYPE}`, 'payload-type');
  if (typeof e.payload === 'string' && e.payload.length > (MAX_PAYLOAD_BYTES / 3) * 4 + 4) throw new SigningError('limit', `DSSE payload larger than ${MAX_PAYLOAD_BYTES} bytes`, 'limit');
  const payload = decodeBase64(e.payload);
  if (!payload || !payload.length) bad('DSSE payload is missing or not base64', 'payload');
  const sigs = e.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1 || !isObj(sigs[0])) bad(`DSSE envelope must carry exactly one signature (has ${Array.isArray(sigs) ? sigs.length : 'none'})`, 'signatures');
  const s0 = (sigs as unknown[])[0] as Record<string, unknown>;
  // keyid may be "", null or absent (model_signing writes ""); anything else is informational only.
  const signature = decodeBase64(s0.sig);
  if (!signature || !signature.length) bad('DSSE signature is missing or not base64', 'signature');
  const m = vm as Record<string, unknown>;
  const tlog = m.tlogEntries;
  const certificates: X509Certificate[] = [];
  let method: SignatureMethod;
  let hint: string | undefined;
  let rawKey: Buffer | undefined;
  const cert = (raw: unknown, what: string): X509Certificate => {
    const der = isObj(raw) ? decodeBase64(raw.rawBytes) : undefined;
    if (!der) bad(`${what} has no rawBytes`, 'certificate');
    try { return new X509Certificate(der!); } catch (err) { return bad(`${what} is not a DER certificate (${(err as Error).message})`, 'certificate'); }
  };
  if (isObj(m.publicKey)) {
    method = 'key';
    const pk = m.publicKey as Record<string, unknown>;
    if (typeof pk.hint === 'string') hint = pk.hint;
    if (pk.rawBytes !== undefined) rawKey = decodeBase64(pk.rawBytes);
  } else if (isObj(m.x509CertificateChain)) {
    method = 'certificate';
    const list = (m.x509CertificateChain as Record<string, unknown>).certificates;
    if (!Array.isArray(list) || !list.length) bad('x509CertificateChain has no certificates', 'certificate');
    if ((list as unknown[]).length > MAX_CHAIN_CERTS) throw new SigningError('limit', `more than ${MAX_CHAIN_CERTS} certificates in the bundle`, 'limit');
    (list as unknown[]).forEach((c, i) => certificates.push(cert(c, i === 0 ? 'leaf certificate' : `chain certificate ${i}`)));
  } else if (isObj(m.certificate)) {
    method = 'sigstore';
    certificates.push(cert(m.certificate, 'signing certificate'));
    if (!Array.isArray(tlog) || !tlog.length) bad('keyless bundle has no transparency log entries (tlogEntries)', 'missing-tlog-entries');
  } else {
    return bad('verificationMaterial has no publicKey, x509CertificateChain or certificate', 'missing-verification-material');
  }
  return { json: b, method, payload: payload!, payloadType: e.payloadType as string, signature: signature!, hint, rawKey, certificates };
}

function keysEqual(a: KeyObject, b: KeyObject): boolean {
  return (a.export({ type: 'spki', format: 'der' }) as Buffer).equals(b.export({ type: 'spki', format: 'der' }) as Buffer);
}

async function checkSignature(pb: ParsedBundle, opts: VerifyOptions, report: VerifyReport): Promise<boolean> {
  const signed = pae(pb.payloadType, pb.payload);
  const fail = (check: VerifyFailure['check'], message: string) => { report.failures.push({ check, message }); return false; };
  if (pb.method === 'key') {
    if (!opts.key) return fail('key', 'the model is signed with a key: pass --key PUBLIC.pem');
    const hint = keyHint(opts.key);
    report.signer = { keyHint: pb.hint ?? hint };
    if (pb.hint !== undefined && pb.hint !== hint) return fail('key', `the bundle's key hint ${pb.hint} does not match the given public key (${hint}): signed with another key`);
    if (pb.rawKey) {
      let bundled: KeyObject | undefined;
      try { bundled = crypto.createPublicKey({ key: pb.rawKey, format: 'der', type: 'spki' }); } catch { try { bundled = crypto.createPublicKey(pb.rawKey.toString('latin1')); } catch { /* unreadable: the signature decides */ } }
      if (bundled && !keysEqual(bundled, opts.key)) return fail('key', 'the bundle names a different public key than the given one: signed with another key');
    }
    if (!verifyBytes(opts.key, signed, pb.signature)) return fail('signature', 'the signature does not verify with the given public key (wrong key, or the payload was changed)');
    return true;
  }
  if (pb.method === 'certificate') {
    const [leaf, ...chain] = pb.certificates;
    report.signer = { certificates: pb.certificates.map(subjectOf) };
    if (!opts.caCerts?.length) return fail('chain', 'the model is signed with a certificate: pass --certificate-chain CA.pem');
    if (!verifyBytes(leaf.publicKey, signed, pb.signature)) return fail('signature', 'the signature does not verify with the leaf certificate\'s key (the payload was changed, or a certificate was swapped)');
    const res = verifyChain(leaf, chain, opts.caCerts, opts.now ?? new Date());
    if (!res.ok) return fail('chain', res.reason!);
    report.signer.certificates = res.path.map(subjectOf);
    return true;
  }
  // Keyless Sigstore, offline: against the given trusted root, else the bundled public-good one.
  if (!opts.sigstore) return fail('chain', 'the model is signed keylessly with Sigstore: pass --sigstore --identity ID --issuer URL');
  const { verifySigstoreBundle, bundledTrustedRoot, describeTrustedRoot } = await import('./sigstore');
  const root = opts.sigstore.trustedRoot !== undefined
    ? describeTrustedRoot(opts.sigstore.trustedRoot, opts.sigstore.trustedRootSource ?? 'the given trusted root')
    : bundledTrustedRoot();
  report.trustedRoot = root.description;
  const out = verifySigstoreBundle(pb.json, root.json, opts.sigstore);
  report.signer = { identity: out.identity ?? opts.sigstore.identity, issuer: out.issuer ?? opts.sigstore.issuer, certificates: pb.certificates.map(subjectOf) };
  if (!out.ok) return fail('chain', `Sigstore verification failed: ${out.reason}`);
  // @sigstore/verify does not look at key usage: a Fulcio leaf always allows code signing, so insist on it.
  const usage = leafUsageProblem(pb.certificates[0]);
  if (usage) return fail('chain', usage);
  return true;
}

const EMPTY_DIGEST: Record<HashType, string> = {
  sha256: crypto.createHash('sha256').digest('hex'),
  blake2b: crypto.createHash('blake2b512').digest('hex'),
};

/** Compares what the signature lists with the manifest recomputed from disk. */
function compare(signed: SignedManifest, disk: Manifest, report: VerifyReport, ignoreUnsigned: boolean): void {
  const fileOf = (name: string) => (signed.serialization.method === 'shards' ? parseShardName(name)?.file ?? name : name);
  const want = new Map<string, Map<string, string>>();
  for (const r of signed.resources) {
    const f = fileOf(r.name);
    if (!want.has(f)) want.set(f, new Map());
    want.get(f)!.set(r.name, r.digest);
  }
  const have = new Map<string, Map<string, string>>();
  for (const f of disk.files) have.set(f.name, new Map());
  for (const r of disk.resources) have.get(fileOf(r.name))?.set(r.name, r.digest);
  for (const [f, shards] of want) {
    const got = have.get(f);
    if (!got) { report.missing.push(f); continue; }
    // "file:0:0" (an empty file's shard in some model_signing versions) matches an empty file on disk.
    const nonEmpty = [...shards].filter(([n]) => !n.endsWith(':0:0'));
    const emptyOk = [...shards].every(([n, d]) => !n.endsWith(':0:0') || (got.size === 0 && d === EMPTY_DIGEST[signed.hashType]));
    const same = emptyOk && got.size === nonEmpty.length && nonEmpty.every(([n, d]) => got.get(n) === d);
    if (!same) report.changed.push(f);
  }
  if (!ignoreUnsigned) {
    for (const [f, got] of have) {
      if (want.has(f)) continue;
      // The shards method has no resource for an empty file: an empty unsigned file changes nothing.
      if (signed.serialization.method === 'shards' && got.size === 0) continue;
      report.extra.push(f);
    }
  }
  for (const f of report.changed) report.failures.push({ check: 'files', file: f, message: `${f}: content differs from the signature` });
  for (const f of report.missing) report.failures.push({ check: 'files', file: f, message: `${f}: signed but missing` });
  for (const f of report.extra) report.failures.push({ check: 'files', file: f, message: `${f}: not in the signature (unsigned file)` });
}

export async function verifyModel(modelPath: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const signaturePath = path.resolve(opts.signaturePath ?? defaultSignaturePath(modelPath));
  const report: VerifyReport = { verified: false, model: path.resolve(modelPath), signature: signaturePath, failures: [], changed: [], missing: [], extra: [], files: 0, bytes: 0 };
  const failWith = (e: unknown, check: VerifyFailure['check']) => {
    if (e instanceof SigningError && e.kind === 'cancelled') throw e;
    if (e instanceof SigningError && e.kind === 'usage' && check !== 'files') throw e;
    report.failures.push({ check, message: (e as Error).message });
    return report;
  };
  let text: string;
  try {
    const st = fs.statSync(signaturePath);
    if (!st.isFile()) throw new SigningError('usage', `${signaturePath}: not a regular file`);
    if (st.size > MAX_BUNDLE_BYTES) throw new SigningError('limit', `the signature file is larger than ${MAX_BUNDLE_BYTES} bytes`, 'limit');
    text = fs.readFileSync(signaturePath, 'utf8');
  } catch (e) {
    if (e instanceof SigningError) return failWith(e, 'bundle');
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SigningError('usage', `no signature at ${signaturePath} (the model is not signed there: sign it, or pass --signature PATH)`, 'no-signature');
    throw new SigningError('usage', `signature ${signaturePath}: cannot read it (${code ?? (e as Error).message})`);
  }
  let pb: ParsedBundle;
  try { pb = parseBundle(text); } catch (e) { return failWith(e, 'bundle'); }
  report.method = pb.method;
  if (!(await checkSignature(pb, opts, report))) {
    // Not trusted, but say what else is wrong with it (e.g. a foreign predicate type): never used as data.
    try { checkStatement(JSON.parse(pb.payload.toString('utf8'))); } catch (e) { report.failures.push({ check: 'statement', message: `(unverified payload) ${(e as Error).message}` }); }
    return report;
  }
  let signed: SignedManifest;
  try {
    let statement: unknown;
    try { statement = JSON.parse(pb.payload.toString('utf8')); } catch { throw new SigningError('verify', 'the signed payload is not JSON'); }
    signed = checkStatement(statement);
  } catch (e) { return failWith(e, 'statement'); }
  report.modelName = signed.modelName;
  report.rootDigest = signed.rootDigest;
  report.hashType = signed.hashType;
  if (signed.legacy) report.legacy = true;
  let disk: Manifest;
  try {
    disk = await computeManifest(modelPath, {
      hashType: signed.hashType,
      method: signed.serialization.method,
      shardSize: signed.serialization.shard_size,
      ignorePaths: [...signed.serialization.ignore_paths, ...(opts.ignorePaths ?? [])],
      signaturePath,
      allowSymlinks: signed.serialization.allow_symlinks,
      onlyFiles: opts.ignoreUnsignedFiles ? new Set(signed.files) : undefined,
      refuseEmpty: false,
      jobs: opts.jobs,
      signal: opts.signal,
      onProgress: opts.onProgress,
      minShardSize: 1,
      digestCache: opts.digestCache,
    });
  } catch (e) { return failWith(e, 'files'); }
  report.files = disk.files.length;
  report.bytes = disk.totalBytes;
  if (signed.files.length === 1 && signed.files[0] === '.') {
    // A model_signing single-file bundle: its one resource is the model file itself.
    if (!fs.statSync(disk.modelPath).isFile()) {
      report.failures.push({ check: 'files', message: 'the signature is for a single file (resource "."), but the model is a folder' });
      return report;
    }
    const base = disk.modelName;
    const dot = (n: string) => (n === base ? '.' : n.startsWith(base + ':') ? '.' + n.slice(base.length) : n);
    disk = { ...disk, files: disk.files.map((f) => ({ ...f, name: dot(f.name) })), resources: disk.resources.map((r) => ({ ...r, name: dot(r.name) })) };
  }
  compare(signed, disk, report, Boolean(opts.ignoreUnsignedFiles));
  report.verified = report.failures.length === 0;
  return report;
}
