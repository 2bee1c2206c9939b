/**
 * Runs the symbolic VM over a pickle stream and turns what it saw into scan
 * findings through the policy (allowlist first, then context rules, then the
 * denylist). Nested pickles handed to loader functions are scanned as nested
 * streams.
 */
import type { ScanContext } from '../format';
import type { ScanLocation } from '../types';
import { READINGS, linearize, originOf, readingName, type Reading } from './framing';
import { memorySource } from '../bytes';
import { ALLOWED_ENUMS, classifyGlobal, globalStatus, GETATTR_SAFE_ATTRS, NESTED_LOADERS, type PolicyClass } from '../policy';
import { runPickle, isCall, isGlobal, globalName, type CallNode, type GlobalNode, type PickleRun, type PickleRunOptions, type PNode } from './vm';

export interface PickleScanOptions {
  start?: number;
  end?: number;
  maxPickles?: number;
  afterBuild?: PickleRunOptions['afterBuild'];
  /** Added to reported offsets (the stream's position inside the file/member). */
  baseOffset?: number;
  /** Opcodes spent so far on this file. */
  opcodesUsed?: number;
  /** Report a malformed stream as incomplete (default true). */
  reportErrors?: boolean;
  /** File-object readings to replay when a FRAME straddles (default READINGS; .npy object arrays pass npyReadings). */
  readings?: readonly Reading[];
  /** Extra globals allowed in this context (TorchScript's `__torch__.*` classes resolve against the archive's code/). */
  allowExtra?: (module: string, name: string) => boolean;
}

function describe(n: PNode, depth = 0): string {
  if (n === null) return 'None';
  if (typeof n === 'string') return JSON.stringify(n.length > 80 ? n.slice(0, 80) + '…' : n);
  if (typeof n !== 'object') return String(n);
  if (depth > 2) return '…';
  switch (n.kind) {
    case 'global': return globalName(n);
    case 'call': return `${describe(n.fn, depth + 1)}(${n.args.slice(0, 4).map((a) => describe(a, depth + 1)).join(', ')}${n.args.length > 4 ? ', …' : ''})`;
    case 'bytes': return `bytes[${n.data.length}]`;
    case 'tuple': return `(${n.items.slice(0, 4).map((a) => describe(a, depth + 1)).join(', ')}${n.items.length > 4 ? ', …' : ''})`;
    case 'list': return `[${n.items.slice(0, 4).map((a) => describe(a, depth + 1)).join(', ')}${n.items.length > 4 ? ', …' : ''}]`;
    case 'dict': return `{…${n.keys.length} items}`;
    case 'set': return `{set of ${n.items.length}}`;
    case 'persid': return `persistent_id(${describe(n.pid, depth + 1)})`;
    case 'ext': return `EXT(${n.code})`;
    case 'buffer': return 'buffer';
  }
}

type Loc = (offset: number, index: number) => ScanLocation;

/**
 * Scan one pickle stream (possibly several stacked pickles) and report into ctx. Returns the VM run (of the bytes
 * reading). When the C unpickler would read the stream differently from a file object (a FRAME that ends inside an
 * opcode) or the pure-Python unpickler would read on where the C one fails (an oversized FRAME), those readings are
 * scanned too: their findings are added (the worse reading decides) and the divergence is a finding (PKL010).
 */
