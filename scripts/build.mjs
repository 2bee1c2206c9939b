// Bundles the extension client, the language server (+ its scan worker) and the CLI with esbuild,
// and copies the tree-sitter grammar .wasm files next to them. Type checking is `npm run typecheck`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'dist');
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
  // Optional XML plug-ins of @cyclonedx/cyclonedx-library (loaded lazily in a try; ModelVet writes JSON BOMs only).
  external: ['vscode', 'xmlbuilder2', 'libxmljs2'],
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

const entries = [
  ['client/src/extension.ts', 'client.js'],
  ['server/src/server.ts', 'server.js'],
  ['server/src/scanWorker.ts', 'scan-worker.js'],
  ['core/cli/main.ts', 'cli.js', [commandChunks]],
  ...cliCommands.map((c) => [`core/cli/${c}.ts`, `cli-${c}.js`]),
];
await Promise.all(entries.filter(([src]) => existsSync(path.join(root, src))).map(([src, dst, plugins]) =>
  esbuild.build({ ...common, entryPoints: [path.join(root, src)], outfile: path.join(out, dst), plugins: plugins ?? [] })));

for (const wasm of [require.resolve('web-tree-sitter/tree-sitter.wasm'), require.resolve('tree-sitter-python/tree-sitter-python.wasm')]) {
  copyFileSync(wasm, path.join(out, path.basename(wasm)));
}
console.log(`built ${entries.length} bundles into dist/`);
