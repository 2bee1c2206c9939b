// Round trips: ModelVet signs with every key kind → ModelVet and the independent verifier verify; the
// bundles ModelVet writes have exactly the structure model_signing 1.1 writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { signModel, verifyModel, loadPrivateKey, loadPublicKey, loadCertificates, computeManifest, omsDigest } from '../../../core/signing/index';
import { GEN, KEYS, MS, makeModel, rmTemp, tempDir } from './helpers';
import { independentVerify } from './independent';

const PASSWORD = 'modelvet-test-password';
const KEY_CASES: Array<[string, string, string?]> = [
  ['P-384 SEC1 (model_signing fixture, text preamble)', path.join(KEYS, 'signing-key.pem'), path.join(KEYS, 'signing-key-pub.pem')],
  ['P-256 SEC1', path.join(GEN, 'p256-sec1.pem'), path.join(GEN, 'p256-pub.pem')],
  ['P-384 PKCS#8', path.join(GEN, 'p384-pkcs8.pem'), path.join(GEN, 'p384-pub.pem')],
  ['P-521 PKCS#8', path.join(GEN, 'p521-pkcs8.pem'), path.join(GEN, 'p521-pub.pem')],
  ['P-256 encrypted PKCS#8', path.join(GEN, 'p256-pkcs8-encrypted.pem'), path.join(GEN, 'p256-pub.pem')],
  ['P-384 encrypted SEC1 (legacy PEM encryption)', path.join(GEN, 'p384-sec1-encrypted.pem'), path.join(GEN, 'p384-pub.pem')],
];

const MODEL = { 'config.json': '{"a":1}', 'weights/model.safetensors': crypto.randomBytes(70000), '.hidden': 'h', 'a/b': 'x', 'a.txt': 'y', '.git/HEAD': 'ref', '.gitignore': '*.tmp' };

for (const [label, priv, pub] of KEY_CASES) {
  test(`round trip: ${label}`, async () => {
    const dir = makeModel(MODEL);
    try {
      const key = await loadPrivateKey(priv!, async () => PASSWORD);
      const res = await signModel(dir, { key });
      assert.equal(res.signaturePath, path.join(dir, 'model.sig'));
      const r = await verifyModel(dir, { key: loadPublicKey(pub!) });
      assert.equal(r.verified, true, JSON.stringify(r.failures));
      assert.equal(independentVerify(dir, res.signaturePath, fs.readFileSync(pub!)), 'ok');
      // Hidden files are signed; .git and .gitignore are not.
      assert.deepEqual(res.manifest.resources.map((x) => x.name), ['.hidden', 'a.txt', 'a/b', 'config.json', 'weights/model.safetensors']);
    } finally { rmTemp(dir); }
  });
}

test('encrypted key without a password: a usage error that names the environment variable; wrong password too', async () => {
  await assert.rejects(loadPrivateKey(path.join(GEN, 'p256-pkcs8-encrypted.pem')), /encrypted: set MODELVET_KEY_PASSWORD/);
  await assert.rejects(loadPrivateKey(path.join(GEN, 'p256-pkcs8-encrypted.pem'), async () => 'wrong'), /cannot decrypt/);
  await assert.rejects(loadPrivateKey(path.join(KEYS, 'int-ca-priv.pem')), /rsa key; OMS signing uses ECDSA/);
});

test('certificate method round trip: the bundle carries leaf + chain; verify against the root CA', async () => {
  const dir = makeModel({ 'w.bin': 'weights' });
  try {
    const key = await loadPrivateKey(path.join(GEN, 'p256-sec1.pem'));
    const res = await signModel(dir, { key, certificate: loadCertificates(path.join(GEN, 'leaf-p256.pem'))[0], certificateChain: loadCertificates(path.join(KEYS, 'int-ca-cert.pem')) });
    const vm = (res.bundle as any).verificationMaterial;
    assert.equal(vm.x509CertificateChain.certificates.length, 2);
    const r = await verifyModel(dir, { caCerts: loadCertificates(path.join(KEYS, 'ca-cert.pem')) });
    assert.equal(r.verified, true, JSON.stringify(r.failures));
    assert.deepEqual(r.signer?.certificates, ['CN=modelvet-test-signer', 'CN=intermediate-ca', 'CN=root-ca']);
    assert.equal(independentVerify(dir, res.signaturePath, { caPem: fs.readFileSync(path.join(KEYS, 'ca-cert.pem')) }), 'ok');
    // Signing refuses certificates that could not verify.
    await assert.rejects(signModel(dir, { key, force: true, certificate: loadCertificates(path.join(GEN, 'leaf-expired.pem'))[0] }), /not valid now/);
    await assert.rejects(signModel(dir, { key, force: true, certificate: loadCertificates(path.join(GEN, 'leaf-no-codesigning.pem'))[0] }), /codeSigning/);
    await assert.rejects(signModel(dir, { key, force: true, certificate: loadCertificates(path.join(KEYS, 'signing-key-cert.pem'))[0] }), /not for the given private key/);
  } finally { rmTemp(dir); }
});

