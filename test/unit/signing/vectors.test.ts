// The OMS spec's test vectors and the bundles written by model_signing v1.1.0: valid ones verify,
// invalid ones are rejected with their specific reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { verifyModel, loadPublicKey, loadCertificates, parseBundle, checkStatement } from '../../../core/signing/index';
import { FIX, GEN, KEYS, MS, VECTORS, copyModel, rmTemp } from './helpers';
import { independentVerify } from './independent';

const key = () => loadPublicKey(path.join(KEYS, 'signing-key-pub.pem'));
const ca = () => loadCertificates(path.join(KEYS, 'ca-cert.pem'));

test('model_signing v1.1.0 elliptic-key bundle verifies with the public key', async () => {
  const r = await verifyModel(path.join(MS, 'v1.1.0-elliptic-key'), { key: key() });
  assert.equal(r.verified, true, JSON.stringify(r.failures));
  assert.equal(r.method, 'key');
  assert.equal(r.rootDigest, '92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4');
  assert.equal(r.files, 2); // ignore-me is in the bundle's ignore_paths, model.sig is the signature
  assert.equal(independentVerify(path.join(MS, 'v1.1.0-elliptic-key'), path.join(MS, 'v1.1.0-elliptic-key/model.sig'), fs.readFileSync(path.join(KEYS, 'signing-key-pub.pem'))), 'ok');
});

test('model_signing v1.1.0 certificate bundle verifies against the root CA (leaf + intermediate in the bundle)', async () => {
  const r = await verifyModel(path.join(MS, 'v1.1.0-certificate'), { caCerts: ca() });
  assert.equal(r.verified, true, JSON.stringify(r.failures));
  assert.equal(r.method, 'certificate');
  assert.deepEqual(r.signer?.certificates, ['CN=intermediate-ca', 'CN=intermediate-ca', 'CN=root-ca']);
});

test('model_signing v1.1.0 certificate bundle: the intermediate alone is not the trusted root, but trusting it works', async () => {
  const r = await verifyModel(path.join(MS, 'v1.1.0-certificate'), { caCerts: loadCertificates(path.join(KEYS, 'int-ca-cert.pem')) });
  assert.equal(r.verified, true, 'an intermediate given as the trust anchor terminates the path');
  const r2 = await verifyModel(path.join(MS, 'v1.1.0-certificate'), { key: key() });
  assert.equal(r2.verified, false);
  assert.match(r2.failures[0].message, /signed with a certificate: pass --certificate-chain/);
});

test('model_signing v1.1.0 certificate bundle: leaf validity is checked at verification time', async () => {
  const r = await verifyModel(path.join(MS, 'v1.1.0-certificate'), { caCerts: ca(), now: new Date('2036-01-01T00:00:00Z') });
  assert.equal(r.verified, false);
  assert.equal(r.failures[0].check, 'chain');
  assert.match(r.failures[0].message, /expired on 2035-04-30/);
  const early = await verifyModel(path.join(MS, 'v1.1.0-certificate'), { caCerts: ca(), now: new Date('2025-01-01T00:00:00Z') });
  assert.match(early.failures[0].message, /not valid before 2025-05-02/);
});

