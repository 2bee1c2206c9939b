// Bundles the extension client, the language server (+ its scan worker) and the CLI with esbuild,
// and copies the tree-sitter grammar .wasm files next to them. Type checking is `npm run typecheck`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, existsSync } from 'node:fs';
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
  external: ['vscode'],
};

const entries = [
  ['client/src/extension.ts', 'client.js'],
  ['server/src/server.ts', 'server.js'],
  ['server/src/scanWorker.ts', 'scan-worker.js'],
  ['core/cli/main.ts', 'cli.js'],
];
await Promise.all(entries.filter(([src]) => existsSync(path.join(root, src))).map(([src, dst]) =>
  esbuild.build({ ...common, entryPoints: [path.join(root, src)], outfile: path.join(out, dst) })));

for (const wasm of [require.resolve('web-tree-sitter/tree-sitter.wasm'), require.resolve('tree-sitter-python/tree-sitter-python.wasm')]) {
  copyFileSync(wasm, path.join(out, path.basename(wasm)));
}
console.log(`built ${entries.length} bundles into dist/`);
