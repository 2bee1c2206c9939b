/**
 * SafeTensors conversion against what the real libraries load. The fixtures in test/fixtures/convert/src
 * and the values torch.load(weights_only=True) / numpy / joblib give for them (expected.json: names,
 * dtypes, shapes, sha256 of every tensor's bytes) are committed, written together by
 * test/fixtures/convert/generate.py, so this file needs no Python; test/real/convert.test.ts repeats the
 * check live against a freshly generated set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { convertToSafetensors, defaultOutputPath, convertTuning } from '../../../core/convert/index';
import { readSafetensorsHeader } from '../../../core/convert/safetensors';
import { reproducible, rng, seeded } from '../../helpers/seed';

const FIXTURES = path.resolve(__dirname, '../../fixtures/convert');
let dir = '';

export interface ExpectedTensor { dtype: string; shape: number[]; bytes: number; sha256: string }
export interface ExpectedFile { source_sha256: string; tensors?: Record<string, ExpectedTensor>; skipped?: string[]; shared_storage?: string[][]; refused?: string }
const EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as { files: Record<string, ExpectedFile> };

before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelvet-convert-')); });
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const src = (name: string) => path.join(FIXTURES, 'src', name);
const out = (name: string) => path.join(dir, `${name}.safetensors`);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function readBack(file: string) {
  const fd = fs.openSync(file, 'r');
  try { return readSafetensorsHeader(fd, fs.fstatSync(fd).size); } finally { fs.closeSync(fd); }
}

/**
 * The converted file holds exactly the tensors the real library loads from `source`: same names, dtypes,
 * shapes and bytes (the checks test/fixtures/convert/check.py makes with torch/numpy, against expected.json).
 */
function assertEqualsRealLibrary(source: string, output: string): void {
  const want = EXPECTED.files[source];
  assert.ok(want?.tensors, `${source} is in expected.json`);
  const tensors: Record<string, ExpectedTensor> = want.tensors;
  assert.equal(sha256(fs.readFileSync(src(source))), want.source_sha256, `${source}: the committed fixture is the one expected.json describes (regenerate both with generate.py)`);
  const bytes = fs.readFileSync(output);
  const h = readBack(output);
  assert.deepEqual(h.entries.map((e) => e.name).sort(), Object.keys(tensors).sort(), `${source}: tensor names`);
  for (const e of h.entries) {
    const t = tensors[e.name];
    assert.equal(e.dtype, t.dtype, `${source} ${e.name}: dtype`);
    assert.deepEqual(e.shape, t.shape, `${source} ${e.name}: shape`);
    const data = bytes.subarray(h.dataStart + e.begin, h.dataStart + e.end);
    assert.equal(data.length, t.bytes, `${source} ${e.name}: byte length`);
    assert.equal(sha256(data), t.sha256, `${source} ${e.name}: bytes differ from what the real library loads`);
  }
}

const CONVERTIBLE = Object.entries(EXPECTED.files).filter(([, f]) => f.tensors).map(([name]) => name);

test('expected.json covers every fixture, and every fixture format the converter reads', () => {
  assert.deepEqual(Object.keys(EXPECTED.files).sort(), fs.readdirSync(path.join(FIXTURES, 'src')).sort());
  for (const ext of ['.pt', '.npy', '.npz', '.joblib', '.pkl']) assert.ok(CONVERTIBLE.some((n) => n.endsWith(ext)), ext);
});

