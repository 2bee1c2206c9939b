import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runConvertCommand } from '../../../core/cli/convert';

let dir = '';
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelvet-convert-cli-')); });
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

/** A .npy written by hand: float32 [1, 2, 3]. */
function writeNpy(file: string): void {
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(new Float32Array([1, 2, 3]).buffer)]));
}

async function run(args: string[]) {
  let stdout = '', stderr = '';
  const code = await runConvertCommand(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, isTTY: false });
  return { code, stdout, stderr };
}

test('convert: exit 0 and the default output next to the input', async () => {
  const input = path.join(dir, 'vec.npy');
  writeNpy(input);
  const r = await run([input]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1 tensors/);
  const out = path.join(dir, 'vec.safetensors');
  const data = fs.readFileSync(out);
  const n = Number(data.readBigUInt64LE(0));
  assert.deepEqual(Array.from(new Float32Array(data.buffer.slice(data.byteOffset + 8 + n, data.byteOffset + data.length))), [1, 2, 3]);
});

test('convert: existing output → exit 2 without --force, 0 with it; json output', async () => {
  const input = path.join(dir, 'v2.npy');
  writeNpy(input);
  const out = path.join(dir, 'custom.safetensors');
  fs.writeFileSync(out, 'old');
  const r1 = await run([input, '-o', out]);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /already exists/);
  assert.equal(fs.readFileSync(out, 'utf8'), 'old');
  const r2 = await run([input, '-o', out, '--force', '--format', 'json']);
  assert.equal(r2.code, 0);
  const j = JSON.parse(r2.stdout);
  assert.equal(j.ok, true);
  assert.equal(j.tensors, 1);
  assert.equal(j.output, path.resolve(out));
});

test('convert: a malicious pickle → exit 1 with the global in the reason', async () => {
  const input = path.join(dir, 'evil.pkl');
  fs.writeFileSync(input, Buffer.from("cposix\nsystem\n(S'touch /tmp/modelvet_pwned_x'\ntR.", 'latin1'));
  const r = await run([input]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refused: .*posix\.system/);
  assert.equal(fs.existsSync(path.join(dir, 'evil.safetensors')), false);
});

test('convert: usage errors → exit 2', async () => {
  assert.equal((await run([])).code, 2);
  assert.equal((await run(['a', 'b'])).code, 2);
  assert.equal((await run(['--bogus', 'x'])).code, 2);
  assert.equal((await run([path.join(dir, 'missing.pt')])).code, 2);
  assert.equal((await run([path.join(dir, 'x'), '--format', 'xml'])).code, 2);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: modelvet convert/);
});
