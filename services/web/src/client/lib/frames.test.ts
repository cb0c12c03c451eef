import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSequence, delayBeforeNext, frameSize } from './frames.js';
import { arrowFor, toneFor } from './overlay.js';

describe('frames', () => {
  it('scales down to the target width, keeps the aspect ratio, never upscales', () => {
    assert.deepEqual(frameSize(1280, 720, 640), { width: 640, height: 360 });
    assert.deepEqual(frameSize(1920, 1440, 640), { width: 640, height: 480 });
    assert.deepEqual(frameSize(480, 480, 640), { width: 480, height: 480 });
    assert.deepEqual(frameSize(0, 480, 640), { width: 0, height: 0 });
    const odd = frameSize(1001, 777, 640);
    assert.equal(odd.width % 2, 0);
    assert.equal(odd.height % 2, 0);
  });

  it('waits only for what is left of the minimum interval', () => {
    assert.equal(delayBeforeNext(40, 150), 110);
    assert.equal(delayBeforeNext(300, 150), 0);
    assert.equal(delayBeforeNext(10, 0), 0);
  });

  it('sequence numbers strictly increase from the start value', () => {
    const next = createSequence(41);
    assert.deepEqual([next(), next(), next()], [41, 42, 43]);
    const fromClock = createSequence();
    const a = fromClock();
    assert.ok(fromClock() > a && a >= 0);
  });

  it('overlay: colour from the first feedback code; arrows point the way the person turns', () => {
    assert.equal(toneFor([]), 'neutral');
    assert.equal(toneFor(['GOOD']), 'good');
    assert.equal(toneFor(['CAPTURED', 'GOOD']), 'done');
    assert.equal(toneFor(['TOO_DARK']), 'warn');
    assert.equal(arrowFor('TURN_LEFT'), 'left');
    assert.equal(arrowFor('TURN_RIGHT'), 'right');
    assert.equal(arrowFor('BLINK'), null);
  });
});