for (const name of CONVERTIBLE) {
  test(`converts ${name} byte-for-byte equal to what the real library loads`, () => {
    const count = Object.keys(EXPECTED.files[name].tensors!).length;
    const r = convertToSafetensors(src(name), { output: out(name) });
    assert.ok(r.ok, `refused: ${!r.ok && r.reason}`);
    if (!r.ok) return;
    assert.equal(r.tensors, count);
    const bytes = fs.readFileSync(r.output);
    assert.equal(r.bytes, bytes.length);
    assert.equal(r.sha256, sha256(bytes));
    const h = readBack(r.output);
    assert.equal(h.entries.length, count);
    assert.equal(h.dataStart % 8, 0, 'header is 8-byte aligned');
    assert.equal(h.metadata.format, 'pt');
    assert.equal(h.metadata['modelvet.source_sha256'], sha256(fs.readFileSync(src(name))));
    assert.match(h.metadata['modelvet.converter'], /^modelvet-convert\//);
    const names = h.entries.map((e) => e.name);
    assert.deepEqual(Object.keys(JSON.parse(bytes.subarray(8, h.dataStart).toString('utf8'))).filter((k) => k !== '__metadata__'), [...names].sort(), 'header sorted by name');
    assertEqualsRealLibrary(name, r.output);
    // Non-tensor leaves, and tensors sharing one storage (tied weights, views), as the real library sees them.
    const skipped = h.metadata['modelvet.skipped'] ? (JSON.parse(h.metadata['modelvet.skipped']) as string[]).sort() : [];
    assert.deepEqual(skipped, EXPECTED.files[name].skipped ?? []);
    const shared = h.metadata['modelvet.shared'] ? JSON.parse(h.metadata['modelvet.shared']) as Record<string, string[]> : {};
    const groups = [...new Set(Object.entries(shared).map(([k, v]) => JSON.stringify([k, ...v].sort())))].sort();
    assert.deepEqual(groups, (EXPECTED.files[name].shared_storage ?? []).map((g) => JSON.stringify([...g].sort())).sort(), 'tensors that share storage in the real library are recorded as shared');
  });
}

test('tied weights: each name gets its own copy, aliases are recorded', () => {
  const r = convertToSafetensors(src('tied.pt'), { output: out('tied-meta'), overwrite: true });
  assert.ok(r.ok);
  const h = readBack(out('tied-meta'));
  const shared = JSON.parse(h.metadata['modelvet.shared']) as Record<string, string[]>;
  assert.deepEqual(shared['0.weight'], ['1.weight']);
  const [a, b] = h.entries;
  assert.notEqual(a.begin, b.begin);
});

test('non-tensor leaves are skipped and listed', () => {
  const r = convertToSafetensors(src('nested.pt'), { output: out('nested-meta'), overwrite: true });
  assert.ok(r.ok);
  const h = readBack(out('nested-meta'));
  assert.deepEqual(JSON.parse(h.metadata['modelvet.skipped']).sort(), ['name', 'optimizer_step']);
  assert.ok(h.entries.some((e) => e.name === 'model.encoder.w'));
  assert.ok(h.entries.some((e) => e.name === 'model.layers.1'));
});

test('refuses big-endian arrays and dtypes SafeTensors cannot hold', () => {
  const be = convertToSafetensors(src('bigendian.npy'), { output: out('be') });
  assert.equal(be.ok, false);
  assert.match(!be.ok ? be.reason : '', /big-endian/);
  const cx = convertToSafetensors(src('complex.pt'), { output: out('cx') });
  assert.equal(cx.ok, false);
  assert.match(!cx.ok ? cx.reason : '', /complex64/);
  assert.equal(fs.existsSync(out('be')), false);
  assert.equal(fs.existsSync(out('cx')), false);
});

test('a malicious pickle is refused naming the global, nothing is written', () => {
  const evil = path.join(dir, 'evil.pkl');
  fs.writeFileSync(evil, Buffer.from("cos\nsystem\n(S'touch /tmp/modelvet_pwned_x'\ntR.", 'latin1'));
  const r = convertToSafetensors(evil, { output: out('evil') });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /os\.system/);
  assert.equal(fs.existsSync(out('evil')), false);
  assert.equal(fs.existsSync('/tmp/modelvet_pwned_x'), false);
});

test('a zip checkpoint with a malicious global in data.pkl is refused naming it', () => {
  const r = convertToSafetensors(src('evil_zip.pt'), { output: out('evil_zip') });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /(posix|os)\.system/);
  assert.equal(fs.existsSync(out('evil_zip')), false);
});

test('a safe pickle holding a non-tensor object (a set) is refused with its path', () => {
  // protocol 4: {'w': set()}  — the scanner calls it safe, the converter has nowhere to put a set
  const p = path.join(dir, 'set.pkl');
  fs.writeFileSync(p, Buffer.from([0x80, 0x04, 0x7d, 0x8c, 0x01, 0x77, 0x8f, 0x73, 0x2e]));
  const r = convertToSafetensors(p, { output: out('set') });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /'w'/);
});

test('a malformed file is refused', () => {
  const good = fs.readFileSync(src('dtypes.pt'));
  const bad = path.join(dir, 'truncated.pt');
  fs.writeFileSync(bad, good.subarray(0, Math.floor(good.length / 2)));
  const r = convertToSafetensors(bad, { output: out('truncated') });
  assert.equal(r.ok, false);
  assert.equal(fs.existsSync(out('truncated')), false);
  const garbage = path.join(dir, 'garbage.pt');
  fs.writeFileSync(garbage, Buffer.from('this is not a model at all\n'));
  assert.equal(convertToSafetensors(garbage, { output: out('garbage') }).ok, false);
});

