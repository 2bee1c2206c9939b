/**
 * ONNX: ModelProto → graph (nodes, initializers, sub-graphs in attributes),
 * local functions and opset imports, decoded with our own wire reader that
 * never reads tensor payloads. Flags external_data paths that escape the model
 * folder, custom operator domains and raw_data size mismatches.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ByteSource, FormatHandler, ScanContext } from '../format';
import { ProtoError, ProtoSource, WIRE_LEN, WIRE_VARINT, type ProtoField } from './proto';

/** Operator domains served by the standard runtimes (anything else needs a custom op library). */
export const ONNX_STANDARD_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'ai.onnx.training', 'ai.onnx.preview.training', 'com.microsoft']);
/** Element size in bits by TensorProto.DataType (0 = variable/unknown). */
const ONNX_DTYPE_BITS: Record<number, number> = {
  1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64, 15: 128, 16: 16,
  17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4,
};
const ONNX_DTYPE_NAMES: Record<number, string> = { 1: 'F32', 2: 'U8', 3: 'I8', 4: 'U16', 5: 'I16', 6: 'I32', 7: 'I64', 8: 'STRING', 9: 'BOOL', 10: 'F16', 11: 'F64', 12: 'U32', 13: 'U64', 14: 'C64', 15: 'C128', 16: 'BF16' };
/** Initializers reported through ctx.tensor (the rest are still checked). */
export const ONNX_MAX_REPORTED_TENSORS = 100_000;

export function sniffOnnx(head: Uint8Array, name: string): number {
  // ModelProto starts with ir_version (field 1, varint) in every exporter we know.
  if (head.length < 4 || head[0] !== 0x08 || head[1] < 3 || head[1] > 20) return 0;
  const next = head[2];
  const plausible = [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42].includes(next);
  if (!plausible) return 0;
  return /\.onnx$/i.test(name) ? 85 : 55;
}

interface OnnxState {
  ps: ProtoSource;
  ctx: ScanContext;
  customDomains: Map<string, Set<string>>;
  localFunctions: Set<string>;
  tensors: number;
}

function isOutside(location: string, modelPath: string, inArchive: boolean): string | undefined {
  if (/^([a-zA-Z]:)?[\\/]/.test(location) || /^[a-zA-Z]:/.test(location)) return 'is an absolute path';
  if (location.split(/[\\/]/).includes('..')) return "contains '..'";
  if (location.includes('\0')) return 'contains a NUL byte';
  if (inArchive) return undefined;
  const dir = path.dirname(path.resolve(modelPath));
  const target = path.resolve(dir, location);
  try {
    if (fs.existsSync(target)) {
      const realDir = fs.realpathSync(dir), realTarget = fs.realpathSync(target);
      if (realTarget !== realDir && !realTarget.startsWith(realDir + path.sep)) return `resolves (through a symlink) to ${realTarget}, outside the model folder`;
    }
  } catch { /* unreadable target: the lexical checks above stand */ }
  return undefined;
}

function scanTensor(st: OnnxState, f: ProtoField, depth: number, where: string): void {
  const { ps, ctx } = st;
  let name = '', dtype = 0, rawLen = -1;
  const dims: number[] = [];
  const external: Record<string, string> = {};
  for (const t of ps.fields(f.start, f.start + f.length, depth)) {
    if (t.num === 1) dims.push(...ps.ints(t));
    else if (t.num === 2 && t.wire === WIRE_VARINT) dtype = t.value;
    else if (t.num === 8 && t.wire === WIRE_LEN) name = ps.string(t);
    else if (t.num === 9 && t.wire === WIRE_LEN) rawLen = t.length; // never read: only the length matters
    else if (t.num === 13 && t.wire === WIRE_LEN) {
      let k = '', v = '';
      for (const e of ps.fields(t.start, t.start + t.length, depth + 1)) {
        if (e.num === 1 && e.wire === WIRE_LEN) k = ps.string(e);
        else if (e.num === 2 && e.wire === WIRE_LEN) v = ps.string(e);
      }
      external[k] = v;
    }
  }
  let elements = 1;
  for (const d of dims) { elements *= d; if (!Number.isSafeInteger(elements)) break; }
  const bits = ONNX_DTYPE_BITS[dtype] ?? 0;
  const expected = bits && Number.isSafeInteger(elements) ? Math.ceil((elements * bits) / 8) : -1;
  if (rawLen >= 0 && expected >= 0 && rawLen !== expected) {
    ctx.finding('ONNX004', 'medium', `initializer '${name}' has ${rawLen} bytes of raw_data but dims ${JSON.stringify(dims)} × ${ONNX_DTYPE_NAMES[dtype] ?? dtype} need ${expected}`, { offset: f.start }, where);
  }
  if ('location' in external) {
    const why = isOutside(external.location, ctx.path, ctx.member !== '');
    if (why) ctx.finding('ONNX002', 'high', `initializer '${name}' reads external data from '${external.location}', which ${why}`, { offset: f.start }, where);
  }
  if (st.tensors++ < ONNX_MAX_REPORTED_TENSORS) {
    ctx.tensor({ name, dtype: ONNX_DTYPE_NAMES[dtype] ?? String(dtype), shape: dims, bytes: expected >= 0 ? expected : Math.max(rawLen, 0) });
  }
}

