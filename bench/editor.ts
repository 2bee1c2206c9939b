/**
 * Editor feature latency over the protocol against dist/server.js, on the bundled example:
 * hovers on every diagnostic of requirements.txt and src/train.py once the server is warm
 * (issue #15 target: ≤ 50 ms), a hover right after an edit (the new version is analysed first),
 * and code actions asked with the previous version's diagnostics right after an edit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LspTestClient, ROOT } from '../test/helpers/lsp-client';
import type { Bench, BenchRow } from './types';

const EXAMPLE = path.join(ROOT, 'examples', 'ml-project');
const ROUNDS = 5;
const EDITS = 20;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const max = (xs: number[]) => Math.max(...xs);

/** CPU time (user + system) the server process has used so far, in ms; undefined off Linux. */
function serverCpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch { return undefined; }
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

export const benches: Bench[] = [async function editorLatency(): Promise<BenchRow[]> {
  const c = await LspTestClient.start({ root: EXAMPLE });
  try {
    const rows: BenchRow[] = [];
    for (const [rel, lang] of [['requirements.txt', 'pip-requirements'], ['src/train.py', 'python']] as const) {
      const text = readFileSync(path.join(EXAMPLE, rel), 'utf8');
      const uri = c.open(rel, text, lang);
      const diags = await c.pull(uri);
      const warm: number[] = [];
      let chars = 0;
      const cpu0 = serverCpuMs(c.proc.pid);
      for (let r = 0; r < ROUNDS; r++) {
        for (const d of diags) {
          const [ms, h] = await timed(() => c.request('textDocument/hover', { textDocument: { uri }, position: d.range.start }));
          warm.push(ms);
          chars = Math.max(chars, (h as { contents?: { value?: string } } | null)?.contents?.value?.length ?? 0);
        }
      }
      const cpu1 = serverCpuMs(c.proc.pid);
      const cpu = cpu0 !== undefined && cpu1 !== undefined ? `; server CPU ${((cpu1 - cpu0) / warm.length).toFixed(2)} ms/hover (10 ms ticks)` : '';
      rows.push({ name: `hover, warm (${rel}, ${diags.length} findings × ${ROUNDS}), median`, value: median(warm), unit: 'ms', target: 50, note: `max ${max(warm).toFixed(1)} ms; longest hover ${chars} chars${cpu}` });
      const afterEdit: number[] = [];
      const actions: number[] = [];
      let empty = 0;
      const probe = diags.find((d) => d.code !== 'DEP003') ?? diags[0];
      for (let v = 2; v < 2 + EDITS; v++) {
        c.change(uri, v, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '#\n' }]);
        const shift = v - 1;
        const at = { line: probe.range.start.line + shift, character: probe.range.start.character };
        const [hm] = await timed(() => c.request('textDocument/hover', { textDocument: { uri }, position: at }));
        afterEdit.push(hm);
        const [am, acts] = await timed(() => c.request<unknown[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: at, end: at }, context: { diagnostics: [probe], only: ['quickfix'] } }));
        actions.push(am);
        if (!acts.length) empty++;
      }
      rows.push({ name: `hover right after an edit (${rel}), median`, value: median(afterEdit), unit: 'ms', target: 50, note: `max ${max(afterEdit).toFixed(1)} ms` });
      rows.push({ name: `code actions right after an edit, stale diagnostics (${rel}), median`, value: median(actions), unit: 'ms', note: `${empty} of ${EDITS} answered no actions` });
      c.close(uri);
    }
    return rows;
  } finally { await c.stop(); }
}];
