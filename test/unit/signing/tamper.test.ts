// Tampering: every change to the model, the key, the chain or the bundle fails verification and the
// report says what failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { verifyModel, signModel, loadPrivateKey, loadPublicKey, loadCertificates, computeManifest, buildBundle, pae } from '../../../core/signing/index';
import { GEN, KEYS, MS, copyModel, makeModel, rmTemp } from './helpers';

const pubKey = () => loadPublicKey(path.join(KEYS, 'signing-key-pub.pem'));
const privKey = () => loadPrivateKey(path.join(KEYS, 'signing-key.pem'));
const ca = () => loadCertificates(path.join(KEYS, 'ca-cert.pem'));

async function withSignedCopy(fn: (dir: string) => Promise<void>, src = 'v1.1.0-elliptic-key') {
  const dir = copyModel(path.join(MS, src), true);
  try { await fn(dir); } finally { rmTemp(dir); }
}

test('changed byte in a signed file: that file is named', () => withSignedCopy(async (dir) => {
  const f = path.join(dir, 'signme-1');
  const b = fs.readFileSync(f); b[0] ^= 1; fs.writeFileSync(f, b);
  const r = await verifyModel(dir, { key: pubKey() });
  assert.equal(r.verified, false);
  assert.deepEqual(r.changed, ['signme-1']);
  assert.deepEqual([r.missing, r.extra], [[], []]);
}));

test('extra file: named as unsigned; --ignore-unsigned-files accepts it without reading it', () => withSignedCopy(async (dir) => {
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub/extra.bin'), 'x');
  const r = await verifyModel(dir, { key: pubKey() });
  assert.equal(r.verified, false);
  assert.deepEqual(r.extra, ['sub/extra.bin']);
  const r2 = await verifyModel(dir, { key: pubKey(), ignoreUnsignedFiles: true });
  assert.equal(r2.verified, true, JSON.stringify(r2.failures));
  assert.equal(r2.files, 2);
  const r3 = await verifyModel(dir, { key: pubKey(), ignorePaths: [path.join(dir, 'sub')] });
  assert.equal(r3.verified, true, '--ignore-paths leaves the folder out');
}));

test('missing file: named as missing', () => withSignedCopy(async (dir) => {
  fs.rmSync(path.join(dir, 'signme-2'));
  const r = await verifyModel(dir, { key: pubKey() });
  assert.equal(r.verified, false);
  assert.deepEqual(r.missing, ['signme-2']);
}));

test('renamed file: the old name is missing, the new one is unsigned', () => withSignedCopy(async (dir) => {
  fs.renameSync(path.join(dir, 'signme-2'), path.join(dir, 'signme-3'));
  const r = await verifyModel(dir, { key: pubKey() });
  assert.deepEqual([r.verified, r.missing, r.extra], [false, ['signme-2'], ['signme-3']]);
}));

test('wrong key: rejected by the key hint, and by the signature when the hint is absent', () => withSignedCopy(async (dir) => {
  const other = loadPublicKey(path.join(GEN, 'p384-pub.pem'));
  const r = await verifyModel(dir, { key: other });
  assert.equal(r.verified, false);
  assert.equal(r.failures[0].check, 'key');
  assert.match(r.failures[0].message, /key hint .* does not match/);
  const sig = path.join(dir, 'model.sig');
  const b = JSON.parse(fs.readFileSync(sig, 'utf8'));
  delete b.verificationMaterial.publicKey.hint;
  fs.writeFileSync(sig, JSON.stringify(b));
  const r2 = await verifyModel(dir, { key: other });
  assert.equal(r2.failures[0].check, 'signature');
  assert.equal(r2.files, 0, 'nothing hashed after a bad signature');
}));

/** Signs `dir` with the certificate method, bypassing signModel's own certificate checks (to test the verifier). */
async function certBundle(dir: string, keyFile: string, leafFile: string, chainFiles: string[]) {
  const key = await loadPrivateKey(keyFile);
  const m = await computeManifest(dir, { signaturePath: path.join(dir, 'model.sig') });
  const chain = chainFiles.flatMap((f) => loadCertificates(f));
  const b = buildBundle(m, key, loadCertificates(leafFile)[0], chain);
  fs.writeFileSync(path.join(dir, 'model.sig'), JSON.stringify(b));
}

