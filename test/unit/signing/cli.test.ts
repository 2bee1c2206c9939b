// modelvet sign / verify / keygen / digest: exit codes 0/1/2, text and JSON output, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../../../core/cli/main';
import { GEN, KEYS, MS, copyModel, makeModel, rmTemp, tempDir } from './helpers';

async function run(args: string[]) {
  let stdout = '', stderr = '';
  const code = await main(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, isTTY: false });
  return { code, stdout, stderr };
}

test('cli: verify the model_signing fixtures (key, certificate, sigstore with the bundled trusted root) → 0', async () => {
  const k = await run(['verify', path.join(MS, 'v1.1.0-elliptic-key'), '--key', path.join(KEYS, 'signing-key-pub.pem')]);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /^verified .*v1\.1\.0-elliptic-key \(key\)\n {2}2 file\(s\), 17 bytes, root digest sha256:92745110/);
  const c = await run(['verify', path.join(MS, 'v1.1.0-certificate'), '--signature', path.join(MS, 'v1.1.0-certificate/model.sig'), '--certificate-chain', path.join(KEYS, 'ca-cert.pem'), '--format', 'json']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).verified, true);
  const s = await run(['verify', path.join(MS, 'v1.1.0-sigstore'), '--sigstore', '--identity', 'stefanb@us.ibm.com', '--issuer', 'https://sigstore.verify.ibm.com/oauth2']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /\n {2}trusted root: bundled from @sigstore\/tuf \d+\.\d+\.\d+, valid /);
});

test('cli: keygen → sign → verify → tamper → verify names the files; json report', async () => {
  const dir = makeModel({ 'model.safetensors': 'weights', 'config.json': '{}' });
  const keys = tempDir();
  try {
    const kg = await run(['keygen', '--out', path.join(keys, 'k.pem'), '--curve', 'p521']);
    assert.equal(kg.code, 0, kg.stderr);
    assert.equal(fs.statSync(path.join(keys, 'k.pem')).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(path.join(keys, 'k.pub.pem'), 'utf8'), /BEGIN PUBLIC KEY/);
    const again = await run(['keygen', '--out', path.join(keys, 'k.pem')]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists \(keygen never overwrites keys\)/);

    const sg = await run(['sign', dir, '--key', path.join(keys, 'k.pem'), '--jobs', '2']);
    assert.equal(sg.code, 0, sg.stderr);
    assert.match(sg.stdout, /signed .* → .*model\.sig\n {2}2 resource\(s\) in 2 file\(s\), 9 bytes, files\/sha256\n {2}root digest sha256:[0-9a-f]{64}\n/);
    const dg = await run(['digest', dir]);
    assert.equal(dg.code, 0);
    assert.equal(dg.stdout.trim(), sg.stdout.match(/root digest (sha256:[0-9a-f]{64})/)![1], 'digest ignores model.sig and equals the signed root');

    const ok = await run(['verify', dir, '--key', path.join(keys, 'k.pub.pem')]);
    assert.equal(ok.code, 0, ok.stderr);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"x":1}');
    fs.writeFileSync(path.join(dir, 'extra.py'), 'print(1)');
    fs.rmSync(path.join(dir, 'model.safetensors'));
    const bad = await run(['verify', dir, '--key', path.join(keys, 'k.pub.pem')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /changed: config\.json\n {2}missing: model\.safetensors\n {2}unsigned: extra\.py\n/);
    const js = await run(['verify', dir, '--key', path.join(keys, 'k.pub.pem'), '--format', 'json']);
    assert.equal(js.code, 1);
    const rep = JSON.parse(js.stdout);
    assert.deepEqual([rep.verified, rep.changed, rep.missing, rep.extra], [false, ['config.json'], ['model.safetensors'], ['extra.py']]);
  } finally { rmTemp(dir); fs.rmSync(keys, { recursive: true, force: true }); }
});

