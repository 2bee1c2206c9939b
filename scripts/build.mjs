// Bundles the extension client, the language server (+ its scan worker) and the CLI with esbuild,
// and copies the tree-sitter grammar .wasm files next to them. Type checking is `npm run typecheck`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// MODELVET_BUILD_OUT: build somewhere else (tests, benchmarks of another build); default dist/.
const out = process.env.MODELVET_BUILD_OUT ? path.resolve(process.env.MODELVET_BUILD_OUT) : path.join(root, 'dist');
mkdirSync(out, { recursive: true });
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  mainFields: ['module', 'main'],
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // Optional XML plug-in of @cyclonedx/cyclonedx-library (loaded lazily in a try): libxmljs2 (XML
  // validation, a native addon) is not a dependency; xmlbuilder2 (XML output, `bom --format xml`) is bundled.
  external: ['vscode', 'libxmljs2'],
};

// The CLI starts fast because each command is a bundle of its own: every `require('./x')` in
// core/cli/main.ts (its COMMANDS table) becomes dist/cli-x.js, loaded only when that command runs;
// dist/cli.js itself is the small dispatcher (`--version` and `help` load nothing else).
const CLI_MAIN = path.join(root, 'core', 'cli', 'main.ts');
const cliCommands = [...new Set([...readFileSync(CLI_MAIN, 'utf8').matchAll(/\brequire\('\.\/([\w-]+)'\)/g)].map((m) => m[1]))];
const commandChunks = {
  name: 'cli-command-chunks',
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w-]+$/ }, (args) => {
      if (args.importer !== CLI_MAIN || args.kind !== 'require-call') return undefined;
      return { path: `./cli-${args.path.slice(2)}.js`, external: true };
    });
  },
};

