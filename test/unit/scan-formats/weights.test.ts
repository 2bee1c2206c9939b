import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safetensorsHandler } from '../../../core/scan/formats/safetensors';
import { checkTensorBytes, validatePayload } from '../../../core/scan/weights/check';
import { memorySource } from '../../../core/scan/bytes';
import { makeContext, scanFixture } from './harness';

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

test('random float32 data trips nothing (no chance matches, statistics quiet)', () => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const f = new Float32Array(1 << 20);
  for (let i = 0; i < f.length; i++) f[i] = (rnd() - 0.5) * 0.1;
  const { ctx, out } = makeContext();
  checkTensorBytes(memorySource(new Uint8Array(f.buffer)), { name: 'r', dtype: 'F32', offset: 0, length: f.byteLength }, ctx);
  assert.deepEqual(out.findings, []);
});

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

test('a block of ASCII text in the low bytes of otherwise random weights → W005 (low confidence)', () => {
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
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
});

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
