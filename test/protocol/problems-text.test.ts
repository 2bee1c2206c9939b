/**
 * Issue #15 item 2: the Problems-panel text of every non-safe model fixture says what loading the file would
 * do — no scanner shorthand (opcode names, "dangerous global", verdict words), no "would call X — it calls X"
 * repetition, no "…. —" joins — and dotted traversals are described by what they reach (pathlib.os.system
 * runs a shell command; it does not "open files").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scanFile } from '../../core/scan/engine';
import { effectOf, reportDiagnostics } from '../../server/src/scanService';

const FIX = path.join(__dirname, '../fixtures');
const DIRS = ['scanner/bypass', 'scanner/gadgets', 'scanner/compression', 'scanner/zipnames', 'models/malicious', 'models/unscannable'];
const href = (c: string) => `file:///docs/${c}.md`;

const messages: Array<{ rel: string; verdict: string; message: string; dangerous: string[] }> = [];
for (const d of DIRS) {
  for (const f of fs.readdirSync(path.join(FIX, d)).sort()) {
    const r = scanFile(path.join(FIX, d, f));
    const [diag] = reportDiagnostics(r, href);
    if (r.verdict === 'safe') { assert.equal(diag, undefined); continue; }
    messages.push({ rel: `${d}/${f}`, verdict: r.verdict, message: diag.message, dangerous: r.globals.filter((g) => g.status === 'dangerous').map((g) => `${g.module}.${g.name}`) });
  }
}

test('every non-safe fixture gets a Problems entry (the walk is not empty)', () => {
  assert.ok(messages.length > 150, `${messages.length} messages`);
  assert.ok(messages.filter((m) => m.verdict === 'malicious').length > 100);
});

test('no scanner shorthand in Problems texts', () => {
  for (const { rel, message } of messages) {
    assert.doesNotMatch(message, /\((GLOBAL|STACK_GLOBAL|INST|OBJ|REDUCE|NEWOBJ|NEWOBJ_EX|BUILD|EXT[124])\)/, rel);
    assert.doesNotMatch(message, /^[^:]+: (BUILD|REDUCE|NEWOBJ|NEWOBJ_EX|INST|OBJ) /, `${rel}: ${message}`);
    assert.doesNotMatch(message, /\b(malicious|suspicious|unscannable):|dangerous global/, `${rel}: ${message}`);
    assert.doesNotMatch(message, /\.\s*—|[^.]\.\.(?![./])/, `${rel}: punctuation join in ${message}`);
    assert.match(message, /^(Unsafe to load|Review before loading|Not fully checked): /, rel);
    assert.doesNotMatch(message, /: (global \S+ is not on the allowlist|\S+ used outside its safe pattern)/, `${rel}: policy words in ${message}`);
  }
});

test('malicious files: what loading would do, each global named once', () => {
  for (const { rel, verdict, message, dangerous } of messages) {
    if (verdict !== 'malicious' || !dangerous.length) continue;
    assert.match(message, /^Unsafe to load: (unpickling this file \([a-z_.]+(, [a-z_.]+)*\)|loading this file (with (torch\.load|joblib\.load|numpy\.load\(allow_pickle=True\))|\(torch\.jit\.load, or torch\.load\))) would /, rel);
    for (const n of new Set(dangerous.slice(0, 3))) {
      const count = message.split(n).length - 1;
      assert.ok(count <= 1 || message.split(`${n}.`).length - 1 === count - 1, `${rel}: '${n}' repeated in ${message}`);
    }
    assert.doesNotMatch(message, /would call (\S+) — it calls \1\b/, `${rel}: ${message}`);
  }
});

test('each 2024–2025 bypass gadget gets a concrete effect, not the generic one', () => {
  const gadgets = messages.filter((m) => /scanner\/bypass\/(gadget_|chain_)|models\/malicious\/(pip_|ensurepip|timeit|cprofile|profile|trace|code_|runpy|pty|pydoc|webbrowser|ctypes|collect_env|uuid|numpy_runstring|asyncio|dotted_)/.test(m.rel) && m.dangerous.length);
  assert.ok(gadgets.length >= 35, `${gadgets.length}`);
  for (const { rel, message } of gadgets) assert.doesNotMatch(message, /not needed to rebuild data/, `${rel}: ${message}`);
});

test('effects of dotted traversals are those of what they reach', () => {
  assert.equal(effectOf('pathlib.os.system'), 'run a shell command');
  assert.equal(effectOf('collections.os.system'), 'run a shell command');
  assert.equal(effectOf('pathlib.Path.write_text'), 'open, write or delete files');
  assert.equal(effectOf('torch.hub.load'), 'download code from a repository and run it');
  assert.equal(effectOf('pandas.core.computation.expr.Expr'), 'run Python code it carries');
  assert.equal(effectOf('builtins.__import__'), 'import any module');
  assert.equal(effectOf('re._compile.__globals__'), 'reach arbitrary attributes (a step to running code)');
  assert.equal(effectOf('_operator.methodcaller'), 'reach arbitrary attributes (a step to running code)');
  assert.equal(effectOf('venv.create'), 'run pip or package builds (installing a package runs its code)');
  assert.equal(effectOf('torch._inductor.codecache.compile_file'), 'compile or load native code');
  assert.equal(effectOf('uuid.UUID'), undefined);
});

test('the loader named is the one the format is loaded with', () => {
  const msg = (rel: string) => messages.find((m) => m.rel === rel)!.message;
  assert.match(msg('models/malicious/numpy_object_payload.npy'), /^Unsafe to load: loading this file with numpy\.load\(allow_pickle=True\) would run a shell command/);
  assert.match(msg('models/malicious/npz_object_payload.npz'), /numpy\.load\(allow_pickle=True\)/);
  assert.match(msg('models/malicious/joblib_object_array_payload.joblib'), /^Unsafe to load: loading this file with joblib\.load would/);
  assert.match(msg('models/malicious/torch_zip_with_payload.pt'), /^Unsafe to load: loading this file with torch\.load would/);
  assert.match(msg('models/malicious/torch_legacy_with_payload.pt'), /with torch\.load/);
  assert.match(msg('scanner/bypass/ext_npy_is_pickle.npy'), /unpickling this file \(torch\.load, pickle\.load, joblib\.load\)/, 'a plain pickle, whatever its name');
});
