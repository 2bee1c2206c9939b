import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safetensorsHandler } from '../../../core/scan/formats/safetensors';
import { WEIGHT_CHUNK_BYTES, checkTensorBytes, validatePayload, type ByteSourceWithReadInto } from '../../../core/scan/weights/check';
import { memorySource } from '../../../core/scan/bytes';
import { makeContext, scanFixture } from './harness';
import { CAND_AT, DATA_AT, HIST_AT, SIGNATURE_PAIRS, STATS_AT, jsKernel, kernel, useJsKernelForTests, type Kernel } from '../../../core/scan/weights/kernel';
import type { ByteSource } from '../../../core/scan/format';
import { reproducible, rng } from '../../helpers/seed';

test('clean trained torch weights trip no weight check above info', () => {
  const r = scanFixture(safetensorsHandler, 'weights/clean-torch.safetensors');
  assert.equal(r.verdict, 'safe');
  assert.deepEqual(r.findings.filter((f) => f.severity !== 'info'), []);
});

test('ELF in the low 3 bytes of float32 weights is critical (W001)', () => {
  const r = scanFixture(safetensorsHandler, 'weights/elf-low3.safetensors');
  assert.equal(r.verdict, 'malicious');
  const f = r.findings.find((x) => x.code === 'W001');
  assert.ok(f, JSON.stringify(r.findings));
  assert.match(f!.message, /low 3 bytes/);
  assert.match(f!.evidence ?? '', /ELF64/);
});

test('PE in the low 2 bytes is critical (W001)', () => {
  const r = scanFixture(safetensorsHandler, 'weights/pe-low2.safetensors');
  assert.equal(r.verdict, 'malicious');
  assert.ok(r.findings.some((x) => x.code === 'W001' && /low 2 bytes/.test(x.message) && /PE/.test(x.evidence ?? '')));
});

test('weight checks can be switched off and respect weightsMaxBytes', () => {
  assert.equal(scanFixture(safetensorsHandler, 'weights/elf-low3.safetensors', { weights: false }).verdict, 'safe');
  assert.equal(scanFixture(safetensorsHandler, 'weights/elf-low3.safetensors', { weightsMaxBytes: 1000 }).verdict, 'safe');
});

test('bf16-origin tensor with a few low-bit values → W006; NaN/Inf → W003', () => {
  assert.ok(scanFixture(safetensorsHandler, 'weights/bf16-sparse-low.safetensors').codes.includes('W006'));
  const nan = scanFixture(safetensorsHandler, 'weights/nan.safetensors');
  const f = nan.findings.find((x) => x.code === 'W003');
  assert.match(f?.message ?? '', /3 NaN and 1 Inf/);
  assert.equal(nan.verdict, 'safe');
});

test('raw shebang and ZIP header in tensor bytes → W002; chance "MZ"/0x7F bytes do not count', () => {
  const data = new Uint8Array(4096);
  data.set(Buffer.from('#!/bin/sh\ntouch /tmp/modelvet_pwned_x\n'), 100);
  const { ctx, out } = makeContext();
  checkTensorBytes(memorySource(data), { name: 't', dtype: 'U8', offset: 0, length: data.length }, ctx);
  assert.ok(out.findings.some((f) => f.code === 'W002' && /shebang/.test(f.message)));
  const noise = new Uint8Array(4096);
  noise.set(Buffer.from('MZ\x7fELF#!/PK\x03\x04'), 10);
  const c2 = makeContext();
  checkTensorBytes(memorySource(noise), { name: 't', dtype: 'U8', offset: 0, length: noise.length }, c2.ctx);
  assert.deepEqual(c2.out.findings.filter((f) => f.code === 'W001' || f.code === 'W002'), []);
});