test('cli: usage errors exit 2 and never touch an existing signature', async () => {
  const dir = copyModel(path.join(MS, 'v1.1.0-elliptic-key'), true);
  try {
    const sig = path.join(dir, 'model.sig');
    const before = fs.readFileSync(sig);
    const cases: Array<[string[], RegExp]> = [
      [['sign', dir, '--key', path.join(KEYS, 'signing-key.pem')], /already exists \(pass --force/],
      [['sign', dir], /--key PRIVATE\.pem is required/],
      [['sign', path.join(dir, 'nope'), '--key', path.join(KEYS, 'signing-key.pem')], /no such file or folder/],
      [['sign', dir, '--key', path.join(KEYS, 'signing-key.pem'), '--hash', 'md5', '--force'], /--hash must be one of sha256, blake2b/],
      [['sign', dir, '--key', path.join(KEYS, 'signing-key.pem'), '--shard-size', '12', '--force'], /shard size must be an integer from 4096/],
      [['sign', dir, '--key', path.join(KEYS, 'signing-key.pem'), '--jobs', '0', '--force'], /--jobs must be an integer/],
      [['sign', dir, '--key', path.join(KEYS, 'signing-key-pub.pem'), '--force'], /not a PEM private key/],
      [['sign', dir, '--key', path.join(KEYS, 'signing-key.pem'), '--password', 'x'], /unknown option --password/],
      [['verify', dir], /pass exactly one of --key, --certificate-chain or --sigstore/],
      [['verify', dir, '--key', path.join(KEYS, 'signing-key-pub.pem'), '--certificate-chain', path.join(KEYS, 'ca-cert.pem')], /exactly one of/],
      [['verify', dir, '--sigstore'], /--sigstore needs --identity/],
      [['verify', dir, '--key', path.join(KEYS, 'nope.pem')], /no such file/],
      [['verify', dir, '--key', path.join(KEYS, 'signing-key-pub.pem'), '--signature', path.join(dir, 'nope.sig')], /no signature at .*nope\.sig \(the model is not signed there: sign it, or pass --signature PATH\)/],
      [['keygen'], /--out KEY\.pem is required/],
      [['keygen', '--out', path.join(dir, 'k.pem'), '--curve', 'p192'], /--curve must be one of p256, p384, p521/],
      [['digest'], /missing MODEL_PATH/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(' '));
    }
    assert.deepEqual(fs.readFileSync(sig), before);
    const empty = makeModel({});
    try {
      const r = await run(['sign', empty, '--key', path.join(KEYS, 'signing-key.pem')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /the model has no files to sign/);
    } finally { rmTemp(empty); }
  } finally { rmTemp(dir); }
});

test('cli: encrypted key with MODELVET_KEY_PASSWORD; keygen encrypts with it', async () => {
  const dir = makeModel({ 'w.bin': 'w' });
  const old = process.env.MODELVET_KEY_PASSWORD;
  try {
    process.env.MODELVET_KEY_PASSWORD = 'modelvet-test-password';
    const r = await run(['sign', dir, '--key', path.join(GEN, 'p256-pkcs8-encrypted.pem'), '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).signed, true);
    assert.equal((await run(['verify', dir, '--key', path.join(GEN, 'p256-pub.pem')])).code, 0);
    const kp = path.join(path.dirname(dir), 'enc.pem');
    assert.equal((await run(['keygen', '--out', kp])).code, 0);
    assert.match(fs.readFileSync(kp, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    delete process.env.MODELVET_KEY_PASSWORD;
    const no = await run(['sign', dir, '--key', kp, '--force']);
    assert.equal(no.code, 2);
    assert.match(no.stderr, /encrypted: set MODELVET_KEY_PASSWORD/);
  } finally {
    if (old === undefined) delete process.env.MODELVET_KEY_PASSWORD; else process.env.MODELVET_KEY_PASSWORD = old;
    rmTemp(dir);
  }
});

test('cli: --ignore-paths relative to the model folder or to the current folder', async () => {
  const dir = makeModel({ 'w.bin': 'w', 'README.md': 'r', 'docs/a.md': 'a' });
  try {
    const a = await run(['digest', dir, '--ignore-paths', 'README.md', '--ignore-paths', path.join(dir, 'docs'), '--format', 'json']);
    assert.deepEqual(JSON.parse(a.stdout).files.map((f: any) => f.name), ['w.bin']);
    const cwd = process.cwd();
    process.chdir(path.dirname(dir));
    try {
      const b = await run(['digest', path.basename(dir), '--ignore-paths', path.join(path.basename(dir), 'README.md'), '--format', 'json']);
      assert.deepEqual(JSON.parse(b.stdout).files.map((f: any) => f.name), ['docs/a.md', 'w.bin']);
    } finally { process.chdir(cwd); }
  } finally { rmTemp(dir); }
});

test('cli: digest --format json lists per-file sha256 (what an AI-BOM needs)', async () => {
  const r = await run(['digest', path.join(MS, 'v1.1.0-elliptic-key'), '--ignore-paths', path.join(MS, 'v1.1.0-elliptic-key/ignore-me'), '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.digest, 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4');
  assert.deepEqual(j.files.map((f: any) => f.name), ['signme-1', 'signme-2']);
  assert.equal(j.files[1].digest, '32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028');
});

test('cli: certificate signing with a full-chain PEM as --certificate; verify against the root CA', async () => {
  const dir = makeModel({ 'w.bin': 'weights' });
  try {
    const full = path.join(path.dirname(dir), 'fullchain.pem');
    fs.writeFileSync(full, fs.readFileSync(path.join(GEN, 'leaf-p256.pem'), 'utf8') + fs.readFileSync(path.join(KEYS, 'int-ca-cert.pem'), 'utf8'));
    const s = await run(['sign', dir, '--key', path.join(GEN, 'p256-sec1.pem'), '--certificate', full, '--format', 'json']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).method, 'certificate');
    const v = await run(['verify', dir, '--certificate-chain', path.join(KEYS, 'ca-cert.pem')]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /certificate: CN=modelvet-test-signer → CN=intermediate-ca → CN=root-ca/);
  } finally { rmTemp(dir); }
});

test('cli progress: only on a terminal (stdout and stderr), only after a second, one line rewritten in place and erased', async () => {
  const { progressReporter } = await import('../../../core/cli/sign');
  let clock = 0;
  const make = (isTTY: boolean, stderrIsTTY: boolean) => {
    let err = '';
    const p = progressReporter({ stdout: () => {}, stderr: (s) => { err += s; }, isTTY }, 'hashing', { stderrIsTTY, now: () => clock });
    return { p, err: () => err };
  };
  clock = 0;
  const tty = make(true, true);
  tty.p.onProgress!(0.5e9, 2e9);
  clock = 900;
  tty.p.onProgress!(1e9, 2e9);
  assert.equal(tty.err(), '', 'nothing during the first second');
  clock = 1500;
  tty.p.onProgress!(1.5e9, 2e9);
  assert.equal(tty.err(), '\r\x1b[Khashing 1.50/2.00 GB (75%, 1.00 GB/s)');
  tty.p.done();
  assert.ok(tty.err().endsWith('\r\x1b[K'), 'the line is erased when done');
  // Fast work never shows a line and erases nothing.
  clock = 0;
  const fast = make(true, true);
  clock = 300;
  fast.p.onProgress!(2e9, 2e9);
  fast.p.done();
  assert.equal(fast.err(), '');
  // Piped stdout or redirected stderr: no progress at all.
  for (const [out, err] of [[false, true], [true, false], [false, false]] as const) {
    clock = 0;
    const piped = make(out, err);
    assert.equal(piped.p.onProgress, undefined);
    clock = 5000;
    piped.p.done();
    assert.equal(piped.err(), '');
  }
});
