/**
 * OMS signing: manifest → in-toto statement → DSSE signature (ECDSA over the PAE) → Sigstore bundle
 * v0.3, written atomically (temp file + fsync + rename), never over an existing file without `force`.
 * The bundle has exactly the structure `model_signing` 1.x writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto, { type KeyObject, type X509Certificate } from 'node:crypto';
import { usageError } from './errors';
import { DSSE_PAYLOAD_TYPE, pae } from './dsse';
import { BUNDLE_MEDIA_TYPE, statementFor } from './statement';
import { curveOf, keyHint, signBytes } from './keys';
import { leafUsageProblem } from './x509';
import { computeManifest, type Manifest, type ManifestOptions } from './manifest';
import { defaultSignaturePath } from './verify';

export interface SignOptions extends Omit<ManifestOptions, 'signaturePath' | 'onlyFiles' | 'refuseEmpty'> {
  key: KeyObject;
  /** Certificate method: the leaf for `key`, then intermediates (written into the bundle in this order). */
  certificate?: X509Certificate;
  certificateChain?: X509Certificate[];
  signaturePath?: string;
  force?: boolean;
}

export interface SignResult { signaturePath: string; manifest: Manifest; bundle: Record<string, unknown> }

/** The bundle for a manifest (pure: no I/O). */
export function buildBundle(manifest: Manifest, key: KeyObject, certificate?: X509Certificate, chain: X509Certificate[] = []): Record<string, unknown> {
  const payload = Buffer.from(JSON.stringify(statementFor(manifest), null, 2), 'utf8');
  const sig = signBytes(key, pae(DSSE_PAYLOAD_TYPE, payload));
  const verificationMaterial = certificate
    ? { x509CertificateChain: { certificates: [certificate, ...chain].map((c) => ({ rawBytes: c.raw.toString('base64') })) }, tlogEntries: [] }
    : { publicKey: { hint: keyHint(key) }, tlogEntries: [] };
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial,
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: DSSE_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  };
}

/** Refuses to write over an existing path unless `force`; usage error otherwise. */
export function checkWritable(file: string, force: boolean | undefined): void {
  let st: fs.Stats | undefined;
  try { st = fs.lstatSync(file); } catch { /* does not exist: fine */ }
  if (st?.isDirectory()) throw usageError(`${file} is a folder`);
  if (st && !force) throw usageError(`${file} already exists (pass --force to replace it)`, 'exists');
  if (!fs.existsSync(path.dirname(file))) throw usageError(`${path.dirname(file)}: no such folder`);
}

/**
 * Writes `data` to `file` atomically: a temp file beside it, fsync, then link (never replaces an existing
 * file) or, with `force`, rename; fsync of the folder.
 */
export function writeFileAtomic(file: string, data: string | Buffer, opts: { force?: boolean; mode?: number } = {}): void {
  checkWritable(file, opts.force);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    if (opts.force) fs.renameSync(tmp, file);
    else {
      // link() creates the name only if it does not exist, atomically: a file created since the check
      // above (another signer, keygen racing keygen) is never replaced. rename() would replace it.
      try { fs.linkSync(tmp, file); } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw usageError(`${file} already exists (pass --force to replace it)`, 'exists');
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
        // A file system without hard links: check, then rename (a small window remains).
        if (fs.existsSync(file)) throw usageError(`${file} already exists (pass --force to replace it)`, 'exists');
        fs.renameSync(tmp, file);
      }
    }
  } catch (e) { fs.rmSync(tmp, { force: true }); throw e; }
  fs.rmSync(tmp, { force: true });
  try { const d = fs.openSync(path.dirname(file), 'r'); try { fs.fsyncSync(d); } finally { fs.closeSync(d); } } catch { /* folder fsync is best effort */ }
}

export async function signModel(modelPath: string, opts: SignOptions): Promise<SignResult> {
  curveOf(opts.key, 'signing key');
  if (opts.key.type !== 'private') throw usageError('signing needs a private key');
  const signaturePath = path.resolve(opts.signaturePath ?? defaultSignaturePath(modelPath));
  checkWritable(signaturePath, opts.force);
  if (opts.certificate) {
    const pub = crypto.createPublicKey(opts.key).export({ type: 'spki', format: 'der' }) as Buffer;
    if (!(opts.certificate.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).equals(pub)) throw usageError('the signing certificate is not for the given private key');
    const problem = leafUsageProblem(opts.certificate);
    if (problem) throw usageError(problem);
    const now = new Date();
    if (now > new Date(opts.certificate.validTo) || now < new Date(opts.certificate.validFrom)) throw usageError(`the signing certificate is not valid now (valid ${opts.certificate.validFrom} – ${opts.certificate.validTo})`);
  } else if (opts.certificateChain?.length) {
    throw usageError('--certificate-chain needs --certificate');
  }
  const manifest = await computeManifest(modelPath, { ...opts, signaturePath });
  const bundle = buildBundle(manifest, opts.key, opts.certificate, opts.certificateChain);
  writeFileAtomic(signaturePath, JSON.stringify(bundle), { force: opts.force });
  return { signaturePath, manifest, bundle };
}
