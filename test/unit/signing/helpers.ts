import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FIX = path.resolve(__dirname, '../../fixtures/oms');
export const MS = path.join(FIX, 'model_signing');
export const KEYS = path.join(MS, 'keys/certificate');
export const GEN = path.join(FIX, 'generated');
export const VECTORS = path.join(FIX, 'spec/test-vectors/v1.0');

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'mv-sign-'): string { return fs.mkdtempSync(path.join(os.tmpdir(), prefix)); }

/** Copies the files of a fixture model folder (writable, without model.sig) into a temp folder. */
export function copyModel(src: string, withSig = false): string {
  const dst = path.join(tempDir(), path.basename(src));
  fs.mkdirSync(dst);
  for (const f of fs.readdirSync(src)) {
    if (f === 'model.sig' && !withSig) continue;
    fs.copyFileSync(path.join(src, f), path.join(dst, f));
    fs.chmodSync(path.join(dst, f), 0o644);
  }
  return dst;
}

/** Writes files {name: content} under a new temp folder named `name`. */
export function makeModel(files: Record<string, string | Buffer>, name = 'model'): string {
  const dir = path.join(tempDir(), name);
  for (const [f, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), c);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a makeModel()/copyModel() folder with its temp parent; refuses anything else (never a shared folder). */
export function rmTemp(dir: string): void {
  const parent = path.dirname(path.resolve(dir));
  if (path.dirname(parent) !== path.resolve(os.tmpdir()) || !path.basename(parent).startsWith('mv-sign-')) {
    throw new Error(`rmTemp(${dir}): not a folder made by makeModel()/copyModel() (use fs.rmSync on a tempDir() itself)`);
  }
  fs.rmSync(parent, { recursive: true, force: true });
}