export function scanPickleStream(data: Uint8Array, ctx: ScanContext, o: PickleScanOptions = {}): PickleRun {
  const base = o.baseOffset ?? 0;
  const run = runPickle(data, { limits: ctx.options.limits, start: o.start, end: o.end, maxPickles: o.maxPickles, afterBuild: o.afterBuild, opcodesUsed: o.opcodesUsed });
  const member = ctx.member || undefined;
  const loc: Loc = (offset, index) => ({ ...(member ? { member } : {}), offset: base + offset, opcodeIndex: index - 1 });
  if (!run.frameStraddle && !run.oversizedFrame) { reportRun(run, ctx, o, loc); return run; }
  // Several readings: findings are deduplicated by code and message, so a global seen in both is reported once.
  const seen = new Set<string>();
  const dctx = (suffix: string): ScanContext => ({
    ...ctx,
    finding(code, sev, msg, l, ev) { const k = `${code}\u0000${msg}`; if (seen.has(k)) return; seen.add(k); ctx.finding(code, sev, msg + suffix, l, ev); },
    incomplete(code, reason, l) { const k = `${code}\u0000${reason}`; if (seen.has(k)) return; seen.add(k); ctx.incomplete(code, reason + suffix, l); },
  });
  reportRun(run, dctx(''), o, loc);
  if (run.dataSkipped) return run; // joblib arrays: only the pure-Python reading applies, and it never straddles differently
  const spent = (o.opcodesUsed ?? 0) + run.opcodes;
  const names = (r: PickleRun) => new Set(r.globals.map(globalName));
  const primary = names(run);
  if (run.frameStraddle) {
    for (const reading of o.readings ?? READINGS) {
      const lin = linearize(data, reading, { start: o.start, end: o.end, maxPickles: o.maxPickles, maxOps: ctx.options.limits.maxPickleOpcodes });
      if (!lin.dropped.length && !lin.error) continue;
      const alt = runPickle(lin.data, { limits: ctx.options.limits, maxPickles: o.maxPickles, opcodesUsed: spent });
      const altLoc: Loc = (offset, index) => ({ ...(member ? { member } : {}), offset: base + originOf(lin, offset), opcodeIndex: index - 1 });
      const how = readingName(reading);
      reportRun(alt, dctx(` [reading through ${how}]`), o, altLoc);
      if (lin.error) dctx(` [reading through ${how}]`).incomplete('PKL007', `malformed pickle: ${lin.error.reason}`, { ...(member ? { member } : {}), offset: base + lin.error.offset });
      const extra = [...names(alt)].filter((n) => !primary.has(n));
      const lost = lin.dropped.reduce((a, d) => a + d.length, 0);
      ctx.finding('PKL010', 'high', `a FRAME ends inside an opcode at offset ${base + run.frameStraddle.offset}: read through ${how} the C unpickler skips ${lost} byte(s) and sees a different stream than pickle.loads does` +
        (extra.length ? ` (globals only that reading names: ${extra.slice(0, 5).join(', ')})` : '') + (alt.error || lin.error ? ` (that reading fails: ${(lin.error ?? alt.error)!.reason})` : ''),
        { ...(member ? { member } : {}), offset: base + run.frameStraddle.offset });
    }
  }
  if (run.oversizedFrame) {
    const alt = runPickle(data, { limits: ctx.options.limits, start: o.start, end: o.end, maxPickles: o.maxPickles, afterBuild: o.afterBuild, opcodesUsed: spent, tolerateOversizedFrames: true });
    const how = 'the pure-Python unpickler (pickle._Unpickler: joblib.load, pandas.read_pickle\'s fallback)';
    reportRun(alt, dctx(` [reading through ${how}]`), o, loc);
    const extra = [...names(alt)].filter((n) => !primary.has(n));
    ctx.finding('PKL010', 'high', `FRAME at offset ${base + run.oversizedFrame.offset} is longer than the data: the C unpickler stops there, ${how} ignores the length and reads on` +
      (extra.length ? ` (globals only that reading names: ${extra.slice(0, 5).join(', ')})` : ''), { ...(member ? { member } : {}), offset: base + run.oversizedFrame.offset });
  }
  return run;
}