function noteDomain(st: OnnxState, domain: string, op: string): void {
  if (ONNX_STANDARD_DOMAINS.has(domain)) return;
  if (st.localFunctions.has(`${domain}::${op}`)) return;
  let ops = st.customDomains.get(domain);
  if (!ops) st.customDomains.set(domain, (ops = new Set()));
  if (ops.size < 20) ops.add(op);
}

function scanNode(st: OnnxState, f: ProtoField, depth: number): void {
  const { ps } = st;
  let op = '', domain = '';
  for (const n of ps.fields(f.start, f.start + f.length, depth)) {
    if (n.num === 4 && n.wire === WIRE_LEN) op = ps.string(n);
    else if (n.num === 7 && n.wire === WIRE_LEN) domain = ps.string(n);
    else if (n.num === 5 && n.wire === WIRE_LEN) {
      // AttributeProto: g (6) and graphs (11) hold sub-graphs (If/Loop/Scan bodies); t (5)/tensors (12) hold tensors.
      for (const a of ps.fields(n.start, n.start + n.length, depth + 1)) {
        if ((a.num === 6 || a.num === 11) && a.wire === WIRE_LEN) scanGraph(st, a, depth + 2);
        else if ((a.num === 5 || a.num === 12) && a.wire === WIRE_LEN) scanTensor(st, a, depth + 2, 'node attribute');
      }
    }
  }
  noteDomain(st, domain, op);
}

function scanGraph(st: OnnxState, f: ProtoField, depth: number): void {
  for (const g of st.ps.fields(f.start, f.start + f.length, depth)) {
    if (g.wire !== WIRE_LEN) continue;
    if (g.num === 1) scanNode(st, g, depth + 1);
    else if (g.num === 5) scanTensor(st, g, depth + 1, 'initializer');
    else if (g.num === 15) {
      // SparseTensorProto: values (1) and indices (2) are TensorProtos.
      for (const s of st.ps.fields(g.start, g.start + g.length, depth + 1)) if ((s.num === 1 || s.num === 2) && s.wire === WIRE_LEN) scanTensor(st, s, depth + 2, 'sparse initializer');
    }
  }
}

export function scanOnnx(src: ByteSource, ctx: ScanContext): void {
  const ps = new ProtoSource(src);
  const st: OnnxState = { ps, ctx, customDomains: new Map(), localFunctions: new Set(), tensors: 0 };
  try {
    let sawGraph = false, sawOpset = false;
    // Local functions first, so nodes that call them are not reported as custom ops.
    for (const fn of ps.fields(0, src.size, 0)) {
      if (fn.num !== 25 || fn.wire !== WIRE_LEN) continue;
      let name = '', domain = '';
      for (const x of ps.fields(fn.start, fn.start + fn.length, 1)) {
        if (x.num === 1 && x.wire === WIRE_LEN) name = ps.string(x);
        else if (x.num === 10 && x.wire === WIRE_LEN) domain = ps.string(x);
      }
      st.localFunctions.add(`${domain}::${name}`);
    }
    if (st.localFunctions.size) ctx.meta('functions', [...st.localFunctions].slice(0, 50).join(', '));
    for (const f of ps.fields(0, src.size, 0)) {
      if (f.num === 7 && f.wire === WIRE_LEN) { sawGraph = true; scanGraph(st, f, 1); }
      else if (f.num === 25 && f.wire === WIRE_LEN) {
        for (const x of ps.fields(f.start, f.start + f.length, 1)) if (x.num === 4 && x.wire === WIRE_LEN) scanNode(st, x, 2);
      } else if (f.num === 8 && f.wire === WIRE_LEN) {
        sawOpset = true;
        for (const x of ps.fields(f.start, f.start + f.length, 1)) if (x.num === 1 && x.wire === WIRE_LEN) { const d = ps.string(x); if (d) ctx.meta(`opset:${d}`, 'imported'); }
      } else if (f.num === 2 && f.wire === WIRE_LEN && f.length < 1024) ctx.meta('producer_name', ps.string(f));
      else if (f.num === 1 && f.wire === WIRE_VARINT) ctx.meta('ir_version', String(f.value));
    }
    if (!sawGraph) ctx.incomplete('ONNX001', 'the model has no graph');
    else if (!sawOpset) ctx.incomplete('ONNX001', 'the model has no opset_import (invalid or truncated)');
  } catch (e) {
    if (!(e instanceof ProtoError)) throw e;
    ctx.incomplete('ONNX001', `${e.limit ? 'limit reached' : 'malformed protobuf'}: ${e.message}`, { offset: e.offset });
  }
  if (st.customDomains.size) {
    const list = [...st.customDomains].map(([d, ops]) => `${d} (${[...ops].join(', ')})`).join('; ');
    ctx.finding('ONNX003', 'medium', `operators from custom domains: ${[...st.customDomains.keys()].join(', ')}`, {}, list);
  }
}

export const onnxHandler: FormatHandler = {
  id: 'onnx',
  sniff: (head, name) => sniffOnnx(head, name),
  scan: scanOnnx,
};
