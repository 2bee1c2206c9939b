/**
 * Extension activation cost (issue 2 target: ≤ 100 ms). Each sample is a fresh Node process that loads the
 * bundled dist/client.js against a stub `vscode` module and calls activate(); the client library is loaded
 * lazily after activate() returns, and its load time is read back from the output channel log line.
 * Run `npm run build` first (the bench script does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Bench, BenchRow } from './types';

const SAMPLES = 5;
const root = path.resolve(__dirname, '..');
const bundle = path.join(root, 'dist', 'client.js');

// CommonJS run in the child: a universal stub (every property is a callable, constructible stub) stands in for
// the VS Code API; only the output channel is real enough to record what the extension logs.
const CHILD = String.raw`
const Module = require('module');
const { performance } = require('perf_hooks');
const logs = [];
const stub = () => new Proxy(function () {}, {
  get: (t, k) => (k === 'then' ? undefined : k === Symbol.toPrimitive ? () => '' : stub()),
  apply: () => stub(), construct: () => stub(), set: () => true,
});
const channel = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m), trace() {}, debug() {}, append() {}, appendLine() {}, show() {}, dispose() {} };
// Own keys matter: the bundle's ESM interop copies the module's own properties.
const vscode = new Proxy({}, { get: (t, k) => (k in t ? t[k] : (t[k] = stub())) });
for (const k of ['workspace', 'commands', 'languages', 'env', 'extensions', 'Uri', 'EventEmitter', 'ThemeIcon', 'ThemeColor', 'TreeItem',
  'TreeItemCollapsibleState', 'StatusBarAlignment', 'ProgressLocation', 'ViewColumn', 'TabInputCustom', 'TabInputText', 'NotebookCellKind',
  'Disposable', 'CancellationTokenSource', 'Range', 'Position', 'Diagnostic', 'DiagnosticSeverity']) vscode[k] = stub();
vscode.version = '1.100.0';
vscode.window = new Proxy({}, { get: (t2, k2) => (k2 === 'createOutputChannel' ? () => channel : stub()) });
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? vscode : load.call(this, request, ...rest); };
const t0 = performance.now();
const ext = require(process.argv[1]);
const t1 = performance.now();
ext.activate({ subscriptions: [], extension: { packageJSON: { version: 'bench' } }, extensionUri: stub(), extensionPath: '/nonexistent', globalStorageUri: { fsPath: '/nonexistent' }, asAbsolutePath: (p) => '/nonexistent/' + p });
const t2 = performance.now();
setTimeout(() => {
  const lib = logs.map((l) => /library loaded in ([\d.]+) ms/.exec(String(l))).find(Boolean);
  process.stdout.write(JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, libraryMs: lib ? Number(lib[1]) : NaN }));
  process.exit(0);
}, 300);
`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const activation: Bench = async () => {
  if (!existsSync(bundle)) throw new Error('dist/client.js missing: run npm run build');
  const samples: { requireMs: number; activateMs: number; libraryMs: number }[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const r = spawnSync(process.execPath, ['-e', CHILD, bundle], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr.slice(0, 300)}`);
    samples.push(JSON.parse(r.stdout));
  }
  const requireMs = median(samples.map((s) => s.requireMs));
  const activateMs = median(samples.map((s) => s.activateMs));
  const libraryMs = median(samples.map((s) => s.libraryMs));
  const rows: BenchRow[] = [
    { name: 'extension activation (bundle load + activate())', value: requireMs + activateMs, unit: 'ms', target: 100, lowerIsBetter: true,
      note: `median of ${SAMPLES} cold processes: load ${requireMs.toFixed(1)} ms + activate ${activateMs.toFixed(1)} ms` },
    { name: 'language client library load (after activate)', value: libraryMs, unit: 'ms', lowerIsBetter: true,
      note: 'lazy require off the activation path; then the server starts' },
  ];
  return rows;
};

export const benches: Bench[] = [activation];
