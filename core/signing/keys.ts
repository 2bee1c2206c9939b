/**
 * ECDSA keys for OMS signing (P-256, P-384, P-521) through node:crypto: PEM PKCS#8, SEC1
 * ("EC PRIVATE KEY") and encrypted keys (PKCS#8 or legacy PEM encryption). The password comes from
 * MODELVET_KEY_PASSWORD or a TTY prompt — never from the command line.
 */
import fs from 'node:fs';
import crypto, { type KeyObject } from 'node:crypto';
import { MAX_KEY_FILE_BYTES } from './limits';
import { usageError } from './errors';

export type Curve = 'p256' | 'p384' | 'p521';
export const CURVES: Record<Curve, { nodeName: string; hash: string }> = {
  p256: { nodeName: 'prime256v1', hash: 'sha256' },
  p384: { nodeName: 'secp384r1', hash: 'sha384' },
  p521: { nodeName: 'secp521r1', hash: 'sha512' },
};
const BY_NODE_NAME = new Map(Object.entries(CURVES).map(([k, v]) => [v.nodeName, k as Curve]));

export function readSmallFile(file: string, what: string): Buffer {
  let st: fs.Stats;
  try { st = fs.statSync(file); } catch { throw usageError(`${what} ${file}: no such file`); }
  if (!st.isFile()) throw usageError(`${what} ${file}: not a regular file`);
  if (st.size > MAX_KEY_FILE_BYTES) throw usageError(`${what} ${file}: larger than ${MAX_KEY_FILE_BYTES} bytes`);
  return fs.readFileSync(file);
}

/** The curve of an EC key, or a usage error for anything else. */
export function curveOf(key: KeyObject, what = 'key'): Curve {
  if (key.asymmetricKeyType !== 'ec') throw usageError(`${what} is ${key.asymmetricKeyType ?? 'not an asymmetric'} key; OMS signing uses ECDSA P-256, P-384 or P-521`);
  const c = BY_NODE_NAME.get(key.asymmetricKeyDetails?.namedCurve ?? '');
  if (!c) throw usageError(`${what} uses curve ${key.asymmetricKeyDetails?.namedCurve}; supported: P-256, P-384, P-521`);
  return c;
}

/** The digest ECDSA uses with a key's curve (P-256→SHA-256, P-384→SHA-384, P-521→SHA-512). */
export function hashForKey(key: KeyObject): string { return CURVES[curveOf(key)].hash; }

function isEncryptedPem(text: string): boolean {
  return text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(text);
}

/** Loads a private key; `password` is asked for only when the key is encrypted. */
export async function loadPrivateKey(file: string, password?: () => Promise<string | undefined>): Promise<KeyObject> {
  const pem = readSmallFile(file, 'private key');
  const text = pem.toString('latin1');
  let passphrase: string | undefined;
  if (isEncryptedPem(text)) {
    passphrase = password ? await password() : undefined;
    if (passphrase === undefined) throw usageError(`private key ${file} is encrypted: set MODELVET_KEY_PASSWORD or run on a terminal to be asked`);
  }
  let key: KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch (e) {
    const msg = (e as Error).message;
    if (passphrase !== undefined) throw usageError(`private key ${file}: cannot decrypt (wrong password?)`);
    throw usageError(`private key ${file}: not a PEM private key (${msg})`);
  }
  curveOf(key, `private key ${file}`);
  return key;
}

/** Loads a public key (PEM SubjectPublicKeyInfo, or the key of a PEM certificate). */
export function loadPublicKey(file: string): KeyObject {
  const pem = readSmallFile(file, 'public key');
  let key: KeyObject;
  try {
    key = pem.includes('-----BEGIN CERTIFICATE-----') ? new crypto.X509Certificate(pem).publicKey : crypto.createPublicKey({ key: pem, format: 'pem' });
  } catch (e) { throw usageError(`public key ${file}: not a PEM public key (${(e as Error).message})`); }
  if (key.type === 'private') key = crypto.createPublicKey(key);
  curveOf(key, `public key ${file}`);
  return key;
}

/** The key hint model_signing 1.1 writes: hex SHA-256 of the PEM SubjectPublicKeyInfo text (64-char lines, LF, final newline). */
export function keyHint(key: KeyObject): string {
  const pub = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return crypto.createHash('sha256').update(pub.export({ type: 'spki', format: 'pem' }) as string).digest('hex');
}

export function signBytes(key: KeyObject, data: Buffer): Buffer {
  return crypto.sign(hashForKey(key), data, { key, dsaEncoding: 'der' });
}

export function verifyBytes(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try { return crypto.verify(hashForKey(key), data, { key, dsaEncoding: 'der' }, sig); } catch { return false; }
}

/** A fresh key pair as PEM (PKCS#8 private, optionally encrypted with AES-256-CBC; SPKI public). */
export function generateKeyPair(curve: Curve, password?: string): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: CURVES[curve].nodeName });
  const privatePem = privateKey.export(password ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password } : { type: 'pkcs8', format: 'pem' }) as string;
  return { privatePem, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}
