// Progress of sign / verify / digest on a terminal, end to end through the commands with a fake terminal
// (CliIO isTTY + ProgressIO stderrIsTTY): one line on stderr rewritten in place and erased at the end,
// nothing on stdout, nothing when either stream is not a terminal or the work is quick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { runDigestCommand, runSignCommand, runVerifyCommand, type ProgressIO } from '../../../core/cli/sign';
import type { CliIO } from '../../../core/cli/args';
import { INLINE_HASH_MAX_BYTES } from '../../../core/signing/limits';
import { KEYS, makeModel, rmTemp } from './helpers';

const LINE = /\r\x1b\[K(hashing|verifying) (\d+\.\d\d)\/(\d+\.\d\d) GB \((\d+)%, \d+\.\d\d GB\/s\)/g;

function fakeTerminal(o: { stdoutTTY: boolean; stderrTTY: boolean; afterMs?: number }) {
  let out = '', err = '';
  const io: CliIO & ProgressIO = { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, isTTY: o.stdoutTTY, stderrIsTTY: o.stderrTTY, progressAfterMs: o.afterMs };
  return { io, out: () => out, err: () => err };
}

test('sign, verify and digest show progress on a terminal (worker hashing), end at 100% and erase the line', async () => {
  // Larger than INLINE_HASH_MAX_BYTES: hashed on worker threads, which report progress on a timer and at the end.
  const dir = makeModel({ 'model.safetensors': crypto.randomBytes(INLINE_HASH_MAX_BYTES + 4 * 1024 * 1024), 'config.json': '{}' });
  try {
    const cases: Array<[string, (io: CliIO & ProgressIO) => Promise<number>, string]> = [
      ['sign', (io) => runSignCommand([dir, '--key', path.join(KEYS, 'signing-key.pem'), '--jobs', '2'], io), 'hashing'],
      ['verify', (io) => runVerifyCommand([dir, '--key', path.join(KEYS, 'signing-key-pub.pem')], io), 'verifying'],
      ['digest', (io) => runDigestCommand([dir, '--jobs', '1'], io), 'hashing'],
    ];
    const total = (fs.statSync(path.join(dir, 'model.safetensors')).size + 2) / 1e9;
    for (const [cmd, run, label] of cases) {
      const t = fakeTerminal({ stdoutTTY: true, stderrTTY: true, afterMs: 0 });
      assert.equal(await run(t.io), 0, `${cmd}: ${t.err()}`);
      const lines = [...t.err().matchAll(LINE)];
      assert.ok(lines.length >= 1, `${cmd}: a progress line (${JSON.stringify(t.err())})`);
      for (const m of lines) assert.equal(m[1], label, cmd);
      const last = lines[lines.length - 1];
      assert.deepEqual([last[2], last[3], last[4]], [total.toFixed(2), total.toFixed(2), '100'], `${cmd}: the last line is complete`);
      assert.ok(t.err().endsWith('\r\x1b[K'), `${cmd}: erased when done`);
      assert.equal(t.err().replace(LINE, '').replace(/\r\x1b\[K/g, ''), '', `${cmd}: nothing else on stderr`);
      assert.doesNotMatch(t.out(), /\x1b/, `${cmd}: stdout has no terminal codes`);
      assert.ok(t.out().length > 0, `${cmd}: the result is on stdout`);
    }
    // Not a terminal (either stream), or quicker than the default second: no progress at all.
    for (const o of [{ stdoutTTY: false, stderrTTY: true, afterMs: 0 }, { stdoutTTY: true, stderrTTY: false, afterMs: 0 }, { stdoutTTY: true, stderrTTY: true }]) {
      const t = fakeTerminal(o);
      assert.equal(await runDigestCommand([dir], t.io), 0);
      assert.equal(t.err(), '', JSON.stringify(o));
    }
  } finally { rmTemp(dir); }
});

test('a small model (hashed inline) also reports progress per file on a terminal', async () => {
  const dir = makeModel({ 'a.bin': crypto.randomBytes(1000), 'b.bin': crypto.randomBytes(3000) });
  try {
    const t = fakeTerminal({ stdoutTTY: true, stderrTTY: true, afterMs: 0 });
    assert.equal(await runDigestCommand([dir], t.io), 0);
    const pct = [...t.err().matchAll(LINE)].map((m) => Number(m[4]));
    assert.deepEqual(pct, [25, 100]);
    assert.ok(t.err().endsWith('\r\x1b[K'));
  } finally { rmTemp(dir); }
});