test('an existing output is not overwritten without overwrite: true', () => {
  const target = out('exists');
  fs.writeFileSync(target, 'keep me');
  const r = convertToSafetensors(src('array.npy'), { output: target });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.exists, true);
  assert.equal(fs.readFileSync(target, 'utf8'), 'keep me');
  const forced = convertToSafetensors(src('array.npy'), { output: target, overwrite: true });
  assert.ok(forced.ok);
  assert.notEqual(fs.readFileSync(target, 'utf8'), 'keep me');
});

test('default output path replaces the extension', () => {
  assert.equal(defaultOutputPath('/a/b/model.pt'), '/a/b/model.safetensors');
  assert.equal(defaultOutputPath('/a/b/weights'), '/a/b/weights.safetensors');
});

function tempLeftovers(folder: string): string[] { return fs.readdirSync(folder).filter((f) => f.includes('.modelvet-')); }

test('a failing final step (output is a directory) leaves no temp file', () => {
  const folder = path.join(dir, 'fail-rename');
  fs.mkdirSync(path.join(folder, 'target.safetensors'), { recursive: true });
  const r = convertToSafetensors(src('dtypes.pt'), { output: path.join(folder, 'target.safetensors'), overwrite: true });
  assert.equal(r.ok, false);
  assert.deepEqual(tempLeftovers(folder), []);
});

test('a read-only output folder leaves no temp files', (t) => {
  if (process.getuid?.() === 0) { t.skip('root ignores directory permissions'); return; }
  const folder = path.join(dir, 'readonly');
  fs.mkdirSync(folder);
  fs.chmodSync(folder, 0o555);
  try {
    const r = convertToSafetensors(src('dtypes.pt'), { output: path.join(folder, 'x.safetensors') });
    assert.equal(r.ok, false);
    assert.deepEqual(tempLeftovers(folder), []);
  } finally { fs.chmodSync(folder, 0o755); }
});

test('the strict reader rejects overlapping or gapped offsets and bad sizes', () => {
  const mk = (header: object, dataBytes: number) => {
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(h.length));
    const f = path.join(dir, `hdr-${Math.random().toString(16).slice(2)}.safetensors`);
    fs.writeFileSync(f, Buffer.concat([len, h, Buffer.alloc(dataBytes)]));
    return f;
  };
  assert.equal(readBack(mk({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 8)).entries.length, 1);
  assert.throws(() => readBack(mk({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8)), /gap or overlap/);
  assert.throws(() => readBack(mk({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)), /size/);
  assert.throws(() => readBack(mk({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 12)), /data section/);
  assert.throws(() => readBack(mk({ a: { dtype: 'X9', shape: [2], data_offsets: [0, 8] } }, 8)), /dtype/);
  assert.throws(() => readBack(mk({ __metadata__: { k: 1 } }, 0)), /metadata/);
});

test('worker-thread hashing path (used for big outputs) gives the same bytes and the file sha256', () => {
  const saved = convertTuning.parallelHashMinBytes;
  try {
    for (const name of ['views.pt', 'array.npy', 'legacy.pt']) {
      convertTuning.parallelHashMinBytes = Infinity;
      const inline = convertToSafetensors(src(name), { output: out(`${name}-inline`) });
      assert.ok(inline.ok);
      convertTuning.parallelHashMinBytes = 0;
      const r = convertToSafetensors(src(name), { output: out(`${name}-worker`) });
      assert.ok(r.ok, !r.ok ? r.reason : '');
      if (!r.ok || !inline.ok) return;
      const bytes = fs.readFileSync(r.output);
      assert.equal(r.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.deepEqual(bytes, fs.readFileSync(inline.output));
      assertEqualsRealLibrary(name, r.output);
    }
  } finally { convertTuning.parallelHashMinBytes = saved; }
});

test('mutated checkpoints never crash: each is refused or converts to a file the strict reader accepts', () => {
  const base = fs.readFileSync(src('legacy.pt'));
  const zipBase = fs.readFileSync(src('views.pt'));
  const random = rng('convert: mutated checkpoints');
  const rand = (n: number) => Math.floor(random() * n);
  let refused = 0;
  reproducible(() => { for (let i = 0; i < 60; i++) {
    const b = Buffer.from(i % 2 ? base : zipBase);
    for (let k = 0; k < 1 + rand(4); k++) b[rand(b.length)] = rand(256);
    const f = path.join(dir, `mut-${i}.pt`);
    fs.writeFileSync(f, b);
    const r = convertToSafetensors(f, { output: out(`mut-${i}`) });
    if (r.ok) assert.equal(readBack(r.output).entries.length, r.tensors);
    else { refused++; assert.equal(typeof r.reason, 'string'); assert.equal(fs.existsSync(out(`mut-${i}`)), false); }
  } });
  assert.ok(refused > 0, seeded('some mutations must be refused'));
  assert.deepEqual(tempLeftovers(dir), []);
});
