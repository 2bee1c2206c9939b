/**
 * OMS model signing in the language server: the sign / verify commands (workspace/executeCommand, with
 * cancellable progress; hashing runs on worker threads so diagnostics stay responsive) and, with a
 * configured key or CA (`modelvet.signing.publicKey` / `modelvet.signing.certificateChain`), a SIG001
 * diagnostic on every workspace `model.sig` that does not verify, naming what failed.
 *
 * Trust: the key and CA name the files that decide what is "verified", so in an untrusted workspace
 * they come only from the user's own settings (the client's `$userScope`), never from the workspace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CancellationToken, Diagnostic } from 'vscode-languageserver/node';
import {
  Methods, SigningCommands, USER_SCOPE_FIELD,
  type SignatureState, type SignModelParams, type SignModelResult, type VerifyModelParams, type VerifyModelResult,
} from '../../core/protocol';
import {
  MemoryDigestCache, SigningError, loadCertificates, loadPrivateKey, loadPublicKey, omsDigest, signModel, verifyModel, type VerifyReport,
} from '../../core/signing/index';
import { readSmallFile } from '../../core/signing/keys';

export const SIGNING_COMMANDS: string[] = [SigningCommands.sign, SigningCommands.verify];
/** How deep below a workspace root `model.sig` files are looked for, and how many entries at most. */
export const SIGNATURE_SEARCH_DEPTH = 6;
export const SIGNATURE_SEARCH_MAX_ENTRIES = 20_000;
/** Quiet time after a file change before signatures are re-verified. */
export const REVERIFY_DEBOUNCE_MS = 500;
const SKIP_DIRS = new Set(['node_modules', '.git', '.venv', 'venv', '__pycache__', '.tox', '.mypy_cache']);

export interface Progress { report(percent: number, message: string): void; done(): void; cancel?: CancellationToken }

export interface SigningDeps {
  publish(uri: string, diagnostics: Diagnostic[]): void;
  /** Server → client notifications (Methods.signatureStates). */
  notify?(method: string, params: unknown): void;
  progress(title: string): Promise<Progress | undefined>;
  log(message: string): void;
}

export interface SigningSettings { publicKey?: string; certificateChain: string[]; requireSignature: boolean }

/** `modelvet.signing.*` from a configuration reply; the key and CA only from user scope unless trusted. */
export function signingSettingsFromRaw(raw: unknown, trusted: boolean, roots: string[]): SigningSettings {
  const r = raw && typeof raw === 'object' ? raw as Record<string, any> : {};
  const from = trusted ? r : (r[USER_SCOPE_FIELD] && typeof r[USER_SCOPE_FIELD] === 'object' ? r[USER_SCOPE_FIELD] : {});
  const s = from.signing && typeof from.signing === 'object' ? from.signing : {};
  const abs = (p: unknown) => (typeof p === 'string' && p.trim() ? path.resolve(roots[0] ?? process.cwd(), p.trim()) : undefined);
  const chain = Array.isArray(s.certificateChain) ? s.certificateChain : typeof s.certificateChain === 'string' ? [s.certificateChain] : [];
  // requireSignature only asks for more checks: the workspace may turn it on.
  const require = r.signing && typeof r.signing === 'object' && r.signing.requireSignature === true;
  return { publicKey: abs(s.publicKey), certificateChain: chain.map(abs).filter((x: string | undefined): x is string => Boolean(x)), requireSignature: require };
}

function abortOn(tokens: Array<CancellationToken | undefined>): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const subs = tokens.filter(Boolean).map((t) => t!.onCancellationRequested(() => ac.abort()));
  if (tokens.some((t) => t?.isCancellationRequested)) ac.abort();
  return { signal: ac.signal, dispose: () => subs.forEach((s) => s.dispose()) };
}

function progressReporter(p: Progress | undefined): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    p?.report(total ? Math.floor((done / total) * 100) : 100, `${(done / 1e9).toFixed(2)} / ${(total / 1e9).toFixed(2)} GB`);
  };
}

export const UNCHECKED_NO_KEY = 'not checked: no key or CA configured (modelvet.signing.publicKey / modelvet.signing.certificateChain); run ModelVet: Verify Model Signature…';
export const UNCHECKED_OTHER_METHOD = 'not checked: signed with another method than the configured key/CA; run ModelVet: Verify Model Signature…';

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The diagnostic text for a failed verification: what failed, file by file (first few). */
export function failureSummary(r: VerifyReport): string {
  const parts: string[] = [];
  const general = r.failures.filter((f) => !f.file);
  if (general.length) parts.push(general.map((f) => `${f.check}: ${f.message}`).join('; '));
  const few = (label: string, xs: string[]) => { if (xs.length) parts.push(`${label}: ${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ` (+${xs.length - 5} more)` : ''}`); };
  few('changed', r.changed); few('missing', r.missing); few('unsigned', r.extra);
  return parts.join('; ');
}

