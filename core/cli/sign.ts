/**
 * `modelvet sign | verify | keygen | digest`: OpenSSF Model Signing (OMS v1.0), interoperable with
 * `model_signing` 1.x. Exit codes: 0 signed/verified, 1 not verified, 2 usage error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { oneOf, parseArgs, UsageError, type CliIO } from './args';
import {
  CURVES, HASH_TYPES, SigningError, computeManifest, generateKeyPair, loadCertificates, loadPrivateKey, loadPublicKey,
  omsDigest, signModel, verifyModel, writeFileAtomic, type Curve, type HashType, type VerifyReport,
} from '../signing/index';
import { readSmallFile } from '../signing/keys';
import { MAX_JOBS, MAX_KEY_FILE_BYTES } from '../signing/limits';

export const SIGN_USAGE = `usage: modelvet sign MODEL_PATH --key PRIVATE.pem [options]

Sign a model folder (or file) with OpenSSF Model Signing (OMS v1.0): a Sigstore
bundle (model.sig) that model_signing 1.x and modelvet verify.

options:
  --key FILE                 ECDSA P-256/P-384/P-521 private key (PEM PKCS#8 or SEC1; an encrypted
                             key's password comes from MODELVET_KEY_PASSWORD or a terminal prompt)
  --certificate LEAF.pem     sign with a certificate for the key (certificate method)
  --certificate-chain FILE   intermediate certificates written into the bundle (repeatable)
  --signature PATH           where to write the signature (default: MODEL_PATH/model.sig)
  --ignore-paths PATH        leave a file or folder out of the manifest (repeatable)
  --hash sha256|blake2b      file digest (default sha256)
  --shard-size BYTES         hash files in shards of this size (the "shards" method)
  --jobs N                   hashing threads (default: the number of cores)
  --allow-symlinks           follow symbolic links instead of refusing them
  --model-signing-compat     with --shard-size: name shard digests "sha256-sharded-<size>" as model_signing
                             1.x does (its verifier rejects the spec's form for shards; files are identical)
  --force                    replace an existing signature file
  --format text|json         output format (default: text)

The signature file and .git, .gitattributes, .github, .gitignore are never signed.
exit codes: 0 signed, 2 usage error (bad key, empty model, symlink, unsafe name, existing signature)`;

export const VERIFY_USAGE = `usage: modelvet verify MODEL_PATH [--signature PATH]
       (--key PUBLIC.pem | --certificate-chain CA.pem ... |
        --sigstore --identity ID --issuer URL [--trusted-root ROOT.json]) [options]

Verify an OMS signature: the bundle, the signature (key, certificate chain or
Sigstore, offline), the statement, and every file re-hashed from disk.

options:
  --signature PATH           the signature bundle (default: MODEL_PATH/model.sig)
  --key FILE                 the signer's public key (PEM)
  --certificate-chain FILE   trusted CA certificate(s) (repeatable)
  --sigstore                 keyless bundle: verify offline with --identity and --issuer against the
                             bundled Sigstore public-good trusted root (or --trusted-root)
  --identity ID --issuer URL the expected signer identity (certificate SAN) and OIDC issuer
  --trusted-root FILE        Sigstore TrustedRoot JSON for the instance that signed, instead of the
                             bundled public-good root (a private instance, or a newer root; no network)
  --ignore-paths PATH        also leave these out (the signature's own ignore list always applies)
  --ignore-unsigned-files    files the signature does not list are not an error
  --jobs N                   hashing threads (default: the number of cores)
  --format text|json         output format (default: text)

exit codes: 0 verified, 1 not verified (the failing check and files are printed), 2 usage error`;

export const KEYGEN_USAGE = `usage: modelvet keygen --out KEY.pem [--curve p256|p384|p521] [--format text|json]

Write an ECDSA key pair: KEY.pem (PKCS#8, mode 0600; encrypted when MODELVET_KEY_PASSWORD is set)
and KEY.pub.pem. Existing files are never overwritten.`;

export const DIGEST_USAGE = `usage: modelvet digest MODEL_PATH [--hash sha256|blake2b] [--shard-size BYTES]
       [--ignore-paths PATH ...] [--allow-symlinks] [--jobs N] [--format text|json]

Print the OMS root digest of a model (sha256:<hex>), the name attestations (AI-BOM, SLSA
provenance) use for it. --format json adds every file's digest.`;

type Fmt = 'text' | 'json';

function wantsHelp(args: string[]): boolean { return args.includes('--help') || args.includes('-h'); }

function jobsFlag(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_JOBS) throw new UsageError(`--jobs must be an integer from 1 to ${MAX_JOBS}`);
  return n;
}

function shardFlag(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[1-9][0-9]*$/.test(v)) throw new UsageError('--shard-size must be a positive integer (bytes)');
  return Number(v);
}

function list(v: unknown): string[] { return Array.isArray(v) ? v as string[] : []; }

/**
 * --ignore-paths as absolute paths: a relative path is taken from the current folder when that lands
 * inside the model (as model_signing does), else from the model folder (`--ignore-paths README.md`).
 */
