/**
 * Regenerates core/data/package-downloads.json (30-day download counts of the most downloaded
 * projects, for DEP001 hovers: "the package it resembles, with its downloads") from
 * top-pypi-packages.csv — the same public dataset and commit as popular-packages.json, aligned
 * with its `names` (index i = the i-th most downloaded). Counts are rounded to two significant
 * digits and stored in thousands to keep the bundle small.
 * Run: node --import tsx core/data/build-downloads.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Projects whose downloads are kept (the edit-distance targets of DEP001 are the top 5,000). */
const KEEP = 5000;
const here = path.dirname(new URL(import.meta.url).pathname);
const csv = readFileSync(path.join(here, 'top-pypi-packages.csv'), 'utf8');
const thousands: number[] = [];
for (const line of csv.split(/\r?\n/).slice(1)) {
  const m = /^(\d+),"?([^"]+)"?$/.exec(line.trim());
  if (!m || thousands.length >= KEEP) continue;
  const n = Number(m[1]);
  const mag = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1);
  thousands.push(Math.round(Math.round(n / mag) * mag / 1000));
}
const out = {
  source: 'hugovk/top-pypi-packages',
  commit: '5501c5c934df26d6f01fb1ca810845db02111c7d',
  date: '2026-04-06',
  note: '30-day downloads in thousands (2 significant digits), aligned with popular-packages.json names',
  thousands,
};
writeFileSync(path.join(here, 'package-downloads.json'), JSON.stringify(out) + '\n');
console.log(`wrote ${thousands.length} counts`);
