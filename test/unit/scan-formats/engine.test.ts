// End-to-end through the engine (sniffing by content, dispatch, verdicts) for every format fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanFile, scanBytes } from '../../../core/scan/engine';
import { FIXTURES } from './harness';

const expectations: [string, string, string, string?][] = [
  ['st/benign.safetensors', 'safetensors', 'safe'],
  ['st/overlap.safetensors', 'safetensors', 'suspicious', 'ST005'],
  ['st/header-beyond.safetensors', 'unknown', 'unscannable'],
  ['weights/clean-torch.safetensors', 'safetensors', 'safe'],
  ['weights/elf-low3.safetensors', 'safetensors', 'malicious', 'W001'],
  ['weights/pe-low2.safetensors', 'safetensors', 'malicious', 'W001'],
  // Real torch.save zip checkpoint whose float32 storage hides an ELF in the low 3 bytes.
  ['weights/elf-low3.pt', 'pytorch-zip', 'malicious', 'W001'],
  ['gguf/benign.gguf', 'gguf', 'safe'],
  ['gguf/ssti.gguf', 'gguf', 'malicious', 'GGUF002'],
  ['gguf/hidden-url.gguf', 'gguf', 'suspicious', 'GGUF003'],
  ['onnx/benign.onnx', 'onnx', 'safe'],
  ['onnx/external-dotdot.onnx', 'onnx', 'suspicious', 'ONNX002'],
  ['onnx/custom-domain.onnx', 'onnx', 'suspicious', 'ONNX003'],
  ['h5/benign.h5', 'hdf5', 'safe'],
  ['h5/lambda-bytecode.h5', 'hdf5', 'malicious', 'KERAS001'],
  ['keras/benign.keras', 'keras', 'safe'],
  ['keras/lambda-bytecode.keras', 'keras', 'malicious', 'KERAS001'],
  ['savedmodel/benign/saved_model.pb', 'tf-savedmodel', 'safe'],
  ['savedmodel/pyfunc/saved_model.pb', 'tf-savedmodel', 'malicious', 'TF002'],
];

for (const [file, format, verdict, code] of expectations) {
  test(`scanFile ${file} → ${format} / ${verdict}${code ? ` / ${code}` : ''}`, () => {
    const r = scanFile(path.join(FIXTURES, file));
    if (format !== 'unknown') assert.equal(r.format, format);
    assert.equal(r.verdict, verdict, JSON.stringify(r.findings));
    if (code) assert.ok(r.findings.some((f) => f.code === code), JSON.stringify(r.findings));
  });
}

test('routing is by content: a GGUF renamed to .bin and an ONNX renamed to .pt are still recognised', () => {
  const gguf = scanBytes('pytorch_model.bin', fs.readFileSync(path.join(FIXTURES, 'gguf/ssti.gguf')));
  assert.equal(gguf.format, 'gguf');
  assert.equal(gguf.verdict, 'malicious');
  const st = scanBytes('model.pt', fs.readFileSync(path.join(FIXTURES, 'weights/elf-low3.safetensors')));
  assert.equal(st.format, 'safetensors');
  assert.equal(st.verdict, 'malicious');
});

test('every format finding code is documented in the registry list', async () => {
  const { formatScanCodes } = await import('../../../core/scan/codes-formats');
  const documented = new Set(formatScanCodes.map((r) => r.code));
  const used = new Set<string>();
  for (const f of fs.readdirSync(path.resolve('core/scan/formats')).concat(fs.readdirSync(path.resolve('core/scan/weights')).map((x) => `../weights/${x}`))) {
    const text = fs.readFileSync(path.resolve('core/scan/formats', f), 'utf8');
    for (const m of text.matchAll(/'((?:ST|GGUF|ONNX|KERAS|TF|HF|W)\d{3})'/g)) used.add(m[1]);
  }
  for (const c of used) assert.ok(documented.has(c), `${c} used but not documented`);
  for (const r of formatScanCodes) {
    assert.equal(r.category, 'scan');
    assert.ok(r.summary && r.why && r.example && r.fix, r.code);
  }
});