test('payload validation at every stride', () => {
  const elf = Buffer.alloc(64); elf.write('\x7fELF', 0, 'latin1'); elf[4] = 2; elf[5] = 1; elf[6] = 1; elf.writeUInt16LE(2, 16); elf.writeUInt32LE(1, 20);
  for (const n of [1, 2, 3]) {
    const buf = new Uint8Array(4 * 200);
    for (let k = 0; k < elf.length; k++) buf[Math.floor(k / n) * 4 + (k % n)] = elf[k];
    assert.equal(validatePayload(buf, 0, n)?.kind, 'ELF', `n=${n}`);
    assert.equal(validatePayload(buf, 0, n === 1 ? 2 : 1), undefined, `wrong stride n=${n}`);
  }
});

test('random float32 data trips nothing (no chance matches, statistics quiet)', () => reproducible(() => {
  const rnd = rng('weights: random float32 data');
  const f = new Float32Array(1 << 20);
  for (let i = 0; i < f.length; i++) f[i] = (rnd() - 0.5) * 0.1;
  const { ctx, out } = makeContext();
  checkTensorBytes(memorySource(new Uint8Array(f.buffer)), { name: 'r', dtype: 'F32', offset: 0, length: f.byteLength }, ctx);
  assert.deepEqual(out.findings, []);
}));

test('ZIP local header hidden in the low byte of each value → W002', () => {
  const zip = Buffer.alloc(30 + 9);
  zip.writeUInt32LE(0x04034b50, 0); zip.writeUInt16LE(20, 4); zip.writeUInt16LE(8, 8); zip.writeUInt16LE(9, 26); zip.write('evil.exe!', 30, 'latin1');
  const f = new Float32Array(4096).fill(0.125);
  for (let i = 0; i < f.length; i++) f[i] = 0.01 * Math.sin(i);
  const bytes = new Uint8Array(f.buffer);
  for (let k = 0; k < zip.length; k++) bytes[(100 + k) * 4] = zip[k];
  const { ctx, out } = makeContext();
  checkTensorBytes(memorySource(bytes), { name: 'z', dtype: 'F32', offset: 0, length: bytes.length }, ctx);
  const hit = out.findings.find((x) => x.code === 'W002');
  assert.ok(hit, JSON.stringify(out.findings));
  assert.match(hit!.message, /low byte of each 4-byte value/);
  assert.match(hit!.evidence ?? '', /evil\.exe/);
});

test('a block of ASCII text in the low bytes of otherwise random weights → W005 (low confidence)', () => reproducible(() => {
  const rnd = rng('weights: ASCII block in random weights');
  const f = new Float32Array(8 * 16 * 1024);
  for (let i = 0; i < f.length; i++) f[i] = (rnd() - 0.5) * 0.1;
  const bytes = new Uint8Array(f.buffer);
  const text = Buffer.from('the quick brown fox jumps over the lazy dog '.repeat(400));
  for (let k = 0; k < 16 * 1024; k++) bytes[(3 * 16 * 1024 + k) * 4] = text[k % text.length];
  const { ctx, out } = makeContext();
  checkTensorBytes(memorySource(bytes), { name: 's', dtype: 'F32', offset: 0, length: bytes.length }, ctx);
  const w5 = out.findings.find((x) => x.code === 'W005');
  assert.ok(w5, JSON.stringify(out.findings));
  assert.equal(w5!.severity, 'low');
  assert.equal(w5!.location.offset, 3 * 16 * 1024 * 4);
}));

