/**
 * Tensor declarations recovered from the symbolic value graph of a PyTorch
 * pickle (state dicts, checkpoints, legacy saves). Nothing is loaded: shapes,
 * dtypes and storage keys come from the `_rebuild_tensor_v2(...)` call nodes and
 * the `('storage', StorageType, key, location, numel)` persistent ids.
 * The SafeTensors converter builds on `findTorchTensors`.
 */
import type { TensorInfo } from '../types';
import { isCall, isGlobal, globalName, type PNode, type CallNode, type GlobalNode } from './vm';

export const STORAGE_DTYPES: Record<string, { dtype: string; size: number }> = {
  FloatStorage: { dtype: 'float32', size: 4 }, DoubleStorage: { dtype: 'float64', size: 8 }, HalfStorage: { dtype: 'float16', size: 2 },
  BFloat16Storage: { dtype: 'bfloat16', size: 2 }, LongStorage: { dtype: 'int64', size: 8 }, IntStorage: { dtype: 'int32', size: 4 },
  ShortStorage: { dtype: 'int16', size: 2 }, CharStorage: { dtype: 'int8', size: 1 }, ByteStorage: { dtype: 'uint8', size: 1 },
  BoolStorage: { dtype: 'bool', size: 1 }, ComplexFloatStorage: { dtype: 'complex64', size: 8 }, ComplexDoubleStorage: { dtype: 'complex128', size: 16 },
  QInt8Storage: { dtype: 'qint8', size: 1 }, QUInt8Storage: { dtype: 'quint8', size: 1 }, QInt32Storage: { dtype: 'qint32', size: 4 },
  QUInt4x2Storage: { dtype: 'quint4x2', size: 1 }, QUInt2x4Storage: { dtype: 'quint2x4', size: 1 }, UntypedStorage: { dtype: 'uint8', size: 1 },
};

export interface TorchStorageRef { key: string; storageType: string; dtype: string; elementSize: number; location: string; numel: number }
export interface TorchTensorRef {
  name: string; dtype: string; shape: number[]; stride: number[]; storageOffset: number; storage: TorchStorageRef; requiresGrad: boolean;
}

const REBUILD_TENSOR = new Set(['torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor_v3']);
const MAX_WALK_NODES = 5_000_000;

/** The storage a persistent id names, when it has torch's ('storage', type, key, location, numel) shape. */
export function storageFromPersId(n: PNode): TorchStorageRef | undefined {
  if (typeof n !== 'object' || n === null || n.kind !== 'persid') return undefined;
  const pid = n.pid;
  if (typeof pid !== 'object' || pid === null || pid.kind !== 'tuple') return undefined;
  const [tag, type, key, location, numel] = pid.items;
  if (tag !== 'storage' || !isGlobal(type)) return undefined;
  const info = STORAGE_DTYPES[type.name];
  if (!info) return undefined;
  return { key: String(key), storageType: globalName(type), dtype: info.dtype, elementSize: info.size, location: String(location), numel: typeof numel === 'number' ? numel : 0 };
}

function ints(n: PNode): number[] | undefined {
  if (isCall(n) && isGlobal(n.fn) && globalName(n.fn) === 'torch.Size') n = n.args[0];
  if (typeof n !== 'object' || n === null || (n.kind !== 'tuple' && n.kind !== 'list')) return undefined;
  const out: number[] = [];
  for (const x of n.items) { if (typeof x !== 'number') return undefined; out.push(x); }
  return out;
}

/**
 * Whether a run references any tensor rebuild function. A pickle without one holds no
 * torch tensors, so callers skip the graph walk (which names every node it passes).
 */
export function referencesTensorRebuild(globals: readonly GlobalNode[]): boolean {
  for (const g of globals) if (REBUILD_TENSOR.has(globalName(g))) return true;
  return false;
}

/** Every tensor reachable from `root`, named by its dotted path of dict keys. */
export function findTorchTensors(root: PNode, maxTensors = 1_000_000): TorchTensorRef[] {
  const out: TorchTensorRef[] = [];
  const visited = new Set<object>();
  let budget = MAX_WALK_NODES;
  const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
  const walk = (n: PNode, name: string, requiresGrad: boolean): void => {
    if (typeof n !== 'object' || n === null || --budget < 0 || out.length >= maxTensors) return;
    if (visited.has(n)) return;
    visited.add(n);
    switch (n.kind) {
      case 'dict':
        for (let i = 0; i < n.keys.length; i++) { const k = n.keys[i]; walk(n.values[i], typeof k === 'string' || typeof k === 'number' ? join(name, String(k)) : name, false); }
        return;
      case 'list': case 'tuple':
        n.items.forEach((x, i) => walk(x, join(name, String(i)), false));
        return;
      case 'call': return walkCall(n, name, requiresGrad);
      default: return;
    }
  };
  const walkCall = (c: CallNode, name: string, requiresGrad: boolean): void => {
    const fn = isGlobal(c.fn) ? globalName(c.fn) : '';
    if (REBUILD_TENSOR.has(fn)) {
      const storage = storageFromPersId(c.args[0]);
      const shape = ints(c.args[2]);
      if (storage && shape) {
        out.push({ name, dtype: storage.dtype, shape, stride: ints(c.args[3]) ?? [], storageOffset: typeof c.args[1] === 'number' ? c.args[1] : 0,
          storage, requiresGrad: requiresGrad || c.args[4] === true });
      }
      return;
    }
    if (fn === 'torch._utils._rebuild_parameter' || fn === 'torch._utils._rebuild_parameter_with_state') { walk(c.args[0], name, c.args[1] === true); return; }
    if (fn === 'torch._tensor._rebuild_from_type_v2' && isGlobal(c.args[0]) && REBUILD_TENSOR.has(globalName(c.args[0]))) {
      const inner = c.args[2];
      if (typeof inner === 'object' && inner !== null && inner.kind === 'tuple') walkCall({ ...c, fn: c.args[0], args: inner.items }, name, requiresGrad);
      return;
    }
    if (c.setKeys && c.setValues) for (let i = 0; i < c.setKeys.length; i++) { const k = c.setKeys[i]; walk(c.setValues[i], typeof k === 'string' || typeof k === 'number' ? join(name, String(k)) : name, false); }
    if (c.state !== undefined) walk(c.state, name, false);
    if (c.items) c.items.forEach((x, i) => walk(x, join(name, String(i)), false));
  };
  walk(root, '', false);
  return out;
}

export function tensorInfos(refs: TorchTensorRef[]): TensorInfo[] {
  return refs.map((t) => {
    let n = 1; for (const d of t.shape) n *= d;
    return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: n * t.storage.elementSize };
  });
}
