import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from './errors.js';
import { STATUS_BY_CODE, clientDetails, statusOfCode } from './http-status.js';

test('every error code has an HTTP status, unknown codes answer 500', () => {
  for (const code of Object.values(ErrorCode)) assert.ok(STATUS_BY_CODE[code] >= 400 && STATUS_BY_CODE[code] < 600, code);
  assert.equal(statusOfCode(ErrorCode.IMAGE_CORRUPT), 422);
  assert.equal(statusOfCode(ErrorCode.NO_FACE), 400);
  assert.equal(statusOfCode('SOMETHING_NEW'), 500);
  assert.equal(statusOfCode('toString'), 500);
});

test('5xx answers carry no details', () => {
  assert.deepEqual(clientDetails(409, { a: 1 }), { a: 1 });
  assert.equal(clientDetails(503, { queued: 4 }), undefined);
});
