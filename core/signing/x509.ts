/**
 * X.509 for the certificate method: a small DER reader for the extensions node:crypto does not expose
 * (key usage bits, basic constraints), and chain building from the leaf to a given CA with signature,
 * validity, CA and key-usage / extended-key-usage checks at every step.
 */
import { X509Certificate } from 'node:crypto';
import { MAX_CHAIN_CERTS } from './limits';
import { usageError } from './errors';
import { readSmallFile } from './keys';

interface Tlv { tag: number; start: number; end: number; hdr: number }

function readTlv(b: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error('truncated DER');
  const tag = b[pos];
  let len = b[pos + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + 2 + n > limit) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[pos + 2 + i];
    hdr += n;
  }
  if (pos + hdr + len > limit) throw new Error('truncated DER');
  return { tag, start: pos + hdr, end: pos + hdr + len, hdr };
}

function children(b: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end;) { const c = readTlv(b, p, t.end); out.push(c); p = c.end; if (out.length > 64) throw new Error('too many DER elements'); }
  return out;
}

export interface CertExtensions {
  /** Key usage bits present (undefined: no extension). */
  keyUsage?: { digitalSignature: boolean; keyCertSign: boolean };
  /** EKU OIDs (undefined: no extension). */
  extKeyUsage?: string[];
  /** Basic constraints cA (undefined: no extension). */
  ca?: boolean;
}

const OID_KU = '551d0f', OID_EKU = '551d25', OID_BC = '551d13';
export const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

function oidToString(b: Buffer): string {
  const parts: number[] = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) { v = v * 128 + (b[i] & 0x7f); if (!(b[i] & 0x80)) { parts.push(v); v = 0; } }
  return parts.join('.');
}