test('a payload that starts at the end of one read chunk is still validated (look-ahead)', async () => {
  const { WEIGHT_CHUNK_BYTES } = await import('../../../core/scan/weights/check');
  const words = WEIGHT_CHUNK_BYTES / 4 + 8192;
  const f = new Float32Array(words);
  for (let i = 0; i < words; i++) f[i] = 0.01 * Math.cos(i * 0.37);
  const bytes = new Uint8Array(f.buffer);
  const pe = Buffer.alloc(0x200); pe.write('MZ', 0, 'latin1'); pe.writeUInt32LE(0x180, 0x3c); pe.write('PE\0\0', 0x180, 'latin1');
  const startWord = WEIGHT_CHUNK_BYTES / 4 - 2; // straddles the chunk boundary, e_lfanew far into the next chunk
  for (let k = 0; k < pe.length; k++) bytes[(startWord + k) * 4] = pe[k];
  const { ctx, out } = makeContext();
  checkTensorBytes(memorySource(bytes), { name: 'edge', dtype: 'F32', offset: 0, length: bytes.length }, ctx);
  assert.ok(out.findings.some((x) => x.code === 'W001' && x.location.offset === startWord * 4), JSON.stringify(out.findings));
});

// ---- the one-pass kernel (WebAssembly SIMD, with a JS twin) --------------------------------

/** Runs `fn` once with the default (wasm) kernel and once with the JS twin. */
function withBothKernels(fn: (kind: string) => void): void {
  try {
    useJsKernelForTests(false); fn(kernel().kind);
    useJsKernelForTests(true); fn(kernel().kind);
  } finally { useJsKernelForTests(false); }
}

/** A seeded stream per call site (test/helpers/seed.ts: MODELVET_SEED or random, named in failures). */
const lcg = (stream: number): (() => number) => rng(`weights: stream ${stream}`);

test('the SIMD kernel is active on Node and matches a plain reference of its contract (and so does the JS twin)', () => reproducible(() => {
  useJsKernelForTests(false);
  assert.equal(kernel().kind, 'wasm-simd');
  const interesting = [0x7f, 0x45, 0x4d, 0x5a, 0x50, 0x4b, 0x23, 0x21, 0x00, 0x80, 0xff];
  for (const k of [kernel(), jsKernel()] as Kernel[]) {
    const rnd = lcg(99);
    for (let t = 0; t < 60; t++) {
      const n = 16 * (1 + Math.floor(rnd() * 600));
      const data = new Uint8Array(n + 32);
      for (let i = 0; i < data.length; i++) data[i] = rnd() < 0.15 ? interesting[Math.floor(rnd() * interesting.length)] : Math.floor(rnd() * 256);
      const first = (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24));
      k.u8.set(data, DATA_AT);
      k.u8.fill(0, HIST_AT, HIST_AT + 1024);
      const count = k.scan(DATA_AT, DATA_AT + n, first);
      // Reference, straight from the contract.
      let allOnes = 0, low16Zero = 0, diff = 0;
      const hist = new Uint32Array(256), steps: number[] = [];
      const dv = new DataView(data.buffer);
      for (let p = 0; p < n; p += 16) {
        for (let w = p; w < p + 16; w += 4) {
          const v = dv.getInt32(w, true);
          if ((v & 0x7f800000) === 0x7f800000) allOnes++;
          if ((v & 0xffff) === 0) low16Zero++;
          diff |= v ^ first;
        }
        hist[data[p]]++;
        let hit = false;
        for (let i = p; i < p + 16; i++) for (const [a, b] of SIGNATURE_PAIRS) if (data[i] === a && [1, 2, 3, 4].some((d) => data[i + d] === b)) hit = true;
        if (hit) steps.push(DATA_AT + p);
      }
      const lanes = Array.from(k.i32.subarray(STATS_AT >> 2, (STATS_AT >> 2) + 12));
      const sum = (from: number) => lanes[from] + lanes[from + 1] + lanes[from + 2] + lanes[from + 3];
      assert.equal(sum(0), allOnes, `${k.kind} case ${t}: exponent all ones`);
      assert.equal(sum(4), low16Zero, `${k.kind} case ${t}: low 16 bits zero`);
      assert.equal((lanes[8] | lanes[9] | lanes[10] | lanes[11]) !== 0, diff !== 0, `${k.kind} case ${t}: constant`);
      assert.deepEqual(Array.from(k.u32.subarray(HIST_AT >> 2, (HIST_AT >> 2) + 256)), Array.from(hist), `${k.kind} case ${t}: histogram`);
      assert.deepEqual(Array.from(k.u32.subarray(CAND_AT >> 2, (CAND_AT >> 2) + count)), steps, `${k.kind} case ${t}: candidate steps`);
    }
  }
}));

