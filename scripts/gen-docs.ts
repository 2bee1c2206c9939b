// Writes docs/rules/<CODE>.md for every registered rule and finding code, and docs/rules/README.md
// as the index. The registry is the single source: `modelvet rules CODE` prints the same text.
import { mkdirSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import '../core/rules/all';
import { allRules, renderRuleDoc } from '../core/rules/registry';

const dir = path.resolve(__dirname, '..', 'docs', 'rules');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.md')) unlinkSync(path.join(dir, f));
const rules = allRules();
for (const r of rules) writeFileSync(path.join(dir, `${r.code}.md`), renderRuleDoc(r));
const categories: Record<string, string> = { dependency: 'Dependency rules', code: 'Code rules', hub: 'Hugging Face Hub rules', scan: 'Model-scan finding codes', card: 'Model-card rules', license: 'License rules', dataset: 'Dataset rules', signing: 'Model-signing codes' };
const index = ['# ModelVet rules', '', 'Generated from the rule registry by `npm run docs`; `modelvet rules CODE` prints the same pages.', ''];
for (const [cat, title] of Object.entries(categories)) {
  const list = rules.filter((r) => r.category === cat);
  if (!list.length) continue;
  index.push(`## ${title}`, '', '| code | name | default | summary |', '|---|---|---|---|');
  for (const r of list) index.push(`| [${r.code}](${r.code}.md) | ${r.name} | ${r.defaultSeverity} | ${r.summary.replace(/\|/g, '\\|')} |`);
  index.push('');
}
writeFileSync(path.join(dir, 'README.md'), index.join('\n'));
console.log(`wrote ${rules.length} rule pages to docs/rules/`);
