/** `modelvet bom PATH`: a CycloneDX ML-BOM (AI-BOM) of a model folder or a project. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildBom } from '../bom/index';
import { resolveEnvPath } from '../licenses/table';
import { SigningError } from '../signing/errors';
import { writeFileAtomic } from '../signing/sign';
import { oneOf, parseArgs, UsageError, type CliIO } from './args';

export const BOM_USAGE = `usage: modelvet bom [PATH] [options]

Write a CycloneDX ML-BOM (AI-BOM) of a model folder (a Hugging Face snapshot or any folder of model
files) or of a whole project (default PATH: .). Each model is a machine-learning-model component with
its model card, every file a file component with the SHA-256 of its OMS manifest (the OMS root digest
is a property), training datasets and the project's dataset files (audited) are data components, Python dependencies library components with
purls, versions, lockfile hashes and licenses. Nothing is loaded or executed; no network.

options:
  -o, --output FILE     write the BOM to FILE (default: stdout)
  -f, --force           replace an existing FILE
  --spec 1.6|1.5        CycloneDX version (default: 1.6)
  --format json|xml     output format (default: json; XML is CycloneDX XML with the same content)
  --reproducible        the same inputs give the same bytes: serial number derived from the content,
                        timestamp from SOURCE_DATE_EPOCH (else none)
  --env PATH            site-packages folder or virtual environment for dependency licenses
                        (default: the project's .venv / venv)
  --no-scan             skip the model scan (no verdicts or finding codes in the BOM; the parameter
                        count still comes from SafeTensors / GGUF headers)
  --no-data-audit       list the project's dataset files and folders (data components with digests)
                        without auditing them (default: audited when up to 64 MiB each)

exit codes: 0 written, 2 usage or I/O error`;

export async function runBomCommand(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    '--output': 'string', '--force': 'bool', '--spec': 'string', '--format': 'string', '--reproducible': 'bool',
    '--env': 'multi', '--no-scan': 'bool', '--no-data-audit': 'bool', '--help': 'bool',
  }, { '-o': '--output', '-f': '--force', '-h': '--help' });
  if (flags['--help']) { io.stdout(BOM_USAGE + '\n'); return 0; }
  if (positionals.length > 1) throw new UsageError('one PATH is expected');
  const spec = oneOf('--spec', flags['--spec'], ['1.6', '1.5'] as const, '1.6');
  const format = oneOf('--format', flags['--format'], ['json', 'xml'] as const, 'json');
  const target = positionals[0] ?? '.';
  let isDir = false;
  try { isDir = statSync(target).isDirectory(); } catch { throw new UsageError(`${target}: no such folder`); }
  if (!isDir) throw new UsageError(`${target} is not a folder (pass the model folder or the project)`);
  const envs = (flags['--env'] as string[] | undefined) ?? [];
  let sitePackages: string[] | undefined;
  if (envs.length) {
    sitePackages = envs.flatMap((e) => {
      if (!existsSync(e)) throw new UsageError(`--env ${e}: no such folder`);
      const sp = resolveEnvPath(e);
      if (!sp.length) throw new UsageError(`--env ${e}: no site-packages folder found (pass a virtual environment or its site-packages)`);
      return sp;
    });
  }
  const output = typeof flags['--output'] === 'string' ? path.resolve(flags['--output']) : undefined;
  if (output && existsSync(output) && !flags['--force']) throw new UsageError(`${flags['--output']} already exists (pass --force to replace it)`);

  const result = await buildBom(target, { spec, reproducible: flags['--reproducible'] === true, xml: format === 'xml', scan: flags['--no-scan'] !== true, auditDatasets: flags['--no-data-audit'] !== true, sitePackages });
  for (const w of result.warnings) io.stderr(`modelvet bom: ${w}\n`);
  const text = format === 'xml' ? result.xml! : result.json;
  if (output) {
    try { writeFileAtomic(output, text, { force: flags['--force'] === true }); } catch (e) {
      if (e instanceof SigningError) throw new UsageError(e.message);
      throw new UsageError(`cannot write ${flags['--output']}: ${(e as Error).message}`);
    }
    const n = result.models.length;
    io.stderr(`modelvet bom: wrote ${flags['--output']} (CycloneDX ${spec} ${format.toUpperCase()}: ${n} model${n === 1 ? '' : 's'}, ${result.models.reduce((a, m) => a + m.files, 0)} files, ${(result.document.components ?? []).filter((c: any) => c.type === 'library').length} libraries)\n`);
  } else io.stdout(text);
  return 0;
}
