/**
 * NumPy .npy: magic, version, a Python-literal header dict (descr, fortran_order,
 * shape). Object dtypes store the array as a pickle after the header — that
 * pickle is scanned (np.load(allow_pickle=True) would unpickle it).
 */
import { registerFormat, type ByteSource, type ScanContext } from '../format';
import { latin1 } from '../bytes';
import { scanPickleStream } from '../pickle/scan';
import { numpyItemSize, loadInMemory } from './pickle';
import { npyReadings } from '../pickle/framing';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** numpy itself refuses headers above 10 000 bytes unless told otherwise; we allow more but bound it. */
export const MAX_NPY_HEADER_BYTES = 1024 * 1024;

export interface NpyHeader { descr: string; fortranOrder: boolean; shape: number[]; dataOffset: number; hasObject: boolean }

export function parseNpyHeader(src: ByteSource): NpyHeader | string {
  const pre = src.read(0, 12);
  if (pre.length < 10 || !NPY_MAGIC.every((b, i) => pre[i] === b)) return 'not a .npy file';
  const major = pre[6];
  let hlen: number, start: number;
  if (major === 1) { hlen = pre[8] | (pre[9] << 8); start = 10; }
  else if (major === 2 || major === 3) { if (pre.length < 12) return 'truncated header'; hlen = (pre[8] | (pre[9] << 8) | (pre[10] << 16)) + pre[11] * 0x1000000; start = 12; }
  else return `unsupported .npy version ${major}`;
  if (hlen > MAX_NPY_HEADER_BYTES) return `header of ${hlen} bytes exceeds the limit`;
  const text = latin1(src.read(start, hlen));
  if (text.length < hlen) return 'truncated header';
  const descrM = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  const structured = /['"]descr['"]\s*:\s*\[/.test(text);
  const fortM = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if ((!descrM && !structured) || !fortM || !shapeM) return 'header dict lacks descr/fortran_order/shape';
  const shape: number[] = [];
  for (const part of shapeM[1].split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!/^\d+L?$/.test(part)) return `bad shape entry '${part}'`;
    shape.push(Number(part.replace('L', '')));
  }
  const descr = descrM ? descrM[2] : text.slice(text.indexOf('[')).split(']')[0] + ']';
  const hasObject = descrM ? /^[|<>=]?O/.test(descr) : /['"][|<>=]?O\d*['"]/.test(descr);
  return { descr, fortranOrder: fortM[1] === 'True', shape, dataOffset: start + hlen, hasObject };
}

function scanNpy(src: ByteSource, ctx: ScanContext): void {
  const h = parseNpyHeader(src);
  if (typeof h === 'string') { ctx.incomplete('NPY001', `malformed .npy: ${h}`); return; }
  let count = 1; for (const d of h.shape) count *= d;
  if (h.hasObject) {
    ctx.finding('NPY002', 'info', `object array (dtype ${h.descr}): its elements are stored as a pickle, which was scanned`, { offset: h.dataOffset });
    const data = loadInMemory(src, ctx, '.npy object array');
    if (!data) return;
    const major = data[6];
    const run = scanPickleStream(data, ctx, { start: h.dataOffset, baseOffset: 0, maxPickles: 1, readings: npyReadings(major, h.dataOffset - (major === 1 ? 10 : 12)) });
    if (!run.error && !run.limit && run.end < data.length) scanPickleStream(data, ctx, { start: run.end });
    return;
  }
  const item = numpyItemSize(h.descr);
  const bytes = item !== undefined ? count * item : NaN;
  ctx.tensor({ name: ctx.member || '', dtype: h.descr.replace(/^[<>|=]/, ''), shape: h.shape, bytes: Number.isFinite(bytes) ? bytes : 0 });
  if (Number.isFinite(bytes) && h.dataOffset + bytes > src.size) ctx.finding('NPY003', 'low', `array data is truncated: header declares ${bytes} bytes, file holds ${src.size - h.dataOffset}`);
}

registerFormat({
  id: 'numpy',
  sniff: (head) => (head.length >= 8 && NPY_MAGIC.every((b, i) => head[i] === b) ? 95 : 0),
  scan: scanNpy,
});