function ignoreArgs(v: unknown, model: string): string[] {
  const root = path.resolve(model);
  return list(v).map((p) => {
    if (path.isAbsolute(p)) return p;
    const fromCwd = path.resolve(p);
    return fromCwd.startsWith(root + path.sep) ? fromCwd : path.join(root, p);
  });
}

function modelArg(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'exactly one MODEL_PATH is expected' : 'missing MODEL_PATH');
  if (!fs.existsSync(positionals[0])) throw new UsageError(`${positionals[0]}: no such file or folder`);
  return positionals[0];
}

const GB = 1e9;
export interface ProgressOptions {
  /** Whether stderr (where progress goes) is a terminal (default: process.stderr.isTTY). */
  stderrIsTTY?: boolean;
  /** Quiet for this long first: only work that takes longer shows progress (default 1000 ms). */
  afterMs?: number;
  now?: () => number;
}
/**
 * Progress on a terminal for anything that runs longer than a second: one line on stderr, rewritten in
 * place (about every 100 ms, as the hashing reports) and erased when done. Nothing when stdout or stderr
 * is not a terminal (piped, redirected, CI logs).
 */
export function progressReporter(io: CliIO, label: string, o: ProgressOptions = {}): { onProgress?: (d: number, t: number) => void; done(): void } {
  if (!io.isTTY || !(o.stderrIsTTY ?? process.stderr.isTTY)) return { done() { /* nothing */ } };
  const now = o.now ?? Date.now;
  const t0 = now();
  const after = o.afterMs ?? 1000;
  let shown = false;
  return {
    onProgress(d, t) {
      const ms = now() - t0;
      if (ms < after) return;
      shown = true;
      const pct = t ? Math.min(100, Math.floor((d / t) * 100)) : 100;
      const rate = ms > 0 ? (d / GB) / (ms / 1000) : 0;
      io.stderr(`\r\x1b[K${label} ${(d / GB).toFixed(2)}/${(t / GB).toFixed(2)} GB (${pct}%, ${rate.toFixed(2)} GB/s)`);
    },
    done() { if (shown) io.stderr('\r\x1b[K'); },
  };
}

/**
 * What a command's CliIO may say about progress besides `isTTY` (stdout): whether stderr is a terminal
 * (default: process.stderr.isTTY) and how long to stay quiet first (default 1000 ms). Tests pass a fake
 * terminal this way.
 */
export interface ProgressIO { stderrIsTTY?: boolean; progressAfterMs?: number }
function progressFor(io: CliIO & ProgressIO, label: string) { return progressReporter(io, label, { stderrIsTTY: io.stderrIsTTY, afterMs: io.progressAfterMs }); }