/** The shape of a JSON value: object keys (sorted) and value types, arrays by their first element. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as any)[k])]));
  return typeof v;
}
const payloadOf = (b: any) => JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));

test('golden structure: ModelVet bundles have exactly the structure model_signing 1.1 writes (key and certificate)', async () => {
  const dir = makeModel({ 'signme-1': 'a', 'signme-2': 'b', 'ignore-me': '' });
  try {
    const key = await loadPrivateKey(path.join(KEYS, 'signing-key.pem'));
    for (const [fixture, opts] of [
      ['v1.1.0-elliptic-key', {}],
      ['v1.1.0-certificate', { certificate: loadCertificates(path.join(KEYS, 'signing-key-cert.pem'))[0], certificateChain: loadCertificates(path.join(KEYS, 'int-ca-cert.pem')) }],
    ] as const) {
      const { bundle } = await signModel(dir, { key, force: true, ignorePaths: ['ignore-me'], ...opts });
      const ref = JSON.parse(fs.readFileSync(path.join(MS, fixture, 'model.sig'), 'utf8'));
      assert.deepEqual(shape(bundle), shape(ref), fixture);
      assert.deepEqual(Object.keys(bundle), Object.keys(ref), 'top-level key order as model_signing');
      assert.deepEqual(shape(payloadOf(bundle)), shape(payloadOf(ref)), `${fixture} payload`);
      const ours = payloadOf(bundle), theirs = payloadOf(ref);
      assert.deepEqual([...ours.predicate.serialization.ignore_paths].sort(), [...theirs.predicate.serialization.ignore_paths].sort());
      assert.equal(ours.predicate.serialization.method, theirs.predicate.serialization.method);
      assert.equal((bundle as any).dsseEnvelope.signatures[0].keyid, '');
      if (fixture === 'v1.1.0-elliptic-key') assert.equal((bundle as any).verificationMaterial.publicKey.hint, ref.verificationMaterial.publicKey.hint, 'same key → same hint');
      // The payload is indented JSON like model_signing's; the bundle file is compact JSON.
      assert.match(Buffer.from((bundle as any).dsseEnvelope.payload, 'base64').toString('utf8'), /^\{\n {2}"_type"/);
      assert.equal(fs.readFileSync(path.join(dir, 'model.sig'), 'utf8'), JSON.stringify(bundle));
    }
  } finally { rmTemp(dir); }
});

test('same files as the model_signing fixture → the same resource digests and root digest', async () => {
  const m = await computeManifest(path.join(MS, 'v1.1.0-elliptic-key'), { ignorePaths: ['ignore-me'], signaturePath: path.join(MS, 'v1.1.0-elliptic-key/model.sig') });
  const ref = payloadOf(JSON.parse(fs.readFileSync(path.join(MS, 'v1.1.0-elliptic-key/model.sig'), 'utf8')));
  assert.equal(omsDigest(m), `sha256:${ref.subject[0].digest.sha256}`);
  assert.deepEqual(m.resources, ref.predicate.resources.map((r: any) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })));
  assert.deepEqual(m.files.map((f) => [f.name, f.size]), [['signme-1', 9], ['signme-2', 8]]);
});

test('blake2b and shards round trip (independent verifier agrees); digests equal node:crypto of the bytes', async () => {
  const data = crypto.randomBytes(20000);
  const dir = makeModel({ 'w.bin': data, 'x': 'xx' });
  try {
    const key = await loadPrivateKey(path.join(GEN, 'p256-sec1.pem'));
    for (const opts of [{ hashType: 'blake2b' as const }, { shardSize: 8192 }, { hashType: 'blake2b' as const, shardSize: 4096 }]) {
      const res = await signModel(dir, { key, force: true, jobs: 2, ...opts });
      assert.equal((await verifyModel(dir, { key: loadPublicKey(path.join(GEN, 'p256-pub.pem')) })).verified, true, JSON.stringify(opts));
      assert.equal(independentVerify(dir, res.signaturePath, fs.readFileSync(path.join(GEN, 'p256-pub.pem'))), 'ok', JSON.stringify(opts));
    }
    const m = await computeManifest(dir, { hashType: 'blake2b', signaturePath: path.join(dir, 'model.sig') });
    assert.equal(m.files[0].digest, crypto.createHash('blake2b512').update(data).digest('hex'));
    const s = await computeManifest(dir, { shardSize: 8192, signaturePath: path.join(dir, 'model.sig') });
    // The spec orders resources by name in code point order, so "16384" sorts before "8192".
    assert.deepEqual(s.resources.map((r) => r.name), ['w.bin:0:8192', 'w.bin:16384:20000', 'w.bin:8192:16384', 'x:0:2']);
    assert.equal(s.resources[2].digest, crypto.createHash('sha256').update(data.subarray(8192, 16384)).digest('hex'));
    assert.equal(s.serialization.shard_size, 8192);
  } finally { rmTemp(dir); }
});

test('single-file model: resource and subject are its base name; default signature beside it', async () => {
  const dir = tempDir();
  try {
    const f = path.join(dir, 'model.safetensors');
    fs.writeFileSync(f, 'tensor');
    const key = await loadPrivateKey(path.join(GEN, 'p256-sec1.pem'));
    const res = await signModel(f, { key });
    assert.equal(res.signaturePath, `${f}.sig`);
    assert.deepEqual(res.manifest.resources.map((r) => r.name), ['model.safetensors']);
    assert.equal(res.manifest.modelName, 'model.safetensors');
    assert.equal((await verifyModel(f, { key: loadPublicKey(path.join(GEN, 'p256-pub.pem')) })).verified, true);
    fs.appendFileSync(f, '!');
    assert.deepEqual((await verifyModel(f, { key: loadPublicKey(path.join(GEN, 'p256-pub.pem')) })).changed, ['model.safetensors']);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('sign refuses: empty model, symlinks (unless allowed), an existing signature without force; writes nothing', async () => {
  const key = await loadPrivateKey(path.join(GEN, 'p256-sec1.pem'));
  const empty = makeModel({ '.git/config': 'x' });
  try {
    await assert.rejects(signModel(empty, { key }), /no files to sign/);
    assert.equal(fs.existsSync(path.join(empty, 'model.sig')), false);
  } finally { rmTemp(empty); }
  const dir = makeModel({ 'real.bin': 'r' });
  try {
    fs.symlinkSync(path.join(dir, 'real.bin'), path.join(dir, 'link.bin'));
    await assert.rejects(signModel(dir, { key }), /link\.bin is a symbolic link \(pass --allow-symlinks/);
    const res = await signModel(dir, { key, allowSymlinks: true });
    assert.deepEqual(res.manifest.resources.map((r) => r.name), ['link.bin', 'real.bin']);
    assert.equal((res.manifest.serialization.allow_symlinks), true);
    assert.equal((await verifyModel(dir, { key: loadPublicKey(path.join(GEN, 'p256-pub.pem')) })).verified, true);
    const before = fs.readFileSync(path.join(dir, 'model.sig'));
    await assert.rejects(signModel(dir, { key, allowSymlinks: true }), /already exists \(pass --force/);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'model.sig')), before);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['link.bin', 'model.sig', 'real.bin'], 'no temp file left behind');
    // A link loop through a folder is refused, not followed forever.
    fs.mkdirSync(path.join(dir, 'd'));
    fs.symlinkSync('..', path.join(dir, 'd', 'up'));
    await assert.rejects(signModel(dir, { key, allowSymlinks: true, force: true }), /reached twice/);
  } finally { rmTemp(dir); }
});

test('the atomic write never replaces a file that appears while the signature is written (no --force); with force it does', async () => {
  const { writeFileAtomic } = await import('../../../core/signing/index');
  const dir = tempDir();
  const target = path.join(dir, 'model.sig');
  const fsync = fs.fsyncSync;
  try {
    // Another process creates model.sig after the up-front check, while ours is being written and synced.
    let raced = false;
    (fs as { fsyncSync: typeof fs.fsyncSync }).fsyncSync = (fd: number) => { if (!raced) { raced = true; fs.writeFileSync(target, 'theirs'); } return fsync(fd); };
    assert.throws(() => writeFileAtomic(target, 'ours'), /already exists \(pass --force/);
    assert.equal(raced, true);
    assert.equal(fs.readFileSync(target, 'utf8'), 'theirs', 'the other file is intact');
    assert.deepEqual(fs.readdirSync(dir), ['model.sig'], 'no temp file left behind');
    (fs as { fsyncSync: typeof fs.fsyncSync }).fsyncSync = fsync;
    writeFileAtomic(target, 'ours', { force: true });
    assert.equal(fs.readFileSync(target, 'utf8'), 'ours');
    writeFileAtomic(path.join(dir, 'new.sig'), 'fresh', { mode: 0o600 });
    assert.equal(fs.readFileSync(path.join(dir, 'new.sig'), 'utf8'), 'fresh');
    assert.equal(fs.statSync(path.join(dir, 'new.sig')).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.sig', 'new.sig']);
  } finally { (fs as { fsyncSync: typeof fs.fsyncSync }).fsyncSync = fsync; fs.rmSync(dir, { recursive: true, force: true }); }
});

test('verify of a model whose signed file became a symlink: reported, not followed', async () => {
  const dir = makeModel({ 'a.bin': 'A' });
  const outside = makeModel({ 'a.bin': 'A' });
  try {
    const key = await loadPrivateKey(path.join(GEN, 'p256-sec1.pem'));
    await signModel(dir, { key });
    fs.rmSync(path.join(dir, 'a.bin'));
    fs.symlinkSync(path.join(outside, 'a.bin'), path.join(dir, 'a.bin'));
    const r = await verifyModel(dir, { key: loadPublicKey(path.join(GEN, 'p256-pub.pem')) });
    assert.equal(r.verified, false);
    assert.match(r.failures[0].message, /a\.bin is a symbolic link/);
  } finally { rmTemp(dir); rmTemp(outside); }
});

test('sign refuses file names that are unsafe as resource names (backslash), naming the file', async () => {
  const key = await loadPrivateKey(path.join(GEN, 'p256-sec1.pem'));
  const dir = makeModel({ 'ok.bin': 'x', 'sub\\..\\evil.bin': 'y' });
  try {
    await assert.rejects(signModel(dir, { key }), /unsafe file name "sub\\\\\.\.\\\\evil\.bin": contains a backslash/);
    assert.equal(fs.existsSync(path.join(dir, 'model.sig')), false);
  } finally { rmTemp(dir); }
});

test('digest cache: unchanged files are not re-read; a rewrite with the same size and restored mtime is still caught (ctime)', async () => {
  const { MemoryDigestCache } = await import('../../../core/signing/index');
  const dir = makeModel({ 'a.bin': 'AAAA', 'b.bin': 'BBBB' });
  try {
    const cache = new MemoryDigestCache();
    let hits = 0;
    const counting = { get: (k: string) => { const v = cache.get(k); if (v) hits++; return v; }, set: (k: string, d: string) => cache.set(k, d) };
    const m1 = await computeManifest(dir, { digestCache: counting });
    assert.equal(hits, 0);
    const m2 = await computeManifest(dir, { digestCache: counting });
    assert.equal(hits, 2);
    assert.equal(m2.rootDigest, m1.rootDigest);
    const f = path.join(dir, 'a.bin');
    const st = fs.statSync(f);
    await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(f, 'XXXX');
    fs.utimesSync(f, st.atime, st.mtime); // same size, same mtime: only ctime moved
    hits = 0;
    const m3 = await computeManifest(dir, { digestCache: counting });
    assert.equal(hits, 1, 'b.bin from the cache, a.bin re-read');
    assert.equal(m3.files[0].digest, crypto.createHash('sha256').update('XXXX').digest('hex'));
  } finally { rmTemp(dir); }
});
