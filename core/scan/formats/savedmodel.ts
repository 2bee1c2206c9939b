/**
 * TensorFlow SavedModel (`saved_model.pb`): SavedModel → MetaGraphDef →
 * GraphDef nodes + FunctionDefLibrary functions, decoded with the skipping
 * protobuf reader (constant tensors are never read). Flags file-touching and
 * Python-callback ops anywhere; checkpoint save/restore ops only when a serving
 * signature reaches them (every SavedModel has a saver graph).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ByteSource, FolderCheck, FormatHandler, ScanContext } from '../format';
import { ProtoError, ProtoSource, WIRE_LEN, type ProtoField } from './proto';

export const TF_FILE_OPS = new Set([
  'ReadFile', 'WriteFile', 'MatchingFiles', 'ImmutableConst',
  'TFRecordDataset', 'TFRecordDatasetV2', 'FixedLengthRecordDataset', 'FixedLengthRecordDatasetV2', 'TextLineDataset',
  'CSVDataset', 'CSVDatasetV2', 'ExperimentalCSVDataset', 'LMDBDataset', 'ExperimentalLMDBDataset', 'SqlDataset', 'ExperimentalSqlDataset',
  'SaveDataset', 'SaveDatasetV2', 'LoadDataset', 'DatasetToTFRecord', 'ExperimentalDatasetToTFRecord', 'SnapshotDataset', 'SnapshotDatasetV2',
  'WholeFileReader', 'WholeFileReaderV2', 'TextLineReader', 'TextLineReaderV2', 'FixedLengthRecordReader', 'FixedLengthRecordReaderV2',
  'TFRecordReader', 'TFRecordReaderV2', 'LMDBReader', 'IdentityReader', 'CreateSummaryFileWriter', 'CreateSummaryDbWriter',
  'FileSystemSetConfiguration', 'InitializeTableFromTextFile', 'InitializeTableFromTextFileV2',
]);
export const TF_PYTHON_OPS = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc']);
export const TF_SAVER_OPS = new Set(['SaveV2', 'RestoreV2', 'MergeV2Checkpoints', 'Save', 'SaveSlices', 'Restore', 'RestoreSlice']);
/** Custom op names that read like command execution (no stock TensorFlow op matches). */
const SHELL_LIKE_OP = /shell|system|popen|subprocess|spawn|^exec(ute)?$|command/i;
/** Stream targets PrintV2 may use without touching files. */
const PRINT_STREAMS = /^(stdout|stderr|log\((info|warning|error)\))$/;
/** Nodes kept per file (graph + functions). */
export const TF_MAX_NODES = 5_000_000;

interface TfNode { name: string; op: string; inputs: string[]; funcs: string[]; outputStream?: string; fn?: string }

export function sniffSavedModel(head: Uint8Array, name: string): number {
  const byName = /(^|[\\/])saved_model\.pb$/i.test(name);
  // saved_model_schema_version (1) = 1, then meta_graphs (2).
  const byContent = head.length > 3 && head[0] === 0x08 && head[1] === 0x01 && head[2] === 0x12;
  return byName && (byContent || head[0] === 0x12) ? 95 : byContent && /\.pb$/i.test(name) ? 70 : byContent ? 30 : 0;
}

function readNode(ps: ProtoSource, f: ProtoField, depth: number, fn?: string): TfNode {
  const n: TfNode = { name: '', op: '', inputs: [], funcs: [], fn };
  for (const x of ps.fields(f.start, f.start + f.length, depth)) {
    if (x.wire !== WIRE_LEN) continue;
    if (x.num === 1) n.name = ps.string(x);
    else if (x.num === 2) n.op = ps.string(x);
    else if (x.num === 3) n.inputs.push(ps.string(x));
    else if (x.num === 5) {
      let key = '';
      let value: ProtoField | undefined;
      for (const e of ps.fields(x.start, x.start + x.length, depth + 1)) {
        if (e.num === 1 && e.wire === WIRE_LEN) key = ps.string(e);
        else if (e.num === 2 && e.wire === WIRE_LEN) value = e;
      }
      if (!value) continue;
      for (const a of ps.fields(value.start, value.start + value.length, depth + 2)) {
        if (a.wire !== WIRE_LEN) continue;
        if (a.num === 2 && key === 'output_stream') n.outputStream = ps.string(a, 4096);
        else if (a.num === 10) { for (const z of ps.fields(a.start, a.start + a.length, depth + 3)) if (z.num === 1 && z.wire === WIRE_LEN) n.funcs.push(ps.string(z)); }
        else if (a.num === 1) {
          // ListValue.func (9) → NameAttrList.name (1)
          for (const l of ps.fields(a.start, a.start + a.length, depth + 3)) {
            if (l.num === 9 && l.wire === WIRE_LEN) for (const z of ps.fields(l.start, l.start + l.length, depth + 4)) if (z.num === 1 && z.wire === WIRE_LEN) n.funcs.push(ps.string(z));
          }
        }
      }
    }
  }
  return n;
}

