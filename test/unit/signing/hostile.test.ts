// Hostile signature files and models: limits are explicit failures, mutated bundles never crash or verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { verifyModel, loadPublicKey, computeManifest, signModel, loadPrivateKey } from '../../../core/signing/index';
import { MAX_BUNDLE_BYTES, MAX_WALK_DEPTH } from '../../../core/signing/limits';
import { KEYS, MS, copyModel, makeModel, rmTemp } from './helpers';

const pub = () => loadPublicKey(path.join(KEYS, 'signing-key-pub.pem'));

test('a signature file over the size limit is a named failure, not read', async () => {
  const dir = copyModel(path.join(MS, 'v1.1.0-elliptic-key'));
  try {
    const sig = path.join(dir, 'model.sig');
    const fd = fs.openSync(sig, 'w'); fs.ftruncateSync(fd, MAX_BUNDLE_BYTES + 1); fs.closeSync(fd);
    const r = await verifyModel(dir, { key: pub() });
    assert.equal(r.verified, false);
    assert.match(r.failures[0].message, /larger than 67108864 bytes/);
  } finally { rmTemp(dir); }
});

test('folders nested deeper than the walk limit: refused with the limit named', async () => {
  const dir = makeModel({ 'a.bin': 'a' });
  try {
    let d = dir;
    for (let i = 0; i <= MAX_WALK_DEPTH + 1; i++) { d = path.join(d, 'd'); fs.mkdirSync(d); }
    fs.writeFileSync(path.join(d, 'deep.bin'), 'x');
    await assert.rejects(computeManifest(dir), /deeper than 64 folders/);
  } finally { rmTemp(dir); }
});

test('random mutations of a valid bundle never throw and never verify a changed signed part', async () => {
  const dir = copyModel(path.join(MS, 'v1.1.0-elliptic-key'), true);
  try {
    const sig = path.join(dir, 'model.sig');
    const orig = fs.readFileSync(sig);
    const json = JSON.parse(orig.toString('utf8'));
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    let verifiedCount = 0;
    for (let i = 0; i < 150; i++) {
      const b = Buffer.from(orig);
      const flips = 1 + rnd(4);
      for (let k = 0; k < flips; k++) b[rnd(b.length)] = rnd(256);
      fs.writeFileSync(sig, b);
      const r = await verifyModel(dir, { key: pub() });
      assert.equal(typeof r.verified, 'boolean');
      if (r.verified) {
        // Only changes outside what is signed may still verify: the signed payload and signature must be intact.
        const m = JSON.parse(b.toString('utf8'));
        assert.equal(m.dsseEnvelope.payload, json.dsseEnvelope.payload);
        verifiedCount++;
      }
    }
    assert.ok(verifiedCount < 150);
    // Structural changes with valid JSON.
    for (const edit of [(x: any) => { x.dsseEnvelope.signatures = []; }, (x: any) => { x.dsseEnvelope.signatures.push(x.dsseEnvelope.signatures[0]); },
      (x: any) => { x.dsseEnvelope.payload = 123; }, (x: any) => { x.verificationMaterial = []; }, (x: any) => { x.mediaType = 'application/vnd.dev.sigstore.bundle.v0.1+json'; },
      (x: any) => { x.dsseEnvelope.payloadType = 'application/json'; }, (x: any) => { x.dsseEnvelope.signatures[0].sig = '!!'; }]) {
      const x = structuredClone(json); edit(x);
      fs.writeFileSync(sig, JSON.stringify(x));
      const r = await verifyModel(dir, { key: pub() });
      assert.equal(r.verified, false);
      assert.equal(r.failures[0].check, 'bundle', r.failures[0].message);
    }
  } finally { rmTemp(dir); }
});

test('a bundle that is a JSON array, a number or deeply nested JSON: clear failures', async () => {
  const dir = makeModel({ 'a.bin': 'a' });
  try {
    await signModel(dir, { key: await loadPrivateKey(path.join(KEYS, 'signing-key.pem')) });
    for (const text of ['[]', '42', '"x"', '['.repeat(5000) + ']'.repeat(5000), '{"mediaType":']) {
      fs.writeFileSync(path.join(dir, 'model.sig'), text);
      const r = await verifyModel(dir, { key: pub() });
      assert.equal(r.verified, false);
      assert.equal(r.failures[0].check, 'bundle');
    }
  } finally { rmTemp(dir); }
});