export function certExtensions(cert: X509Certificate): CertExtensions {
  const der = cert.raw;
  const top = readTlv(der, 0, der.length);
  const tbs = children(der, top)[0];
  const out: CertExtensions = {};
  const exts = children(der, tbs).find((c) => c.tag === 0xa3);
  if (!exts) return out;
  const seq = children(der, exts)[0];
  for (const ext of children(der, seq)) {
    const parts = children(der, ext);
    const oid = der.subarray(parts[0].start, parts[0].end).toString('hex');
    const val = parts[parts.length - 1];
    // Only the extensions read here are parsed: others (e.g. Fulcio's raw-string issuer) need not be DER.
    if (val.tag !== 0x04 || (oid !== OID_KU && oid !== OID_EKU && oid !== OID_BC)) continue;
    const inner = readTlv(der, val.start, val.end);
    if (oid === OID_KU && inner.tag === 0x03) {
      const first = inner.end - inner.start > 1 ? der[inner.start + 1] : 0;
      out.keyUsage = { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
    } else if (oid === OID_EKU && inner.tag === 0x30) {
      out.extKeyUsage = children(der, inner).filter((c) => c.tag === 0x06).map((c) => oidToString(der.subarray(c.start, c.end)));
    } else if (oid === OID_BC && inner.tag === 0x30) {
      const bc = children(der, inner);
      out.ca = bc.length > 0 && bc[0].tag === 0x01 && der[bc[0].start] !== 0;
    }
  }
  return out;
}

/** Every certificate in a PEM file (a chain file may hold several). */
export function loadCertificates(file: string): X509Certificate[] {
  const text = readSmallFile(file, 'certificate file').toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw usageError(`${file}: no PEM certificate in it`);
  if (blocks.length > MAX_CHAIN_CERTS) throw usageError(`${file}: more than ${MAX_CHAIN_CERTS} certificates`);
  return blocks.map((b) => { try { return new X509Certificate(b); } catch (e) { throw usageError(`${file}: bad certificate (${(e as Error).message})`); } });
}

export function subjectOf(c: X509Certificate): string {
  const subject = (c.subject ?? '').replace(/\n/g, ', ');
  return subject || (c.subjectAltName ? `(empty subject) ${c.subjectAltName}` : '(empty subject)');
}

function validAt(c: X509Certificate, at: Date): string | undefined {
  const from = new Date(c.validFrom), to = new Date(c.validTo);
  if (at < from) return `certificate "${subjectOf(c)}" is not valid before ${from.toISOString()} (checked at ${at.toISOString()})`;
  if (at > to) return `certificate "${subjectOf(c)}" expired on ${to.toISOString()} (checked at ${at.toISOString()})`;
  return undefined;
}

export interface ChainResult { ok: boolean; reason?: string; path: X509Certificate[] }

/** The leaf may sign OMS payloads: key usage digitalSignature (when present) and EKU codeSigning. */
export function leafUsageProblem(leaf: X509Certificate): string | undefined {
  let ext: CertExtensions;
  try { ext = certExtensions(leaf); } catch (e) { return `leaf certificate cannot be read (${(e as Error).message})`; }
  if (ext.keyUsage && !ext.keyUsage.digitalSignature) return `leaf certificate "${subjectOf(leaf)}" key usage does not allow digitalSignature`;
  if (!ext.extKeyUsage) return `leaf certificate "${subjectOf(leaf)}" has no extended key usage (codeSigning required)`;
  if (!ext.extKeyUsage.includes(OID_CODE_SIGNING)) return `leaf certificate "${subjectOf(leaf)}" extended key usage does not include codeSigning`;
  return undefined;
}

/**
 * Builds and checks the path leaf → (bundle intermediates) → one of `anchors`: each certificate issued
 * and signed by the next, valid at `at`, intermediates are CAs allowed to sign certificates.
 */
export function verifyChain(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[], at: Date): ChainResult {
  const path: X509Certificate[] = [leaf];
  const usage = leafUsageProblem(leaf);
  if (usage) return { ok: false, reason: usage, path };
  const isAnchor = (c: X509Certificate) => anchors.some((a) => a.raw.equals(c.raw));
  let cur = leaf;
  for (let depth = 0; depth <= MAX_CHAIN_CERTS; depth++) {
    const v = validAt(cur, at);
    if (v) return { ok: false, reason: v, path };
    if (isAnchor(cur)) return { ok: true, path };
    // Name + signature (not X509Certificate.checkIssued, which hides a non-CA issuer that we want to name).
    const issuedBy = (cand: X509Certificate) => !cand.raw.equals(cur.raw) && cur.issuer === cand.subject && safeVerify(cur, cand);
    const anchor = anchors.find(issuedBy);
    if (anchor) {
      const va = validAt(anchor, at);
      if (va) return { ok: false, reason: va, path: [...path, anchor] };
      path.push(anchor);
      return { ok: true, path };
    }
    const next = intermediates.find((c) => !path.some((p) => p.raw.equals(c.raw)) && issuedBy(c));
    if (!next) {
      return { ok: false, reason: `certificate "${subjectOf(cur)}" (issuer "${(cur.issuer ?? '').replace(/\n/g, ', ')}") does not chain to the given CA certificate${anchors.length > 1 ? 's' : ''} (${anchors.map(subjectOf).join('; ')})`, path };
    }
    let ext: CertExtensions;
    try { ext = certExtensions(next); } catch { return { ok: false, reason: `intermediate certificate "${subjectOf(next)}" cannot be read`, path }; }
    if (!ext.ca) return { ok: false, reason: `intermediate certificate "${subjectOf(next)}" is not a CA (basicConstraints)`, path };
    if (ext.keyUsage && !ext.keyUsage.keyCertSign) return { ok: false, reason: `intermediate certificate "${subjectOf(next)}" key usage does not allow keyCertSign`, path };
    path.push(next);
    cur = next;
  }
  return { ok: false, reason: `certificate chain longer than ${MAX_CHAIN_CERTS}`, path };
}

function safeVerify(c: X509Certificate, issuer: X509Certificate): boolean {
  try { return c.verify(issuer.publicKey); } catch { return false; }
}

export function certFromBase64Der(b64: string): X509Certificate {
  return new X509Certificate(Buffer.from(b64, 'base64'));
}

