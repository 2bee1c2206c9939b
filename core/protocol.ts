/**
 * Custom messages between the VS Code client and the language server, in one
 * place (like vscode-eslint's shared types). Plain data only: no LSP imports,
 * so both sides (and other editors' plugins) can use it.
 */
import type { FileReport, ScanOutput } from './scan/types';

export const Methods = {
  /** client → server request: scan files/folders. Params ScanParams, result ScanOutput. Reports $/progress; cancellable. */
  scan: 'modelvet/scan',
  /** client → server request: one file's report for the custom editor (cached by sha256 + engine version). */
  fileReport: 'modelvet/fileReport',
  /** client → server request: convert a pickle-family file to SafeTensors. */
  convert: 'modelvet/convert',
  /** server → client notification: the current set of model-scan results (tree view / report). */
  scanResults: 'modelvet/scanResults',
  /** server → client notification: status bar state. */
  status: 'modelvet/status',
  /** client → server request: scan a Hugging Face repository (online features only). */
  scanHubRepo: 'modelvet/scanHubRepo',
  /** server → client notification: the verification state of every workspace model.sig (SignatureStatesNotification). */
  signatureStates: 'modelvet/signatureStates',
  /** client → server notification: the workspace's trust changed (VS Code: the user granted trust). Params WorkspaceTrustParams. */
  workspaceTrust: 'modelvet/workspaceTrust',
  /** client → server request: audit dataset files/folders (DATA codes). Params AuditDatasetParams, result AuditDatasetResult. Reports $/progress; cancellable. */
  auditDataset: 'modelvet/auditDataset',
} as const;

export interface ScanParams {
  /** Absolute file or folder paths. */
  paths: string[];
  /** Bypass the result cache. */
  force?: boolean;
}

export interface FileReportParams { path: string; force?: boolean }
export interface FileReportResult { report: FileReport; cached: boolean }

export interface ConvertParams {
  input: string;
  /** Default: input with its extension replaced by .safetensors. */
  output?: string;
  /** Required to replace an existing output file. */
  overwrite?: boolean;
}
export type ConvertResult =
  | { ok: true; output: string; tensors: number; bytes: number; sha256: string }
  | { ok: false; reason: string; exists?: boolean };

export interface ScanResultsNotification { files: FileReport[] }
export interface StatusNotification { unsafe: number; scanning: boolean; message?: string }

export interface ScanHubRepoParams { repo: string; revision?: string }
export type ScanHubRepoResult = ScanOutput;

/**
 * OMS model signing in the editor: workspace/executeCommand with the one argument below. The server
 * reports progress (cancellable) and returns the result; the client shows it.
 */
export const SigningCommands = {
  /** Arguments [SignModelParams], result SignModelResult. */
  sign: 'modelvet.server.signModel',
  /** Arguments [VerifyModelParams], result VerifyModelResult. */
  verify: 'modelvet.server.verifyModel',
} as const;

export interface SignModelParams {
  /** Absolute model folder (or file). */
  model: string;
  /** PEM private key (ECDSA P-256/384/521). */
  key: string;
  /** Password of an encrypted key (asked by the client; never logged). */
  password?: string;
  /** Certificate method: leaf certificate and intermediates (PEM files). */
  certificate?: string;
  certificateChain?: string[];
  /** Default MODEL/model.sig. */
  signature?: string;
  /** Replace an existing signature. */
  force?: boolean;
}
export type SignModelResult =
  | { ok: true; signature: string; digest: string; files: number; bytes: number }
  | { ok: false; reason: string; exists?: boolean; cancelled?: boolean };

export interface VerifyModelParams {
  model: string;
  /** Default MODEL/model.sig. */
  signature?: string;
  /** One of: public key, CA certificate files, or Sigstore identity (+ a trusted root file; default: the bundled public-good root). */
  key?: string;
  certificateChain?: string[];
  sigstore?: { identity: string; issuer: string; trustedRoot?: string };
  ignoreUnsignedFiles?: boolean;
}
/**
 * Verification state of one signed model folder (background checks with the configured key/CA, or the
 * last Verify command). `unchecked`: a model.sig that nothing could verify yet (no key/CA configured, or
 * one for another signing method); `verified` is then false and `summary` says why.
 */
export interface SignatureState { model: string; signature: string; verified: boolean; summary?: string; unchecked?: boolean }
export interface SignatureStatesNotification { states: SignatureState[] }

/** The verification report (core/signing VerifyReport), or why verification could not run. */
export type VerifyModelResult =
  | { ok: true; verified: boolean; failures: Array<{ check: string; message: string; file?: string }>; changed: string[]; missing: string[]; extra: string[]; method?: string; rootDigest?: string; files: number; bytes: number; signature: string; model: string }
  | { ok: false; reason: string; cancelled?: boolean };

/** AI-BOM in the editor: workspace/executeCommand with one GenerateBomParams argument; result GenerateBomResult. */
export const BomCommands = { generate: 'modelvet.server.generateBom' } as const;

export interface GenerateBomParams {
  /** Absolute model folder or project folder. */
  target: string;
  /** Absolute path of the BOM file to write (CycloneDX JSON, or XML for a `.xml` file). */
  output: string;
  /** Output format; default: `xml` when `output` ends with `.xml`, else `json`. */
  format?: 'json' | 'xml';
  /** Replace an existing output file. */
  force?: boolean;
  /** Content-derived serial number, no timestamp (SOURCE_DATE_EPOCH honoured). */
  reproducible?: boolean;
}
export type GenerateBomResult =
  | { ok: true; output: string; models: number; files: number; libraries: number; warnings: string[] }
  | { ok: false; reason: string; exists?: boolean; cancelled?: boolean };

/** Settings section read by the server (`modelvet.*`). */
export const CONFIG_SECTION = 'modelvet';

export interface WorkspaceTrustParams { trusted: boolean }

/**
 * initializationOptions the server understands. Any LSP client may send them; the server treats a
 * workspace as untrusted unless `workspaceTrust.trusted` is true.
 */
export interface ServerInitializationOptions {
  storagePath?: string;
  extensionRoot?: string;
  /** The launching editor's own (user-scope) settings, same shape as the `modelvet` section. */
  settings?: unknown;
  /** Whether workspace-level values may set network access and files to read. Default: untrusted. */
  workspaceTrust?: WorkspaceTrustParams;
  /** The client adds USER_SCOPE_FIELD and EXPLICIT_KEYS_FIELD to each `modelvet` configuration reply. */
  userScopeInConfiguration?: boolean;
}

/** In a `modelvet` configuration reply from the ModelVet client: the restricted settings' user-scope values. */
export const USER_SCOPE_FIELD = '$userScope';
/** In a `modelvet` configuration reply from the ModelVet client: dotted keys the user set at some scope. */
export const EXPLICIT_KEYS_FIELD = '$explicit';

/** `modelvet/auditDataset`: files or folders (absolute), optional reference files for drift and leakage. */
export interface AuditDatasetParams { paths: string[]; reference?: string[] }
/** The audit's findings (DATA codes) and its report (core/datasets/types.ts AuditReport), plain JSON. */
export interface AuditDatasetResult { findings: import('./types').Finding[]; report: import('./datasets/types').AuditReport }
