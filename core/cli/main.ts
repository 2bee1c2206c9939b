/**
 * The `modelvet` command line: the same engine as the editor, for CI and for
 * other editors (`modelvet lsp --stdio`).
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import '../rules/all';
import { allRules, getRule, renderRuleDoc } from '../rules/registry';
import { UsageError, type CliIO } from './args';
import { runCheckCommand } from './check';
import { runScanCommand } from './scan';
import { runConvertCommand } from './convert';
import { TOOL_VERSION } from '../report/sarif';

const USAGE = `usage: modelvet <command> [options]

commands:
  check [PATH...]     dependency manifests, Python files and notebooks (same rules as the editor)
  scan [PATH...]      static scan of model files (pickle, PyTorch, NumPy, joblib, SafeTensors, GGUF, ONNX, Keras, …)
  convert INPUT       convert a pickle-based checkpoint to SafeTensors without running it
  rules [CODE]        list the rules, or print one rule's documentation
  lsp --stdio         start the language server (for any LSP editor)
  version             print the version

Run 'modelvet <command> --help' for a command's options.`;

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'check': return await runCheckCommand(rest, io);
      case 'scan': return await runScanDispatch(rest, io);
      case 'convert': return await runConvertCommand(rest, io);
      case 'rules': return runRulesCommand(rest, io);
      case 'lsp': return startLanguageServer(rest, io);
      case 'version': case '--version': case '-V': io.stdout(`modelvet ${TOOL_VERSION}\n`); return 0;
      case undefined: case 'help': case '--help': case '-h': io.stdout(USAGE + '\n'); return cmd === undefined ? 2 : 0;
      default: io.stderr(`modelvet: unknown command '${cmd}'\n\n${USAGE}\n`); return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) { io.stderr(`modelvet ${cmd}: ${e.message}\n`); return 2; }
    io.stderr(`modelvet: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
}

/** `modelvet scan hf://org/name[@rev]` goes to the Hub scanner; everything else to the local engine. */
async function runScanDispatch(args: string[], io: CliIO): Promise<number> {
  const hubSpecs = args.filter((a) => a.startsWith('hf://'));
  if (!hubSpecs.length) return runScanCommand(args, io);
  const { runHubScanCommand } = await import('./scanHub');
  return runHubScanCommand(args, io);
}

function runRulesCommand(args: string[], io: CliIO): number {
  const json = args.includes('--format=json') || (args.includes('--format') && args[args.indexOf('--format') + 1] === 'json');
  const codes = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--format');
  if (codes.length) {
    let status = 0;
    for (const c of codes) {
      const r = getRule(c);
      if (!r) { io.stderr(`modelvet rules: unknown rule ${c}\n`); status = 2; continue; }
      io.stdout(json ? JSON.stringify(r, null, 2) + '\n' : renderRuleDoc(r) + '\n');
    }
    return status;
  }
  const rules = allRules();
  if (json) { io.stdout(JSON.stringify(rules, null, 2) + '\n'); return 0; }
  const w = Math.max(...rules.map((r) => r.name.length), 4);
  for (const r of rules) io.stdout(`${r.code.padEnd(9)} ${r.name.padEnd(w)}  ${r.defaultSeverity.padEnd(11)} ${r.summary}\n`);
  return 0;
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

/** Entry used by bin/modelvet.js and by `node dist/cli.js`. */
export function run(argv = process.argv.slice(2)): void {
  const io: CliIO = {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    isTTY: Boolean(process.stdout.isTTY),
  };
  main(argv, io).then((code) => { if (code >= 0) process.exitCode = code; });
}

if (require.main === module) run();
