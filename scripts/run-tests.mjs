// Runs the named suites (folders under test/) with node's built-in test runner; TypeScript via tsx.
// Usage: node scripts/run-tests.mjs unit protocol [--filter substring]
import { readdirSync, statSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const fi = args.indexOf('--filter');
const filter = fi >= 0 ? args.splice(fi, 2)[1] : undefined;
const suites = args.length ? args : ['unit', 'protocol'];
const files = [];
for (const s of suites) {
  const dir = path.join(root, 'test', s);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, String(f));
    if (/\.test\.(ts|mjs|js)$/.test(p) && statSync(p).isFile() && (!filter || p.includes(filter))) files.push(p);
  }
}
if (!files.length) { console.error('no test files found for', suites.join(', ')); process.exit(1); }
files.sort();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
