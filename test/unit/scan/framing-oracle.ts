// Shared by test/unit/scan/framing.test.ts (recorded CPython results) and test/real/framing.test.ts (live CPython):
// what the VM makes of a framed pickle read each way, and when that agrees with CPython.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { runPickle, type PickleRun } from '../../../core/scan/pickle/vm';
import { linearize, npyReadings, type Reading } from '../../../core/scan/pickle/framing';
import { toPlain, canonJson, type Plain } from '../../../core/scan/pickle/plain';
import { DEFAULT_LIMITS } from '../../../core/scan/format';

export type Outcome = { ok: Plain } | { err: string };
export interface Records { seed: number; readings: string[]; npy_header: string; records: { protocol: number; readings: Record<string, Outcome> }[] }


/** The recorded CPython results of a generate.py run. */
export function loadRecords(folder: string): Records {
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(folder, 'records.json.gz'))).toString('utf8')) as Records;
}

export function loadStreams(folder: string): Uint8Array[] {
  const blob = zlib.gunzipSync(fs.readFileSync(path.join(folder, 'streams.bin.gz')));
  const out: Uint8Array[] = [];
  for (let p = 0; p < blob.length;) { const n = blob.readUInt32LE(p); out.push(new Uint8Array(blob.subarray(p + 4, p + 4 + n))); p += 4 + n; }
  return out;
}

function readingOf(name: string, npyHeader: Uint8Array): Reading | 'bytes' | 'python' {
  if (name === 'loads') return 'bytes';
  if (name === 'python') return 'python';
  if (name === 'bytesio') return { kind: 'stream' };
  if (name === 'zipext') return { kind: 'window', window: 512 };
  if (name === 'npy4096') return npyReadings(1, npyHeader.length - 10).find((r) => r.kind === 'buffered' && r.bufferSize === 4096)!;
  const size = Number(name.slice('buffered'.length));
  if (!name.startsWith('buffered') || !Number.isInteger(size) || size <= 0) throw new Error(`unknown reading ${name}`);
  return { kind: 'buffered', bufferSize: size };
}

/**
 * What the VM makes of `data` read the named way: the first pickle's value, or an error. `npyHeader`: the .npy
 * header the 'npy4096' reading puts before the stream.
 */
export function vmOutcome(data: Uint8Array, name: string, npyHeader: Uint8Array = new Uint8Array(0)): Outcome {
  const r = readingOf(name, npyHeader);
  let run: PickleRun;
  if (r === 'bytes' || r === 'python') run = runPickle(data, { limits: DEFAULT_LIMITS, maxPickles: 1, tolerateOversizedFrames: r === 'python' });
  else {
    const npy = name === 'npy4096';
    const input = npy ? Buffer.concat([npyHeader, data]) : data;
    const lin = linearize(input, r, { maxPickles: 1, start: npy ? npyHeader.length : 0 });
    if (lin.error) return { err: lin.error.reason };
    run = runPickle(lin.data, { limits: DEFAULT_LIMITS, maxPickles: 1 });
  }
  if (run.error || run.limit || !run.values.length) return { err: (run.error ?? run.limit)?.reason ?? 'no value' };
  try { return { ok: JSON.parse(canonJson(toPlain(run.values[0]))) as Plain }; } catch (e) { return { err: `not plain: ${(e as Error).message}` }; }
}

/**
 * CPython succeeded → the VM gives the same value. CPython failed → the VM fails too, except where the VM is
 * deliberately more lenient than CPython (it never imports, so a refused/missing global, an undecodable string,
 * or an allocation CPython cannot make is no error for it; the pure-Python unpickler also rejects frame
 * straddles and nested frames, which the VM — modelling the C unpickler — reads on).
 */
export function agrees(py: Outcome, vm: Outcome, reading: string): boolean {
  if ('ok' in py) return 'ok' in vm && canonJson(py.ok) === canonJson(vm.ok);
  if ('err' in vm) return true;
  return reading === 'python' || ['MemoryError', 'OverflowError', 'UnicodeDecodeError', 'AttributeError', 'ModuleNotFoundError', 'LookupError', 'TypeError', 'ValueError'].includes(py.err) ||
    (py.err === 'UnpicklingError' && reading !== 'loads');
}

