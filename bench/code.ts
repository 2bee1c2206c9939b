/**
 * Python analysis benchmarks (issue 3 targets): grammar load, full analysis of a
 * 5,000-line module, re-analysis after a one-line edit, and 2,000 files.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench, BenchRow } from './types';
import { LspTestClient } from '../test/helpers/lsp-client';
import { analyzePython, findHubReferences, forgetPython, initPythonParser, localCounter, reuseCounter } from '../core/code/index';
import { deleteParsed, parsePython } from '../core/code/parser';
import { defaultConfig } from '../core/config';
import type { AnalysisContext } from '../core/analysis';

const ctx: AnalysisContext = {
  config: defaultConfig(),
  fs: { readText: () => undefined, exists: () => false },
  project: { lockedVersions: new Map(), installedVersions: new Map(), versionFloor: () => undefined },
};

/** CPU time (user+system) of this process in ms: less distorted than wall time on a shared, loaded machine. */
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const loadNote = () => `load avg ${require('node:os').loadavg()[0].toFixed(1)} on ${require('node:os').cpus().length} cores`;

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** A realistic-looking training module: imports, classes, functions, calls, and a few risky loads. */
export function syntheticModule(lines: number, seed = 1): string {
  const head = ['import os', 'import json', 'import torch', 'import numpy as np', 'from transformers import AutoModel, AutoTokenizer', 'import yaml', ''];
  const out = [...head];
  let i = 0;
  while (out.length < lines) {
    i++;
    const k = (i * 7 + seed) % 10;
    if (k === 0) out.push(`class Block${i}(torch.nn.Module):`, `    def __init__(self, dim=${i % 64 + 1}):`, '        super().__init__()', `        self.proj = torch.nn.Linear(dim, dim * 2)`, '');
    else if (k === 1) out.push(`def step_${i}(batch, model, opt):`, '    out = model(batch["x"])', '    loss = torch.nn.functional.mse_loss(out, batch["y"])', '    loss.backward()', '    opt.step()', '    return {"loss": float(loss), "n": len(batch)}', '');
    else if (k === 2) out.push(`cfg_${i} = json.loads(os.environ.get("CFG_${i}", "{}"))`);
    else if (k === 3) out.push(`arr_${i} = np.zeros((${i % 17 + 1}, 3)).sum(axis=0) + np.ones(3) * ${i}`);
    else if (k === 4 && i % 4 === 0) out.push(`state_${i} = torch.load(os.path.join("ckpt", "m${i}.pt"))`);
    else if (k === 5 && i % 6 === 0) out.push(`tok_${i} = AutoTokenizer.from_pretrained("org/model-${i}")`);
    else if (k === 6) out.push(`for j in range(${i % 9 + 1}):`, `    print(f"epoch {j}: {cfg_${Math.max(0, i - 4)} if False else j}")`);
    else out.push(`value_${i} = some_helper(${i}, name="item-${i}", scale=${(i % 13) / 10})`);
  }
  return out.slice(0, lines).join('\n') + '\n';
}

