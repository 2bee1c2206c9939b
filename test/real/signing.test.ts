/**
 * Live cross-check of OMS signing with Python (extended suite: `npm run test:real`): bundles ModelVet
 * writes (every curve, files/shards, sha256/blake2b) verified by an independent verifier written with
 * Python `cryptography` + hashlib (test/fixtures/oms/verify_oms.py, Debian python3-cryptography).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { signModel, loadPrivateKey } from '../../core/signing/index';
import { runPython } from '../helpers/python';

const FIX = path.resolve(__dirname, '../fixtures/oms');
const GEN = path.join(FIX, 'generated');
const KEYS = path.join(FIX, 'model_signing/keys/certificate');

test('ModelVet bundles verify with the independent Python verifier; a tampered file does not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-sign-real-'));
  try {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'weights.bin'), crypto.randomBytes(50000));
    fs.writeFileSync(path.join(dir, 'sub', 'config.json'), '{"a": 1}');
    const cases: Array<[string, string, object]> = [
      [path.join(GEN, 'p256-sec1.pem'), path.join(GEN, 'p256-pub.pem'), {}],
      [path.join(KEYS, 'signing-key.pem'), path.join(KEYS, 'signing-key-pub.pem'), { hashType: 'blake2b' }],
      [path.join(GEN, 'p521-pkcs8.pem'), path.join(GEN, 'p521-pub.pem'), { shardSize: 8192 }],
    ];
    for (const [priv, pub, opts] of cases) {
      await signModel(dir, { key: await loadPrivateKey(priv), force: true, ...opts });
      const r = runPython([path.join(FIX, 'verify_oms.py'), dir, path.join(dir, 'model.sig'), pub], { modules: ['cryptography'] });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'ok');
    }
    fs.appendFileSync(path.join(dir, 'sub', 'config.json'), ' ');
    const bad = runPython([path.join(FIX, 'verify_oms.py'), dir, path.join(dir, 'model.sig'), path.join(GEN, 'p521-pub.pem')], { modules: ['cryptography'] });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /resources differ/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('on a terminal, an encrypted key\'s password is prompted for (not echoed) and the model is signed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-sign-pty-'));
  try {
    fs.writeFileSync(path.join(dir, 'w.bin'), 'weights');
    const r = runPython([path.join(FIX, 'pty_sign.py'), path.resolve(__dirname, '../..'), dir, path.join(GEN, 'p256-pkcs8-encrypted.pem'), 'modelvet-test-password']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /key password: /);
    assert.doesNotMatch(r.stdout, /modelvet-test-password/, 'the password is not echoed');
    assert.match(r.stdout, /signed .* → .*model\.sig/);
    assert.ok(fs.existsSync(path.join(dir, 'model.sig')));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
