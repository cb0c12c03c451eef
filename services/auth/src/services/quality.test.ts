import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedbackCode, type Face } from '@faceline/contracts';
import { assessFaces } from './quality.js';

const rules = { minFaceSizePx: 112, minSharpness: 20, minBrightness: 40, maxFrontalAngle: 20 };
const face = (over: Partial<Face['quality']> = {}): Face => ({
  box: { x: 0, y: 0, width: 200, height: 200 },
  score: 0.9,
  landmarks: [],
  quality: { faceSizePx: 200, sharpness: 100, brightness: 120, yaw: 0, pitch: 0, roll: 0, eyeOpenness: { left: 0.3, right: 0.3 }, ...over },
  embedding: new Array(128).fill(0.01),
});

test('quality gates turn the vision report into specific feedback', () => {
  assert.deepEqual(assessFaces([], rules, { requireFrontal: true }).problems, [FeedbackCode.NO_FACE]);
  assert.deepEqual(assessFaces([face(), face()], rules, { requireFrontal: true }).problems, [FeedbackCode.MULTIPLE_FACES]);
  assert.deepEqual(assessFaces([face()], rules, { requireFrontal: true }).problems, []);
  assert.deepEqual(assessFaces([face({ faceSizePx: 90 })], rules, { requireFrontal: true }).problems, [FeedbackCode.MOVE_CLOSER]);
  assert.deepEqual(assessFaces([face({ brightness: 20 })], rules, { requireFrontal: true }).problems, [FeedbackCode.TOO_DARK]);
  assert.deepEqual(assessFaces([face({ sharpness: 5 })], rules, { requireFrontal: true }).problems, [FeedbackCode.BLURRY]);
  assert.deepEqual(assessFaces([face({ yaw: 30 })], rules, { requireFrontal: true }).problems, [FeedbackCode.LOOK_STRAIGHT]);
  assert.deepEqual(assessFaces([face({ pitch: -25 })], rules, { requireFrontal: true }).problems, [FeedbackCode.LOOK_STRAIGHT]);
  assert.deepEqual(assessFaces([face({ yaw: 30 })], rules, { requireFrontal: false }).problems, []);
  assert.deepEqual(assessFaces([face({ faceSizePx: 50, brightness: 10 })], rules, { requireFrontal: true }).problems, [
    FeedbackCode.MOVE_CLOSER,
    FeedbackCode.TOO_DARK,
  ]);
});