/** The password of an encrypted key: MODELVET_KEY_PASSWORD, else a prompt on the terminal (never argv). */
async function keyPassword(): Promise<string | undefined> {
  const env = process.env.MODELVET_KEY_PASSWORD;
  if (env !== undefined) return env;
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return new Promise((resolve) => {
    const stdin = process.stdin;
    let pw = '';
    // Raw mode (no echo) before the prompt: nothing typed after it is ever shown.
    stdin.setRawMode(true);
    stdin.resume();
    process.stderr.write('key password: ');
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') { finish(pw); return; }
        if (ch === '\u0003') { finish(undefined); return; }
        if (ch === '\u007f' || ch === '\b') pw = pw.slice(0, -1); else pw += ch;
      }
    };
    const finish = (v: string | undefined) => { stdin.off('data', onData); stdin.setRawMode(false); stdin.pause(); process.stderr.write('\n'); resolve(v); };
    stdin.on('data', onData);
  });
}

function usageOrThrow(e: unknown, cmd: string, usage: string, io: CliIO): number {
  if (e instanceof UsageError) { io.stderr(`modelvet ${cmd}: ${e.message}\n${usage}\n`); return 2; }
  if (e instanceof SigningError && e.kind !== 'verify') { io.stderr(`modelvet ${cmd}: ${e.message}\n`); return 2; }
  throw e;
}

export async function runSignCommand(args: string[], io: CliIO & ProgressIO): Promise<number> {
  if (wantsHelp(args)) { io.stdout(SIGN_USAGE + '\n'); return 0; }
  let format: Fmt = 'text';
  try {
    const { flags, positionals } = parseArgs(args, {
      '--key': 'string', '--certificate': 'string', '--certificate-chain': 'multi', '--signature': 'string', '--ignore-paths': 'multi',
      '--hash': 'string', '--shard-size': 'string', '--jobs': 'string', '--allow-symlinks': 'bool', '--force': 'bool', '--format': 'string',
      '--model-signing-compat': 'bool',
    });
    format = oneOf('--format', flags['--format'], ['text', 'json'] as const, 'text');
    const model = modelArg(positionals);
    if (typeof flags['--key'] !== 'string') throw new UsageError('--key PRIVATE.pem is required');
    const hashType = oneOf('--hash', flags['--hash'], HASH_TYPES, 'sha256') as HashType;
    const shardSize = shardFlag(flags['--shard-size']);
    const jobs = jobsFlag(flags['--jobs']);
    const key = await loadPrivateKey(flags['--key'], keyPassword);
    // A --certificate file may carry its chain after the leaf (a "fullchain" PEM).
    const [certificate, ...bundled] = typeof flags['--certificate'] === 'string' ? loadCertificates(flags['--certificate']) : [];
    const chain = [...bundled, ...list(flags['--certificate-chain']).flatMap((f) => loadCertificates(f))];
    const progress = progressFor(io, 'hashing');
    let res;
    try {
      res = await signModel(model, {
        key, certificate, certificateChain: chain, signaturePath: flags['--signature'] as string | undefined, force: flags['--force'] === true,
        ignorePaths: ignoreArgs(flags['--ignore-paths'], model), hashType, shardSize, jobs,
        allowSymlinks: flags['--allow-symlinks'] === true, onProgress: progress.onProgress,
        shardAlgorithm: flags['--model-signing-compat'] === true ? 'model_signing' : 'spec',
      });
    } finally { progress.done(); }
    const m = res.manifest;
    if (format === 'json') {
      io.stdout(JSON.stringify({ signed: true, model: m.modelPath, signature: res.signaturePath, digest: omsDigest(m), method: certificate ? 'certificate' : 'key', serialization: m.serialization, files: m.files.length, bytes: m.totalBytes }, null, 2) + '\n');
    } else {
      io.stdout(`signed ${m.modelPath} → ${res.signaturePath}\n  ${m.resources.length} resource(s) in ${m.files.length} file(s), ${m.totalBytes} bytes, ${m.serialization.method}/${m.serialization.hash_type}\n  root digest ${omsDigest(m)}\n`);
    }
    return 0;
  } catch (e) { return usageOrThrow(e, 'sign', SIGN_USAGE, io); }
}

