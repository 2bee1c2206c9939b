/**
 * Compare the partial parse (the default) with a full parse on every .py file under the given
 * folders: the findings must be identical. Exit 1 on any difference.
 *   node --import tsx scripts/check-partial-parse.ts /usr/lib/python3/dist-packages
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AnalysisContext } from '../core/analysis';
import { analyzePython, forgetPython, initPythonParser } from '../core/code/index';
import { defaultConfig } from '../core/config';

const ctx: AnalysisContext = {
  config: defaultConfig(),
  fs: { readText: () => undefined, exists: () => false },
  project: { lockedVersions: new Map(), installedVersions: new Map(), versionFloor: () => undefined },
};
const MAX_FILE_BYTES = 2_000_000;

function* pythonFiles(dir: string): Generator<string> {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* pythonFiles(p);
    else if (e.isFile() && e.name.endsWith('.py')) yield p;
  }
}

async function main(): Promise<number> {
  const roots = process.argv.slice(2);
  if (!roots.length) { console.error('usage: check-partial-parse.ts DIR...'); return 2; }
  await initPythonParser();
  let files = 0, withFindings = 0, findings = 0, differences = 0, partialMs = 0, fullMs = 0;
  for (const root of roots) {
    for (const file of pythonFiles(root)) {
      let text: string;
      try { if (statSync(file).size > MAX_FILE_BYTES) continue; text = readFileSync(file, 'utf8'); } catch { continue; }
      files++;
      let t0 = performance.now();
      const partial = analyzePython(file, text, ctx).findings;
      forgetPython(file);
      partialMs += performance.now() - t0;
      t0 = performance.now();
      const full = analyzePython(file, text, ctx, { fullParse: true }).findings;
      forgetPython(file);
      fullMs += performance.now() - t0;
      if (full.length) withFindings++;
      findings += full.length;
      if (JSON.stringify(partial) !== JSON.stringify(full)) {
        differences++;
        console.log(`DIFFERENT ${file}: partial ${partial.length} findings, full ${full.length}`);
      }
    }
  }
  console.log(`${files} files, ${findings} findings in ${withFindings} files, ${differences} differences; partial ${(partialMs / 1000).toFixed(1)} s, full ${(fullMs / 1000).toFixed(1)} s`);
  return differences ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 2; });