export class SigningGlue {
  private settings: SigningSettings = { certificateChain: [], requireSignature: false };
  /** Background checks re-hash only files whose size/mtime/ctime/inode changed (the Verify command reads everything). */
  private digests = new MemoryDigestCache(50_000);
  /** Last known state per model.sig (background checks and verify commands), sent to the client. */
  private states = new Map<string, SignatureState>();
  /** model.sig files whose state came from a Verify command (kept when nothing is configured). */
  private commandStates = new Set<string>();
  /** model.sig files with a SIG001 published now. */
  private diagnosed = new Set<string>();
  /** Model files given SIG002 (so they can be cleared). */
  private unsignedPublished = new Set<string>();
  private roots: string[] = [];
  /** model.sig path → its diagnostics were published (so they can be cleared). */
  private published = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private deps: SigningDeps) {}

  handles(command: string): boolean { return SIGNING_COMMANDS.includes(command); }

  async execute(command: string, args: unknown[] | undefined, token: CancellationToken): Promise<SignModelResult | VerifyModelResult> {
    const p = args?.[0] as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object' || typeof p.model !== 'string' || !path.isAbsolute(p.model)) return { ok: false, reason: `${command}: an absolute \`model\` path is required` };
    return command === SigningCommands.sign ? this.sign(p as unknown as SignModelParams, token) : this.verify(p as unknown as VerifyModelParams, token);
  }

  private async sign(p: SignModelParams, token: CancellationToken): Promise<SignModelResult> {
    if (typeof p.key !== 'string') return { ok: false, reason: 'a private key file is required' };
    const progress = await this.deps.progress(`ModelVet: signing ${path.basename(p.model)}`);
    const abort = abortOn([token, progress?.cancel]);
    try {
      const key = await loadPrivateKey(p.key, async () => p.password ?? process.env.MODELVET_KEY_PASSWORD);
      const certificate = p.certificate ? loadCertificates(p.certificate)[0] : undefined;
      const chain = (p.certificateChain ?? []).flatMap((f) => loadCertificates(f));
      const res = await signModel(p.model, {
        key, certificate, certificateChain: chain, signaturePath: p.signature, force: p.force === true,
        jobs: 1, signal: abort.signal, onProgress: progressReporter(progress),
      });
      this.schedule(0);
      return { ok: true, signature: res.signaturePath, digest: omsDigest(res.manifest), files: res.manifest.files.length, bytes: res.manifest.totalBytes };
    } catch (e) {
      if (e instanceof SigningError && e.kind === 'cancelled') return { ok: false, reason: 'cancelled', cancelled: true };
      return { ok: false, reason: reasonOf(e), exists: e instanceof SigningError && e.code === 'exists' };
    } finally { abort.dispose(); progress?.done(); }
  }

  private async verify(p: VerifyModelParams, token: CancellationToken): Promise<VerifyModelResult> {
    const progress = await this.deps.progress(`ModelVet: verifying ${path.basename(p.model)}`);
    const abort = abortOn([token, progress?.cancel]);
    try {
      const key = typeof p.key === 'string' ? loadPublicKey(p.key) : undefined;
      const caCerts = Array.isArray(p.certificateChain) && p.certificateChain.length ? p.certificateChain.flatMap((f) => loadCertificates(f)) : undefined;
      // Keyless: the bundled public-good trusted root unless the command names one (same default as the CLI).
      const root = p.sigstore && typeof p.sigstore.trustedRoot === 'string' && p.sigstore.trustedRoot ? p.sigstore.trustedRoot : undefined;
      const sigstore = p.sigstore ? { identity: p.sigstore.identity, issuer: p.sigstore.issuer, trustedRoot: root ? JSON.parse(readSmallFile(root, 'trusted root').toString('utf8')) : undefined, trustedRootSource: root } : undefined;
      if (!key && !caCerts && !sigstore) return { ok: false, reason: 'a public key, CA certificates or a Sigstore identity is required' };
      const r = await verifyModel(p.model, { signaturePath: p.signature, key, caCerts, sigstore, ignoreUnsignedFiles: p.ignoreUnsignedFiles, jobs: 1, signal: abort.signal, onProgress: progressReporter(progress) });
      this.states.set(r.signature, { model: r.model, signature: r.signature, verified: r.verified, summary: r.verified ? undefined : failureSummary(r) });
      this.commandStates.add(r.signature);
      this.sendStates();
      return { ok: true, ...r };
    } catch (e) {
      if (e instanceof SigningError && e.kind === 'cancelled') return { ok: false, reason: 'cancelled', cancelled: true };
      return { ok: false, reason: reasonOf(e) };
    } finally { abort.dispose(); progress?.done(); }
  }

  /** New settings or workspace roots: re-verify every model.sig (or clear their diagnostics). */
  configure(raw: unknown, trusted: boolean, roots: string[]): void {
    this.settings = signingSettingsFromRaw(raw, trusted, roots);
    this.roots = roots;
    this.schedule(0);
  }

  /** Files changed on disk: re-verify when a change is inside a folder that holds a model.sig. */
  onFilesChanged(paths: string[]): void {
    // Without a key/CA only a new or removed model.sig matters (its "not checked" state).
    if (!this.enabled()) { if (paths.some((p) => path.basename(p) === 'model.sig')) this.schedule(REVERIFY_DEBOUNCE_MS); return; }
    const sigDirs = [...this.published].map((s) => path.dirname(s));
    if (paths.some((p) => path.basename(p) === 'model.sig' || sigDirs.some((d) => p === d || p.startsWith(d + path.sep)) || (this.settings.requireSignature && isModelFile(p)))) this.schedule(REVERIFY_DEBOUNCE_MS);
  }

  private sendStates(): void { this.deps.notify?.(Methods.signatureStates, { states: [...this.states.values()] }); }

  private enabled(): boolean { return Boolean(this.settings.publicKey || this.settings.certificateChain.length); }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; void this.runChecks(); }, ms);
    this.timer.unref?.();
  }

  /** Resolves when the current check round (if any) is over; for tests and shutdown. */
  async idle(): Promise<void> { while (this.running || this.timer) await (this.running ?? new Promise((r) => setTimeout(r, 20))); }

  private async runChecks(): Promise<void> {
    if (this.running) { this.again = true; return; }
    this.running = (async () => {
      try { await this.checkAll(); } catch (e) { this.deps.log(`signature check failed: ${reasonOf(e)}`); }
    })();
    await this.running;
    this.running = undefined;
    if (this.again) { this.again = false; this.schedule(0); }
  }

  private async checkAll(): Promise<void> {
    const sigs = this.roots.flatMap((r) => findSignatures(r));
    for (const old of this.published) if (!sigs.includes(old)) { this.deps.publish(pathToFileURL(old).toString(), []); this.states.delete(old); this.commandStates.delete(old); this.diagnosed.delete(old); }
    this.published = new Set(sigs);
    if (!this.enabled()) {
      // Nothing to verify with: every model.sig shows as signed but not checked (unless a Verify command
      // judged it), and no SIG001 from an earlier configuration stays.
      for (const sig of this.diagnosed) this.deps.publish(pathToFileURL(sig).toString(), []);
      this.diagnosed.clear();
      for (const sig of sigs) {
        if (!this.commandStates.has(sig)) this.states.set(sig, { model: path.dirname(sig), signature: sig, verified: false, unchecked: true, summary: UNCHECKED_NO_KEY });
      }
      if (sigs.length) this.sendStates();
      this.publishUnsigned(new Map());
      return;
    }
    if (!sigs.length) { this.publishUnsigned(new Map()); return; }
    let key, caCerts;
    try {
      key = this.settings.publicKey ? loadPublicKey(this.settings.publicKey) : undefined;
      caCerts = this.settings.certificateChain.length ? this.settings.certificateChain.flatMap((f) => loadCertificates(f)) : undefined;
    } catch (e) { this.deps.log(`modelvet.signing: ${reasonOf(e)}`); return; }
    const verified = new Map<string, boolean>();
    for (const sig of sigs) {
      let message: string | undefined;
      let judged = true;
      try {
        const r = await verifyModel(path.dirname(sig), { signaturePath: sig, key, caCerts, jobs: 1, digestCache: this.digests });
        // A bundle for the other method (e.g. certificate-signed while only a key is configured) is not judged.
        const otherMethod = r.failures.length === 1 && /: pass --(key|certificate-chain|sigstore)/.test(r.failures[0].message);
        if (otherMethod) judged = false;
        else if (!r.verified) message = `Model signature does not verify: ${failureSummary(r)}`;
      } catch (e) { message = `Model signature cannot be verified: ${reasonOf(e)}`; }
      const diagnostics: Diagnostic[] = message ? [{
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
        severity: 1, source: 'modelvet', code: 'SIG001', message,
      }] : [];
      this.deps.publish(pathToFileURL(sig).toString(), diagnostics);
      if (diagnostics.length) this.diagnosed.add(sig); else this.diagnosed.delete(sig);
      // Not judged (another signing method): not verified for SIG002, shown as not checked.
      verified.set(path.dirname(sig), judged && !message);
      if (judged) { this.states.set(sig, { model: path.dirname(sig), signature: sig, verified: !message, summary: message }); this.commandStates.delete(sig); }
      else if (!this.commandStates.has(sig)) this.states.set(sig, { model: path.dirname(sig), signature: sig, verified: false, unchecked: true, summary: UNCHECKED_OTHER_METHOD });
    }
    this.sendStates();
    this.publishUnsigned(verified);
  }

  /** SIG002 on model files with no verifying model.sig in their folder or above (requireSignature). */
  private publishUnsigned(verified: Map<string, boolean>): void {
    const now = new Set<string>();
    if (this.settings.requireSignature && this.enabled()) {
      for (const root of this.roots) {
        for (const file of findModelFiles(root)) {
          let dir = path.dirname(file), state: boolean | undefined, sigDir = '';
          for (;;) {
            if (verified.has(dir)) { state = verified.get(dir); sigDir = dir; break; }
            if (dir === root || path.dirname(dir) === dir) break;
            dir = path.dirname(dir);
          }
          if (state === true) continue;
          const rel = (p: string) => path.relative(root, p) || '.';
          const message = state === undefined
            ? `SIG002 model file without a signature: no model.sig in ${rel(path.dirname(file))} or a folder above it`
            : `SIG002 model file not covered by a valid signature: ${rel(path.join(sigDir, 'model.sig'))} does not verify`;
          now.add(file);
          this.deps.publish(pathToFileURL(file).toString(), [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, severity: 2, source: 'modelvet', code: 'SIG002', message: message.replace(/^SIG002 /, '') }]);
        }
      }
    }
    for (const old of this.unsignedPublished) if (!now.has(old)) this.deps.publish(pathToFileURL(old).toString(), []);
    this.unsignedPublished = now;
  }
}

