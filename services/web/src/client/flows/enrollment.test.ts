import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EnrollFrameResult, User } from '@faceline/contracts';
import { enrollProgress, enrollReducer, enrollWantsFrames, initialEnrollState, type EnrollEvent, type EnrollState } from './enrollment.js';

const user: User = {
  id: '0f0e0d0c-0b0a-4000-8000-000000000001',
  username: 'ada',
  displayName: 'Ada',
  role: 'user',
  createdAt: '2026-01-01T00:00:00Z',
  enrolled: true,
  templateCount: 3,
};
const started = { enrollmentId: 'e1', capturesRequired: 3, steps: 0, timeLimitMs: 60_000, expiresAt: '2026-01-01T00:01:00Z' };
const frame = (seq: number, accepted: number, extra: Partial<EnrollFrameResult> = {}): EnrollEvent => ({
  type: 'FRAME',
  result: { seq, accepted: false, feedback: ['GOOD'], capturesAccepted: accepted, capturesRequired: 3, completed: false, ...extra },
});
const run = (events: EnrollEvent[], from: EnrollState = initialEnrollState) => events.reduce(enrollReducer, from);
const toCapturing: EnrollEvent[] = [{ type: 'START' }, { type: 'CAMERA_READY' }, { type: 'STARTED', started }];

