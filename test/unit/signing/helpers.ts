import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';

export const FIX = path.resolve(__dirname, '../../fixtures/oms');
export const MS = path.join(FIX, 'model_signing');
export const KEYS = path.join(MS, 'keys/certificate');
export const GEN = path.join(FIX, 'generated');
export const VECTORS = path.join(FIX, 'spec/test-vectors/v1.0');

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'mv-sign-'): string { return fs.mkdtempSync(path.join(os.tmpdir(), prefix)); }

/** Copies the files of a fixture model folder (writable, without model.sig) into a temp folder. */
export function copyModel(src: string, withSig = false): string {
  const dst = path.join(tempDir(), path.basename(src));
  fs.mkdirSync(dst);
  for (const f of fs.readdirSync(src)) {
    if (f === 'model.sig' && !withSig) continue;
    fs.copyFileSync(path.join(src, f), path.join(dst, f));
    fs.chmodSync(path.join(dst, f), 0o644);
  }
  return dst;
}

/** Writes files {name: content} under a new temp folder named `name`. */
export function makeModel(files: Record<string, string | Buffer>, name = 'model'): string {
  const dir = path.join(tempDir(), name);
  for (const [f, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), c);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a makeModel()/copyModel() folder with its temp parent; refuses anything else (never a shared folder). */
export function rmTemp(dir: string): void {
  const parent = path.dirname(path.resolve(dir));
  if (path.dirname(parent) !== path.resolve(os.tmpdir()) || !path.basename(parent).startsWith('mv-sign-')) {
    throw new Error(`rmTemp(${dir}): not a folder made by makeModel()/copyModel() (use fs.rmSync on a tempDir() itself)`);
  }
  fs.rmSync(parent, { recursive: true, force: true });
}

/** Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8, a DER UTF8String) and the SAN of a leaf. */
export function fulcioIdentity(bundleFile: string): { identity: string; issuer: string } {
  const b = JSON.parse(fs.readFileSync(bundleFile, 'utf8'));
  const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
  const oid = Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08]);
  let i = der.indexOf(oid);
  if (i < 0) throw new Error('the leaf has no Fulcio issuer (v2) extension');
  i += oid.length;
  if (der[i] === 0x01) i += 3; // critical BOOLEAN
  if (der[i] !== 0x04) throw new Error('extnValue is not an OCTET STRING');
  i += 2;
  if (der[i] !== 0x0c) throw new Error('the issuer is not a UTF8String');
  const issuer = der.subarray(i + 2, i + 2 + der[i + 1]).toString('utf8');
  const san = new X509Certificate(der).subjectAltName ?? '';
  const m = /^email:(.+)$/.exec(san);
  if (!m) throw new Error(`not an email SAN: ${san}`);
  return { identity: m![1], issuer };
}