test('model_signing v1.1.0 sigstore bundle: parsed by @sigstore/bundle and by ModelVet; without a trusted root it is not verified, with the reason', async () => {
  const sig = path.join(MS, 'v1.1.0-sigstore/model.sig');
  const json = JSON.parse(fs.readFileSync(sig, 'utf8'));
  const b = bundleFromJSON(json);
  assert.equal(b.verificationMaterial.content.$case, 'certificate');
  assert.equal(b.verificationMaterial.tlogEntries.length, 1);
  assert.equal(b.verificationMaterial.tlogEntries[0].kindVersion?.kind, 'dsse');
  const pb = parseBundle(fs.readFileSync(sig, 'utf8'));
  assert.equal(pb.method, 'sigstore');
  // The certificate is the Fulcio leaf of the IBM instance: identity and issuer are in it.
  const leaf = pb.certificates[0];
  assert.match(leaf.subjectAltName ?? '', /stefanb@us\.ibm\.com/);
  assert.ok(leaf.raw.includes(Buffer.from('https://sigstore.verify.ibm.com/oauth2')));
  assert.match(leaf.issuer, /sigstore-intermediate/);
  // Everything except the transparency-log / Fulcio trust: the DSSE signature verifies with the leaf key,
  // the statement checks out and the files match.
  const crypto = await import('node:crypto');
  const { pae } = await import('../../../core/signing/index');
  assert.equal(crypto.verify('sha256', pae(pb.payloadType, pb.payload), leaf.publicKey, pb.signature), true);
  const st = checkStatement(JSON.parse(pb.payload.toString('utf8')));
  assert.equal(st.rootDigest, '61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226');
  const r = await verifyModel(path.join(MS, 'v1.1.0-sigstore'), { sigstore: { identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' } });
  // Signed by the public-good instance: verifies offline with the bundled trusted root (sigstore-bundled.test.ts).
  assert.equal(r.verified, true, JSON.stringify(r.failures));
  assert.match(r.trustedRoot ?? '', /^bundled from @sigstore\/tuf /);
  // A trusted root without that instance's keys: @sigstore/verify rejects it (offline, no network).
  const emptyRoot = { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };
  const r2 = await verifyModel(path.join(MS, 'v1.1.0-sigstore'), { sigstore: { identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2', trustedRoot: emptyRoot } });
  assert.equal(r2.verified, false);
  assert.equal(r2.failures[0].check, 'chain');
  assert.match(r2.failures[0].message, /Sigstore verification failed: .+/);
});

test('spec valid vectors: key and certificate verify over the elliptic-key model files', async () => {
  const dir = copyModel(path.join(MS, 'v1.1.0-elliptic-key'));
  try {
    for (const [v, opts] of [['key', { key: key() }], ['certificate', { caCerts: ca() }]] as const) {
      const r = await verifyModel(dir, { ...opts, signaturePath: path.join(VECTORS, `valid/${v}.bundle.json`) });
      assert.equal(r.verified, true, `${v}: ${JSON.stringify(r.failures)}`);
      assert.equal(r.modelName, 'model');
    }
  } finally { rmTemp(dir); }
});

test('spec valid sigstore vector parses; its statement matches the sigstore model files', async () => {
  const text = fs.readFileSync(path.join(VECTORS, 'valid/sigstore.bundle.json'), 'utf8');
  const pb = parseBundle(text);
  assert.equal(pb.method, 'sigstore');
  bundleFromJSON(JSON.parse(text));
  const st = checkStatement(JSON.parse(pb.payload.toString('utf8')));
  assert.deepEqual(st.files.sort(), ['signme-1', 'signme-2']);
});

const INVALID: Array<[string, RegExp]> = [
  ['invalid/empty', /the signature file is empty/],
  ['invalid/missing-envelope', /no dsseEnvelope/],
  ['invalid/missing-tlog-entries', /no transparency log entries/],
  ['invalid/missing-verification-material', /no verificationMaterial/],
  ['invalid-payload/wrong-predicate', /predicate type is "https:\/\/example\.com\/wrong-predicate\/v1\.0"/],
];
for (const [v, reason] of INVALID) {
  test(`spec invalid vector ${v} is rejected: ${reason.source}`, async () => {
    const dir = copyModel(path.join(MS, 'v1.1.0-elliptic-key'));
    try {
      const r = await verifyModel(dir, { key: key(), signaturePath: path.join(VECTORS, `${v}.bundle.json`) });
      assert.equal(r.verified, false);
      assert.ok(r.failures.some((f) => reason.test(f.message)), JSON.stringify(r.failures));
      assert.equal(r.files, 0, 'no file is hashed for a rejected bundle');
    } finally { rmTemp(dir); }
  });
}

test('interop matrix: the independent verifier (node:crypto only, no code shared with core/) verifies every valid bundle', () => {
  const caPem = fs.readFileSync(path.join(KEYS, 'ca-cert.pem'));
  const ek = copyModel(path.join(MS, 'v1.1.0-elliptic-key'));
  try {
    const cases: Array<[string, string, string, Parameters<typeof independentVerify>[2]]> = [
      ['model_signing 1.1.0 key', path.join(MS, 'v1.1.0-elliptic-key'), path.join(MS, 'v1.1.0-elliptic-key/model.sig'), fs.readFileSync(path.join(KEYS, 'signing-key-pub.pem'))],
      ['model_signing 1.1.0 certificate (chain to the root CA)', path.join(MS, 'v1.1.0-certificate'), path.join(MS, 'v1.1.0-certificate/model.sig'), { caPem }],
      ['model_signing 1.1.0 Sigstore (signature by the bundle leaf, files)', path.join(MS, 'v1.1.0-sigstore'), path.join(MS, 'v1.1.0-sigstore/model.sig'), { bundleLeaf: true }],
      ['spec valid/key', ek, path.join(VECTORS, 'valid/key.bundle.json'), fs.readFileSync(path.join(KEYS, 'signing-key-pub.pem'))],
      ['spec valid/certificate (chain to the root CA)', ek, path.join(VECTORS, 'valid/certificate.bundle.json'), { caPem }],
      ['spec valid/sigstore (signature by the bundle leaf, files)', path.join(MS, 'v1.1.0-sigstore'), path.join(VECTORS, 'valid/sigstore.bundle.json'), { bundleLeaf: true }],
      ['synthetic Sigstore bundle (make_sigstore.py; signature by the bundle leaf, files)', path.join(FIX, 'sigstore-synthetic'), path.join(FIX, 'sigstore-synthetic/model.sig'), { bundleLeaf: true }],
    ];
    for (const [what, dir, sig, trust] of cases) assert.equal(independentVerify(dir, sig, trust), 'ok', what);
    // It can fail: another CA, another key, a changed file.
    assert.match(independentVerify(path.join(MS, 'v1.1.0-certificate'), path.join(MS, 'v1.1.0-certificate/model.sig'), { caPem: fs.readFileSync(path.join(GEN, 'other-ca.pem')) }), /^chain/);
    assert.equal(independentVerify(ek, path.join(VECTORS, 'valid/key.bundle.json'), fs.readFileSync(path.join(GEN, 'p384-pub.pem'))), 'signature');
    fs.appendFileSync(path.join(ek, 'signme-1'), 'x');
    assert.match(independentVerify(ek, path.join(VECTORS, 'valid/certificate.bundle.json'), { caPem }), /^resource/);
  } finally { rmTemp(ek); }
});
