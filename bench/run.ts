// `npm run bench`: runs every bench/<area>.ts that exports `benches` and prints one table.
// Benchmarks measure; they never fail the build. Targets come from the issues.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Bench, BenchRow } from './types';

async function main() {
  const only = process.argv[2];
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !['run.ts', 'types.ts'].includes(f) && (!only || f.includes(only))).sort();
  const rows: Array<BenchRow & { area: string }> = [];
  for (const f of files) {
    const mod = (await import(path.join(__dirname, f))) as { benches?: Bench[] };
    for (const b of mod.benches ?? []) {
      try {
        for (const r of await b()) rows.push({ ...r, area: f.replace(/\.ts$/, '') });
      } catch (e) {
        rows.push({ area: f.replace(/\.ts$/, ''), name: `${b.name || 'bench'} FAILED: ${(e as Error).message}`, value: NaN, unit: '' });
      }
    }
  }
  const fmt = (v: number) => (Number.isNaN(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3));
  const table = rows.map((r) => {
    const ok = r.target === undefined || Number.isNaN(r.value) ? '' : (r.lowerIsBetter ?? true) ? (r.value <= r.target ? 'ok' : 'MISS') : (r.value >= r.target ? 'ok' : 'MISS');
    const target = r.target === undefined ? '' : `${(r.lowerIsBetter ?? true) ? '≤' : '≥'} ${fmt(r.target)} ${r.unit}`;
    return [r.area, r.name, `${fmt(r.value)} ${r.unit}`, target, ok, r.note ?? ''];
  });
  const head = ['area', 'benchmark', 'measured', 'target', '', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of table) console.log(line(row));
}
main().catch((e) => { console.error(e); process.exit(1); });
