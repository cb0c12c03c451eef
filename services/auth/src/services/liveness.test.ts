import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChallengeStep, FeedbackCode, type Quality } from '@faceline/contracts';
import { ChallengeTracker, makeChallenge } from './liveness.js';

const rules = { turnDegrees: 15, eyeClosedBelow: 0.19, eyeOpenAbove: 0.23, maxFrontalAngle: 20 };
const q = (yaw: number, eyes = 0.3, pitch = 0): Quality => ({
  faceSizePx: 200, sharpness: 100, brightness: 120, yaw, pitch, roll: 0, eyeOpenness: { left: eyes, right: eyes },
});

test('challenges never repeat a step back to back; a seed fixes the sequence', () => {
  for (let i = 0; i < 200; i++) {
    const c = makeChallenge(4);
    assert.equal(c.length, 4);
    for (let j = 1; j < c.length; j++) assert.notEqual(c[j], c[j - 1]);
  }
  assert.deepEqual(makeChallenge(3, 'x'), makeChallenge(3, 'x'));
  const seen = new Set(Array.from({ length: 50 }, () => makeChallenge(3).join()));
  assert.ok(seen.size > 1, 'unseeded challenges vary');
});

test('turns are judged relative to the frontal baseline, with the vision sign convention', () => {
  const t = new ChallengeTracker([ChallengeStep.TURN_LEFT, ChallengeStep.TURN_RIGHT], rules);
  assert.deepEqual(t.observe(q(35)).feedback, [FeedbackCode.LOOK_STRAIGHT], 'no baseline from a turned head');
  assert.deepEqual(t.observe(q(4)).feedback, [FeedbackCode.TURN_LEFT]);
  assert.equal(t.observe(q(-20)).stepCompleted, false, 'turning right does not complete TURN_LEFT');
  assert.equal(t.observe(q(15)).stepCompleted, false, '11 degrees is not enough');
  const left = t.observe(q(19.5));
  assert.equal(left.stepCompleted, true);
  assert.deepEqual(left.feedback, [FeedbackCode.STEP_DONE, FeedbackCode.TURN_RIGHT]);
  assert.equal(t.observe(q(-5)).stepCompleted, false);
  assert.equal(t.observe(q(-12)).stepCompleted, true);
  assert.equal(t.done, true);
});

test('a blink needs open eyes followed by closed eyes', () => {
  const t = new ChallengeTracker([ChallengeStep.BLINK], rules);
  t.observe(q(0, 0.1)); // baseline with closed eyes (a photo of someone blinking)
  assert.equal(t.observe(q(0, 0.1)).stepCompleted, false, 'eyes never seen open');
  assert.equal(t.observe(q(0, 0.3)).stepCompleted, false);
  assert.equal(t.observe(q(0, 0.2)).stepCompleted, false, 'half-closed is not closed');
  assert.equal(t.observe(q(0, 0.12)).stepCompleted, true);
});

test('a still photo (constant pose and eyes) never completes any challenge', () => {
  for (const steps of [[ChallengeStep.TURN_LEFT], [ChallengeStep.TURN_RIGHT], [ChallengeStep.BLINK]]) {
    const t = new ChallengeTracker(steps, rules);
    for (let i = 0; i < 100; i++) t.observe(q(3, 0.28, -5));
    assert.equal(t.done, false);
    assert.equal(t.step, 0);
  }
});