const ELF64 = (() => { const b = Buffer.alloc(64); b.write('\x7fELF', 0, 'latin1'); b[4] = 2; b[5] = 1; b[6] = 1; b.writeUInt16LE(2, 16); b.writeUInt32LE(1, 20); return b; })();
const PE32 = (() => { const b = Buffer.alloc(0x200); b.write('MZ', 0, 'latin1'); b.writeUInt32LE(0x80, 0x3c); b.write('PE\0\0', 0x80, 'latin1'); b.writeUInt16LE(0x14c, 0x84); return b; })();
const ZIP = (() => { const b = Buffer.alloc(39); b.writeUInt32LE(0x04034b50, 0); b.writeUInt16LE(20, 4); b.writeUInt16LE(8, 8); b.writeUInt16LE(9, 26); b.write('evil.exe!', 30, 'latin1'); return b; })();
const SHEBANG = Buffer.from('#!/bin/sh\ntouch /tmp/modelvet_pwned_x\n');

/** Writes `payload` into stream n (low n bytes of each word, starting at byte `phase` of word `word`). */
function plant(bytes: Uint8Array, payload: Uint8Array, n: number, word: number, phase: number): void {
  for (let j = 0; j < payload.length; j++) bytes[(word + Math.floor((phase + j) / n)) * 4 + ((phase + j) % n)] = payload[j];
}

