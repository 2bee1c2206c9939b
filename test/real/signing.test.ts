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
import { spawnSync } from 'node:child_process';
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

const HAS_SCRIPT = (() => { try { return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0; } catch { return false; } })();

test('progress on a terminal (script(1) pseudo-terminal) for sign, verify and digest over a second; none when piped', { skip: HAS_SCRIPT ? false : 'script(1) (util-linux) not installed' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-sign-progress-'));
  try {
    // 3 GiB sparse: seconds of hashing with one job even on a fast, idle machine; no disk used.
    const fd = fs.openSync(path.join(dir, 'w.bin'), 'w');
    fs.writeSync(fd, 'weights', 0);
    fs.ftruncateSync(fd, 3 * 1024 ** 3);
    fs.closeSync(fd);
    const repo = path.resolve(__dirname, '../..');
    const cli = `${process.execPath} --import tsx core/cli/main.ts`;
    const onTerminal = (cmd: string) => {
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      return r.stdout;
    };
    const q = (s: string) => `'${s}'`;
    const line = (label: string) => new RegExp(`\\r\\x1b\\[K${label} \\d+\\.\\d\\d/3\\.22 GB \\(\\d+%, \\d+\\.\\d\\d GB/s\\)`);
    const sign = onTerminal(`${cli} sign ${q(dir)} --key ${q(path.join(GEN, 'p256-sec1.pem'))} --jobs 1`);
    assert.match(sign, line('hashing'));
    assert.match(sign, /\r\x1b\[Ksigned /, 'the progress line is erased before the result');
    assert.match(onTerminal(`${cli} verify ${q(dir)} --key ${q(path.join(GEN, 'p256-pub.pem'))} --jobs 1`), line('verifying'));
    assert.match(onTerminal(`${cli} digest ${q(dir)} --jobs 1`), line('hashing'));
    // stdout piped (stderr still the terminal), and no terminal at all: the digest only.
    const piped = onTerminal(`${cli} digest ${q(dir)} --jobs 1 | cat`);
    assert.doesNotMatch(piped, /hashing|\x1b\[K/);
    assert.match(piped, /^sha256:[0-9a-f]{64}\r?\n$/);
    const plain = spawnSync(process.execPath, ['--import', 'tsx', 'core/cli/main.ts', 'digest', dir, '--jobs', '1'], { cwd: repo, encoding: 'utf8' });
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stderr, '');
    assert.match(plain.stdout, /^sha256:[0-9a-f]{64}\n$/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('interop matrix: the independent Python verifier (cryptography + hashlib) verifies every valid fixture bundle', () => {
  const MS = path.join(FIX, 'model_signing');
  const VEC = path.join(FIX, 'spec/test-vectors/v1.0/valid');
  // The spec's key/certificate vectors sign the elliptic-key model's files (without its own model.sig).
  const ek = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-sign-interop-'));
  try {
    for (const f of ['signme-1', 'signme-2', 'ignore-me']) fs.copyFileSync(path.join(MS, 'v1.1.0-elliptic-key', f), path.join(ek, f));
    const ca = `--ca=${path.join(KEYS, 'ca-cert.pem')}`;
    const cases: Array<[string, string, string, string]> = [
      ['model_signing 1.1.0 key', path.join(MS, 'v1.1.0-elliptic-key'), path.join(MS, 'v1.1.0-elliptic-key/model.sig'), path.join(KEYS, 'signing-key-pub.pem')],
      ['model_signing 1.1.0 certificate', path.join(MS, 'v1.1.0-certificate'), path.join(MS, 'v1.1.0-certificate/model.sig'), ca],
      ['model_signing 1.1.0 Sigstore (signature by the leaf, files)', path.join(MS, 'v1.1.0-sigstore'), path.join(MS, 'v1.1.0-sigstore/model.sig'), '--bundle-leaf'],
      ['spec valid/key', ek, path.join(VEC, 'key.bundle.json'), path.join(KEYS, 'signing-key-pub.pem')],
      ['spec valid/certificate', ek, path.join(VEC, 'certificate.bundle.json'), ca],
      ['spec valid/sigstore (signature by the leaf, files)', path.join(MS, 'v1.1.0-sigstore'), path.join(VEC, 'sigstore.bundle.json'), '--bundle-leaf'],
      ['synthetic Sigstore (signature by the leaf, files)', path.join(FIX, 'sigstore-synthetic'), path.join(FIX, 'sigstore-synthetic/model.sig'), '--bundle-leaf'],
    ];
    for (const [what, dir, sig, trust] of cases) {
      const r = runPython([path.join(FIX, 'verify_oms.py'), dir, sig, trust], { modules: ['cryptography'] });
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), 'ok', what);
    }
    const wrongCa = runPython([path.join(FIX, 'verify_oms.py'), path.join(MS, 'v1.1.0-certificate'), path.join(MS, 'v1.1.0-certificate/model.sig'), `--ca=${path.join(GEN, 'other-ca.pem')}`], { modules: ['cryptography'] });
    assert.notEqual(wrongCa.status, 0);
    assert.match(wrongCa.stderr, /chain at certificate/);
  } finally { fs.rmSync(ek, { recursive: true, force: true }); }
});

test('ModelVet certificate bundles verify with the independent Python verifier against the root CA', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-sign-real-cert-'));
  try {
    fs.writeFileSync(path.join(dir, 'weights.bin'), crypto.randomBytes(20000));
    const { loadCertificates } = await import('../../core/signing/index');
    await signModel(dir, { key: await loadPrivateKey(path.join(GEN, 'p256-sec1.pem')), certificate: loadCertificates(path.join(GEN, 'leaf-p256.pem'))[0], certificateChain: loadCertificates(path.join(KEYS, 'int-ca-cert.pem')) });
    const r = runPython([path.join(FIX, 'verify_oms.py'), dir, path.join(dir, 'model.sig'), `--ca=${path.join(KEYS, 'ca-cert.pem')}`], { modules: ['cryptography'] });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ok');
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
