/** `modelvet convert INPUT [-o OUTPUT] [--force] [--format text|json]`: safe conversion to SafeTensors. */
import fs from 'node:fs';
import { convertToSafetensors, defaultOutputPath, isIoFailure } from '../convert/index';
import { oneOf, parseArgs, UsageError } from './args';

export const CONVERT_USAGE = `usage: modelvet convert INPUT [-o OUTPUT] [--force] [--format text|json]

Convert a PyTorch checkpoint (zip or legacy), NumPy .npy/.npz, or a pickle/joblib
file holding only tensors/arrays into a .safetensors file — without running its
pickle. The input is scanned first; anything not "safe" is refused.

options:
  -o, --output FILE     output path (default: INPUT with its extension replaced by .safetensors)
  -f, --force           replace an existing output file
  --format text|json    output format (default: text)

exit codes: 0 converted, 1 refused (the reason is printed), 2 usage or I/O error
(including an existing output without --force)`;

export async function runConvertCommand(args: string[], io: { stdout(s: string): void; stderr(s: string): void; isTTY: boolean }): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.stdout(CONVERT_USAGE + '\n'); return 0; }
  let input: string, output: string | undefined, force: boolean, format: 'text' | 'json';
  try {
    const { flags, positionals } = parseArgs(args, { '--output': 'string', '--force': 'bool', '--format': 'string' }, { '-o': '--output', '-f': '--force' });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'exactly one INPUT is expected' : 'missing INPUT');
    input = positionals[0];
    output = typeof flags['--output'] === 'string' ? flags['--output'] : undefined;
    force = flags['--force'] === true;
    format = oneOf('--format', flags['--format'], ['text', 'json'] as const, 'text');
  } catch (e) {
    if (e instanceof UsageError) { io.stderr(`modelvet convert: ${e.message}\n${CONVERT_USAGE}\n`); return 2; }
    throw e;
  }
  let isFile = false;
  try { isFile = fs.statSync(input).isFile(); } catch { /* reported below */ }
  if (!isFile) { io.stderr(`modelvet convert: no such file: ${input}\n`); return 2; }
  let result;
  try {
    result = convertToSafetensors(input, { output: output ?? defaultOutputPath(input), overwrite: force });
  } catch (e) {
    io.stderr(`modelvet convert: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
  const code = result.ok ? 0 : result.exists || isIoFailure(result) ? 2 : 1;
  if (format === 'json') io.stdout(JSON.stringify({ input, ...result }, null, 2) + '\n');
  else if (result.ok) io.stdout(`converted ${input} → ${result.output}: ${result.tensors} tensors, ${result.bytes} bytes, sha256 ${result.sha256}\n`);
  else io.stderr(`modelvet convert: ${result.exists ? '' : 'refused: '}${result.reason}\n`);
  return code;
}