test('EvilModel payloads in every stream, phase and position (step and chunk edges) are found by both kernels', () => reproducible(() => {
  const words = WEIGHT_CHUNK_BYTES / 4 + 4096;
  const base = new Float32Array(words);
  const rnd = lcg(5);
  for (let i = 0; i < words; i++) base[i] = (rnd() - 0.5) * 0.05;
  const cases = [
    { payload: ELF64, code: 'W001', evidence: /ELF64 LE type 2/ },
    { payload: PE32, code: 'W001', evidence: /PE e_lfanew=0x80 machine=0x14c/ },
    { payload: ZIP, code: 'W002', evidence: /evil\.exe!/ },
    { payload: SHEBANG, code: 'W002', evidence: /#!\/bin\/sh/ },
  ];
  const labels: RegExp[] = [/-/, /low byte of each/, /low 2 bytes/, /low 3 bytes/];
  withBothKernels((kind) => {
    for (const { payload, code, evidence } of cases) {
      for (let n = 1; n <= 3; n++) {
        for (let phase = 0; phase < n; phase++) {
          for (const word of [0, 3, 1021, WEIGHT_CHUNK_BYTES / 4 - 1, words - Math.ceil((payload.length + phase) / n) - 1]) {
            const bytes = new Uint8Array(base.buffer.slice(0));
            plant(bytes, payload, n, word, phase);
            const { ctx, out } = makeContext();
            checkTensorBytes(memorySource(bytes), { name: 'evil', dtype: 'F32', offset: 0, length: bytes.length }, ctx);
            const at = word * 4 + phase;
            const hit = out.findings.find((f) => f.code === code && f.location.offset === at);
            assert.ok(hit, `${kind} n=${n} phase=${phase} word=${word} ${payload.subarray(0, 2).toString('latin1')}: ${JSON.stringify(out.findings)}`);
            assert.match(hit!.message, labels[n]);
            assert.match(hit!.evidence ?? '', evidence);
          }
        }
      }
    }
  });
}));

test('raw payloads at any byte offset (also a "#! /path" shebang) are found by both kernels', () => {
  withBothKernels((kind) => {
    for (const [payload, code] of [[ELF64, 'W001'], [PE32, 'W001'], [ZIP, 'W002'], [Buffer.from('#! /usr/bin/env python3\n'), 'W002']] as const) {
      for (const at of [0, 1, 15, 16, 17, 4093]) {
        const bytes = new Uint8Array(8192 + 7);
        bytes.set(payload, at);
        const { ctx, out } = makeContext();
        checkTensorBytes(memorySource(bytes), { name: 'raw', dtype: 'F16', offset: 0, length: bytes.length }, ctx);
        assert.ok(out.findings.some((f) => f.code === code && f.location.offset === at && /raw bytes/.test(f.message)), `${kind} at ${at}: ${JSON.stringify(out.findings)}`);
      }
    }
    // In the last bytes after the final whole 16-byte step (checked outside the kernel).
    const tail = new Uint8Array(8192 + 12);
    tail.set(Buffer.from('#!/bin/sh\n'), 8192 + 1);
    const { ctx, out } = makeContext();
    checkTensorBytes(memorySource(tail), { name: 'tail', dtype: 'U8', offset: 0, length: tail.length }, ctx);
    assert.ok(out.findings.some((f) => f.code === 'W002' && f.location.offset === 8193), `${kind} tail: ${JSON.stringify(out.findings)}`);
  });
});

test('NaN and ±Inf are counted exactly, in SIMD steps and in the tail after the last 16-byte step', () => {
  withBothKernels((kind) => {
    const words = 16 * 1000 + 3; // 3 words in the tail
    const f = new Float32Array(words);
    for (let i = 0; i < words; i++) f[i] = 0.01 * Math.sin(i);
    const u = new Uint32Array(f.buffer);
    const nans = [5, 999, 7000, words - 1], infs = [6, 16 * 1000, words - 2];
    u[nans[0]] = 0x7fc00000; u[nans[1]] = 0xffc00000; u[nans[2]] = 0x7f800001; u[nans[3]] = 0xff800123;
    u[infs[0]] = 0x7f800000; u[infs[1]] = 0xff800000; u[infs[2]] = 0x7f800000;
    const { ctx, out } = makeContext();
    checkTensorBytes(memorySource(new Uint8Array(f.buffer)), { name: 'n', dtype: 'F32', offset: 0, length: f.byteLength }, ctx);
    const w3 = out.findings.find((x) => x.code === 'W003');
    assert.match(w3?.message ?? '', /has 4 NaN and 3 Inf values/, kind);
  });
});

test('all-constant detection sees every word and byte, including the tail', () => {
  withBothKernels((kind) => {
    const run = (bytes: Uint8Array, dtype: string) => {
      const { ctx, out } = makeContext();
      checkTensorBytes(memorySource(bytes), { name: 'c', dtype, offset: 0, length: bytes.length }, ctx);
      return out.findings.some((x) => x.code === 'W004');
    };
    const f = new Float32Array(16 * 300 + 2).fill(0.25);
    assert.equal(run(new Uint8Array(f.buffer.slice(0)), 'F32'), true, kind);
    for (const at of [1, 2000, f.length - 1]) {
      const g = f.slice(); g[at] = 0.5;
      assert.equal(run(new Uint8Array(g.buffer), 'F32'), false, `${kind} F32 differs at ${at}`);
    }
    const b = new Uint8Array(16 * 100 + 5).fill(7);
    assert.equal(run(b.slice(), 'U8'), true, kind);
    for (const at of [3, 800, b.length - 1]) {
      const c = b.slice(); c[at] = 8;
      assert.equal(run(c, 'U8'), false, `${kind} U8 differs at ${at}`);
    }
  });
});

test('W006 counts and locates the few values with non-zero low 16 bits', () => reproducible(() => {
  withBothKernels((kind) => {
    const words = 16 * 16 * 1024 + 2; // past STAT_MIN_WORDS, with a tail
    const f = new Float32Array(words);
    const rnd = lcg(11);
    for (let i = 0; i < words; i++) f[i] = (rnd() - 0.5) * 0.1;
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < words; i++) u[i] &= 0xffff0000; // bfloat16-origin
    const odd = [77, 70000, words - 1];
    for (const i of odd) u[i] |= 0x1234;
    const { ctx, out } = makeContext();
    checkTensorBytes(memorySource(new Uint8Array(f.buffer)), { name: 'b', dtype: 'F32', offset: 0, length: f.byteLength }, ctx);
    const w6 = out.findings.find((x) => x.code === 'W006');
    assert.ok(w6, `${kind}: ${JSON.stringify(out.findings)}`);
    assert.match(w6!.message, new RegExp(`all but 3 of ${words} values`));
    assert.equal(w6!.location.offset, odd[0] * 4);
    assert.equal(w6!.evidence, `first offsets: ${odd.map((i) => i * 4).join(', ')}`);
  });
}));

