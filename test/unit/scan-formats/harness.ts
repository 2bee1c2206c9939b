// Test-only ScanContext: collects findings/tensors/meta and computes the verdict.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_LIMITS, type ByteSource, type FormatHandler, type ScanContext, type ScanOptions } from '../../../core/scan/format';
import { verdictOf, type ScanFinding, type TensorInfo, type Verdict } from '../../../core/scan/types';
import { memorySource } from '../../../core/scan/bytes';

export const FIXTURES = path.resolve(process.cwd(), 'test/fixtures/formats');

export interface Collected {
  findings: ScanFinding[];
  tensors: TensorInfo[];
  meta: Record<string, string>;
  incomplete: boolean;
  nested: string[];
  formats: string[];
  verdict: Verdict;
  codes: string[];
}

export function makeContext(file = 'test', options: Partial<ScanOptions> = {}): { ctx: ScanContext; out: Collected } {
  const out: Collected = { findings: [], tensors: [], meta: {}, incomplete: false, nested: [], formats: [], verdict: 'safe', codes: [] };
  const ctx: ScanContext = {
    path: file, member: '', depth: 0,
    options: { limits: { ...DEFAULT_LIMITS }, weights: true, weightsMaxBytes: 2 ** 40, ...options },
    finding(code, severity, message, location = {}, evidence) { out.findings.push({ code, severity, message, location, evidence }); },
    global() {},
    tensor(t) { out.tensors.push(t); },
    meta(k, v) { out.meta[k] = v; },
    incomplete(code, reason, location = {}) { out.incomplete = true; out.findings.push({ code, severity: 'info', message: reason, location }); },
    scanNested(name) { out.nested.push(name); },
    setFormat(f) { out.formats.push(f); },
  };
  return { ctx, out };
}

function finish(out: Collected): Collected {
  out.verdict = verdictOf(out.findings, out.incomplete);
  out.codes = [...new Set(out.findings.map((f) => f.code))].sort();
  return out;
}

export function scanWith(handler: FormatHandler, data: Uint8Array | ByteSource, options: Partial<ScanOptions> = {}, file = 'test'): Collected {
  const { ctx, out } = makeContext(file, options);
  handler.scan(data instanceof Uint8Array ? memorySource(data) : data, ctx);
  return finish(out);
}

export function scanFixture(handler: FormatHandler, name: string, options: Partial<ScanOptions> = {}): Collected {
  const file = path.join(FIXTURES, name);
  return scanWith(handler, new Uint8Array(fs.readFileSync(file)), options, file);
}

/** Runs a handler with a callback-based context (for folder checks). */
export function collector(): { report: (rel: string) => ScanContext; results: Map<string, Collected>; done: () => Map<string, Collected> } {
  const results = new Map<string, Collected>();
  return {
    results,
    report(rel) {
      if (!results.has(rel)) { const { ctx, out } = makeContext(rel); results.set(rel, out); (out as unknown as { ctx: ScanContext }).ctx = ctx; }
      return (results.get(rel) as unknown as { ctx: ScanContext }).ctx;
    },
    done() { for (const v of results.values()) finish(v); return results; },
  };
}
