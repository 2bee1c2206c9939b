// Dependency-analysis benchmarks: a 5,000-line requirements file (cold and after a one-line edit),
// DEP001 per-name time, and a 1,000-manifest tree checked like `modelvet check`.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bench } from './types';
import type { AnalysisContext } from '../core/analysis';
import { defaultConfig } from '../core/config';
import { analyzeManifest, buildProjectFacts } from '../core/deps/index';
import { checkPackageName, warmTyposquatIndex } from '../core/deps/typosquat';
import { clearRequirementsCaches } from '../core/deps/requirements';
import popular from '../core/data/popular-packages.json';
import { analyzeText } from '../core/analyze';
import { diskFileAccess, findAnalyzableFiles } from '../core/workspace';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function requirementsFile(lines: number, salt: number): string {
  const out: string[] = [];
  for (let i = 0; out.length < lines; i++) {
    const name = popular.names[i % popular.names.length];
    if (i % 25 === 0) out.push(`# section ${i} (${salt})`);
    else if (i % 10 === 0) out.push(`${name}>=1.${salt % 100}`);
    else if (i % 50 === 1) out.push(`${name}==2.${salt}.${i} ; python_version >= "3.9"`);
    else out.push(`${name}==1.${salt}.${i}`);
  }
  return out.join('\n') + '\n';
}

function ctx(): AnalysisContext {
  return { config: defaultConfig(), workspaceRoot: '/bench', fs: { readText: () => undefined, exists: () => false } };
}

const requirementsBench: Bench = async function requirements5000() {
  warmTyposquatIndex();
  // A running server has a warm JIT: analyze a few other files first (their lines are not reused).
  for (let w = 0; w < 3; w++) analyzeManifest('requirements', '/bench/warmup.txt', requirementsFile(5000, 900 + w), ctx());
  const cold: number[] = [];
  const coldCpu: number[] = [];
  for (let r = 0; r < 7; r++) {
    const text = requirementsFile(5000, 1000 + r); // fresh line texts: nothing cached
    clearRequirementsCaches(); // first open of a file: no per-line parse or rule results
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    analyzeManifest('requirements', '/bench/requirements.txt', text, ctx());
    cold.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    coldCpu.push((c.user + c.system) / 1000);
  }
  const base = requirementsFile(5000, 7);
  const c = ctx();
  const findings = analyzeManifest('requirements', '/bench/requirements.txt', base, c).findings.length;
  const edits: number[] = [];
  const lines = base.split('\n');
  for (let r = 0; r < 30; r++) {
    const copy = [...lines];
    copy[1000 + r] = `edited-package-${r}==0.${r}.1`;
    const text = copy.join('\n');
    const t0 = performance.now();
    analyzeManifest('requirements', '/bench/requirements.txt', text, c);
    edits.push(performance.now() - t0);
  }
  return [
    { name: 'diagnostics, 5,000-line requirements file (cold line cache)', value: median(cold), unit: 'ms', target: 30, lowerIsBetter: true, note: `median of 7 (min ${Math.min(...cold).toFixed(1)}, cpu ${median(coldCpu).toFixed(1)} ms); ${findings} findings` },
    { name: 're-analysis after a one-line edit (5,000 lines)', value: median(edits), unit: 'ms', target: 5, lowerIsBetter: true, note: 'median of 30; per-line parse cache' },
  ];
};

const typosquatBench: Bench = async function dep001PerName() {
  let t0 = performance.now();
  warmTyposquatIndex();
  const build = performance.now() - t0;
  // Unseen names (typo variants and unrelated names) so the result cache does not help.
  const names: string[] = [];
  for (let i = 0; names.length < 20000; i++) {
    const n = popular.names[i % 3000];
    names.push(i % 2 ? `${n.slice(0, -1)}x${i}` : `${n}${String.fromCharCode(97 + (i % 26))}${i % 7}`);
  }
  const c0 = process.cpuUsage();
  t0 = performance.now();
  for (const n of names) checkPackageName(n);
  const unseen = ((performance.now() - t0) * 1000) / names.length;
  const cpu = process.cpuUsage(c0);
  // Names users really type are mostly popular ones: measure those without the result cache's help.
  const known = popular.names.slice(0, 15000).map((n) => n.toUpperCase());
  t0 = performance.now();
  for (const n of known) checkPackageName(n);
  const knownUs = ((performance.now() - t0) * 1000) / known.length;
  return [
    { name: 'DEP001 check per name (unseen non-popular names)', value: unseen, unit: 'µs', target: 20, lowerIsBetter: true, note: `cpu ${((cpu.user + cpu.system) / names.length).toFixed(1)} µs; index build ${build.toFixed(0)} ms once` },
    { name: 'DEP001 check per name (popular names, first sight)', value: knownUs, unit: 'µs', target: 20, lowerIsBetter: true, note: '15,000 names' },
  ];
};

const treeBench: Bench = async function tree1000() {
  const root = mkdtempSync(path.join(tmpdir(), 'mv-bench-tree-'));
  try {
    for (let i = 0; i < 1000; i++) {
      const dir = path.join(root, `pkg${Math.floor(i / 10)}`, `svc${i % 10}`);
      mkdirSync(dir, { recursive: true });
      const names = popular.names.slice((i * 7) % 14000, ((i * 7) % 14000) + 15);
      if (i % 3 === 0) writeFileSync(path.join(dir, 'requirements.txt'), names.map((n, j) => (j % 4 ? `${n}==1.${j}.0` : n)).join('\n') + '\ntorch==2.5.1\n');
      else if (i % 3 === 1) writeFileSync(path.join(dir, 'pyproject.toml'), `[project]\nname = "p${i}"\ndependencies = [\n${names.map((n) => `  "${n}>=1.0",`).join('\n')}\n]\n[build-system]\nrequires = ["hatchling"]\n`);
      else writeFileSync(path.join(dir, 'environment.yml'), `name: e${i}\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - numpy=1.26\n  - pip:\n${names.map((n) => `    - ${n}==1.0.0`).join('\n')}\n`);
    }
    const t0 = performance.now();
    const fs = diskFileAccess();
    const walk = findAnalyzableFiles([root]);
    const c: AnalysisContext = { config: defaultConfig(), workspaceRoot: root, fs, project: buildProjectFacts(root, fs) };
    let findings = 0;
    for (const f of walk.files) findings += analyzeText(f, fs.readText(f) ?? '', c).findings.length;
    const ms = performance.now() - t0;
    return [{ name: 'check of a 1,000-manifest tree (walk + facts + analysis)', value: ms / 1000, unit: 's', target: 3, lowerIsBetter: true, note: `${walk.files.length} files, ${findings} findings` }];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

export const benches: Bench[] = [requirementsBench, typosquatBench, treeBench];
