// Symbolic VM and policy: opcode semantics that matter for security, limits, malformed streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPickle, sniffPickle } from '../../../core/scan/pickle/vm';
import { classifyGlobal } from '../../../core/scan/policy';
import { scanBytes } from '../../../core/scan/engine';
import { DEFAULT_LIMITS } from '../../../core/scan/format';

const enc = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const cat = (...parts: (string | number[] | Uint8Array)[]) => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p as Uint8Array)));
const su = (s: string) => cat([0x8c, s.length], s);
const CMD = 'touch /tmp/modelvet_pwned_x';
const run = (b: Uint8Array, limits = DEFAULT_LIMITS) => runPickle(b, { limits });

test('GLOBAL + REDUCE is recorded as a call with the exact callable and arguments', () => {
  const r = run(enc(`\x80\x02cposix\nsystem\n(X\x1b\x00\x00\x00${CMD}tR.`));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.globals.map((g) => `${g.module}.${g.name}`), ['posix.system']);
  assert.equal(r.calls.length, 1);
  assert.deepEqual(r.calls[0].args, [CMD]);
  assert.equal(r.calls[0].op, 'REDUCE');
});

test('STACK_GLOBAL resolves names computed from the memo', () => {
  const b = cat('\x80\x04', su('os'), [0x94], su('system'), [0x94], '00', 'h\x00h\x01', [0x93], '.');
  const r = run(b);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.globals.map((g) => [g.module, g.name, g.op]), [['os', 'system', 'STACK_GLOBAL']]);
});

test('protocol < 3 maps __builtin__ to builtins (fix_imports) like the C unpickler', () => {
  const r = run(enc("c__builtin__\neval\n(S'1'\ntR."));
  assert.equal(`${r.globals[0].module}.${r.globals[0].name}`, 'builtins.eval');
});

test('POP pops a MARK when the mark is on top (C unpickler behaviour)', () => {
  const r = run(enc('(0K\x01.'));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.values, [1]);
});

test('popping below the current MARK is a stack underflow', () => {
  const r = run(enc('K\x01(R.'));
  assert.match(r.error?.reason ?? '', /underflow/);
});

test('findings survive a malformed tail; stacked pickles are all scanned', () => {
  const bad = run(enc(`\x80\x02cos\nsystem\n(X\x01\x00\x00\x00xtR\xff\xff`));
  assert.ok(bad.error);
  assert.equal(bad.globals[0].name, 'system');
  const stacked = run(enc('\x80\x02K\x01.\x80\x02cos\nsystem\n)R.'));
  assert.equal(stacked.values.length, 2);
  assert.equal(stacked.globals[0].module, 'os');
});

test('FRAME must fit in the data; unsupported protocol and NEXT_BUFFER are errors', () => {
  assert.match(run(cat('\x80\x04\x95', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0], 'K\x01.')).error?.reason ?? '', /FRAME/);
  assert.match(run(enc('\x80\x06K\x01.')).error?.reason ?? '', /protocol/);
  assert.match(run(enc('\x80\x05\x97.')).error?.reason ?? '', /out-of-band/);
});

test('EXT, PERSID, BUILD-on-global are visible as events/nodes', () => {
  const r = run(enc('\x80\x02\x82\x01)R.'));
  assert.ok(r.events.some((e) => e.kind === 'ext'));
  const b = run(enc('\x80\x02ctorch.nn\nModule\nN}\x86b.'));
  assert.ok(b.events.some((e) => e.kind === 'build-on-global'));
});

test('memo/DUP bombs stay bounded; limits stop the VM with a reason', () => {
  // 100k DUP+APPEND of the same list: shared references, no blow-up.
  const body = cat('\x80\x02]q\x00', Buffer.alloc(0));
  const parts: Buffer[] = [body];
  for (let i = 0; i < 100_000; i++) parts.push(Buffer.from('h\x00a', 'latin1'));
  parts.push(Buffer.from('.', 'latin1'));
  const t0 = performance.now();
  const r = run(Buffer.concat(parts));
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(r.error, undefined);
  const limited = run(Buffer.concat(parts), { ...DEFAULT_LIMITS, maxPickleOpcodes: 1000 });
  assert.match(limited.limit?.reason ?? '', /opcode limit/);
  const deep = run(Buffer.concat([Buffer.from('\x80\x02', 'latin1'), Buffer.alloc(200_000, 0x28), Buffer.from('.')]));
  assert.match(deep.limit?.reason ?? deep.error?.reason ?? '', /MARK depth|underflow|stack/);
  const memo = run(Buffer.concat([Buffer.from('\x80\x04N', 'latin1'), Buffer.alloc(5000, 0x94), Buffer.from('.')]), { ...DEFAULT_LIMITS, maxMemoEntries: 100 });
  assert.match(memo.limit?.reason ?? '', /memo limit/);
});

