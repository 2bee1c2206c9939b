/**
 * The `modelvet` command line: the same engine as the editor, for CI and for
 * other editors (`modelvet lsp --stdio`).
 *
 * Start-up: this module is all that `--version` and `help` load. A command's code is loaded only when
 * that command runs: COMMANDS maps each name to `require('./module')`, and the build (scripts/build.mjs)
 * turns every such require in this file into a bundle of its own, dist/cli-<module>.js. Adding a
 * command is one line in COMMANDS (and one in USAGE).
 */
import path from 'node:path';
import { existsSync, writeSync } from 'node:fs';
import { isUsageError, type CliIO } from './args';
import { TOOL_VERSION } from '../version';

/** A command: its arguments (after the command name) → exit code (-1: keep running, e.g. the server). */
export type Command = (args: string[], io: CliIO) => Promise<number> | number;

/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, (args: string[]) => Command> = {
  check: () => (require('./check') as typeof import('./check')).runCheckCommand,
  // `modelvet scan hf://org/name[@rev]` goes to the Hub scanner; everything else to the local engine.
  scan: (args) => args.some((a) => a.startsWith('hf://')) ? (require('./scanHub') as typeof import('./scanHub')).runHubScanCommand : (require('./scan') as typeof import('./scan')).runScanCommand,
  convert: () => (require('./convert') as typeof import('./convert')).runConvertCommand,
  'audit-data': () => (require('./auditData') as typeof import('./auditData')).runAuditDataCommand,
  rules: () => (require('./rules') as typeof import('./rules')).runRulesCommand,
  lsp: () => startLanguageServer,
  sign: () => (require('./sign') as typeof import('./sign')).runSignCommand,
  verify: () => (require('./sign') as typeof import('./sign')).runVerifyCommand,
  keygen: () => (require('./sign') as typeof import('./sign')).runKeygenCommand,
  digest: () => (require('./sign') as typeof import('./sign')).runDigestCommand,
  bom: () => (require('./bom') as typeof import('./bom')).runBomCommand,
  licenses: () => (require('./licenses') as typeof import('./licenses')).runLicensesCommand,
};
/* eslint-enable @typescript-eslint/no-require-imports */

const USAGE = `usage: modelvet <command> [options]

commands:
  check [PATH...]     dependency manifests, Python files and notebooks (same rules as the editor)
  scan [PATH...]      static scan of model files (pickle, PyTorch, NumPy, joblib, SafeTensors, GGUF, ONNX, Keras, …)
  convert INPUT       convert a pickle-based checkpoint to SafeTensors without running it
  audit-data PATH...  audit datasets (CSV, JSONL, Parquet, HF folders) for poisoning, label problems and drift
  rules [CODE]        list the rules, or print one rule's documentation
  sign MODEL_PATH     sign a model folder with OpenSSF Model Signing (OMS v1.0, model_signing-compatible)
  verify MODEL_PATH   verify an OMS signature (key, certificate chain, or Sigstore offline)
  keygen --out KEY    write an ECDSA key pair for signing
  digest MODEL_PATH   print a model's OMS root digest (sha256:<hex>)
  bom [PATH]          write a CycloneDX ML-BOM (AI-BOM) of a model folder or project
  licenses [PATH]     license table of dependencies, models and datasets; license policy check
  lsp --stdio         start the language server (for any LSP editor)
  version             print the version

Run 'modelvet <command> --help' for a command's options.`;

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'version': case '--version': case '-V': io.stdout(`modelvet ${TOOL_VERSION}\n`); return 0;
      case undefined: case 'help': case '--help': case '-h': io.stdout(USAGE + '\n'); return cmd === undefined ? 2 : 0;
    }
    const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
    if (!load) { io.stderr(`modelvet: unknown command '${cmd}'\n\n${USAGE}\n`); return 2; }
    return await load(rest)(rest, io);
  } catch (e) {
    if (isUsageError(e)) { io.stderr(`modelvet ${cmd}: ${e.message}\n`); return 2; }
    io.stderr(`modelvet: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
}

/** The server bundle sits next to the CLI bundle; it starts listening when loaded. */
function startLanguageServer(args: string[], io: CliIO): number {
  if (!args.includes('--stdio') && !args.some((a) => a.startsWith('--node-ipc') || a.startsWith('--socket') || a.startsWith('--pipe'))) {
    io.stderr('modelvet lsp: pass --stdio (or --node-ipc, --socket=PORT, --pipe=NAME)\n');
    return 2;
  }
  const server = path.join(__dirname, 'server.js');
  if (!existsSync(server)) { io.stderr('modelvet lsp: dist/server.js is missing; run `npm run build`\n'); return 2; }
  process.argv = [process.argv[0], server, ...args];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(server);
  return -1; // keep running: the server owns the process now
}

let stdoutDirect = true;
/**
 * Output goes straight to fd 1: setting up process.stdout (stream classes compiled on first use) was most of what
 * `modelvet --version` added to a bare Node start. Writes are synchronous either way (files, pipes and TTYs on
 * Linux); if fd 1 is a non-blocking pipe that is full (EAGAIN) or a write fails, the rest of the output goes
 * through process.stdout as before, which queues it and reports errors its usual way.
 */
function writeStdout(s: string): void {
  if (stdoutDirect) {
    const b = Buffer.from(s, 'utf8');
    let off = 0;
    try {
      while (off < b.length) off += writeSync(1, b, off, b.length - off);
      return;
    } catch {
      stdoutDirect = false;
      if (off < b.length) process.stdout.write(b.subarray(off));
      return;
    }
  }
  process.stdout.write(s);
}

/** Entry used by bin/modelvet.js and by `node dist/cli.js`. */
export function run(argv = process.argv.slice(2)): void {
  const io: CliIO = {
    stdout: writeStdout,
    stderr: (s) => { process.stderr.write(s); },
    // Asked only by commands that format for a terminal; isatty(1) is what process.stdout.isTTY reports, without
    // setting up the stream (~1.5 ms) for a command that then writes with writeSync anyway.
    get isTTY() { return require('node:tty').isatty(1) as boolean; },
  };
  main(argv, io).then((code) => { if (code >= 0) process.exitCode = code; });
}

if (require.main === module) run();
