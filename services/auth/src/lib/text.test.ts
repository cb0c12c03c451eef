import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { cleanInput, cleanOrThrow } from './text.js';
import { AuthError } from '../errors.js';

test('names: NFC, and control, invisible and direction-changing characters are refused', () => {
  assert.deepEqual(cleanInput({ displayName: 'Ame\u0301lie' }).value, { displayName: 'Amélie' });
  for (const [name, reason] of [
    ['op\u200Badmin', 'invisible'], // zero-width space
    ['op\u200Dadmin', 'invisible'], // zero-width joiner
    ['admin\u202Etxt.exe', 'invisible'], // right-to-left override
    ['\u2066Ada\u2069', 'invisible'], // isolate
    ['Ada\u00AD', 'invisible'], // soft hyphen
    ['\uFEFFAda', 'invisible'], // byte order mark
    ['Ada\u2028Lovelace', 'invisible'], // line separator
    ['\u3164', 'invisible'], // Hangul filler: looks empty
    ['Ada\u0000', 'control'],
    ['Ada\u0007', 'control'],
    ['Ada\u009B', 'control'], // C1 control (CSI)
    ['Ada\nLovelace', 'control'],
    ['Ada\uD800', 'malformed'], // lone high surrogate
    ['\uDC00Ada', 'malformed'], // lone low surrogate
  ] as const) {
    assert.deepEqual(cleanInput({ displayName: name }).problem, { field: 'displayName', reason }, JSON.stringify(name));
  }
  // real text of other scripts and emoji (surrogate pairs) is fine
  for (const ok of ['Zoë Ødegård', 'Łukasz Żółć', '山田 太郎', 'محمد', 'Ada 👷', "O'Brien-Smith"]) {
    assert.equal(cleanInput({ displayName: ok }).problem, undefined, ok);
  }
});

test('every string is checked for controls and lone surrogates, wherever it is; binary passes', () => {
  assert.deepEqual(cleanInput({ profile: { greeting: 'hi\u0000' } }).problem, { field: 'profile.greeting', reason: 'control' });
  assert.deepEqual(cleanInput({ profile: { station: 'L\uD83D' } }).problem, { field: 'profile.station', reason: 'malformed' });
  assert.deepEqual(cleanInput({ q: 'a\u0000' }).problem, { field: 'q', reason: 'control' });
  assert.deepEqual(cleanInput({ list: ['ok', 'x\u0001'] }).problem, { field: 'list.1', reason: 'control' });
  assert.deepEqual(cleanInput({ 'k\u0000': 1 }).problem, { field: 'key', reason: 'control' });
  // invisible characters are refused only where people read them as names
  assert.equal(cleanInput({ ticket: 'a\u200Bb' }).problem, undefined);
  const frame = Buffer.from([0, 1, 2, 0]);
  const r = cleanInput({ seq: 1, image: frame });
  assert.equal(r.problem, undefined);
  assert.equal((r.value as { image: Buffer }).image, frame, 'frames are not copied or changed');
  assert.deepEqual(cleanInput(undefined).value, undefined);
  const sneaky = cleanInput(JSON.parse('{"__proto__": {"role": "admin"}, "a": "b"}')).value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(sneaky), Object.prototype, 'a "__proto__" key stays a plain key');
  assert.equal((sneaky as { role?: string }).role, undefined);
  assert.throws(
    () => cleanOrThrow({ displayName: 'a\u0000' }),
    (e: unknown) => e instanceof AuthError && e.code === ErrorCode.INVALID_CHARACTERS && e.statusCode === 400,
  );
});
