import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcParams } from '../../helpers/seed';
import { parseCard } from '../../../core/cards/frontmatter';
import { cardFindings } from '../../../core/cards/rules';
import { cardHover } from '../../../core/cards/hover';
import { normalizeLicense } from '../../../core/licenses/spdx';
import { licenseFromHeaders, parseMetadataHeaders } from '../../../core/licenses/installed';
import { evaluatePolicy } from '../../../core/licenses/policy';
import { LineIndex } from '../../../core/text';
import type { ModelFacts } from '../../../core/cards/model';

const TIME_BOUND_MS = 2000;
const CARD_SEED = '---\nlicense: apache-2.0\nbase_model: [a/b, c/d]\ndatasets:\n- x/y\nmodel-index:\n- name: m\n  results:\n  - metrics: [{type: acc, value: 1}]\n---\n# T\n## Limitations\n';
const META_SEED = 'Name: x\nVersion: 1\nLicense: MIT\n  more\nClassifier: License :: OSI Approved :: BSD License\n\nbody';

/** Mutations of a seed: splices of arbitrary text, YAML/Markdown punctuation and line breaks. */
const mutated = (seed: string) => fc.tuple(fc.nat(seed.length), fc.nat(40), fc.array(fc.constantFrom('-', ':', '\n', ' ', '[', ']', '{', '}', '&a', '*a', '#', '"', "'", '\r', '\t', '|', '>', '---\n', '\u0000', 'é'), { maxLength: 30 }), fc.string({ maxLength: 30 }))
  .map(([at, cut, punct, s]) => seed.slice(0, at) + punct.join('') + s + seed.slice(at + cut));

test('model cards: any text parses without throwing, in bounded time, with ranges inside the text', () => {
  fc.assert(fc.property(fc.oneof(mutated(CARD_SEED), fc.string({ maxLength: 400 })), (text) => {
    const t0 = performance.now();
    const card = parseCard(text);
    const facts = { dir: '/m', names: ['model.safetensors'], card, data: card.data, datasets: [], baseModels: [], tags: [], metrics: [], sections: {} } as unknown as ModelFacts;
    const findings = cardFindings('/m/README.md', facts);
    cardHover(text, { line: 1, character: 2 });
    assert.ok(performance.now() - t0 < TIME_BOUND_MS);
    const li = new LineIndex(text);
    for (const f of findings) {
      assert.ok(f.range.start.line >= 0 && f.range.end.line < li.starts.length, `${f.code} ${JSON.stringify(f.range)}`);
      for (const fix of f.fixes) for (const e of fix.edits) assert.ok(e.range.start.line < li.starts.length);
    }
  }), fcParams({ numRuns: 300 }));
});

test('licenses: normalization, METADATA headers and policy never throw', () => {
  fc.assert(fc.property(fc.oneof(mutated(META_SEED), fc.string({ maxLength: 300 })), fc.string({ maxLength: 60 }), (meta, lic) => {
    const l = normalizeLicense(lic);
    assert.ok(typeof l.display === 'string');
    licenseFromHeaders(parseMetadataHeaders(meta));
    evaluatePolicy(l, { allow: [lic, 'MIT'], deny: [lic, 'GPL-2.0+'] });
  }), fcParams({ numRuns: 300 }));
});
