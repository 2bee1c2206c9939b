// Property tests for every parser: never throw, bounded time, malformed (truncated / random) never 'safe'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { fcParams } from '../../helpers/seed';
import type { FormatHandler } from '../../../core/scan/format';
import { safetensorsHandler } from '../../../core/scan/formats/safetensors';
import { ggufHandler } from '../../../core/scan/formats/gguf';
import { onnxHandler } from '../../../core/scan/formats/onnx';
import { savedModelHandler } from '../../../core/scan/formats/savedmodel';
import { hdf5Handler } from '../../../core/scan/formats/keras';
import { reviewKerasConfig } from '../../../core/scan/formats/keras';
import { reviewChatTemplate } from '../../../core/scan/formats/chat-template';
import { checkJsonKeys } from '../../../core/scan/formats/json-keys';
import { checkTensorBytes } from '../../../core/scan/weights/check';
import { memorySource } from '../../../core/scan/bytes';
import { FIXTURES, makeContext, scanWith } from './harness';

const MAX_MS = 2000;
const cases: [string, FormatHandler, string, Uint8Array][] = [
  ['safetensors', safetensorsHandler, 'st/benign.safetensors', new Uint8Array()],
  ['gguf', ggufHandler, 'gguf/benign.gguf', Buffer.from('GGUF')],
  ['onnx', onnxHandler, 'onnx/benign.onnx', Buffer.from([0x08, 0x08])],
  ['savedmodel', savedModelHandler, 'savedmodel/benign/saved_model.pb', Buffer.from([0x08, 0x01])],
  ['hdf5', hdf5Handler, 'h5/lambda-bytecode.h5', Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])],
];
const params = fcParams({ numRuns: 150 });

function timed<T>(fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  assert.ok(ms < MAX_MS, `took ${ms} ms`);
  return r;
}

for (const [name, handler, fixture, magic] of cases) {
  const valid = new Uint8Array(fs.readFileSync(path.join(FIXTURES, fixture)));

  test(`${name}: random bytes after the magic never throw and are never safe`, () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), (tail) => {
      const data = new Uint8Array(magic.length + tail.length); data.set(magic); data.set(tail, magic.length);
      const r = timed(() => scanWith(handler, data));
      assert.notEqual(r.verdict, 'safe');
    }), params);
  });

  test(`${name}: every truncation of a valid file is never safe`, () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (cut) => {
      const r = timed(() => scanWith(handler, valid.subarray(0, cut)));
      assert.notEqual(r.verdict, 'safe', `cut at ${cut}`);
    }), params);
  });

  test(`${name}: random mutations of a valid file never throw and finish quickly`, () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), (edits) => {
      const data = valid.slice();
      for (const [at, v] of edits) data[at % data.length] = v;
      timed(() => scanWith(handler, data));
    }), params);
  });
}

test('chat template review never throws on arbitrary text', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.stringMatching(/^(\{\{|\{%|[a-z_.()'"|~+ ]|%\}|\}\})*$/)), (t) => {
    timed(() => reviewChatTemplate(t));
  }), fcParams({ numRuns: 400 }));
});

test('json key checker agrees with JSON.parse on validity', () => {
  fc.assert(fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 60 })), (text) => {
    let ok = true;
    try { JSON.parse(text); } catch { ok = false; }
    const r = checkJsonKeys(text);
    // Our checker may be stricter only on depth; JSON.parse-valid shallow text must be accepted.
    if (ok) assert.equal(r.error, undefined, text); else assert.ok(r.error, text);
  }), fcParams({ numRuns: 400 }));
});

test('keras config walker never throws on arbitrary JSON', () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    const { ctx } = makeContext();
    timed(() => reviewKerasConfig(v, ctx, 'config.json'));
  }), fcParams({ numRuns: 300 }));
});

test('weight checks never throw on arbitrary bytes, dtypes and ranges', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), fc.constantFrom('F32', 'F16', 'I32', 'U8', 'BF16'), fc.integer({ min: -10, max: 5000 }), fc.integer({ min: -10, max: 5000 }), (data, dtype, offset, length) => {
    const { ctx } = makeContext();
    checkTensorBytes(memorySource(data), { name: 't', dtype, offset, length }, ctx);
  }), fcParams({ numRuns: 300 }));
});
