import { test } from 'node:test';
import assert from 'node:assert/strict';
import { descriptorDistance, MATCH_THRESHOLDS } from './vision.js';

test('descriptorDistance is the Euclidean distance', () => {
  assert.equal(descriptorDistance([0, 0, 0], [3, 4, 0]), 5);
  assert.equal(descriptorDistance(new Float32Array([1, 2]), [1, 2]), 0);
  const a = Array.from({ length: 128 }, (_, i) => Math.sin(i));
  const b = Array.from({ length: 128 }, (_, i) => Math.cos(i));
  assert.equal(descriptorDistance(a, b), descriptorDistance(b, a));
});

test('descriptorDistance refuses descriptors of different lengths', () => {
  assert.throws(() => descriptorDistance([1, 2], [1, 2, 3]), RangeError);
});

test('identification is at least as strict as verification', () => {
  assert.ok(MATCH_THRESHOLDS.identify <= MATCH_THRESHOLDS.verify);
  assert.ok(MATCH_THRESHOLDS.identifyMargin > 0);
});
