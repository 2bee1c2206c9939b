import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hfFolderCheck } from '../../../core/scan/formats/hf';
import { scanPaths } from '../../../core/scan/engine';
import { FIXTURES, collector } from './harness';

function run(dir: string) {
  const c = collector();
  hfFolderCheck.check(dir, fs.readdirSync(dir).sort(), c.report);
  return c.done();
}

test('benign HF folder: no findings', () => {
  const r = run(path.join(FIXTURES, 'hf/benign'));
  assert.deepEqual([...r.values()].flatMap((x) => x.findings), []);
});

test('remote code: auto_map → HF001, cross-repo → HF002, .py next to weights → HF003', () => {
  const r = run(path.join(FIXTURES, 'hf/remote-code'));
  const cfg = r.get('config.json')!;
  assert.ok(cfg.codes.includes('HF001'));
  assert.ok(cfg.findings.some((f) => f.code === 'HF002' && /evil-user\/other-repo/.test(f.message)));
  assert.ok(r.get('modeling_custom.py')?.codes.includes('HF003'));
});

test('tampered tokenizer → HF004 (duplicate id, id reuse, word as special token, flag changed)', () => {
  const r = run(path.join(FIXTURES, 'hf/tampered-tokenizer'));
  const tok = r.get('tokenizer.json')!.findings.map((f) => f.message).join('\n');
  assert.match(tok, /added token id 2 is used twice/);
  assert.match(tok, /reuses id 4 of vocabulary entry "the"/);
  assert.match(tok, /"please" looks like an ordinary word/);
  assert.match(r.get('tokenizer_config.json')!.findings.map((f) => f.message).join('\n'), /special flag of token 0/);
});

test('dataset script and chat template in tokenizer_config.json; end-to-end through scanPaths', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-hf-'));
  try {
    const ds = path.join(dir, 'squadish');
    fs.mkdirSync(ds);
    fs.writeFileSync(path.join(ds, 'squadish.py'), 'import datasets\nclass S(datasets.GeneratorBasedBuilder):\n  pass\n');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'llama' }));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: "{{ cycler.__init__.__globals__.os.popen('id').read() }}" }));
    const out = scanPaths([dir], { hash: false });
    const byName = (n: string) => out.files.find((f) => f.path.endsWith(n))!;
    assert.ok(byName('squadish.py').findings.some((f) => f.code === 'HF005'));
    assert.equal(byName('tokenizer_config.json').verdict, 'malicious');
    assert.ok(byName('tokenizer_config.json').findings.some((f) => f.code === 'HF006'));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('an ordinary project folder with config.json and .py files is not a model folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-proj-'));
  try {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auto_map_like: 1, port: 8080 }));
    fs.writeFileSync(path.join(dir, 'train.py'), 'print(1)\n');
    fs.writeFileSync(path.join(dir, 'model.pt'), '');
    assert.deepEqual([...run(dir).values()].flatMap((x) => x.findings), []);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
