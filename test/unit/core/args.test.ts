import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oneOf, parseArgs, UsageError } from '../../../core/cli/args';

test('parseArgs handles values, =, aliases, multi and --', () => {
  const r = parseArgs(['a', '--format', 'json', '--osv-db=x.zip', '--osv-db', 'y', '-o', 'out', '--flag', '--', '--not-a-flag'],
    { '--format': 'string', '--osv-db': 'multi', '--output': 'string', '--flag': 'bool' }, { '-o': '--output' });
  assert.deepEqual(r.positionals, ['a', '--not-a-flag']);
  assert.equal(r.flags['--format'], 'json');
  assert.deepEqual(r.flags['--osv-db'], ['x.zip', 'y']);
  assert.equal(r.flags['--output'], 'out');
  assert.equal(r.flags['--flag'], true);
});

test('unknown flags, missing values and bad choices are usage errors', () => {
  assert.throws(() => parseArgs(['--nope'], {}), UsageError);
  assert.throws(() => parseArgs(['--format'], { '--format': 'string' }), UsageError);
  assert.throws(() => parseArgs(['--flag=1'], { '--flag': 'bool' }), UsageError);
  assert.throws(() => oneOf('--format', 'xml', ['text', 'json'] as const, 'text'), UsageError);
  assert.equal(oneOf('--format', undefined, ['text', 'json'] as const, 'text'), 'text');
});