test('a source with readInto is read straight into kernel memory, with the same findings as read()', () => {
  const words = WEIGHT_CHUNK_BYTES / 4 * 2 + 100;
  const f = new Float32Array(words);
  for (let i = 0; i < words; i++) f[i] = 0.02 * Math.cos(i * 0.11);
  const bytes = new Uint8Array(f.buffer);
  plant(bytes, ELF64, 3, WEIGHT_CHUNK_BYTES / 4 - 5, 1); // straddles the first chunk boundary
  new Uint32Array(f.buffer)[words - 1] = 0x7fc00000;
  const mem = memorySource(bytes);
  let intoCalls = 0;
  const into: ByteSourceWithReadInto = {
    size: mem.size,
    read(): Uint8Array { throw new Error('read() must not be used when readInto exists'); },
    readInto(offset, target) { intoCalls++; const got = mem.read(offset, target.length); target.set(got); return got.length; },
  };
  const run = (src: ByteSource) => { const { ctx, out } = makeContext(); checkTensorBytes(src, { name: 'r', dtype: 'F32', offset: 8, length: bytes.length - 8 }, ctx); return out.findings; };
  const viaRead = run(mem);
  const viaInto = run(into);
  assert.ok(intoCalls >= 3);
  assert.ok(viaRead.some((x) => x.code === 'W001') && viaRead.some((x) => x.code === 'W003'), JSON.stringify(viaRead));
  assert.deepEqual(viaInto, viaRead);
});

test('a tensor of repeated signature bytes stops the payload search at its limit: W007, incomplete, bounded time', async () => {
  const { MAX_PAYLOAD_VALIDATIONS_PER_TENSOR } = await import('../../../core/scan/weights/check');
  // "MZ" everywhere: a candidate header at every other byte in the raw stream and in the low-byte streams.
  const data = new Uint8Array(6 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 2) { data[i] = 0x4d; data[i + 1] = 0x5a; }
  const { ctx, out } = makeContext();
  const t0 = performance.now();
  checkTensorBytes(memorySource(data), { name: 'mz', dtype: 'F32', offset: 0, length: data.length }, ctx);
  const ms = performance.now() - t0;
  assert.equal(out.incomplete, true);
  const f = out.findings.find((x) => x.code === 'W007');
  assert.ok(f, JSON.stringify(out.findings.map((x) => x.code)));
  assert.match(f!.message, new RegExp(`after ${MAX_PAYLOAD_VALIDATIONS_PER_TENSOR} candidate headers`));
  assert.ok(ms < 20_000, `took ${ms.toFixed(0)} ms`);
  // The same bytes in a short tensor stay under the limit: searched completely, no W007.
  const small = makeContext();
  checkTensorBytes(memorySource(data.subarray(0, 64 * 1024)), { name: 'mz', dtype: 'F32', offset: 0, length: 64 * 1024 }, small.ctx);
  assert.equal(small.out.incomplete, false);
  assert.ok(!small.out.findings.some((x) => x.code === 'W007'));
});