// `modelvet scan` loads only what a scan of the usual files runs. The HDF5 reader (jsfive, ~190 KB), the Jinja
// parser of chat templates (@huggingface/jinja) and SARIF with the rule registry (core/cli/scan-sarif.ts: every
// rule family's documentation) are chunks of their own, dist/cli-scan-<name>.js, which the scan bundle requires
// on first use (the code requires those modules lazily: other bundles keep them inline and run them on first use).
// A smaller scan bundle and code cache: less to read, hash and deserialize at every scan.
const SCAN_CLI = path.join(root, 'core', 'cli', 'scan.ts');
const SCAN_FORMATS = path.join(root, 'core', 'scan', 'formats');
const SCAN_CHUNKS = [
  { request: './hdf5-reader', importer: path.join(SCAN_FORMATS, 'keras.ts'), src: 'core/scan/formats/hdf5-reader.ts', chunk: 'cli-scan-jsfive.js' },
  { request: './jinja-parser', importer: path.join(SCAN_FORMATS, 'chat-template.ts'), src: 'core/scan/formats/jinja-parser.ts', chunk: 'cli-scan-jinja.js' },
  { request: './scan-sarif', importer: SCAN_CLI, src: 'core/cli/scan-sarif.ts', chunk: 'cli-scan-sarif.js' },
];
const scanChunks = {
  name: 'cli-scan-chunks',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${SCAN_CHUNKS.map((c) => c.request.replace(/[.]/g, '\\.')).join('|')})$`) }, (args) => {
      const c = SCAN_CHUNKS.find((x) => x.request === args.path && x.importer === args.importer);
      if (!c || args.kind !== 'require-call') return undefined;
      return { path: `./${c.chunk}`, external: true };
    });
  },
};

// CLI bundles (and the server, under `modelvet lsp`) are loaded through bin/code-cache.js (V8 code
// cache; vm.Script has no ESM loader on Node 20), so their dynamic imports (`import('node:fs')`,
// web-tree-sitter's `import('fs/promises')`) become requires.
const CLI_OPTIONS = { supported: { 'dynamic-import': false } };

// The bundled Sigstore trusted root (core/signing/trustedRoot.ts) is the trusted_root.json target of
// @sigstore/tuf's seeds.json. Only that target is inlined: the seed's other target (a registry's keys)
// and its key (the TUF repository's address, which ModelVet never contacts) stay out of the bundles.
const SEEDS = require.resolve('@sigstore/tuf/seeds.json');
const sigstoreSeedRoot = {
  name: 'sigstore-seed-trusted-root',
  setup(build) {
    build.onLoad({ filter: /[\\/]@sigstore[\\/]tuf[\\/]seeds\.json$/ }, (args) => {
      if (path.resolve(args.path) !== SEEDS) return undefined;
      const seeds = JSON.parse(readFileSync(SEEDS, 'utf8'));
      const kept = Object.values(seeds).map((entry) => ({ targets: { 'trusted_root.json': entry?.targets?.['trusted_root.json'] } }));
      return { contents: JSON.stringify(Object.fromEntries(kept.map((entry, i) => [`seed-${i}`, entry]))), loader: 'json' };
    });
  },
};
common.plugins = [sigstoreSeedRoot];

const entries = [
  ['client/src/extension.ts', 'client.js'],
  ['server/src/server.ts', 'server.js', CLI_OPTIONS],
  ['server/src/scanWorker.ts', 'scan-worker.js'],
  ['server/src/datasetWorker.ts', 'dataset-worker.js'],
  ['core/cli/main.ts', 'cli.js', { plugins: [sigstoreSeedRoot, commandChunks], ...CLI_OPTIONS }],
  ...cliCommands.map((c) => [`core/cli/${c}.ts`, `cli-${c}.js`, c === 'scan' ? { ...CLI_OPTIONS, plugins: [sigstoreSeedRoot, scanChunks] } : CLI_OPTIONS]),
  ...SCAN_CHUNKS.map((c) => [c.src, c.chunk, CLI_OPTIONS]),
];
await Promise.all(entries.filter(([src]) => existsSync(path.join(root, src))).map(([src, dst, extra]) =>
  esbuild.build({ ...common, ...extra, entryPoints: [path.join(root, src)], outfile: path.join(out, dst) })));

for (const wasm of [require.resolve('web-tree-sitter/tree-sitter.wasm'), require.resolve('tree-sitter-python/tree-sitter-python.wasm')]) {
  copyFileSync(wasm, path.join(out, path.basename(wasm)));
}
console.log(`built ${entries.length} bundles into dist/`);

// V8 code cache for the CLI bundles (bin/code-cache.js): run the common commands once so that V8
// saves what it compiled for each bundle as dist/<bundle>.v8cache. A failed run only means less cache.
for (const f of readdirSync(out)) if (f.endsWith('.v8cache')) rmSync(path.join(out, f));
const trainDir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-code-cache-'));
try {
  writeFileSync(path.join(trainDir, 'requirements.txt'), 'numpy==1.26.4\nreqeusts>=2\ntorch\n');
  writeFileSync(path.join(trainDir, 'train.py'), 'import torch\nmodel = torch.load("model.pt")\n');
  // A benign protocol-2 pickle: {'layer': 1}.
  writeFileSync(path.join(trainDir, 'model.pkl'), Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x05, 0, 0, 0, ...Buffer.from('layer'), 0x4b, 0x01, 0x73, 0x2e]));
  const keys = [...readFileSync(CLI_MAIN, 'utf8').matchAll(/^\s+'?([a-z][\w-]*)'?: \((?:args)?\) =>/gm)].map((m) => m[1]).filter((k) => k !== 'lsp');
  const runs = [...keys.map((k) => [k, '--help']), ['--version'], ['rules'], ['rules', 'DEP001'], ['check', 'requirements.txt', 'train.py'], ['scan', '--format', 'sarif', 'model.pkl'], ['scan', 'model.pkl']];
  // What bin/modelvet.js does, for the bundles in `out`.
  const runner = (args) => `require(${JSON.stringify(path.join(root, 'bin', 'code-cache.js'))}).install(${JSON.stringify(out)}, true); require(${JSON.stringify(path.join(out, 'cli.js'))}).run(${JSON.stringify(args)});`;
  for (const args of runs) spawnSync(process.execPath, ['-e', runner(args)], { cwd: trainDir, stdio: 'ignore', timeout: 60_000 });
  await trainLanguageServer(runner(['lsp', '--stdio']), trainDir);
} finally {
  rmSync(trainDir, { recursive: true, force: true });
}


/** `modelvet lsp --stdio` once: initialize, open a requirements file, pull its diagnostics, shut down. */
async function trainLanguageServer(script, cwd) {
  const { spawn } = await import('node:child_process');
  const { pathToFileURL } = await import('node:url');
  const child = spawn(process.execPath, ['-e', script], { cwd, stdio: ['pipe', 'pipe', 'ignore'] });
  const send = (m) => { const body = JSON.stringify({ jsonrpc: '2.0', ...m }); child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`); };
  const uri = pathToFileURL(path.join(cwd, 'requirements.txt')).href;
  let buffered = '';
  const answered = new Set();
  let exited = false;
  child.on('exit', () => { exited = true; });
  // Resolves on the answer, or when the server is gone (a failed training run only means less cache).
  const waitFor = (id) => new Promise((resolve) => {
    const check = () => { if (answered.has(id) || exited) resolve(); };
    child.stdout.on('data', check); child.on('exit', check); check();
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { buffered += d; for (const m of buffered.matchAll(/"id":(\d+),"result"/g)) answered.add(Number(m[1])); });
  // The server asks for configuration; an empty answer is enough.
  child.stdout.on('data', () => { for (const m of buffered.matchAll(/"id":(\d+),"method":"workspace\/configuration"/g)) { if (!answered.has(-m[1])) { answered.add(-m[1]); send({ id: Number(m[1]), result: [{}] }); } } });
  const done = new Promise((resolve) => child.on('exit', resolve));
  const timer = setTimeout(() => child.kill(), 60_000);
  send({ id: 1, method: 'initialize', params: { processId: null, rootUri: pathToFileURL(cwd).href, capabilities: { workspace: { configuration: true }, textDocument: { diagnostic: {} } } } });
  await waitFor(1);
  send({ method: 'initialized', params: {} });
  send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'pip-requirements', version: 1, text: readFileSync(path.join(cwd, 'requirements.txt'), 'utf8') } } });
  send({ id: 2, method: 'textDocument/diagnostic', params: { textDocument: { uri } } });
  await waitFor(2);
  send({ id: 3, method: 'shutdown' });
  await waitFor(3);
  send({ method: 'exit' });
  await done;
  clearTimeout(timer);
}