export function formatVerifyText(r: VerifyReport): string {
  const lines: string[] = [];
  if (r.verified) {
    lines.push(`verified ${r.model} (${r.method}${r.signer?.identity ? `: ${r.signer.identity} via ${r.signer.issuer}` : r.signer?.certificates ? `: ${r.signer.certificates.join(' → ')}` : ''})`);
    lines.push(`  ${r.files} file(s), ${r.bytes} bytes, root digest sha256:${r.rootDigest}`);
    if (r.trustedRoot) lines.push(`  trusted root: ${r.trustedRoot}`);
    return lines.join('\n') + '\n';
  }
  lines.push(`NOT verified: ${r.model} (signature ${r.signature})`);
  if (r.trustedRoot) lines.push(`  trusted root: ${r.trustedRoot}`);
  const byCheck = (c: string) => r.failures.filter((f) => f.check === c && !f.file);
  for (const c of ['bundle', 'key', 'signature', 'chain', 'statement', 'files']) for (const f of byCheck(c)) lines.push(`  ${c}: ${f.message}`);
  for (const f of r.changed) lines.push(`  changed: ${f}`);
  for (const f of r.missing) lines.push(`  missing: ${f}`);
  for (const f of r.extra) lines.push(`  unsigned: ${f}`);
  return lines.join('\n') + '\n';
}

export async function runVerifyCommand(args: string[], io: CliIO & ProgressIO): Promise<number> {
  if (wantsHelp(args)) { io.stdout(VERIFY_USAGE + '\n'); return 0; }
  try {
    const { flags, positionals } = parseArgs(args, {
      '--signature': 'string', '--key': 'string', '--certificate-chain': 'multi', '--sigstore': 'bool', '--identity': 'string', '--issuer': 'string',
      '--trusted-root': 'string', '--ignore-paths': 'multi', '--ignore-unsigned-files': 'bool', '--jobs': 'string', '--format': 'string',
    });
    const format = oneOf('--format', flags['--format'], ['text', 'json'] as const, 'text');
    const model = modelArg(positionals);
    const methods = [flags['--key'] !== undefined, flags['--certificate-chain'] !== undefined, flags['--sigstore'] === true].filter(Boolean).length;
    if (methods !== 1) throw new UsageError('pass exactly one of --key, --certificate-chain or --sigstore');
    const jobs = jobsFlag(flags['--jobs']);
    let sigstore: { identity: string; issuer: string; trustedRoot?: unknown; trustedRootSource?: string } | undefined;
    if (flags['--sigstore']) {
      if (typeof flags['--identity'] !== 'string' || typeof flags['--issuer'] !== 'string') throw new UsageError('--sigstore needs --identity ID and --issuer URL');
      let trustedRoot: unknown;
      if (typeof flags['--trusted-root'] === 'string') {
        try { trustedRoot = JSON.parse(readSmallFile(flags['--trusted-root'], 'trusted root').toString('utf8')); } catch (e) {
          if (e instanceof SigningError) throw e;
          throw new UsageError(`--trusted-root ${flags['--trusted-root']}: not JSON (at most ${MAX_KEY_FILE_BYTES} bytes)`);
        }
      }
      sigstore = { identity: flags['--identity'], issuer: flags['--issuer'], trustedRoot, trustedRootSource: typeof flags['--trusted-root'] === 'string' ? flags['--trusted-root'] : undefined };
    } else if (flags['--identity'] !== undefined || flags['--issuer'] !== undefined || flags['--trusted-root'] !== undefined) {
      throw new UsageError('--identity, --issuer and --trusted-root go with --sigstore');
    }
    const key = typeof flags['--key'] === 'string' ? loadPublicKey(flags['--key']) : undefined;
    const caCerts = list(flags['--certificate-chain']).flatMap((f) => loadCertificates(f));
    const progress = progressFor(io, 'verifying');
    let report: VerifyReport;
    try {
      report = await verifyModel(model, {
        signaturePath: flags['--signature'] as string | undefined, key, caCerts: caCerts.length ? caCerts : undefined, sigstore,
        ignorePaths: ignoreArgs(flags['--ignore-paths'], model), ignoreUnsignedFiles: flags['--ignore-unsigned-files'] === true,
        jobs, onProgress: progress.onProgress,
      });
    } finally { progress.done(); }
    if (format === 'json') io.stdout(JSON.stringify(report, null, 2) + '\n');
    else (report.verified ? io.stdout : io.stderr)(formatVerifyText(report));
    return report.verified ? 0 : 1;
  } catch (e) { return usageOrThrow(e, 'verify', VERIFY_USAGE, io); }
}