/** "name:0", "^name", "name:output:0" → node name (inside functions the first segment names the node). */
function inputNode(input: string): string { return input.replace(/^\^/, '').split(':')[0]; }

export function scanSavedModel(src: ByteSource, ctx: ScanContext): void {
  const ps = new ProtoSource(src);
  let metaGraphs = 0;
  try {
    for (const top of ps.fields(0, src.size, 0)) {
      if (top.num !== 2 || top.wire !== WIRE_LEN) continue;
      metaGraphs++;
      scanMetaGraph(ps, top, ctx, metaGraphs);
    }
    if (!metaGraphs) ctx.incomplete('TF004', 'the SavedModel has no meta graph');
  } catch (e) {
    if (!(e instanceof ProtoError)) throw e;
    ctx.incomplete('TF004', `${e.limit ? 'limit reached' : 'malformed protobuf'}: ${e.message}`, { offset: e.offset });
  }
}

function scanMetaGraph(ps: ProtoSource, mg: ProtoField, ctx: ScanContext, index: number): void {
  const graphNodes = new Map<string, TfNode>();
  const functions = new Map<string, TfNode[]>();
  const signatureOutputs: { sig: string; node: string }[] = [];
  let count = 0;
  const budget = () => { if (++count > TF_MAX_NODES) throw new ProtoError(`more than ${TF_MAX_NODES} nodes`, mg.start, true); };
  for (const f of ps.fields(mg.start, mg.start + mg.length, 1)) {
    if (f.wire !== WIRE_LEN) continue;
    if (f.num === 2) {
      for (const g of ps.fields(f.start, f.start + f.length, 2)) {
        if (g.wire !== WIRE_LEN) continue;
        if (g.num === 1) { budget(); const n = readNode(ps, g, 3); graphNodes.set(n.name, n); }
        else if (g.num === 2) {
          for (const lib of ps.fields(g.start, g.start + g.length, 3)) {
            if (lib.num !== 1 || lib.wire !== WIRE_LEN) continue;
            let name = '';
            const nodes: ProtoField[] = [];
            for (const x of ps.fields(lib.start, lib.start + lib.length, 4)) {
              if (x.num === 1 && x.wire === WIRE_LEN) { for (const s of ps.fields(x.start, x.start + x.length, 5)) if (s.num === 1 && s.wire === WIRE_LEN) name = ps.string(s); }
              else if (x.num === 3 && x.wire === WIRE_LEN) nodes.push(x);
            }
            functions.set(name, nodes.map((x) => { budget(); return readNode(ps, x, 5, name); }));
          }
        }
      }
    } else if (f.num === 5) {
      let key = '';
      let sig: ProtoField | undefined;
      for (const e of ps.fields(f.start, f.start + f.length, 2)) {
        if (e.num === 1 && e.wire === WIRE_LEN) key = ps.string(e);
        else if (e.num === 2 && e.wire === WIRE_LEN) sig = e;
      }
      if (!sig) continue;
      for (const s of ps.fields(sig.start, sig.start + sig.length, 3)) {
        if (s.num !== 2 || s.wire !== WIRE_LEN) continue; // outputs map
        for (const e of ps.fields(s.start, s.start + s.length, 4)) {
          if (e.num !== 2 || e.wire !== WIRE_LEN) continue;
          for (const ti of ps.fields(e.start, e.start + e.length, 5)) if (ti.num === 1 && ti.wire === WIRE_LEN) signatureOutputs.push({ sig: key, node: inputNode(ps.string(ti)) });
        }
      }
    }
  }
  const where = (n: TfNode) => `meta graph ${index}${n.fn ? `, function ${n.fn}` : ''}, node '${n.name}'`;
  const all = [...graphNodes.values(), ...[...functions.values()].flat()];
  let reported = 0;
  for (const n of all) {
    if (reported >= 100) break;
    if (TF_PYTHON_OPS.has(n.op) || (SHELL_LIKE_OP.test(n.op) && !/^TPU|^_?Xla/.test(n.op))) {
      ctx.finding('TF002', 'critical', `op ${n.op} ${TF_PYTHON_OPS.has(n.op) ? 'calls back into Python' : 'looks like command execution'}`, { member: ctx.member || undefined }, where(n)); reported++;
    } else if (TF_FILE_OPS.has(n.op)) {
      ctx.finding('TF001', 'high', `op ${n.op} touches the file system`, { member: ctx.member || undefined }, where(n)); reported++;
    } else if (n.op === 'PrintV2' && n.outputStream !== undefined && !PRINT_STREAMS.test(n.outputStream)) {
      ctx.finding('TF001', 'high', `PrintV2 writes to '${n.outputStream.slice(0, 200)}'`, { member: ctx.member || undefined }, where(n)); reported++;
    }
  }
  // Saver ops: only when reachable from a serving signature (walk inputs backwards, into called functions).
  const seenNodes = new Set<string>();
  const seenFns = new Set<string>();
  const stack: { node?: TfNode; sig: string }[] = signatureOutputs.map((o) => ({ node: graphNodes.get(o.node), sig: o.sig }));
  const hits = new Map<string, string>();
  while (stack.length) {
    const { node, sig } = stack.pop()!;
    if (!node) continue;
    const key = `${node.fn ?? ''}/${node.name}`;
    if (seenNodes.has(key)) continue;
    seenNodes.add(key);
    if (TF_SAVER_OPS.has(node.op) && !hits.has(key)) hits.set(key, `signature '${sig}' reaches ${node.op} (${where(node)})`);
    const scope = node.fn ? new Map((functions.get(node.fn) ?? []).map((x) => [x.name, x])) : graphNodes;
    for (const i of node.inputs) stack.push({ node: scope.get(inputNode(i)), sig });
    for (const fname of node.funcs) {
      if (seenFns.has(fname)) continue;
      seenFns.add(fname);
      for (const fnNode of functions.get(fname) ?? []) stack.push({ node: fnNode, sig });
    }
  }
  for (const msg of [...hits.values()].slice(0, 20)) ctx.finding('TF003', 'medium', `checkpoint op reachable from a serving signature`, { member: ctx.member || undefined }, msg);
  ctx.meta(`metaGraph${index}.nodes`, String(graphNodes.size));
  ctx.meta(`metaGraph${index}.functions`, String(functions.size));
}

export const savedModelHandler: FormatHandler = { id: 'tf-savedmodel', sniff: sniffSavedModel, scan: scanSavedModel };

/** Native libraries in a SavedModel folder are custom-op libraries someone will `tf.load_op_library`. */
export const savedModelFolderCheck: FolderCheck = {
  id: 'tf-savedmodel-folder',
  check(dir, files, report) {
    if (!files.includes('saved_model.pb') || !files.includes('variables')) return;
    const native = /\.(so|dylib|dll|pyd)$/i;
    const found: string[] = [];
    const walk = (rel: string, depth: number) => {
      if (depth > 4 || found.length > 20) return;
      let names: string[] = [];
      try { names = fs.readdirSync(path.join(dir, rel)); } catch { return; }
      for (const n of names) {
        const r = rel ? `${rel}/${n}` : n;
        let st: fs.Stats;
        try { st = fs.lstatSync(path.join(dir, r)); } catch { continue; }
        if (st.isDirectory()) walk(r, depth + 1);
        else if (native.test(n)) found.push(r);
      }
    };
    walk('', 0);
    for (const r of found) report(r).finding('TF005', 'high', `native library '${r}' ships inside a SavedModel folder (custom ops run native code)`);
  },
};