test('limits make the file unscannable with the reason, never safe', () => {
  const deep = Buffer.concat([Buffer.from('\x80\x02', 'latin1'), Buffer.alloc(200_000, 0x28), Buffer.from('.')]);
  const r = scanBytes('deep.pkl', deep);
  assert.equal(r.verdict, 'unscannable');
  assert.ok(r.findings.some((f) => f.code === 'PKL008' || f.code === 'PKL007'));
  // An oversized FRAME: the C unpickler fails (PKL007), the pure-Python one reads on — a divergence (PKL010), never safe.
  const frame = scanBytes('frame.pkl', cat('\x80\x04\x95', [0, 0, 0, 0x40, 0, 0, 0, 0], 'K\x01.'));
  assert.equal(frame.verdict, 'suspicious');
  assert.deepEqual(frame.findings.map((f) => f.code).sort(), ['PKL007', 'PKL010']);
});

test('policy: allowlist, dangerous modules & submodules, dotted traversals, family rules', () => {
  const c = (m: string, n: string) => classifyGlobal(m, n).cls;
  assert.equal(c('collections', 'OrderedDict'), 'allowed');
  assert.equal(c('torch._utils', '_rebuild_tensor_v2'), 'allowed');
  assert.equal(c('numpy.core.multiarray', '_reconstruct'), 'allowed');
  assert.equal(c('sklearn.linear_model._logistic', 'LogisticRegression'), 'allowed');
  assert.equal(c('sklearn.utils._testing', 'SomeHelper'), 'unknown');
  assert.equal(c('sklearn.utils', 'some_function'), 'unknown');
  assert.equal(c('os', 'system'), 'dangerous');
  assert.equal(c('asyncio.unix_events', '_UnixSubprocessTransport._start'), 'dangerous');
  assert.equal(c('pathlib', 'os.system'), 'dangerous');
  assert.equal(c('builtins', 'getattr'), 'conditional');
  assert.equal(c('scipy.io.matlab', 'MatlabObject'), 'unknown');
  assert.equal(c('mypkg', 'Thing'), 'unknown');
  assert.equal(c('torch', 'load'), 'dangerous');
});

test('context rules: getattr on an allowlisted enum member is fine, on anything else it is not', () => {
  const ok = scanBytes('e.pkl', enc("\x80\x02cbuiltins\ngetattr\nctransformers.trainer_utils\nIntervalStrategy\nX\x05\x00\x00\x00STEPS\x86R."));
  assert.equal(ok.verdict, 'safe', JSON.stringify(ok.findings));
  const bad = scanBytes('e.pkl', enc("\x80\x02cbuiltins\ngetattr\nctransformers.trainer_utils\nIntervalStrategy\nX\x07\x00\x00\x00__dict_\x86R."));
  assert.notEqual(bad.verdict, 'safe');
  const rf = scanBytes('r.pkl', enc("\x80\x02ctorch._tensor\n_rebuild_from_type_v2\n(ctorch._utils\n_rebuild_tensor_v2\nctorch.nn.parameter\nParameter\n)}tR."));
  assert.equal(rf.verdict, 'safe', JSON.stringify(rf.findings));
});

test('sniffing: pickles by structure, not by name', () => {
  assert.ok(sniffPickle(enc('\x80\x02}q\x00.')) > 0);
  assert.ok(sniffPickle(enc("(dp0\nS'a'\np1\nI1\ns.")) > 0);
  assert.equal(sniffPickle(enc('hello world, this is text')), 0);
  assert.equal(sniffPickle(enc('\x80\x09junk')), 0);
});
