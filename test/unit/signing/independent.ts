/**
 * An independent OMS verifier written from the spec for the tests: node:crypto and node:fs only,
 * sharing no code with core/. Key method, certificate method (chain to a CA: node's X509Certificate),
 * and the DSSE signature of a keyless bundle by its certificate's key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function paeBytes(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

function listFiles(root: string, ignore: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (ignore.some((i) => name === i || name.startsWith(i + '/'))) continue;
      if (e.isDirectory()) walk(path.join(dir, e.name), name);
      else if (e.isFile()) out.push(name);
    }
  };
  walk(root, '');
  return out;
}

/**
 * Who signed: a public key (key method); or CA certificates (PEM) the bundle's x509CertificateChain must
 * chain to, leaf first, each certificate signed by the next, the leaf with the codeSigning EKU; or
 * `bundleLeaf`: the key of the bundle's own certificate (Sigstore keyless: the signature and the files
 * are checked, trust in the certificate is not).
 */
export type IndependentTrust = string | Buffer | { caPem: string | Buffer } | { bundleLeaf: true };

function signerKey(bundle: any, trust: IndependentTrust): crypto.KeyObject | string {
  if (typeof trust === 'string' || Buffer.isBuffer(trust)) return crypto.createPublicKey(trust);
  const vm = bundle.verificationMaterial;
  if ('bundleLeaf' in trust) {
    const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes;
    return raw ? new crypto.X509Certificate(Buffer.from(raw, 'base64')).publicKey : 'no certificate';
  }
  const chain = (vm.x509CertificateChain?.certificates ?? []).map((c: { rawBytes: string }) => new crypto.X509Certificate(Buffer.from(c.rawBytes, 'base64')));
  if (!chain.length) return 'no certificate chain';
  const cas = String(trust.caPem).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!.map((p) => new crypto.X509Certificate(p));
  if (!(chain[0].keyUsage ?? []).includes('1.3.6.1.5.5.7.3.3')) return 'leaf EKU';
  const now = Date.now();
  for (let i = 0; ; i++) {
    const c = chain[i];
    if (now < Date.parse(c.validFrom) || now > Date.parse(c.validTo)) return `validity of certificate ${i}`;
    const ca = cas.find((a) => c.checkIssued(a) && c.verify(a.publicKey));
    if (ca) break;
    const next = chain[i + 1];
    if (!next || !c.checkIssued(next) || !c.verify(next.publicKey) || !next.ca) return `chain at certificate ${i}`;
  }
  return chain[0].publicKey;
}

/** Returns the failure, or 'ok'. */
export function independentVerify(modelDir: string, sigFile: string, trust: IndependentTrust): string {
  const bundle = JSON.parse(fs.readFileSync(sigFile, 'utf8'));
  if (bundle.mediaType !== 'application/vnd.dev.sigstore.bundle.v0.3+json') return 'mediaType';
  const env = bundle.dsseEnvelope;
  if (env.payloadType !== 'application/vnd.in-toto+json') return 'payloadType';
  if (env.signatures.length !== 1) return 'signatures';
  const payload = Buffer.from(env.payload, 'base64');
  const key = signerKey(bundle, trust);
  if (typeof key === 'string') return key;
  const curve = key.asymmetricKeyDetails!.namedCurve!;
  const hash = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' }[curve as 'prime256v1'];
  if (!crypto.verify(hash, paeBytes(env.payloadType, payload), key, Buffer.from(env.signatures[0].sig, 'base64'))) return 'signature';
  const st = JSON.parse(payload.toString('utf8'));
  if (st._type !== 'https://in-toto.io/Statement/v1') return '_type';
  if (st.predicateType !== 'https://model_signing/signature/v1.0') return 'predicateType';
  const ser = st.predicate.serialization;
  const algo = ser.hash_type === 'blake2b' ? 'blake2b512' : 'sha256';
  const root = crypto.createHash('sha256');
  for (const r of st.predicate.resources) root.update(Buffer.from(r.digest, 'hex'));
  if (root.digest('hex') !== st.subject[0].digest.sha256) return 'root digest';
  const onDisk = new Map<string, string>();
  for (const name of listFiles(modelDir, ser.ignore_paths)) {
    const data = fs.readFileSync(path.join(modelDir, name));
    if (ser.method === 'files') onDisk.set(name, crypto.createHash(algo).update(data).digest('hex'));
    else for (let s = 0; s < data.length; s += ser.shard_size) {
      const e = Math.min(data.length, s + ser.shard_size);
      onDisk.set(`${name}:${s}:${e}`, crypto.createHash(algo).update(data.subarray(s, e)).digest('hex'));
    }
  }
  if (onDisk.size !== st.predicate.resources.length) return 'resource count';
  for (const r of st.predicate.resources) if (onDisk.get(r.name) !== r.digest) return `resource ${r.name}`;
  return 'ok';
}
