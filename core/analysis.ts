/**
 * The analysis contract shared by the CLI and the language server: what a file
 * analyzer receives and returns. Implementations live in core/deps (manifests)
 * and core/code (Python and notebooks); core/analyze.ts routes between them.
 */
import type { ModelVetConfig } from './config';
import type { Finding } from './types';
import type { NormalizedLicense } from './licenses/spdx';
import type { IndexLicenses } from './licenses/online';

/** Synchronous, read-only file access (the server backs it with open documents first). */
export interface FileAccess {
  /** File text, or undefined when missing or unreadable. Never throws. */
  readText(path: string): string | undefined;
  exists(path: string): boolean;
}

/** Facts about the workspace that several rules need (lockfile pins, installed versions). */
export interface ProjectFacts {
  /** Exact version from a lockfile (uv.lock, poetry.lock, Pipfile.lock, pylock.toml); key = PEP 503 name. */
  lockedVersions: Map<string, string>;
  /** Version installed in the selected environment (from *.dist-info/METADATA); key = PEP 503 name. */
  installedVersions: Map<string, string>;
  /**
   * The lowest version the workspace's manifests allow for a package (from `==`,
   * `>=`, `~=` bounds or a lock), used e.g. by LOAD001 (torch >= 2.6 defaults to weights_only).
   */
  versionFloor(name: string): string | undefined;
  /** `sha256:<hex>` digests of name==version's release files known offline (lockfile, local wheelhouse), and where from. */
  knownHashes?(name: string, version: string): { hashes: string[]; source: string } | undefined;
  /** Which environment the installed version came from, in words ("the environment .venv", "the active environment /path"). */
  installedSource?(name: string): string | undefined;
  /** Versions of a package in the local pip / uv caches (newest first), and which cache. */
  cachedVersions?(name: string): { versions: string[]; source: string } | undefined;
  /** License of the installed distribution (its METADATA in the selected environment), for the LIC rules on manifests. */
  installedLicense?(name: string): { version?: string; license: NormalizedLicense; file: string } | undefined;
  /** The commit a git dependency's ref (undefined = default branch) points to, known offline (lockfile, local clone). */
  vcsCommit?(url: string, ref: string | undefined): { commit: string; source: string } | undefined;
}

export interface AnalysisContext {
  config: ModelVetConfig;
  /** Absolute path of the workspace root; includes outside it are reported, not followed. */
  workspaceRoot?: string;
  fs: FileAccess;
  project?: ProjectFacts;
  /** Cooperative cancellation: analyzers check it between units of work. */
  isCancelled?: () => boolean;
  /**
   * Package-index licenses known so far (editor, online features on): never waits on the network. An
   * answer not cached yet is undefined, and the provider may look it up in the background and ask
   * for re-analysis when it arrives (LIC005 on manifests).
   */
  indexLicenses?: IndexLicenseSource;
}

/** Synchronous view of index answers (the language server's background lookups). */
export interface IndexLicenseSource {
  /** The pinned version's and the newest release's license, when already known; never blocks. */
  known(name: string, version: string): IndexLicenses | undefined;
}

export interface AnalysisResult {
  findings: Finding[];
  /** Other files whose content this result depends on (requirements includes, lockfiles). */
  dependsOn: string[];
}

export type FileKind =
  | 'requirements' | 'pyproject' | 'pipfile' | 'conda' | 'lockfile'
  | 'python' | 'notebook' | 'modelcard';

export interface NotebookCellInput {
  /** 'code' cells are analyzed; markdown cells are skipped but keep their index. */
  kind: 'code' | 'markup';
  text: string;
  /** Cell language (python by default). */
  languageId?: string;
}