describe('enrollment flow', () => {
  it('walks camera → connecting → capturing → finishing → done', () => {
    let s = run([{ type: 'START' }]);
    assert.equal(s.phase, 'camera');
    assert.equal(enrollWantsFrames(s), false);
    s = run([{ type: 'CAMERA_READY' }], s);
    assert.equal(s.phase, 'connecting');
    s = run([{ type: 'STARTED', started }], s);
    assert.equal(s.phase, 'capturing');
    assert.equal(enrollWantsFrames(s), true);
    s = run([frame(1, 1, { accepted: true, feedback: ['CAPTURED'] }), frame(2, 2)], s);
    assert.equal(s.phase === 'capturing' && s.accepted, 2);
    assert.equal(Math.round(enrollProgress(s) * 100), 67);
    s = run([frame(3, 3, { completed: true })], s);
    assert.equal(s.phase, 'finishing');
    assert.equal(enrollWantsFrames(s), false);
    s = run([{ type: 'RESULT', result: { ok: true, enrollmentId: 'e1', user, templateCount: 3 } }], s);
    assert.deepEqual(s, { phase: 'done', user, templateCount: 3 });
    assert.equal(enrollProgress(s), 1);
  });

  it('keeps the feedback of the latest frame for the hints and ignores stale acknowledgements', () => {
    let s = run([...toCapturing, frame(5, 0, { feedback: ['TOO_DARK', 'BLURRY'] })]);
    assert.deepEqual(s.phase === 'capturing' && s.feedback, ['TOO_DARK', 'BLURRY']);
    s = run([frame(4, 0, { feedback: ['GOOD'] })], s);
    assert.deepEqual(s.phase === 'capturing' && s.feedback, ['TOO_DARK', 'BLURRY']);
  });

  it('a camera that cannot open ends in a camera problem', () => {
    const s = run([{ type: 'START' }, { type: 'CAMERA_FAILED', problem: 'denied' }]);
    assert.deepEqual(s, { phase: 'failed', problem: { kind: 'camera', camera: 'denied' } });
  });

  it('one refused frame (too fast, repeated) does not end the enrollment; a real refusal does', () => {
    let s = run([...toCapturing, { type: 'FRAME_REFUSED', error: { code: 'RATE_LIMITED', message: '' } }]);
    assert.equal(s.phase, 'capturing');
    assert.deepEqual(s.phase === 'capturing' && s.feedback, ['SLOW_DOWN']);
    s = run([{ type: 'FRAME_REFUSED', error: { code: 'FRAME_REPLAYED', message: '' } }], s);
    assert.equal(s.phase, 'capturing');
    s = run([{ type: 'FRAME_REFUSED', error: { code: 'RECOGNITION_UNAVAILABLE', message: '', retryable: true } }], s);
    assert.equal(s.phase, 'failed');
    assert.equal(s.phase === 'failed' && s.problem.kind === 'server' && s.problem.code, 'RECOGNITION_UNAVAILABLE');
  });

  it('a refused enrollment (e.g. face already enrolled) shows that code', () => {
    const s = run([
      ...toCapturing,
      frame(1, 3, { completed: true }),
      { type: 'RESULT', result: { ok: false, enrollmentId: 'e1', error: { code: 'FACE_ALREADY_ENROLLED', message: 'x' } } },
    ]);
    assert.deepEqual(s, {
      phase: 'failed',
      problem: { kind: 'server', code: 'FACE_ALREADY_ENROLLED', retryable: undefined, details: undefined },
    });
  });

  it('ignores results of another enrollment and events in the wrong phase', () => {
    const s = run([...toCapturing, { type: 'RESULT', result: { ok: true, enrollmentId: 'other', user, templateCount: 3 } }]);
    assert.equal(s.phase, 'capturing');
    assert.equal(run([frame(1, 1)]).phase, 'idle');
    assert.equal(run([{ type: 'STARTED', started }]).phase, 'idle');
  });

  it('no result by the time limit ends the enrollment as expired', () => {
    const s = run([...toCapturing, frame(1, 1), { type: 'EXPIRED' }]);
    assert.equal(s.phase === 'failed' && s.problem.kind === 'server' && s.problem.code, 'CHALLENGE_EXPIRED');
    assert.equal(run([{ type: 'EXPIRED' }]).phase, 'idle');
  });

  it('losing the connection fails the attempt; RETRY starts over; done stays done on late errors', () => {
    const failed = run([...toCapturing, { type: 'FAILED', problem: { kind: 'client', code: 'DISCONNECTED' } }]);
    assert.equal(failed.phase, 'failed');
    assert.equal(run([{ type: 'RETRY' }], failed).phase, 'idle');
    assert.equal(run([{ type: 'START' }], failed).phase, 'camera');
    const done: EnrollState = { phase: 'done', user, templateCount: 3 };
    assert.equal(run([{ type: 'FAILED', problem: { kind: 'client', code: 'DISCONNECTED' } }], done), done);
  });

  it('keeps the face box of the latest frame for the overlay, and drops it when a frame has none', () => {
    let s = run(toCapturing);
    s = run([frame(1, 0, { box: { x: 1, y: 2, width: 150, height: 160 }, frameSize: { width: 480, height: 480 } })], s);
    assert.deepEqual(s.phase === 'capturing' && s.face, {
      box: { x: 1, y: 2, width: 150, height: 160 },
      frameSize: { width: 480, height: 480 },
    });
    s = run([frame(2, 0, { feedback: ['MULTIPLE_FACES'] })], s);
    assert.equal(s.phase === 'capturing' && s.face, undefined);
  });

  it('with liveness: shows the step the server pushes, counts it in the progress, and goes back to holding still', () => {
    let s = run([{ type: 'START' }, { type: 'CAMERA_READY' }, { type: 'STARTED', started: { ...started, steps: 2 } }]);
    s = run([frame(1, 3, { feedback: ['CAPTURED', 'HOLD_STILL'] })], s);
    assert.equal(Math.round(enrollProgress(s) * 100), 60, '3 of 3 captures and 0 of 2 steps');
    s = run([{ type: 'CHALLENGE', event: { loginId: 'e1', index: 0, step: 'BLINK', completed: 0, total: 2 } }], s);
    assert.equal(s.phase === 'capturing' && s.current, 'BLINK');
    s = run([{ type: 'CHALLENGE', event: { loginId: 'other', index: 1, step: 'TURN_LEFT', completed: 1, total: 2 } }], s);
    assert.equal(s.phase === 'capturing' && s.current, 'BLINK', 'a push for another flow is ignored');
    s = run([frame(2, 3, { feedback: ['STEP_DONE', 'LOOK_STRAIGHT'] })], s);
    assert.equal(s.phase === 'capturing' && s.current, null);
    assert.equal(Math.round(enrollProgress(s) * 100), 80);
  });
});
