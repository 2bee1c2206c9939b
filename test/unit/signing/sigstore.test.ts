// Keyless Sigstore verification, offline: a synthetic Sigstore instance (test Fulcio root, CT log and
// Rekor keys; fixtures from make_sigstore.py) verified end to end by @sigstore/verify through
// verifyModel, and every trust element tampered with once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { verifyModel } from '../../../core/signing/index';
import { FIX, copyModel, rmTemp } from './helpers';
import { main } from '../../../core/cli/main';

const DIR = path.join(FIX, 'sigstore-synthetic');
const ROOT = () => JSON.parse(fs.readFileSync(path.join(DIR, 'trusted_root.json'), 'utf8'));
const POLICY = { identity: 'signer@example.com', issuer: 'https://oidc.example.invalid' };

test('synthetic keyless bundle verifies offline against its trusted root (chain, SCT, SET, inclusion proof, identity)', async () => {
  const r = await verifyModel(DIR, { sigstore: { ...POLICY, trustedRoot: ROOT() } });
  assert.equal(r.verified, true, JSON.stringify(r.failures));
  assert.equal(r.method, 'sigstore');
  assert.equal(r.signer?.identity, 'signer@example.com');
  assert.equal(r.signer?.issuer, 'https://oidc.example.invalid');
});

test('the CLI verifies it with --sigstore --identity --issuer --trusted-root (exit 0), and a wrong identity exits 1', async () => {
  let out = '', err = '';
  const io = { stdout: (s: string) => { out += s; }, stderr: (s: string) => { err += s; }, isTTY: false };
  const args = ['verify', DIR, '--sigstore', '--issuer', POLICY.issuer, '--trusted-root', path.join(DIR, 'trusted_root.json')];
  assert.equal(await main([...args, '--identity', POLICY.identity], io), 0, err);
  assert.match(out, /verified .*sigstore-synthetic \(sigstore: signer@example\.com via https:\/\/oidc\.example\.invalid\)/);
  assert.equal(await main([...args, '--identity', 'mallory@example.com'], io), 1);
  assert.match(err, /chain: Sigstore verification failed: .*(identity|subject alternative name|SAN)/i);
});

test('each trust element tampered with fails, with a reason', async () => {
  const cases: Array<[string, (b: any, root: any, policy: typeof POLICY) => void, RegExp]> = [
    ['wrong issuer', (_b, _r, p) => { p.issuer = 'https://other.example.invalid'; }, /issuer|extension/i],
    ['other Rekor key in the trusted root', (_b, r) => { r.tlogs[0].publicKey.rawBytes = r.ctlogs[0].publicKey.rawBytes; }, /TLOG|inclusion|checkpoint|log/i],
    ['other CT log key', (_b, r) => { r.ctlogs[0].publicKey.rawBytes = r.tlogs[0].publicKey.rawBytes; }, /SCT|CERTIFICATE|ctlog|expected 1/i],
    ['no CA', (_b, r) => { r.certificateAuthorities = []; }, /CERTIFICATE|path|trusted/i],
    ['SET changed', (b) => { const s = Buffer.from(b.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp, 'base64'); s[s.length - 3] ^= 1; b.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp = s.toString('base64'); }, /inclusion promise|TLOG/i],
    ['integrated time moved', (b) => { b.verificationMaterial.tlogEntries[0].integratedTime = String(Number(b.verificationMaterial.tlogEntries[0].integratedTime) + 3600); }, /promise|expired|CERTIFICATE|TLOG/i],
    ['DSSE signature of another payload', (b) => { const p = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString()); p.subject[0].name = 'x'; b.dsseEnvelope.payload = Buffer.from(JSON.stringify(p)).toString('base64'); }, /signature|payload|hash/i],
  ];
  for (const [label, edit, reason] of cases) {
    const dir = copyModel(DIR, true);
    try {
      const sig = path.join(dir, 'model.sig');
      const b = JSON.parse(fs.readFileSync(sig, 'utf8'));
      const root = ROOT();
      const policy = { ...POLICY };
      edit(b, root, policy);
      fs.writeFileSync(sig, JSON.stringify(b));
      const r = await verifyModel(dir, { sigstore: { ...policy, trustedRoot: root } });
      assert.equal(r.verified, false, label);
      assert.equal(r.failures[0].check, 'chain', label);
      assert.match(r.failures[0].message, reason, `${label}: ${r.failures[0].message}`);
    } finally { rmTemp(dir); }
  }
});

test('a changed file in the keyless-signed model is named like any other', async () => {
  const dir = copyModel(DIR, true);
  try {
    fs.appendFileSync(path.join(dir, 'signme-2'), 'x');
    const r = await verifyModel(dir, { sigstore: { ...POLICY, trustedRoot: ROOT() } });
    assert.deepEqual([r.verified, r.changed], [false, ['signme-2']]);
  } finally { rmTemp(dir); }
});
