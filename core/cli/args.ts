/** A small, strict argument parser: unknown flags and missing values are usage errors (exit 2). */
export class UsageError extends Error { override name = 'UsageError'; }

/** A UsageError from any bundle: each CLI command is a bundle of its own, with its own copy of the class. */
export function isUsageError(e: unknown): e is UsageError {
  return e instanceof Error && e.name === 'UsageError';
}

export interface FlagSpec { [flag: string]: 'bool' | 'string' | 'multi' }
export interface ParsedArgs { flags: Record<string, string | boolean | string[]>; positionals: string[] }

export function parseArgs(argv: string[], spec: FlagSpec, aliases: Record<string, string> = {}): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('-') || a === '-') { positionals.push(a); continue; }
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { value = a.slice(eq + 1); a = a.slice(0, eq); }
    const name = aliases[a] ?? a;
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option ${a}`);
    if (kind === 'bool') {
      if (value !== undefined) throw new UsageError(`${a} takes no value`);
      flags[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      value = argv[++i];
    }
    if (kind === 'multi') ((flags[name] ??= []) as string[]).push(value);
    else flags[name] = value;
  }
  return { flags, positionals };
}

export function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got ${String(value)})`);
}

export interface CliIO { stdout(s: string): void; stderr(s: string): void; isTTY: boolean }
