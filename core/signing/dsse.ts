/** DSSE (Dead Simple Signing Envelope) v1: the pre-authentication encoding that is actually signed. */
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'ascii'), type, Buffer.from(` ${payload.length} `, 'ascii'), payload]);
}

/** Strict base64 (standard alphabet, optional padding; URL-safe accepted as DSSE allows): undefined if malformed. */
export function decodeBase64(s: unknown): Buffer | undefined {
  if (typeof s !== 'string') return undefined;
  const t = s.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || (t.replace(/=+$/, '').length % 4) === 1) return undefined;
  return Buffer.from(t, 'base64');
}
