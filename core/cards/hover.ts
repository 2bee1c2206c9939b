/** Hover text for a model card's `license`, `base_model` and `datasets` keys: what each means for the user. */
import { normalizeLicense, type LicenseCategory } from '../licenses/spdx';
import { lookalikeOrg } from '../hub/typosquat';
import type { Position, Range } from '../types';
import { parseCard, stringList } from './frontmatter';

const CATEGORY_TEXT: Record<LicenseCategory, string> = {
  permissive: 'Permissive: use, modify and ship it, commercially too, keeping the notices.',
  'weak-copyleft': 'Weak copyleft: changes to the licensed files themselves must be shared under the same license; using it is fine.',
  copyleft: 'Strong copyleft: what you distribute with it must be offered under the same terms (for AGPL: also what you serve over a network).',
  noncommercial: 'Non-commercial: not for commercial products or services without a separate license from the rights holder.',
  restricted: 'Use-restricted: a community / responsible-AI license with use restrictions (and for Llama, conditions such as the monthly-active-user threshold and attribution). Read it before shipping.',
  proprietary: 'Proprietary: no permission beyond what the rights holder grants you directly.',
  unknown: 'Unknown: ModelVet does not recognize this license; nobody may use the model until its terms are clear.',
};

function inside(r: Range, p: Position): boolean {
  if (p.line < r.start.line || p.line > r.end.line) return false;
  if (p.line === r.start.line && p.character < r.start.character) return false;
  if (p.line === r.end.line && p.character > r.end.character) return false;
  return true;
}

export function cardHover(text: string, pos: Position): { markdown: string; range: Range } | undefined {
  const card = parseCard(text);
  if (!card.data || pos.line >= card.bodyLine) return undefined;
  for (const [key, r] of card.keys) {
    const range: Range = { start: r.key.start, end: r.value?.end ?? r.key.end };
    if (!inside(range, pos)) continue;
    const v = card.data[key];
    if (key === 'license') {
      const l = normalizeLicense(Array.isArray(v) ? stringList(v).join(' OR ') : typeof v === 'string' ? v : '');
      const customName = l.raw.toLowerCase() === 'other' && typeof card.data.license_name === 'string' && card.data.license_name.trim() ? card.data.license_name.trim().slice(0, 200) : undefined;
      const id = customName ? `custom license \`${customName}\` (\`license_name\`)` : l.spdx ? `SPDX \`${l.spdx}\`` : l.hub ? `Hugging Face Hub license \`${l.hub}\`` : `\`${l.raw || 'none'}\``;
      const what = customName ? 'A license of its own: read its terms (`license_link`) before use; allow it by this name in your license policy once reviewed.' : CATEGORY_TEXT[l.category];
      return { range, markdown: `**license**: ${id}\n\n${what}\n\nChecked against your license policy (\`modelvet.licenses.allow\` / \`deny\`) by LIC001; \`modelvet licenses\` lists it with your dependencies.` };
    }
    if (key === 'base_model') {
      const ids = stringList(v);
      const warn = ids.map((b) => { const o = b.split('/')[0]; const real = b.includes('/') ? lookalikeOrg(o) : undefined; return real ? `\n\n⚠ \`${o}\` looks like \`${real}\` (CARD009).` : ''; }).join('');
      return { range, markdown: `**base_model**: ${ids.map((b) => `\`${b}\``).join(', ') || 'none'}\n\nThe model this one was fine-tuned, adapted, quantized or merged from. It inherits that model's license and risks; the AI-BOM records it as a dependency.${warn}` };
    }
    if (key === 'datasets') {
      const ids = stringList(v);
      return { range, markdown: `**datasets**: ${ids.map((d) => `\`${d}\``).join(', ') || 'none'}\n\nThe training data. Its license and provenance carry over to the model (non-commercial data makes a non-commercial model in many readings); the AI-BOM lists each as a \`data\` component.` };
    }
  }
  return undefined;
}