const grammarLoad: Bench = async () => {
  // At server start, in the shipped bundle (dist/server.js): a fresh language server each time,
  // since the runtime and grammar load once per process. The server reports the time it took.
  const runs: number[] = [];
  const root = mkdtempSync(path.join(os.tmpdir(), 'modelvet-bench-grammar-'));
  try {
    for (let i = 0; i < 5; i++) {
      const client = await LspTestClient.start({ root });
      try {
        const uri = client.open('probe.py', 'import torch\ntorch.load("m.pt")\n', 'python');
        await client.pull(uri); // waits for the parser
        const stats = await client.request<{ parserInitMs?: number }>('workspace/executeCommand', { command: 'modelvet.server.stats', arguments: [] });
        if (typeof stats.parserInitMs === 'number') runs.push(stats.parserInitMs);
      } finally {
        await client.stop();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return [{ name: 'grammar load at server start (runtime + Python .wasm)', value: runs.length ? median(runs) : NaN, unit: 'ms', target: 50, lowerIsBetter: true, note: `dist/server.js, median of ${runs.length} fresh servers (min ${Math.min(...runs).toFixed(1)} ms); ${loadNote()}` }];
};

const fullAnalysis: Bench = async () => {
  await initPythonParser();
  const text = syntheticModule(5000);
  const times: number[] = [];
  const cpu: number[] = [];
  let findings = 0;
  for (let i = 0; i < 12; i++) {
    forgetPython('/bench/full.py');
    const t0 = performance.now(), c0 = cpuMs();
    findings = analyzePython('/bench/full.py', text, ctx).findings.length;
    times.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  forgetPython('/bench/full.py');
  // The tree-sitter parse alone, for context: the floor under the full analysis on this machine.
  const parseTimes: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    const r = parsePython(text);
    parseTimes.push(performance.now() - t0);
    if ('parsed' in r && r.owned) deleteParsed(r.parsed);
  }
  return [
    { name: 'full analysis, 5,000-line module', value: median(times.slice(2)), unit: 'ms', target: 50, lowerIsBetter: true, note: `${text.length} chars, ${findings} findings, median of 10 warm runs; CPU time ${median(cpu.slice(2)).toFixed(1)} ms; ${loadNote()}` },
    { name: 'tree-sitter parse only, same module', value: median(parseTimes.slice(2)), unit: 'ms', note: 'context: parser cost included in the row above' },
  ];
};

const oneLineEdit: Bench = async () => {
  await initPythonParser();
  let text = syntheticModule(5000);
  analyzePython('/bench/edit.py', text, ctx);
  const times: number[] = [];
  const cpu: number[] = [];
  const reusedTimes: number[] = [];
  const localTimes: number[] = [];
  const analyzedTimes: number[] = [];
  const EDITS = 120, WARM = 20;
  let at = 0;
  for (let i = 0; i < EDITS; i++) {
    // Typing in the middle of the module, as the server sees it: a space at the end of a line, then
    // its deletion (each analysis sees a real change; the text does not drift). The lines are spread
    // over the module, so some edits touch statements the rules read and some do not.
    if (i % 2 === 0) {
      at = text.indexOf('\n', Math.floor(text.length / 2) + (i % 40) * 97);
      text = text.slice(0, at) + ' ' + text.slice(at);
    } else text = text.slice(0, at) + text.slice(at + 1);
    const reusedBefore = reuseCounter.count, localBefore = localCounter.count;
    const t0 = performance.now(), c0 = cpuMs();
    analyzePython('/bench/edit.py', text, ctx);
    findHubReferences('/bench/edit.py', text); // the server adds the Hub references to every analysis
    const ms = performance.now() - t0;
    if (i >= WARM) {
      times.push(ms); cpu.push(cpuMs() - c0);
      (reuseCounter.count > reusedBefore ? reusedTimes : localCounter.count > localBefore ? localTimes : analyzedTimes).push(ms);
    }
  }
  forgetPython('/bench/edit.py');
  const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? NaN;
  return [
    { name: 're-analysis after a one-line edit (5,000 lines)', value: median(times), unit: 'ms', target: 10, lowerIsBetter: true, note: `LOAD rules + Hub references; median of ${times.length} edits after ${WARM} warm-up, p90 ${p90(times).toFixed(1)} ms; CPU ${median(cpu).toFixed(1)} ms; ${loadNote()}` },
    { name: '  … edits that need a whole-module rule pass', value: median(analyzedTimes), unit: 'ms', note: `${analyzedTimes.length} of ${times.length} edits (the edit may reach other statements: a binding of a resolved name, an import, a download…); p90 ${p90(analyzedTimes).toFixed(1)} ms` },
    { name: '  … edits inside one model-loading statement (that statement judged again)', value: median(localTimes), unit: 'ms', note: `${localTimes.length} of ${times.length} edits; p90 ${p90(localTimes).toFixed(1)} ms` },
    { name: '  … edits in code the rules never read (last result reused)', value: median(reusedTimes), unit: 'ms', note: `${reusedTimes.length} of ${times.length} edits` },
  ];
};

/** The 2,000-file corpus: mostly small modules; every fifth mentions a loader (so it is parsed), the rest take the text fast path. */
function manyFilesCorpus(): string[] {
  const files: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const body = syntheticModule(80 + (i % 7) * 40, i);
    files.push(i % 5 === 0 ? body : body.replace(/torch\.load|from_pretrained/g, 'helper'));
  }
  return files;
}

const manyFiles: Bench = async () => {
  await initPythonParser();
  const files = manyFilesCorpus();
  const t0 = performance.now(), c0 = cpuMs();
  let findings = 0;
  for (let i = 0; i < files.length; i++) {
    findings += analyzePython(`/bench/many/${i}.py`, files[i], ctx).findings.length;
    forgetPython(`/bench/many/${i}.py`);
  }
  const single = (performance.now() - t0) / 1000;
  const singleCpu = (cpuMs() - c0) / 1000;
  const chars = files.reduce((n, f) => n + f.length, 0);

  // The real thing: `modelvet check` (the built CLI, a fresh process) over the same files on disk.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-bench-check-'));
  let cliSeconds = NaN, cliFindings = NaN, cliNote = '';
  try {
    files.forEach((body, i) => {
      const sub = path.join(dir, `pkg${i % 40}`);
      mkdirSync(sub, { recursive: true });
      writeFileSync(path.join(sub, `module_${i}.py`), body);
    });
    const cli = path.join(__dirname, '../dist/cli.js');
    const runs: number[] = [];
    for (let k = 0; k < 3; k++) {
      const c0 = performance.now();
      const r = spawnSync(process.execPath, [cli, 'check', dir, '--format', 'json'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      runs.push((performance.now() - c0) / 1000);
      if (r.status !== 0 && r.status !== 1) { cliNote = `exit ${r.status}: ${r.stderr.slice(0, 200)}`; break; }
      cliFindings = JSON.parse(r.stdout).findings?.length ?? NaN;
    }
    if (runs.length) cliSeconds = median(runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: BenchRow[] = [
    { name: '2,000 Python files, in-process analysis', value: single, unit: 's', note: `${(chars / 1e6).toFixed(1)} M chars, ${findings} findings; CPU time ${singleCpu.toFixed(2)} s; ${loadNote()}` },
    { name: '`modelvet check` over 2,000 Python files on disk', value: cliSeconds, unit: 's', target: 10, lowerIsBetter: true, note: cliNote || `fresh CLI process (dist/cli.js), file walk + reads + analysis, one process; ${cliFindings} findings; median of 3; ${loadNote()}` },
  ];
  return rows;
};

export const benches: Bench[] = [grammarLoad, fullAnalysis, oneLineEdit, manyFiles];
