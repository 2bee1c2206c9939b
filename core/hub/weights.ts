/**
 * Which files in a Hub repo are model weights, and in which family of format:
 * SafeTensors (data only), pickle-based (can run code when loaded), or other
 * non-pickle formats (GGUF, ONNX, HDF5, …). Decided by file name only: this is
 * for the editor's overview; the scanner sniffs real bytes.
 */

export type WeightFamily = 'safetensors' | 'pickle' | 'other';

/** Extensions of pickle-bearing weight files (PyTorch .bin/.pt/.pth/.ckpt are pickles or zips of pickles). */
export const PICKLE_WEIGHT_EXTENSIONS = ['bin', 'pt', 'pth', 'ckpt', 'pkl', 'pickle', 'joblib', 'dill', 'sav', 'npy', 'npz', 'mar'] as const;
export const OTHER_WEIGHT_EXTENSIONS = ['gguf', 'ggml', 'onnx', 'h5', 'hdf5', 'keras', 'msgpack', 'tflite', 'pb', 'mlmodel', 'nemo'] as const;

const pickleSet = new Set<string>(PICKLE_WEIGHT_EXTENSIONS);
const otherSet = new Set<string>(OTHER_WEIGHT_EXTENSIONS);

function extensionOf(filePath: string): string {
  const base = filePath.slice(filePath.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1) : '';
}

/** The weight family of a repo file, or undefined when it is not a weight file. */
export function weightFamily(filePath: string): WeightFamily | undefined {
  const ext = extensionOf(filePath);
  if (ext === 'safetensors') return 'safetensors';
  if (pickleSet.has(ext)) return 'pickle';
  if (otherSet.has(ext)) return 'other';
  return undefined;
}

export interface WeightGroups { safetensors: string[]; pickle: string[]; other: string[] }

export function groupWeights(files: readonly string[]): WeightGroups {
  const groups: WeightGroups = { safetensors: [], pickle: [], other: [] };
  for (const f of files) {
    const fam = weightFamily(f);
    if (fam) groups[fam].push(f);
  }
  return groups;
}

/** HUB001's condition: pickle-based weights and not one .safetensors file. */
export function offersOnlyPickleWeights(files: readonly string[]): boolean {
  const g = groupWeights(files);
  return g.pickle.length > 0 && g.safetensors.length === 0;
}

/** Files the remote scan downloads in full: anything that may carry a pickle or code. */
export function needsFullDownload(filePath: string): boolean {
  const ext = extensionOf(filePath);
  return pickleSet.has(ext) || ['onnx', 'h5', 'hdf5', 'keras', 'pb', 'zip', 'tar', 'gz', 'tgz', 'nemo'].includes(ext);
}

/** Files the remote scan reads only the header of (via Range requests). */
export function headerOnlyFormat(filePath: string): 'safetensors' | 'gguf' | undefined {
  const ext = extensionOf(filePath);
  return ext === 'safetensors' ? 'safetensors' : ext === 'gguf' ? 'gguf' : undefined;
}
