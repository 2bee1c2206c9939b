import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ggufHandler } from '../../../core/scan/formats/gguf';
import { reviewChatTemplate } from '../../../core/scan/formats/chat-template';
import { FIXTURES, scanFixture, scanWith } from './harness';

test('benign GGUF is safe; tensors and metadata reported', () => {
  const r = scanFixture(ggufHandler, 'gguf/benign.gguf');
  assert.equal(r.verdict, 'safe', JSON.stringify(r.findings));
  assert.deepEqual(r.tensors, [{ name: 'tok_embd.weight', dtype: 'F32', shape: [32, 8], bytes: 1024 }]);
  assert.equal(r.meta['general.architecture'], 'llama');
});

test('CVE-2024-34359 template → GGUF002 critical (malicious)', () => {
  const r = scanFixture(ggufHandler, 'gguf/ssti.gguf');
  assert.equal(r.verdict, 'malicious');
  const msgs = r.findings.filter((f) => f.code === 'GGUF002').map((f) => f.message).join('\n');
  assert.match(msgs, /__class__/);
  assert.match(msgs, /__subclasses__/);
});

test('hidden URL/instruction template → GGUF003 suspicious', () => {
  const r = scanFixture(ggufHandler, 'gguf/hidden-url.gguf');
  assert.equal(r.verdict, 'suspicious');
  assert.ok(r.findings.some((f) => f.code === 'GGUF003' && /URL/.test(f.message)));
  assert.ok(r.findings.some((f) => f.code === 'GGUF003' && /instruction/.test(f.message)));
});

test('duplicate tokens → GGUF005', () => {
  const r = scanFixture(ggufHandler, 'gguf/dup-tokens.gguf');
  assert.ok(r.findings.some((f) => f.code === 'GGUF005' && /1 duplicate/.test(f.message)), JSON.stringify(r.findings));
});

test('huge KV count is an explicit limit, not a hang', () => {
  const r = scanFixture(ggufHandler, 'gguf/huge-count.gguf');
  assert.equal(r.verdict, 'unscannable');
  assert.ok(r.findings.some((f) => f.code === 'GGUF001' && /limit/.test(f.message)));
});

test('truncations of a valid GGUF are never safe', () => {
  const data = fs.readFileSync(path.join(FIXTURES, 'gguf/benign.gguf'));
  for (let cut = 4; cut < data.length; cut += 37) {
    assert.notEqual(scanWith(ggufHandler, new Uint8Array(data.subarray(0, cut))).verdict, 'safe', `cut ${cut}`);
  }
});

test('template review: obfuscations are critical, real templates are clean', () => {
  const crit = (t: string) => reviewChatTemplate(t).some((i) => i.severity === 'critical');
  assert.ok(crit("{{ x|attr('__cla' ~ 'ss__') }}"));
  assert.ok(crit("{{ x[('__cla' + 'ss__')] }}"));
  assert.ok(crit("{{ x|attr(['_','_class_','_']|join) }}"));
  assert.ok(crit("{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}"));
  assert.ok(crit("{{ cycler.__init__.__globals__.os.popen('id').read() }}"));
  assert.ok(crit("{{ self.__dict__ }}"));
  assert.ok(crit("{{ ('__ssalc__'|reverse) }}"));
  const chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  assert.deepEqual(reviewChatTemplate(chatml), []);
  const llama2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
  assert.deepEqual(reviewChatTemplate(llama2), []);
  const hidden = reviewChatTemplate("{{ 'aGVsbG8gd29ybGQgdGhpcyBpcyBhIGhpZGRlbiBwYXlsb2FkIGJsb2IgMTIzNDU2Nzg5MA==' }}{{ 'a\u200bb' }}");
  assert.ok(hidden.some((i) => /base64/.test(i.message)));
  assert.ok(hidden.some((i) => /invisible/.test(i.message)));
});

test('well-known keys with the wrong type are flagged', () => {
  const data = Buffer.from(fs.readFileSync(path.join(FIXTURES, 'gguf/benign.gguf')));
  // general.architecture is the first KV: key len(8) + "general.architecture"(20), then its u32 type (8 = string) → 4 (u32)
  const typeAt = 4 + 4 + 8 + 8 + 8 + 'general.architecture'.length;
  assert.equal(data.readUInt32LE(typeAt), 8);
  data.writeUInt32LE(4, typeAt);
  const r = scanWith(ggufHandler, new Uint8Array(data));
  assert.notEqual(r.verdict, 'safe');
  assert.ok(r.findings.some((f) => f.code === 'GGUF001'), JSON.stringify(r.findings));
});