test('certificate chain failures: wrong CA, expired leaf, not yet valid, no codeSigning, no EKU, no digitalSignature, non-CA issuer', async () => {
  const dir = makeModel({ 'w.bin': 'weights' });
  try {
    const k = path.join(GEN, 'p256-sec1.pem'), int = path.join(KEYS, 'int-ca-cert.pem');
    const cases: Array<[string, string[], RegExp, string?]> = [
      ['leaf-p256.pem', [int], /^$/],
      ['leaf-expired.pem', [int], /modelvet-expired" expired on/],
      ['leaf-not-yet-valid.pem', [int], /modelvet-future" is not valid before/],
      ['leaf-no-codesigning.pem', [int], /extended key usage does not include codeSigning/],
      ['leaf-no-eku.pem', [int], /has no extended key usage/],
      ['leaf-no-digitalsignature.pem', [int], /does not allow digitalSignature/],
      ['leaf-other-ca.pem', [], /does not chain to the given CA/],
    ];
    for (const [leaf, chain, reason] of cases) {
      await certBundle(dir, k, path.join(GEN, leaf), chain);
      const r = await verifyModel(dir, { caCerts: ca() });
      if (reason.source === '^$') { assert.equal(r.verified, true, `${leaf}: ${JSON.stringify(r.failures)}`); continue; }
      assert.equal(r.verified, false, leaf);
      assert.equal(r.failures[0].check, 'chain', leaf);
      assert.match(r.failures[0].message, reason, leaf);
    }
    // The right leaf against the wrong CA.
    await certBundle(dir, k, path.join(GEN, 'leaf-p256.pem'), [int]);
    const wrongCa = await verifyModel(dir, { caCerts: loadCertificates(path.join(GEN, 'other-ca.pem')) });
    assert.match(wrongCa.failures[0].message, /does not chain to the given CA certificate \(CN=other-root-ca\)/);
    // A leaf issued by a certificate that is not a CA.
    await certBundle(dir, path.join(GEN, 'p256b-sec1.pem'), path.join(GEN, 'leaf-under-non-ca.pem'), [path.join(GEN, 'leaf-p256.pem'), int]);
    const nonCa = await verifyModel(dir, { caCerts: ca() });
    assert.match(nonCa.failures[0].message, /modelvet-test-signer" is not a CA/);
    // A leaf swapped in for another key's certificate: the signature no longer matches the leaf.
    await certBundle(dir, path.join(GEN, 'p256b-sec1.pem'), path.join(GEN, 'leaf-p256.pem'), [int]);
    const swapped = await verifyModel(dir, { caCerts: ca() });
    assert.equal(swapped.failures[0].check, 'signature');
  } finally { rmTemp(dir); }
});

test('payload swapped between two bundles signed by the same key: rejected', async () => {
  const a = makeModel({ 'a.bin': 'AAA' }), b = makeModel({ 'b.bin': 'BBB' });
  try {
    const key = await privKey();
    await signModel(a, { key }); await signModel(b, { key });
    const ba = JSON.parse(fs.readFileSync(path.join(a, 'model.sig'), 'utf8'));
    const bb = JSON.parse(fs.readFileSync(path.join(b, 'model.sig'), 'utf8'));
    ba.dsseEnvelope.payload = bb.dsseEnvelope.payload;
    fs.writeFileSync(path.join(a, 'model.sig'), JSON.stringify(ba));
    const r = await verifyModel(a, { key: pubKey() });
    assert.equal(r.verified, false);
    assert.equal(r.failures[0].check, 'signature');
    // The other bundle's whole envelope is validly signed, but for other files.
    ba.dsseEnvelope = bb.dsseEnvelope;
    fs.writeFileSync(path.join(a, 'model.sig'), JSON.stringify(ba));
    const r2 = await verifyModel(a, { key: pubKey() });
    assert.deepEqual([r2.verified, r2.missing, r2.extra], [false, ['b.bin'], ['a.bin']]);
  } finally { rmTemp(a); rmTemp(b); }
});

test('signature over a different PAE (payload type changed, raw payload signed without PAE): rejected', async () => {
  const dir = makeModel({ 'a.bin': 'AAA' });
  try {
    const key = await privKey();
    await signModel(dir, { key });
    const sigFile = path.join(dir, 'model.sig');
    const b = JSON.parse(fs.readFileSync(sigFile, 'utf8'));
    const payload = Buffer.from(b.dsseEnvelope.payload, 'base64');
    for (const signed of [payload, pae('application/json', payload), Buffer.concat([Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${payload.length + 1} `), payload])]) {
      b.dsseEnvelope.signatures[0].sig = crypto.sign('sha384', signed, key).toString('base64');
      fs.writeFileSync(sigFile, JSON.stringify(b));
      const r = await verifyModel(dir, { key: pubKey() });
      assert.equal(r.verified, false);
      assert.equal(r.failures[0].check, 'signature');
    }
    b.dsseEnvelope.signatures[0].sig = crypto.sign('sha384', pae('application/vnd.in-toto+json', payload), key).toString('base64');
    fs.writeFileSync(sigFile, JSON.stringify(b));
    assert.equal((await verifyModel(dir, { key: pubKey() })).verified, true, 'the test re-signs correctly');
  } finally { rmTemp(dir); }
});

/** Re-signs a bundle after editing its statement (so only the statement checks can catch it). */
async function resign(dir: string, edit: (st: any) => void) {
  const key = await privKey();
  const sigFile = path.join(dir, 'model.sig');
  const b = JSON.parse(fs.readFileSync(sigFile, 'utf8'));
  const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
  edit(st);
  const payload = Buffer.from(JSON.stringify(st));
  b.dsseEnvelope.payload = payload.toString('base64');
  b.dsseEnvelope.signatures[0].sig = crypto.sign('sha384', pae('application/vnd.in-toto+json', payload), key).toString('base64');
  fs.writeFileSync(sigFile, JSON.stringify(b));
}

test('traversal and unsafe resource names in a (validly signed) bundle are refused before any file is read', async () => {
  const outside = makeModel({ 'secret.txt': 'outside' });
  const dir = makeModel({ 'a.bin': 'AAA' });
  try {
    const key = await privKey();
    for (const name of ['../secret.txt', `../${path.basename(outside)}/secret.txt`, '/etc/passwd', 'sub\\..\\x', 'a/./b', 'a//b', 'C:/x']) {
      await signModel(dir, { key, force: true });
      await resign(dir, (st) => {
        st.predicate.resources.push({ name, algorithm: 'sha256', digest: crypto.createHash('sha256').update('outside').digest('hex') });
        const h = crypto.createHash('sha256');
        for (const r of st.predicate.resources) h.update(Buffer.from(r.digest, 'hex'));
        st.subject[0].digest.sha256 = h.digest('hex');
      });
      const r = await verifyModel(dir, { key: pubKey(), ignoreUnsignedFiles: true });
      assert.equal(r.verified, false, name);
      assert.equal(r.failures[0].check, 'statement');
      assert.match(r.failures[0].message, /unsafe resource name/, name);
      assert.equal(r.files, 0);
    }
    await signModel(dir, { key, force: true });
    await resign(dir, (st) => { st.predicate.serialization.ignore_paths.push('../x'); });
    assert.match((await verifyModel(dir, { key: pubKey() })).failures[0].message, /unsafe ignore path/);
  } finally { rmTemp(dir); rmTemp(outside); }
});

test('statement checks on validly signed bundles: subject digest, _type, duplicate resource, bad digest, hash type', async () => {
  const dir = makeModel({ 'a.bin': 'AAA', 'b.bin': 'BBB' });
  try {
    const key = await privKey();
    const cases: Array<[(st: any) => void, RegExp]> = [
      [(st) => { st.subject[0].digest.sha256 = '0'.repeat(64); }, /does not match the root digest/],
      [(st) => { st._type = 'https://in-toto.io/Statement/v0.1'; }, /statement _type/],
      [(st) => { st.predicate.resources.push({ ...st.predicate.resources[0] }); }, /listed twice/],
      [(st) => { st.predicate.resources[0].digest = 'ABC'; }, /lowercase hex/],
      [(st) => { st.predicate.serialization.hash_type = 'md5'; }, /unsupported hash type/],
      [(st) => { st.predicate.resources[0].algorithm = 'blake2b'; }, /has algorithm "blake2b", expected sha256/],
      [(st) => { st.subject = []; }, /exactly one subject/],
    ];
    for (const [edit, reason] of cases) {
      await signModel(dir, { key, force: true });
      await resign(dir, edit);
      const r = await verifyModel(dir, { key: pubKey() });
      assert.equal(r.verified, false, reason.source);
      assert.match(r.failures.map((f) => f.message).join('\n'), reason);
    }
  } finally { rmTemp(dir); }
});

test('resources reordered (component order, as model_signing writes) still verify: the root is recomputed in listed order', async () => {
  const dir = makeModel({ 'a/b': '1', 'a.txt': '2' });
  try {
    const key = await privKey();
    await signModel(dir, { key });
    await resign(dir, (st) => {
      assert.deepEqual(st.predicate.resources.map((r: any) => r.name), ['a.txt', 'a/b'], 'ModelVet writes code point order');
      st.predicate.resources.reverse();
      const h = crypto.createHash('sha256');
      for (const r of st.predicate.resources) h.update(Buffer.from(r.digest, 'hex'));
      st.subject[0].digest.sha256 = h.digest('hex');
    });
    const r = await verifyModel(dir, { key: pubKey() });
    assert.equal(r.verified, true, JSON.stringify(r.failures));
  } finally { rmTemp(dir); }
});

test('model_signing shard quirks: "sha256-sharded-N" algorithm and a float shard_size verify; a shard changed is named by file', async () => {
  const big = Buffer.alloc(10000, 7);
  const dir = makeModel({ 'w.bin': big, 'small': 'x', 'empty': '' });
  try {
    const key = await privKey();
    await signModel(dir, { key, shardSize: 4096 });
    await resign(dir, (st) => {
      assert.equal(st.predicate.serialization.method, 'shards');
      assert.deepEqual(st.predicate.resources.map((r: any) => r.name), ['small:0:1', 'w.bin:0:4096', 'w.bin:4096:8192', 'w.bin:8192:10000']);
      for (const r of st.predicate.resources) r.algorithm = 'sha256-sharded-4096';
    });
    // JSON.stringify writes 4096 for 4096.0; model_signing's float form is covered in checkStatement's unit.
    const r = await verifyModel(dir, { key: pubKey() });
    assert.equal(r.verified, true, JSON.stringify(r.failures));
    const b = fs.readFileSync(path.join(dir, 'w.bin')); b[5000] ^= 1; fs.writeFileSync(path.join(dir, 'w.bin'), b);
    assert.deepEqual((await verifyModel(dir, { key: pubKey() })).changed, ['w.bin']);
    fs.appendFileSync(path.join(dir, 'small'), 'y');
    assert.deepEqual((await verifyModel(dir, { key: pubKey() })).changed.sort(), ['small', 'w.bin']);
  } finally { rmTemp(dir); }
});

test('checkStatement accepts shard_size as the float model_signing writes', async () => {
  const { checkStatement } = await import('../../../core/signing/index');
  const d = crypto.createHash('sha256').update('x').digest('hex');
  const root = crypto.createHash('sha256').update(Buffer.from(d, 'hex')).digest('hex');
  const text = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":".","digest":{"sha256":"${root}"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":{"method":"shards","hash_type":"sha256","shard_size":1000000000.0,"allow_symlinks":false,"ignore_paths":[]},"resources":[{"name":"f:0:1","algorithm":"sha256-sharded-1000000000","digest":"${d}"}]}}`;
  const st = checkStatement(JSON.parse(text));
  assert.equal(st.serialization.shard_size, 1000000000);
  assert.equal(st.modelName, '.');
});

test('pre-1.1 bundles carry publicKey.rawBytes instead of a hint: the same key verifies, another key is named', () => withSignedCopy(async (dir) => {
  const sig = path.join(dir, 'model.sig');
  const b = JSON.parse(fs.readFileSync(sig, 'utf8'));
  delete b.verificationMaterial.publicKey.hint;
  b.verificationMaterial.publicKey.rawBytes = (pubKey().export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
  fs.writeFileSync(sig, JSON.stringify(b));
  assert.equal((await verifyModel(dir, { key: pubKey() })).verified, true);
  b.verificationMaterial.publicKey.rawBytes = Buffer.from(fs.readFileSync(path.join(GEN, 'p384-pub.pem'))).toString('base64');
  fs.writeFileSync(sig, JSON.stringify(b));
  const r = await verifyModel(dir, { key: pubKey() });
  assert.equal(r.failures[0].check, 'key');
  assert.match(r.failures[0].message, /names a different public key/);
}));

test('model_signing single-file bundles name the resource "." : accepted for a file model, refused for a folder or mixed with other names', async () => {
  const dir = makeModel({ 'model.safetensors': 'tensor' });
  const file = path.join(dir, 'model.safetensors');
  try {
    const key = await privKey();
    await signModel(file, { key, signaturePath: path.join(dir, 'model.sig') });
    await resign(dir, (st) => { st.subject[0].name = 'model.safetensors'; st.predicate.resources[0].name = '.'; });
    const ok = await verifyModel(file, { key: pubKey(), signaturePath: path.join(dir, 'model.sig') });
    assert.equal(ok.verified, true, JSON.stringify(ok.failures));
    fs.appendFileSync(file, '!');
    assert.deepEqual((await verifyModel(file, { key: pubKey(), signaturePath: path.join(dir, 'model.sig') })).changed, ['.']);
    const asFolder = await verifyModel(dir, { key: pubKey() });
    assert.match(asFolder.failures.map((f) => f.message).join('\n'), /single file \(resource "."\), but the model is a folder/);
    await resign(dir, (st) => { st.predicate.resources.push({ name: 'x', algorithm: 'sha256', digest: '0'.repeat(64) }); const h = crypto.createHash('sha256'); for (const r of st.predicate.resources) h.update(Buffer.from(r.digest, 'hex')); st.subject[0].digest.sha256 = h.digest('hex'); });
    assert.match((await verifyModel(file, { key: pubKey(), signaturePath: path.join(dir, 'model.sig') })).failures[0].message, /listed together with other files/);
  } finally { rmTemp(dir); }
});

test('legacy model_signing 0.2 statements (predicate Digests/v0.1: files as subjects) verify; changes are named; unsafe names refused', async () => {
  const dir = makeModel({ 'a.bin': 'AAA', 'sub/b.bin': 'BBB' });
  try {
    const key = await privKey();
    await signModel(dir, { key });
    await resign(dir, (st) => {
      st.subject = st.predicate.resources.map((r: any) => ({ name: r.name, digest: { sha256: r.digest } }));
      st.predicateType = 'https://model_signing/Digests/v0.1';
      delete st.predicate;
    });
    const r = await verifyModel(dir, { key: pubKey() });
    assert.equal(r.verified, true, JSON.stringify(r.failures));
    assert.equal(r.legacy, true);
    fs.writeFileSync(path.join(dir, 'sub/b.bin'), 'bbb');
    assert.deepEqual((await verifyModel(dir, { key: pubKey() })).changed, ['sub/b.bin']);
    await resign(dir, (st) => { st.subject.push({ name: '../x', digest: { sha256: '0'.repeat(64) } }); });
    assert.match((await verifyModel(dir, { key: pubKey() })).failures[0].message, /unsafe resource name "\.\.\/x"/);
  } finally { rmTemp(dir); }
});

test('--model-signing-compat shard names ("sha256-sharded-N") verify; an empty file\'s "f:0:0" shard matches only an empty file', async () => {
  const dir = makeModel({ 'w.bin': Buffer.alloc(9000, 3), 'empty': '' });
  try {
    const key = await privKey();
    const res = await signModel(dir, { key, shardSize: 4096, shardAlgorithm: 'model_signing' });
    assert.deepEqual([...new Set(res.manifest.resources.map((r) => r.algorithm))], ['sha256-sharded-4096']);
    assert.equal((await verifyModel(dir, { key: pubKey() })).verified, true);
    await resign(dir, (st) => {
      st.predicate.resources.push({ name: 'empty:0:0', algorithm: 'sha256-sharded-4096', digest: crypto.createHash('sha256').digest('hex') });
      const h = crypto.createHash('sha256');
      for (const r of st.predicate.resources) h.update(Buffer.from(r.digest, 'hex'));
      st.subject[0].digest.sha256 = h.digest('hex');
    });
    const r = await verifyModel(dir, { key: pubKey() });
    assert.equal(r.verified, true, JSON.stringify(r.failures));
    fs.writeFileSync(path.join(dir, 'empty'), 'now has bytes');
    assert.deepEqual((await verifyModel(dir, { key: pubKey() })).changed, ['empty']);
  } finally { rmTemp(dir); }
});
