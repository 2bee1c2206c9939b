/**
 * `modelvet scan hf://org/name[@revision] …`: downloads what the scanner needs from the Hub
 * (endpoint from HF_ENDPOINT or the library default; token from HF_TOKEN) and scans it.
 * Naming an hf:// target is the user's explicit request for network access, so this command
 * goes online even though online features are off by default everywhere else.
 */
import path from 'node:path';
// The rule registry for SARIF (./scan loads it only for a local `--format sarif` scan).
import '../rules/all';
import { defaultConfig } from '../config';
import { runHubScanCli } from '../hub/index';
import { scanToSarif } from '../report/sarif-scan';
import type { ScanOutput } from '../scan/types';
import { oneOf, parseArgs, UsageError, type CliIO } from './args';
import { exitCode, renderText } from './scan';

export async function runHubScanCommand(args: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(args, {
    '--format': 'string', '--fail-on': 'string', '--allow-unscannable': 'bool', '--output': 'string', '--cache-dir': 'string', '--no-weights': 'bool', '--jobs': 'string',
  }, { '-o': '--output', '-j': '--jobs' });
  const format = oneOf('--format', flags['--format'], ['text', 'json', 'sarif'] as const, 'text');
  const failOn = oneOf('--fail-on', flags['--fail-on'], ['malicious', 'suspicious'] as const, 'suspicious');
  const local = positionals.filter((p) => !p.startsWith('hf://'));
  if (local.length) throw new UsageError('scan either hf:// repositories or local paths, not both in one run');
  const config = defaultConfig();
  if (flags['--no-weights']) config.scan.weights = false;
  const merged: ScanOutput = { version: 1, files: [], summary: { files: 0, malicious: 0, suspicious: 0, unscannable: 0, safe: 0, seconds: 0 } };
  for (const spec of positionals) {
    let out: ScanOutput;
    try {
      out = await runHubScanCli(spec, {
        config,
        cacheDir: typeof flags['--cache-dir'] === 'string' ? path.resolve(flags['--cache-dir']) : undefined,
        log: io.isTTY ? (m) => io.stderr(`${m}\n`) : undefined,
      });
    } catch (e) {
      io.stderr(`modelvet scan: ${spec}: ${(e as Error).message}\n`);
      return 2;
    }
    merged.files.push(...out.files);
    for (const k of ['files', 'malicious', 'suspicious', 'unscannable', 'safe', 'seconds'] as const) merged.summary[k] += out.summary[k];
  }
  const text = format === 'json' ? JSON.stringify(merged, null, 2) + '\n'
    : format === 'sarif' ? JSON.stringify(scanToSarif(merged, process.cwd()), null, 2) + '\n'
    : renderText(merged);
  if (typeof flags['--output'] === 'string') (await import('node:fs')).writeFileSync(flags['--output'], text);
  else io.stdout(text);
  return exitCode(merged, failOn, Boolean(flags['--allow-unscannable']));
}
