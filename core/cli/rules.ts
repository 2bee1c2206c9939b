/** `modelvet rules [CODE]`: list the rules, or print one rule's documentation. */
import '../rules/all';
import { allRules, getRule, renderRuleDoc } from '../rules/registry';
import type { CliIO } from './args';

export function runRulesCommand(args: string[], io: CliIO): number {
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