/** Extensions of model weight files that SIG002 expects to be signed. */
export const MODEL_EXTENSIONS = new Set(['safetensors', 'bin', 'pt', 'pth', 'ckpt', 'pkl', 'pickle', 'joblib', 'npy', 'npz', 'gguf', 'onnx', 'keras', 'h5', 'pb', 'msgpack', 'tflite', 'mlmodel']);
export function isModelFile(p: string): boolean { return MODEL_EXTENSIONS.has(path.extname(p).slice(1).toLowerCase()); }

export function findModelFiles(root: string): string[] { return findFiles(root, (name) => isModelFile(name)); }

/** model.sig files below `root` (bounded depth and entries; skips dependency and VCS folders). */
export function findSignatures(root: string): string[] { return findFiles(root, (name) => name === 'model.sig'); }

function findFiles(root: string, want: (name: string) => boolean): string[] {
  const out: string[] = [];
  let seen = 0;
  const walk = (dir: string, depth: number) => {
    if (depth > SIGNATURE_SEARCH_DEPTH || seen > SIGNATURE_SEARCH_MAX_ENTRIES) return;
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (++seen > SIGNATURE_SEARCH_MAX_ENTRIES) return;
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(path.join(dir, e.name), depth + 1);
      else if (e.isFile() && want(e.name)) out.push(path.join(dir, e.name));
    }
  };
  walk(root, 0);
  return out.sort();
}

/**
 * Push diagnostics from several producers (model scans, signing) for the same file: each `set` replaces
 * that producer's list and publishes the union, so one never wipes out the other's.
 */
export class PushDiagnostics {
  private bySource = new Map<string, Map<string, Diagnostic[]>>();
  constructor(private send: (uri: string, diagnostics: Diagnostic[]) => void) {}
  set(source: string, uri: string, diagnostics: Diagnostic[]): void {
    let m = this.bySource.get(uri);
    if (!m) this.bySource.set(uri, m = new Map());
    if (diagnostics.length) m.set(source, diagnostics); else m.delete(source);
    const all = [...m.values()].flat();
    if (!m.size) this.bySource.delete(uri);
    this.send(uri, all);
  }
}
