/**
 * Regenerates core/data/popular-packages.json (the compact DEP001 corpus) from
 * top-pypi-packages.csv. Run: node --import tsx core/data/build-data.ts
 *
 * Source of the CSV: the public dataset hugovk/top-pypi-packages,
 * commit 5501c5c934df26d6f01fb1ca810845db02111c7d (2026-04-06), 15,000 names
 * with 30-day download counts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const csv = readFileSync(path.join(here, 'top-pypi-packages.csv'), 'utf8');
const names: string[] = [];
for (const line of csv.split(/\r?\n/).slice(1)) {
  const m = /^(\d+),"?([^"]+)"?$/.exec(line.trim());
  if (m) names.push(m[2].toLowerCase().replace(/[-_.]+/g, '-'));
}
const out = {
  source: 'hugovk/top-pypi-packages',
  commit: '5501c5c934df26d6f01fb1ca810845db02111c7d',
  date: '2026-04-06',
  note: 'PEP 503-normalized names, most downloaded first',
  names,
};
writeFileSync(path.join(here, 'popular-packages.json'), JSON.stringify(out) + '\n');
console.log(`wrote ${names.length} names`);
