// Property tests: random and mutated pickles/zips never throw, stay within a time bound, and a
// malformed pickle stream is never reported safe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { fcParams } from '../../helpers/seed';
import { scanBytes } from '../../../core/scan/engine';
import { runPickle } from '../../../core/scan/pickle/vm';
import { DEFAULT_LIMITS } from '../../../core/scan/format';

const dir = path.join(__dirname, '../../fixtures/models/benign');
const seeds = ['structure_p0.pkl', 'structure_p2.pkl', 'structure_p4.pkl', 'sklearn_tree.joblib', 'torch_linear_state_dict.pt', 'numpy_arrays.npz', 'torch_legacy_state_dict.bin', 'numpy_object.npy']
  .map((f) => new Uint8Array(fs.readFileSync(path.join(dir, f))));
const TIME_BOUND_MS = 3000;

function mutate(seed: Uint8Array, edits: { at: number; byte: number }[], cut: number | null): Uint8Array {
  const out = seed.slice();
  for (const e of edits) out[e.at % out.length] = e.byte;
  return cut === null ? out : out.subarray(0, cut % (out.length + 1));
}

test('random bytes never throw and finish quickly', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), (bytes) => {
    const t0 = performance.now();
    const r = scanBytes('x.bin', bytes, { hash: false });
    assert.ok(performance.now() - t0 < TIME_BOUND_MS);
    assert.ok(['safe', 'suspicious', 'malicious', 'unscannable'].includes(r.verdict));
  }), fcParams({ numRuns: 300 }));
});

test('mutated fixtures never throw; a malformed pickle is never safe', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: seeds.length - 1 }),
    fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
    fc.option(fc.nat(), { nil: null }),
    (si, edits, cut) => {
      const data = mutate(seeds[si], edits, cut);
      const t0 = performance.now();
      const r = scanBytes('m.bin', data, { hash: false });
      assert.ok(performance.now() - t0 < TIME_BOUND_MS);
      if (r.format === 'pickle') {
        const vm = runPickle(data, { limits: DEFAULT_LIMITS });
        if (vm.error || vm.limit) assert.notEqual(r.verdict, 'safe', `malformed pickle reported safe: ${vm.error?.reason}`);
      }
      if (r.verdict === 'safe') assert.ok(r.globals.every((g) => g.status === 'allowed'));
    }), fcParams({ numRuns: 400 }));
});

test('opcode-level random pickles never throw and never report an unknown global as safe', () => {
  const ops = [0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x5d, 0x29, 0x7d, 0x8f, 0x6c, 0x74, 0x64, 0x61, 0x65, 0x73, 0x75, 0x52, 0x81, 0x62, 0x93, 0x94, 0x85, 0x86, 0x87, 0x90, 0x91, 0x97];
  const chunk = fc.oneof(
    fc.constantFrom(...ops).map((o) => [o]),
    fc.string({ maxLength: 12 }).map((s) => [0x8c, Math.min(255, Buffer.byteLength(s)), ...Buffer.from(s).subarray(0, 255)]),
    fc.constantFrom('os', 'system', 'collections', 'OrderedDict', 'evil.mod').map((s) => [0x8c, s.length, ...Buffer.from(s)]),
    fc.nat({ max: 5 }).map((n) => [0x68, n]),
    fc.integer({ min: 0, max: 255 }).map((n) => [0x4b, n]),
  );
  fc.assert(fc.property(fc.array(chunk, { maxLength: 60 }), (chunks) => {
    const data = Uint8Array.from([0x80, 0x04, ...chunks.flat()]);
    const r = scanBytes('r.pkl', data, { hash: false });
    if (r.verdict === 'safe') {
      const vm = runPickle(data, { limits: DEFAULT_LIMITS });
      assert.equal(vm.error, undefined);
      assert.ok(vm.globals.every((g) => `${g.module}.${g.name}` === 'collections.OrderedDict'));
    }
  }), fcParams({ numRuns: 500 }));
});
