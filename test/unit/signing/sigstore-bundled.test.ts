// Keyless verification against the BUNDLED Sigstore public-good trusted root (core/signing/trustedRoot.ts,
// from @sigstore/tuf's seeds.json), offline: the model_signing v1.1.0 Sigstore bundle and the spec's valid
// sigstore vector were signed by the public-good instance, so they verify with no --trusted-root. The
// expected identity and issuer are read from the fixture's Fulcio certificate here (DER), never typed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { verifyModel } from '../../../core/signing/index';
import { bundledTrustedRoot, describeTrustedRoot } from '../../../core/signing/trustedRoot';
import { main } from '../../../core/cli/main';
import { FIX, MS, VECTORS, copyModel, fulcioIdentity, rmTemp } from './helpers';

const MODEL = path.join(MS, 'v1.1.0-sigstore');
const SYNTHETIC = path.join(FIX, 'sigstore-synthetic');
const TUF_DIR = path.dirname(require.resolve('@sigstore/tuf/package.json'));
const TUF_VERSION: string = JSON.parse(fs.readFileSync(path.join(TUF_DIR, 'package.json'), 'utf8')).version;

const SIGNER = fulcioIdentity(path.join(MODEL, 'model.sig'));

function cli() {
  let out = '', err = '';
  return { io: { stdout: (s: string) => { out += s; }, stderr: (s: string) => { err += s; }, isTTY: false }, out: () => out, err: () => err };
}

test('the bundled trusted root is the one @sigstore/tuf carries (its only seed, trusted_root.json), with its validity windows', () => {
  const seeds = JSON.parse(fs.readFileSync(path.join(TUF_DIR, 'seeds.json'), 'utf8'));
  const entries = Object.values(seeds) as Array<{ targets: Record<string, string> }>;
  assert.equal(entries.length, 1);
  const expected = JSON.parse(Buffer.from(entries[0].targets['trusted_root.json'], 'base64').toString('utf8'));
  const root = bundledTrustedRoot();
  assert.deepEqual(root.json, expected);
  assert.match((root.json as { mediaType: string }).mediaType, /^application\/vnd\.dev\.sigstore\.trustedroot\+json/);
  assert.equal(root.source, `bundled from @sigstore/tuf ${TUF_VERSION}`);
  assert.ok(root.counts.certificateAuthorities >= 1 && root.counts.tlogs >= 1 && root.counts.ctlogs >= 1, JSON.stringify(root.counts));
  // Windows from the JSON itself: the earliest start of any key, and no end while some key is current.
  const starts = [...expected.certificateAuthorities, ...expected.timestampAuthorities].map((c: any) => c.validFor?.start)
    .concat([...expected.tlogs, ...expected.ctlogs].map((l: any) => l.publicKey.validFor?.start)).filter(Boolean).sort();
  assert.equal(root.validFrom, starts[0].slice(0, 10));
  assert.equal(root.validUntil, undefined);
  assert.equal(root.description, `bundled from @sigstore/tuf ${TUF_VERSION}, valid ${starts[0].slice(0, 10)} → no end date (${root.counts.certificateAuthorities} certificate authorities, ${root.counts.tlogs} transparency logs, ${root.counts.ctlogs} CT logs, ${root.counts.timestampAuthorities} timestamp authorit${root.counts.timestampAuthorities === 1 ? 'y' : 'ies'})`);
});

