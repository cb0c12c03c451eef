import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffSecondsFor } from './brute-force.service.js';

test('back-off starts at the 5th consecutive failure with 30 s and doubles, capped', () => {
  const cfg = { backoffAfter: 5, backoffBaseSeconds: 30, backoffMaxSeconds: 3600 };
  assert.equal(backoffSecondsFor(4, cfg), null);
  assert.equal(backoffSecondsFor(5, cfg), 30);
  assert.equal(backoffSecondsFor(6, cfg), 60);
  assert.equal(backoffSecondsFor(7, cfg), 120);
  assert.equal(backoffSecondsFor(49, cfg), 3600);
});
