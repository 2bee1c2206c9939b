// Decompression and pickle-reading benchmarks for the scanner's blind-spot work (issue 14 item 3): our bzip2 / xz /
// raw LZMA decoders against Python's C-backed bz2/lzma modules decompressing the same bytes (same machine, same
// run), and the cost of replaying a file-object reading (pickle/framing.ts) relative to the VM run over a big pickle.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Bench, BenchRow } from './types';
import { decompressBzip2 } from '../core/scan/decompress/bzip2';
import { decompressLzmaAlone, decompressXz } from '../core/scan/decompress/lzma';
import { linearize } from '../core/scan/pickle/framing';
import { runPickle } from '../core/scan/pickle/vm';
import { DEFAULT_LIMITS } from '../core/scan/format';

const PY = process.env.MODELVET_PYTHON || '/usr/bin/python3';
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(fn: () => void, runs: number): number {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) { const t0 = performance.now(); fn(); t.push(performance.now() - t0); }
  return median(t);
}

const decoders: Bench = async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-bench-dec-'));
  // A 10 MB sklearn-like pickle (many small dicts and floats), compressed the way joblib/pandas do, and Python's own
  // decompression time for each (median of 5).
  const gen = spawnSync(PY, ['-c', `
import pickle, bz2, lzma, random, time, sys, json
random.seed(0)
data = pickle.dumps([{'id': i, 'name': 'feature_%d' % i, 'w': random.random(), 'tags': ['a', 'b']} for i in range(180000)], protocol=4)
out = sys.argv[1]
res = {'raw': len(data)}
for ext, comp, dec in (('bz2', bz2.compress, bz2.decompress), ('xz', lzma.compress, lzma.decompress), ('lzma', lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE), lzma.decompress)):
    c = comp(data); open(out + '/p.' + ext, 'wb').write(c)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter(); dec(c); ts.append((time.perf_counter() - t0) * 1000)
    res[ext] = sorted(ts)[2]
open(out + '/p.raw', 'wb').write(data)
print(json.dumps(res))
`, tmp], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`python: ${gen.stderr}`);
  const py = JSON.parse(gen.stdout) as Record<string, number>;
  const rows: BenchRow[] = [];
  const mb = py.raw / 1e6;
  for (const [ext, f] of [['bz2', decompressBzip2], ['xz', decompressXz], ['lzma', decompressLzmaAlone]] as const) {
    const c = new Uint8Array(fs.readFileSync(path.join(tmp, `p.${ext}`)));
    f(c, 1 << 30); // warm
    const ms = time(() => f(c, 1 << 30), 5);
    rows.push({ name: `${ext} decode of a ${mb.toFixed(1)} MB pickle`, value: ms, unit: 'ms', note: `${(mb / (ms / 1000)).toFixed(0)} MB/s; Python's C ${ext === 'bz2' ? 'bz2' : 'lzma'} module ${py[ext].toFixed(0)} ms (${(ms / py[ext]).toFixed(1)}×)` });
  }
  // Replaying the io.BytesIO reading: only done for streams with a FRAME straddle, measured here on the whole pickle.
  const raw = new Uint8Array(fs.readFileSync(path.join(tmp, 'p.raw')));
  runPickle(raw, { limits: DEFAULT_LIMITS });
  const vm = time(() => runPickle(raw, { limits: DEFAULT_LIMITS }), 5);
  linearize(raw, { kind: 'stream' });
  const lin = time(() => linearize(raw, { kind: 'stream' }), 5);
  rows.push({ name: `io.BytesIO reading replay of a ${mb.toFixed(1)} MB pickle`, value: lin, unit: 'ms', note: `VM run ${vm.toFixed(0)} ms; replay + second VM run only when a FRAME ends inside an opcode` });
  fs.rmSync(tmp, { recursive: true, force: true });
  return rows;
};

export const benches: Bench[] = [decoders];