test('describeTrustedRoot: earliest start, latest end only when every window ends, counts; nonsense input has no windows', () => {
  const w = (start: string, end?: string) => ({ validFor: end ? { start, end } : { start } });
  const closed = describeTrustedRoot({ certificateAuthorities: [w('2022-01-01T00:00:00Z', '2023-01-01T00:00:00Z'), w('2021-06-01T00:00:00Z', '2024-05-01T00:00:00Z')], tlogs: [{ publicKey: w('2021-01-01T00:00:00Z', '2022-02-02T00:00:00Z') }], ctlogs: [], timestampAuthorities: [] }, 'root.json');
  assert.equal(closed.validFrom, '2021-01-01');
  assert.equal(closed.validUntil, '2024-05-01');
  assert.equal(closed.description, 'root.json, valid 2021-01-01 → 2024-05-01 (2 certificate authorities, 1 transparency log, 0 CT logs, 0 timestamp authorities)');
  const open = describeTrustedRoot({ certificateAuthorities: [w('2022-01-01T00:00:00Z', '2023-01-01T00:00:00Z')], ctlogs: [{ publicKey: w('2022-03-01T00:00:00Z') }] }, 'x');
  assert.equal(open.validUntil, undefined);
  assert.match(open.description, /valid 2022-01-01 → no end date/);
  assert.match(describeTrustedRoot('not a root', 'y').description, /^y, no validity windows \(0 certificate authorities/);
});

test('the public-good keyless bundle (model_signing v1.1.0) verifies offline with the bundled root, no --trusted-root', async () => {
  const r = await verifyModel(MODEL, { sigstore: SIGNER });
  assert.equal(r.verified, true, JSON.stringify(r.failures));
  assert.equal(r.method, 'sigstore');
  assert.deepEqual([r.signer?.identity, r.signer?.issuer], [SIGNER.identity, SIGNER.issuer]);
  assert.equal(r.trustedRoot, bundledTrustedRoot().description);
  assert.deepEqual([r.files, r.changed, r.missing, r.extra], [2, [], [], []]);
});

test('the spec valid sigstore vector verifies over the same files with the bundled root', async () => {
  const r = await verifyModel(MODEL, { sigstore: SIGNER, signaturePath: path.join(VECTORS, 'valid/sigstore.bundle.json') });
  assert.equal(r.verified, true, JSON.stringify(r.failures));
});

test('bundled root, negative: wrong identity, wrong issuer, changed file, tampered bundle', async () => {
  const cases: Array<[string, Partial<typeof SIGNER>, RegExp]> = [
    ['wrong identity', { identity: `x${SIGNER.identity}` }, /subject alternative name|identity|SAN/i],
    ['wrong issuer', { issuer: `${SIGNER.issuer}/other` }, /issuer/i],
  ];
  for (const [label, change, reason] of cases) {
    const r = await verifyModel(MODEL, { sigstore: { ...SIGNER, ...change } });
    assert.equal(r.verified, false, label);
    assert.equal(r.failures[0].check, 'chain', label);
    assert.match(r.failures[0].message, reason, `${label}: ${r.failures[0].message}`);
    assert.equal(r.trustedRoot, bundledTrustedRoot().description);
  }
  const changed = copyModel(MODEL, true);
  try {
    fs.appendFileSync(path.join(changed, 'signme-1'), 'x');
    const r = await verifyModel(changed, { sigstore: SIGNER });
    assert.deepEqual([r.verified, r.changed], [false, ['signme-1']]);
  } finally { rmTemp(changed); }
  const edits: Array<[string, (b: any) => void, RegExp]> = [
    ['inclusion proof hash flipped', (b) => { const e = b.verificationMaterial.tlogEntries[0]; const h = Buffer.from(e.inclusionProof.hashes[0], 'base64'); h[0] ^= 1; e.inclusionProof.hashes[0] = h.toString('base64'); }, /inclusion|TLOG|proof|root hash/i],
    ['statement changed', (b) => { const p = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString()); p.predicate.serialization.hash_type = 'blake2b'; b.dsseEnvelope.payload = Buffer.from(JSON.stringify(p)).toString('base64'); }, /signature|TLOG|hash|payload/i],
    ['another signing certificate', (b) => { const v = JSON.parse(fs.readFileSync(path.join(SYNTHETIC, 'model.sig'), 'utf8')); b.verificationMaterial.certificate = v.verificationMaterial.certificate; }, /CERTIFICATE|chain|path|SCT|TLOG|signature/i],
  ];
  for (const [label, edit, reason] of edits) {
    const dir = copyModel(MODEL, true);
    try {
      const sig = path.join(dir, 'model.sig');
      const b = JSON.parse(fs.readFileSync(sig, 'utf8'));
      edit(b);
      fs.writeFileSync(sig, JSON.stringify(b));
      const r = await verifyModel(dir, { sigstore: SIGNER });
      assert.equal(r.verified, false, label);
      assert.equal(r.failures[0].check, 'chain', label);
      assert.match(r.failures[0].message, reason, `${label}: ${r.failures[0].message}`);
    } finally { rmTemp(dir); }
  }
});

