import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { readEnv } from './env.js';

const range = { min: 0, max: 100_000 };

test('integers: decimal spellings of a whole number, nothing else', () => {
  const env = readEnv({ A: '1000', B: '1e3', C: ' 1000.0 ', D: '1e+4', E: '0x10', F: '12px', G: 'Infinity', H: '1.5' });
  assert.deepEqual(
    [env.int('A', 0, range), env.int('B', 0, range), env.int('C', 0, range), env.int('D', 0, range)],
    [1000, 1000, 1000, 10_000],
  );
  assert.deepEqual([env.int('E', 7, range), env.int('F', 7, range), env.int('G', 7, range), env.int('H', 7, range)], [7, 7, 7, 7]);
  assert.deepEqual(
    env.problems.map((p) => p.split(' ')[0]),
    ['E', 'F', 'G', 'H'],
  );
  assert.match(env.problems[0]!, /^E must be an integer between 0 and 100000, got "0x10"$/);
});

test('numbers and ranges', () => {
  const env = readEnv({ A: '2.5', B: '-1', C: '100001' });
  assert.equal(env.number('A', 0, range), 2.5);
  assert.equal(env.int('B', 3, range), 3);
  assert.equal(env.int('C', 3, range), 3);
  assert.equal(env.problems.length, 2);
});

test('empty and blank values are unset: the default applies', () => {
  const env = readEnv({ A: '', B: '   ', C: '' });
  assert.equal(env.int('A', 5, range), 5);
  assert.equal(env.str('B'), undefined);
  assert.equal(env.bool('C', true), true);
  assert.equal(env.optionalInt('A', range), undefined);
  assert.deepEqual(env.problems, []);
});

test('booleans', () => {
  const env = readEnv({ A: 'YES', B: 'off', C: '1', D: '0', E: 'maybe' });
  assert.deepEqual(
    [env.bool('A', false), env.bool('B', true), env.bool('C', false), env.bool('D', true), env.bool('E', true)],
    [true, false, true, false, true],
  );
  assert.deepEqual(env.problems, ['E must be true or false, got "maybe"']);
});

test('enums name every allowed value', () => {
  const env = readEnv({ MODE: 'cluster', OK: 'hub' });
  assert.equal(env.enum('OK', ['single', 'hub', 'site'], 'single'), 'hub');
  assert.equal(env.enum('MODE', ['single', 'hub', 'site'], 'single'), 'single');
  assert.deepEqual(env.problems, ['MODE must be single, hub or site, got "cluster"']);
});

test('durations: a whole number in the unit, or with its own unit', () => {
  const env = readEnv({ A: '5000', B: '5s', C: '1.5m', D: '2h', E: '250ms', F: '5 parsecs', G: '1.5' });
  const r = { min: 0, max: 10 * 3_600_000, unit: 'ms' as const };
  assert.deepEqual(
    [env.duration('A', 0, r), env.duration('B', 0, r), env.duration('C', 0, r), env.duration('D', 0, r), env.duration('E', 0, r)],
    [5000, 5000, 90_000, 7_200_000, 250],
  );
  assert.equal(env.duration('A', 0, { ...r, unit: 's' }), 5_000_000);
  assert.equal(env.duration('F', 1, r), 1);
  assert.equal(env.duration('G', 1, r), 1);
  assert.equal(env.problems.length, 2);
});

test('URLs and lists', () => {
  const env = readEnv({ U: 'http://a:1/', O: 'https://b/x/y', BAD: 'ftp://c', L: ' a, ,b ,' });
  assert.equal(env.url('U', { example: 'http://x' }), 'http://a:1');
  assert.equal(env.url('O', { example: 'http://x', origin: true }), 'https://b');
  assert.equal(env.url('BAD', { example: 'http://x' }), undefined);
  assert.deepEqual(env.list('L'), ['a', 'b']);
  assert.equal(env.list('NONE'), undefined);
  assert.deepEqual(env.problems, ['BAD must be an http(s) URL such as http://x, got "ftp://c"']);
});

test('secrets come from VAR or VAR_FILE, never both', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faceline-env-'));
  writeFileSync(path.join(dir, 'key'), 's3cret\n');
  writeFileSync(path.join(dir, 'empty'), '\n');
  const env = readEnv({
    A: 'plain',
    B_FILE: path.join(dir, 'key'),
    C: 'x',
    C_FILE: path.join(dir, 'key'),
    D_FILE: path.join(dir, 'empty'),
    E_FILE: path.join(dir, 'missing'),
  });
  assert.equal(env.secret('A'), 'plain');
  assert.equal(env.secret('B'), 's3cret');
  assert.equal(env.secret('C'), 's3cret');
  assert.equal(env.secret('D'), undefined);
  assert.equal(env.secret('E'), undefined);
  assert.equal(env.problems.length, 3);
  assert.match(env.problems[0]!, /set either C or C_FILE, not both/);
  assert.match(env.problems[1]!, /D_FILE names an empty file/);
  assert.match(env.problems[2]!, /E_FILE names a file that cannot be read \(.*missing: ENOENT\)/);
});

test('done() throws one ConfigError with every problem', () => {
  const env = readEnv({ A: 'x', B: 'y' });
  env.int('A', 0, range);
  env.bool('B', false);
  env.problem('A and B disagree');
  assert.throws(
    () => env.done(),
    (err: unknown) =>
      err instanceof ConfigError && err.problems.length === 3 && /invalid configuration:\n {2}- A must be/.test(err.message),
  );
  assert.doesNotThrow(() => readEnv({}).done());
});
