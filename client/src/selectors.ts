/**
 * Which documents and files the client hands to the language server. Pure data (no `vscode` import) so
 * unit tests can check it against core/fileKinds.ts, the server's own notion of what it analyzes.
 * Files are selected by glob as well as by language id: a `requirements-dev.txt` may be "plaintext" when
 * no grammar claims it, and a `pyproject.toml` is "toml" only when a TOML extension is installed.
 */
export interface PlainDocumentFilter { language?: string; scheme?: string; pattern?: string; notebook?: string }

export const REQUIREMENTS_LANGUAGE_ID = 'pip-requirements';

/** Requirements-like file globs (pip's `-r`/`-c` targets, pip-tools `.in` sources, constraints files). */
export const REQUIREMENTS_GLOBS = [
  '**/*requirements*.txt',
  '**/requirements/*.txt',
  '**/*constraints*.txt',
  '**/*.in', // MANIFEST.in is filtered out in the client middleware: globs cannot exclude one name
];
export const MANIFEST_GLOBS = [
  '**/pyproject.toml',
  '**/Pipfile',
  '**/{environment,env,conda-env,conda_env,conda-environment}*.{yml,yaml}',
];
/** Model cards: the server reports only those in model folders (core/cards). */
export const MODEL_CARD_GLOBS = ['**/README.md', '**/readme.md'];
/** Datasets audited as text while open (row-level DATA diagnostics); Parquet and folders go through the command. */
export const DATASET_GLOBS = ['**/*.jsonl', '**/*.ndjson', '**/*.csv', '**/*.tsv'];
export const LOCKFILE_GLOBS = ['**/uv.lock', '**/poetry.lock', '**/Pipfile.lock', '**/pylock.toml', '**/pylock.*.toml', '**/pdm.lock'];

/** Model-file extensions (issue 6) whose appearance or change the server hears about (auto-scan). */
export const MODEL_FILE_EXTENSIONS = [
  'pt', 'pth', 'bin', 'ckpt', 'pkl', 'pickle', 'joblib', 'npy', 'npz', 'safetensors', 'gguf', 'onnx', 'keras', 'h5', 'hdf5', 'pb', 'dill', 'sav',
];

export function documentSelector(): PlainDocumentFilter[] {
  const byPattern = [...REQUIREMENTS_GLOBS, ...MANIFEST_GLOBS, ...LOCKFILE_GLOBS, ...MODEL_CARD_GLOBS, ...DATASET_GLOBS].map((pattern) => ({ scheme: 'file', pattern }));
  return [
    { scheme: 'file', language: 'python' },
    { scheme: 'untitled', language: 'python' },
    // Notebook cells: the client library negotiates notebookDocumentSync from this filter.
    { notebook: 'jupyter-notebook', language: 'python' },
    { scheme: 'file', language: REQUIREMENTS_LANGUAGE_ID },
    { scheme: 'untitled', language: REQUIREMENTS_LANGUAGE_ID },
    ...byPattern,
  ];
}

/** Globs for `synchronize.fileEvents`: manifests and lockfiles (included files re-validate), model files (auto-scan). */
export function watchedFileGlobs(): string[] {
  return [
    '**/{*requirements*.txt,*constraints*.txt,*.in}',
    '**/requirements/*.txt',
    '**/{pyproject.toml,Pipfile,Pipfile.lock,uv.lock,poetry.lock,pdm.lock,pylock.toml,pylock.*.toml}',
    '**/{environment,env,conda-env,conda_env,conda-environment}*.{yml,yaml}',
    `**/*.{${MODEL_FILE_EXTENSIONS.join(',')}}`,
    // OMS signatures: re-verified (SIG001) when they change (server/src/signing.ts).
    '**/model.sig',
  ];
}

/** Names the glob selection catches but the server must not see (setuptools' MANIFEST.in is not a requirements file). */
export function isExcludedFromAnalysis(fsPath: string): boolean {
  const base = fsPath.replace(/\\/g, '/').split('/').pop() ?? '';
  return base.toLowerCase() === 'manifest.in';
}