test('--trusted-root overrides the bundled root: each instance verifies only with its own root', async () => {
  const synthetic = JSON.parse(fs.readFileSync(path.join(SYNTHETIC, 'trusted_root.json'), 'utf8'));
  const pgWithSynthetic = await verifyModel(MODEL, { sigstore: { ...SIGNER, trustedRoot: synthetic, trustedRootSource: 'synthetic.json' } });
  assert.equal(pgWithSynthetic.verified, false);
  assert.equal(pgWithSynthetic.failures[0].check, 'chain');
  assert.match(pgWithSynthetic.trustedRoot ?? '', /^synthetic\.json, valid /);
  const synthPolicy = { identity: 'signer@example.com', issuer: 'https://oidc.example.invalid' };
  const synthWithBundled = await verifyModel(SYNTHETIC, { sigstore: synthPolicy });
  assert.equal(synthWithBundled.verified, false, 'a bundle from another instance does not verify with the public-good root');
  assert.equal(synthWithBundled.failures[0].check, 'chain');
  const synthWithOwn = await verifyModel(SYNTHETIC, { sigstore: { ...synthPolicy, trustedRoot: synthetic } });
  assert.equal(synthWithOwn.verified, true, JSON.stringify(synthWithOwn.failures));
});

test('CLI: --sigstore without --trusted-root verifies with the bundled root and says so (exit 0); --trusted-root FILE overrides', async () => {
  const ok = cli();
  assert.equal(await main(['verify', MODEL, '--sigstore', '--identity', SIGNER.identity, '--issuer', SIGNER.issuer], ok.io), 0, ok.err());
  assert.match(ok.out(), new RegExp(`^verified .*v1\\.1\\.0-sigstore \\(sigstore: ${SIGNER.identity.replace(/\./g, '\\.')} via `));
  const line = ok.out().split('\n').find((l) => l.startsWith('  trusted root: '));
  assert.equal(line, `  trusted root: ${bundledTrustedRoot().description}`);
  assert.match(line!, new RegExp(`bundled from @sigstore/tuf ${TUF_VERSION.replace(/\./g, '\\.')}, valid \\d{4}-\\d\\d-\\d\\d → `));
  const json = cli();
  assert.equal(await main(['verify', MODEL, '--sigstore', '--identity', SIGNER.identity, '--issuer', SIGNER.issuer, '--format', 'json'], json.io), 0);
  assert.equal(JSON.parse(json.out()).trustedRoot, bundledTrustedRoot().description);
  const other = cli();
  const rootFile = path.join(SYNTHETIC, 'trusted_root.json');
  assert.equal(await main(['verify', MODEL, '--sigstore', '--identity', SIGNER.identity, '--issuer', SIGNER.issuer, '--trusted-root', rootFile], other.io), 1);
  assert.match(other.err(), new RegExp(`trusted root: ${rootFile.replace(/[.\\/]/g, '\\$&')}, valid `));
  assert.match(other.err(), /chain: Sigstore verification failed/);
});

test('CLI exit codes: wrong identity or issuer 1; missing --identity / --issuer, a stray --trusted-root, an unreadable root 2', async () => {
  for (const args of [['--identity', `x${SIGNER.identity}`, '--issuer', SIGNER.issuer], ['--identity', SIGNER.identity, '--issuer', 'https://issuer.example.invalid']]) {
    const c = cli();
    assert.equal(await main(['verify', MODEL, '--sigstore', ...args], c.io), 1, args.join(' '));
    assert.match(c.err(), /^NOT verified: /);
    assert.match(c.err(), /trusted root: bundled from @sigstore\/tuf /);
  }
  const notJson = path.join(MODEL, 'signme-1');
  for (const args of [
    ['--sigstore', '--issuer', SIGNER.issuer],
    ['--sigstore', '--identity', SIGNER.identity],
    ['--sigstore'],
    ['--key', path.join(MS, 'keys/certificate/signing-key-pub.pem'), '--trusted-root', path.join(SYNTHETIC, 'trusted_root.json')],
    ['--sigstore', '--identity', SIGNER.identity, '--issuer', SIGNER.issuer, '--trusted-root', notJson],
    ['--sigstore', '--identity', SIGNER.identity, '--issuer', SIGNER.issuer, '--trusted-root', path.join(MODEL, 'no-such-root.json')],
  ]) {
    const c = cli();
    assert.equal(await main(['verify', MODEL, ...args], c.io), 2, `${args.join(' ')}: ${c.err()}`);
    assert.match(c.err(), /^modelvet verify: /);
  }
});

test('a keyless bundle verified without --sigstore names the flags it needs (no --trusted-root required)', async () => {
  const r = await verifyModel(MODEL, { key: undefined });
  assert.equal(r.verified, false);
  assert.equal(r.failures[0].message, 'the model is signed keylessly with Sigstore: pass --sigstore --identity ID --issuer URL');
});
