// bzip2 / xz / raw LZMA decoders and joblib's legacy ZF container: exact output on data compressed by Python
// (committed fixtures in test/fixtures/scanner/compression, made by joblib/pandas), limits that stop bombs,
// corrupt input that never crashes or hangs (seeded mutations), and compressed payloads nested in containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { decompressBzip2 } from '../../../core/scan/decompress/bzip2';
import { DecompressError, decompressLzmaAlone, decompressXz } from '../../../core/scan/decompress/lzma';
import { scanBytes } from '../../../core/scan/engine';
import { fcParams } from '../../helpers/seed';
import { makeZip } from './containers';

const dir = path.join(__dirname, '../../fixtures/scanner/compression');
const read = (f: string) => new Uint8Array(fs.readFileSync(path.join(dir, f)));
const payloadPickle = () => { const r = scanBytes('p.pkl', read('payload.pkl.gz')); return r; };

test('decoders reproduce what Python compressed (the gzip twin of each payload is the reference)', () => {
  const ref = zlib.gunzipSync(read('payload.pkl.gz'));
  assert.deepEqual(Buffer.from(decompressBzip2(read('payload.pkl.bz2'), 1 << 20)), ref);
  assert.deepEqual(Buffer.from(decompressXz(read('payload.pkl.xz'), 1 << 20)), ref);
  assert.deepEqual(Buffer.from(decompressLzmaAlone(read('payload.pkl.lzma'), 1 << 20)), ref);
  assert.equal(payloadPickle().verdict, 'malicious');
});

test('decompression limits: a small stream that expands past the limit stops with a limit error', () => {
  for (const [name, f] of [['payload.pkl.bz2', decompressBzip2], ['payload.pkl.xz', decompressXz], ['payload.pkl.lzma', decompressLzmaAlone]] as const) {
    assert.throws(() => f(read(name), 10), (e: unknown) => e instanceof DecompressError && e.limit, name);
  }
  // bombs made in-process: 64 MiB of zeros compress to a few KB; the engine reports ZIP009, never safe
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  const gz = zlib.gzipSync(zeros, { level: 9 });
  const r = scanBytes('bomb.pkl.gz', gz, { hash: false, limits: { maxInMemoryBytes: 16 * 1024 * 1024 } as never });
  assert.equal(r.verdict, 'unscannable');
  assert.ok(r.findings.some((f) => f.code === 'ZIP009'), JSON.stringify(r.findings));
  for (const name of ['joblib_bz2.joblib', 'joblib_xz.joblib', 'joblib_lzma.joblib']) {
    const small = scanBytes(name, read(name), { hash: false, limits: { maxDecompressedBytes: 300 } as never });
    assert.ok(small.findings.some((f) => f.code === 'ZIP009'), `${name}: ${JSON.stringify(small.findings)}`);
    assert.equal(small.verdict, 'unscannable');
  }
});

test('corrupt and truncated streams: a DecompressError naming the problem, never another exception or a hang', () => {
  const inputs = ['payload.pkl.bz2', 'payload.pkl.xz', 'payload.pkl.lzma', 'joblib_bz2.joblib', 'joblib_xz.joblib', 'joblib_lzma.joblib'].map(read);
  const fns = [decompressBzip2, decompressXz, decompressLzmaAlone];
  fc.assert(fc.property(fc.integer({ min: 0, max: inputs.length - 1 }), fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }), fc.option(fc.nat(), { nil: null }), (i, edits, cut) => {
    const data = inputs[i].slice();
    for (const e of edits) data[e.at % data.length] = e.byte;
    const input = cut === null ? data : data.subarray(0, cut % (data.length + 1));
    const t0 = performance.now();
    try { fns[i % 3](input, 4 * 1024 * 1024); } catch (e) { assert.ok(e instanceof DecompressError, `unexpected ${String(e)}`); }
    assert.ok(performance.now() - t0 < 3000);
    const r = scanBytes('m.bin', input, { hash: false });
    assert.ok(['safe', 'suspicious', 'malicious', 'unscannable'].includes(r.verdict));
  }), fcParams({ numRuns: 300 }));
});

test('a corrupt stream is unscannable with the compression named; unsupported xz filters likewise', () => {
  const bz = read('payload.pkl.bz2').slice(); bz[40] ^= 0xff;
  const r = scanBytes('x.pkl.bz2', bz, { hash: false });
  assert.notEqual(r.verdict, 'safe');
  const xz = read('payload.pkl.xz').slice(); xz.fill(0x41, 24, 40);
  const rx = scanBytes('x.pkl.xz', xz, { hash: false });
  assert.equal(rx.verdict, 'unscannable');
  assert.match(rx.findings.map((f) => f.message).join('\n'), /xz/);
});

test('compressed payloads inside containers are found (zip member, zlib stream, nested twice)', () => {
  const xz = read('payload.pkl.xz'), bz = read('payload.pkl.bz2'), lz = read('payload.pkl.lzma');
  for (const inner of [xz, bz, lz]) {
    assert.equal(scanBytes('a.zip', makeZip([{ name: 'm/weights', data: inner }]), { hash: false }).verdict, 'malicious');
    assert.equal(scanBytes('a.gz', zlib.gzipSync(makeZip([{ name: 'm/weights', data: inner }])), { hash: false }).verdict, 'malicious');
  }
  assert.equal(scanBytes('z', read('joblib_legacy_zf_payload.pkl'), { hash: false }).verdict, 'malicious');
  assert.equal(scanBytes('z', read('joblib_legacy_zf.pkl'), { hash: false }).verdict, 'safe');
});
