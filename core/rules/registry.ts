/**
 * The rule registry: every rule (dependency, code, hub) and every model-scan
 * finding code has one entry here, with the documentation that `modelvet rules`
 * prints and `npm run docs` writes to docs/rules/. Codes are stable forever.
 */
import type { Severity } from '../types';

export type RuleCategory = 'dependency' | 'code' | 'hub' | 'scan' | 'license' | 'card' | 'dataset' | 'signing';

export interface RuleMeta {
  code: string;
  /** kebab-case short name, e.g. "typosquat". */
  name: string;
  category: RuleCategory;
  /** One line: what the rule finds. */
  summary: string;
  /** Markdown: why it matters. */
  why: string;
  /** Markdown code sample that triggers the rule. */
  example: string;
  /** Markdown: how to fix it (and what the quick-fix does). */
  fix: string;
  references: string[];
  defaultSeverity: Severity;
  /** Equivalent rules in other tools (Bandit B614, Ruff S301, …). */
  equivalents?: string[];
  /** Off unless the user opts in. */
  optIn?: boolean;
}

const rules = new Map<string, RuleMeta>();

export function registerRules(list: readonly RuleMeta[]): void {
  for (const r of list) {
    if (rules.has(r.code)) throw new Error(`duplicate rule code ${r.code}`);
    rules.set(r.code, r);
  }
}

export function getRule(code: string): RuleMeta | undefined {
  return rules.get(code.toUpperCase());
}

export function allRules(): RuleMeta[] {
  return [...rules.values()].sort((a, b) => (a.code < b.code ? -1 : 1));
}

/** The URL of a rule's documentation page (the server sets it as codeDescription.href). */
export function ruleDocUrl(code: string, base = DOCS_BASE): string {
  return `${base}/${code}.md`;
}
export const DOCS_BASE = 'https://example.invalid/modelvet/docs/rules';

export function renderRuleDoc(r: RuleMeta): string {
  const lines = [
    `# ${r.code}: ${r.name}`,
    '',
    `${r.summary}`,
    '',
    `Category: ${r.category} · Default severity: ${r.defaultSeverity}${r.optIn ? ' · opt-in' : ''}`,
    '',
    '## Why',
    '',
    r.why,
    '',
    '## Example',
    '',
    r.example,
    '',
    '## Fix',
    '',
    r.fix,
  ];
  if (r.equivalents?.length) lines.push('', '## Equivalents', '', ...r.equivalents.map((e) => `- ${e}`));
  if (r.references.length) lines.push('', '## References', '', ...r.references.map((e) => `- ${e}`));
  return lines.join('\n') + '\n';
}