/** Turns one VM run into findings through the policy. */
function reportRun(run: PickleRun, ctx: ScanContext, o: PickleScanOptions, loc: Loc): void {
  const member = ctx.member || undefined;
  const base = o.baseOffset ?? 0;

  const decide = (module: string, name: string) => {
    const d = classifyGlobal(module, name);
    return d.cls === 'unknown' && o.allowExtra?.(module, name) ? { cls: 'allowed' as const, reason: 'allowed in this container' } : d;
  };
  const decisions = new Map<GlobalNode, PolicyClass>();
  const classOf = (g: GlobalNode): PolicyClass => {
    let c = decisions.get(g);
    if (!c) { c = decide(g.module, g.name).cls; decisions.set(g, c); }
    return c;
  };
  const isAllowedGlobal = (n: PNode): boolean => isGlobal(n) && classOf(n) === 'allowed';
  // Conditional globals: decided by every call that uses them.
  const conditionalFailures = new Map<string, string>();
  const okGetattrCalls = new Set<CallNode>();
  for (const c of run.calls) {
    const fn = c.fn;
    if (isGlobal(fn)) {
      const full = globalName(fn);
      if (NESTED_LOADERS.has(full)) scanNestedBytes(c, full, ctx, base);
      if (classOf(fn) !== 'conditional') continue;
      const problem = checkConditionalCall(full, c, isAllowedGlobal);
      if (problem) {
        if (!conditionalFailures.has(full)) conditionalFailures.set(full, problem);
        ctx.finding('PKL003', 'high', `${full} used outside its safe pattern: ${problem}`, loc(c.offset, c.index), describe(c));
      } else if (full === 'builtins.getattr' && typeof c.args[1] === 'string' && GETATTR_SAFE_ATTRS.has(c.args[1])) okGetattrCalls.add(c); // only reconstruction methods may then be called; an enum member or enum method may not
    } else if (isCall(fn) && okGetattrCalls.has(fn)) {
      // calling a reconstruction method fetched by an allowed getattr (e.g. Cls.from_dict)
    } else {
      const what = fn === null || typeof fn !== 'object' ? typeof fn : fn.kind;
      ctx.finding('PKL006', 'high', `${c.op} calls a value that is not an importable global (${what}); the callable is computed at load time`, loc(c.offset, c.index), describe(c));
    }
  }
  const seen = new Map<string, GlobalNode>();
  for (const g of run.globals) {
    const full = globalName(g);
    if (seen.has(full)) continue;
    seen.set(full, g);
    const d = decide(g.module, g.name);
    let cls = d.cls;
    if (cls === 'conditional') cls = conditionalFailures.has(full) ? 'unknown' : 'allowed';
    ctx.global({ module: g.module, name: g.name, status: globalStatus(cls), ...(member ? { member } : {}) });
    if (d.cls === 'dangerous') {
      ctx.finding('PKL001', 'critical', `dangerous global ${full} (${g.op}): ${d.reason}`, loc(g.offset, g.index), callChainFor(g, run));
    } else if (d.cls === 'unknown') {
      ctx.finding('PKL002', 'medium', `global ${full} is not on the allowlist (${g.op})`, loc(g.offset, g.index), callChainFor(g, run));
    }
  }
  // copyreg.add_extension(module, name, code) earlier in the stream fills the registry that EXT1/2/4 read.
  const registered = new Map<number, [string, string]>();
  for (const c of run.calls) {
    if (isGlobal(c.fn) && globalName(c.fn) === 'copyreg.add_extension' && typeof c.args[0] === 'string' && typeof c.args[1] === 'string' && typeof c.args[2] === 'number') registered.set(c.args[2], [c.args[0], c.args[1]]);
  }
  for (const c of run.calls) {
    if (c.state === undefined) continue;
    const bad = dunderStateKeys(c.state);
    if (!bad.length) continue;
    const callable = bad.some((k) => typeof k[1] === 'object' && k[1] !== null && (k[1].kind === 'global' || k[1].kind === 'call' || k[1].kind === 'ext'));
    ctx.finding('PKL009', callable ? 'critical' : 'high', `BUILD sets ${bad.map((k) => `'${k[0]}' = ${describe(k[1])}`).join(', ')} on ${describe(c)}: a later BUILD or attribute lookup calls what the pickle planted`, loc(c.offset, c.index));
  }
  for (const ev of run.events) {
    const code = ev.kind === 'ext' ? Number(/extension code (\d+)/.exec(ev.detail)?.[1]) : NaN;
    const reg = registered.get(code);
    if (ev.kind === 'ext' && reg) {
      const d = decide(reg[0], reg[1]);
      ctx.global({ module: reg[0], name: reg[1], status: globalStatus(d.cls === 'conditional' ? 'unknown' : d.cls), ...(member ? { member } : {}) });
      ctx.finding(d.cls === 'dangerous' ? 'PKL001' : 'PKL004', d.cls === 'dangerous' ? 'critical' : 'high',
        `EXT opcode calls extension code ${code}, registered in this pickle by copyreg.add_extension as ${reg[0]}.${reg[1]}${d.cls === 'dangerous' ? `: ${d.reason}` : ''}`, loc(ev.offset, ev.index));
    } else if (ev.kind === 'ext') ctx.finding('PKL004', 'high', `EXT opcode refers to copyreg ${ev.detail}; the standard registry is empty, so this names a global registered by other code`, loc(ev.offset, ev.index));
    else if (ev.kind === 'build-on-global' || ev.kind === 'mutate-global') ctx.finding('PKL005', 'high', `${ev.detail} (mutates a module-level object at load time)`, loc(ev.offset, ev.index));
  }
  if (o.reportErrors !== false) {
    if (run.error) ctx.incomplete('PKL007', `malformed pickle: ${run.error.reason}`, loc(run.error.offset, run.error.index));
    if (run.limit) ctx.incomplete('PKL008', `pickle scan stopped: ${run.limit.reason}`, loc(run.limit.offset, run.limit.index));
  }
  if (run.values.length > 1) ctx.meta('pickles', String(run.values.length));
}