export function publicKeyPathFor(out: string): string {
  return out.endsWith('.pem') ? `${out.slice(0, -4)}.pub.pem` : `${out}.pub`;
}

export async function runKeygenCommand(args: string[], io: CliIO): Promise<number> {
  if (wantsHelp(args)) { io.stdout(KEYGEN_USAGE + '\n'); return 0; }
  try {
    const { flags, positionals } = parseArgs(args, { '--out': 'string', '--curve': 'string', '--format': 'string' }, { '-o': '--out' });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const format = oneOf('--format', flags['--format'], ['text', 'json'] as const, 'text');
    if (typeof flags['--out'] !== 'string') throw new UsageError('--out KEY.pem is required');
    const curve = oneOf('--curve', flags['--curve'], Object.keys(CURVES) as Curve[], 'p256');
    const priv = path.resolve(flags['--out']);
    const pub = publicKeyPathFor(priv);
    for (const f of [priv, pub]) if (fs.existsSync(f)) throw new UsageError(`${f} already exists (keygen never overwrites keys)`);
    const password = process.env.MODELVET_KEY_PASSWORD || undefined;
    const pair = generateKeyPair(curve, password);
    writeFileAtomic(priv, pair.privatePem, { mode: 0o600 });
    fs.chmodSync(priv, 0o600);
    writeFileAtomic(pub, pair.publicPem, { mode: 0o644 });
    if (format === 'json') io.stdout(JSON.stringify({ privateKey: priv, publicKey: pub, curve, encrypted: Boolean(password) }, null, 2) + '\n');
    else io.stdout(`wrote ${priv} (private, ${curve}${password ? ', encrypted' : ''}) and ${pub}\n`);
    return 0;
  } catch (e) { return usageOrThrow(e, 'keygen', KEYGEN_USAGE, io); }
}

export async function runDigestCommand(args: string[], io: CliIO & ProgressIO): Promise<number> {
  if (wantsHelp(args)) { io.stdout(DIGEST_USAGE + '\n'); return 0; }
  try {
    const { flags, positionals } = parseArgs(args, {
      '--hash': 'string', '--shard-size': 'string', '--ignore-paths': 'multi', '--allow-symlinks': 'bool', '--jobs': 'string', '--format': 'string', '--signature': 'string',
    });
    const format = oneOf('--format', flags['--format'], ['text', 'json'] as const, 'text');
    const model = modelArg(positionals);
    const progress = progressFor(io, 'hashing');
    let m;
    try {
      m = await computeManifest(model, {
        hashType: oneOf('--hash', flags['--hash'], HASH_TYPES, 'sha256') as HashType, shardSize: shardFlag(flags['--shard-size']),
        ignorePaths: ignoreArgs(flags['--ignore-paths'], model), allowSymlinks: flags['--allow-symlinks'] === true,
        jobs: jobsFlag(flags['--jobs']), onProgress: progress.onProgress,
        signaturePath: typeof flags['--signature'] === 'string' ? flags['--signature'] : fs.statSync(model).isDirectory() ? path.join(model, 'model.sig') : undefined,
      });
    } finally { progress.done(); }
    if (format === 'json') io.stdout(JSON.stringify({ model: m.modelPath, name: m.modelName, digest: omsDigest(m), serialization: m.serialization, files: m.files, resources: m.resources, bytes: m.totalBytes }, null, 2) + '\n');
    else io.stdout(`${omsDigest(m)}\n`);
    return 0;
  } catch (e) { return usageOrThrow(e, 'digest', DIGEST_USAGE, io); }
}