/** Attribute names a BUILD state must not plant on an object (the unpickler and Python look them up on the instance). */
const DUNDER_STATE_KEYS = new Set(['__setstate__', '__reduce__', '__reduce_ex__', '__class__', '__dict__', '__getattr__', '__getattribute__', '__setattr__',
  '__delattr__', '__call__', '__del__', '__init__', '__new__', '__globals__', '__code__', '__builtins__', '__import__', '__getstate__', '__get__', '__set__',
  '__init_subclass__', '__class_getitem__', '__instancecheck__', '__subclasscheck__', '__missing__', '__setitem__', '__getitem__', '__iter__', '__next__', '__enter__', '__exit__']);
function dunderStateKeys(state: PNode): [string, PNode][] {
  const out: [string, PNode][] = [];
  const check = (d: PNode) => {
    if (typeof d !== 'object' || d === null || d.kind !== 'dict') return;
    const ks = d.keys;
    for (let i = 0; i < ks.length; i++) { const k = ks[i]; if (typeof k === 'string' && DUNDER_STATE_KEYS.has(k)) out.push([k, d.values[i]]); }
  };
  check(state);
  if (typeof state === 'object' && state !== null && state.kind === 'tuple' && state.items.length === 2) { check(state.items[0]); check(state.items[1]); }
  return out;
}

function callChainFor(g: GlobalNode, run: PickleRun): string | undefined {
  const c = run.calls.find((x) => x.fn === g);
  return c ? describe(c) : undefined;
}

function checkConditionalCall(full: string, c: CallNode, allowed: (n: PNode) => boolean): string | undefined {
  const a = c.args;
  switch (full) {
    case 'torch._tensor._rebuild_from_type_v2':
    case 'torch._tensor._rebuild_from_type':
      if (!allowed(a[0])) return `its function argument ${describe(a[0])} is not allowlisted`;
      if (!allowed(a[1])) return `its type argument ${describe(a[1])} is not allowlisted`;
      return undefined;
    case 'functools.partial':
      return allowed(a[0]) ? undefined : `wraps ${describe(a[0])}, which is not allowlisted`;
    case 'copyreg._reconstructor':
      if (!allowed(a[0])) return `reconstructs ${describe(a[0])}, which is not allowlisted`;
      if (!(isGlobal(a[1]) && /^builtins\.(object|dict|list|tuple|set|int|float|str|bytes)$/.test(globalName(a[1])))) return `base ${describe(a[1])} is not a builtin type`;
      return undefined;
    case 'builtins.getattr': {
      const name = a[1];
      if (!allowed(a[0])) return `applied to ${describe(a[0])}, which is not an allowlisted class`;
      if (typeof name !== 'string') return 'attribute name is computed';
      if (/^[A-Z][A-Z0-9_]*$/.test(name) || GETATTR_SAFE_ATTRS.has(name)) return undefined;
      if (isGlobal(a[0]) && ALLOWED_ENUMS.has(globalName(a[0])) && /^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return undefined; // a member of an allowed enum
      return `fetches attribute '${name}' (not an enum member or known reconstruction method)`;
    }
    case 'torch.storage._load_from_bytes':
      return a.length === 1 && typeof a[0] === 'object' && a[0] !== null && (a[0] as { kind: string }).kind === 'bytes' ? undefined : 'argument is not a bytes literal, so the nested pickle cannot be scanned';
  }
  return 'no context rule';
}

function scanNestedBytes(c: CallNode, full: string, ctx: ScanContext, base: number): void {
  const found: Uint8Array[] = [];
  const visit = (n: PNode, depth: number) => {
    if (depth > 3 || n === null || typeof n !== 'object') return;
    if (n.kind === 'bytes') found.push(n.data);
    else if (n.kind === 'call' && isGlobal(n.fn) && NESTED_LOADERS.has(globalName(n.fn))) n.args.forEach((x) => visit(x, depth + 1));
    else if (n.kind === 'call' && isGlobal(n.fn) && globalName(n.fn) === '_codecs.encode' && typeof n.args[0] === 'string') {
      const s = n.args[0]; const b = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff; found.push(b);
    }
  };
  c.args.forEach((x) => visit(x, 0));
  for (const b of found) ctx.scanNested(`${full}@${base + c.offset}`, memorySource(b));
}
