import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoginFrameResult, LoginStarted, Profile, User } from '@faceline/contracts';
import { initialLoginState, loginInstruction, loginReducer, loginWantsFrames, type LoginEvent, type LoginState } from './login.js';

const user: User = {
  id: '0f0e0d0c-0b0a-4000-8000-000000000002',
  username: 'bo',
  displayName: 'Bo',
  role: 'user',
  createdAt: '2026-01-01T00:00:00Z',
  enrolled: true,
  templateCount: 3,
};
const profile: Profile = { station: 'Line 4' };
const started = (extra: Partial<LoginStarted> = {}): LoginEvent => ({
  type: 'STARTED',
  started: { loginId: 'l1', mode: 'verify', liveness: true, steps: 2, timeLimitMs: 20_000, expiresAt: '2026-01-01T00:00:20Z', ...extra },
});
const frame = (seq: number, extra: Partial<LoginFrameResult> = {}): LoginEvent => ({
  type: 'FRAME',
  result: { seq, feedback: ['GOOD'], step: 0, stepsCompleted: 0, status: 'continue', ...extra },
});
const run = (events: LoginEvent[], from: LoginState = initialLoginState) => events.reduce(loginReducer, from);
const toScanning = (extra: Partial<LoginStarted> = {}): LoginEvent[] => [{ type: 'START' }, { type: 'CAMERA_READY' }, started(extra)];

describe('login flow', () => {
  it('hold still, each step when the server shows it, then the grant is exchanged for a session', () => {
    let s = run(toScanning());
    assert.equal(s.phase, 'scanning');
    assert.equal(loginWantsFrames(s), true);
    assert.deepEqual(loginInstruction(s), { kind: 'feedback', code: 'LOOK_STRAIGHT' });
    s = run([frame(1, { feedback: ['HOLD_STILL'] })], s);
    assert.deepEqual(loginInstruction(s), { kind: 'feedback', code: 'HOLD_STILL' });
    // the prompt comes as a push, at a moment only the server chooses
    s = run([{ type: 'CHALLENGE', event: { loginId: 'l1', index: 0, step: 'TURN_LEFT', completed: 0, total: 2 } }], s);
    assert.deepEqual(loginInstruction(s), { kind: 'step', step: 'TURN_LEFT', index: 0, total: 2 });
    s = run([frame(2, { step: 1, stepsCompleted: 1, feedback: ['STEP_DONE', 'LOOK_STRAIGHT'] })], s);
    assert.deepEqual(
      loginInstruction(s),
      { kind: 'feedback', code: 'LOOK_STRAIGHT' },
      'back to holding still until the next step is shown',
    );
    s = run([{ type: 'CHALLENGE', event: { loginId: 'l1', index: 1, step: 'BLINK', completed: 1, total: 2 } }], s);
    assert.deepEqual(loginInstruction(s), { kind: 'step', step: 'BLINK', index: 1, total: 2 });
    s = run([frame(3, { step: 2, stepsCompleted: 2, status: 'succeeded' })], s);
    assert.equal(s.phase, 'verifying');
    assert.equal(loginWantsFrames(s), false);
    s = run(
      [
        {
          type: 'RESULT',
          result: {
            ok: true,
            loginId: 'l1',
            mode: 'verify',
            user,
            profile,
            grant: 'g'.repeat(32),
            grantExpiresAt: '2026-01-01T00:01:00Z',
            liveness: true,
          },
        },
      ],
      s,
    );
    assert.equal(s.phase, 'signing-in');
    s = run([{ type: 'SIGNED_IN', user, profile }], s);
    assert.deepEqual(s, { phase: 'success', user, profile, liveness: true });
  });

  it('an administrator asked for a passkey confirms it before the session exists; a failed prompt ends the attempt', () => {
    const result: LoginEvent = {
      type: 'RESULT',
      result: {
        ok: true,
        loginId: 'l1',
        mode: 'verify',
        user,
        profile,
        grant: 'g'.repeat(32),
        grantExpiresAt: '2026-01-01T00:01:00Z',
        liveness: false,
      },
    };
    const signingIn = run([...toScanning({ liveness: false, steps: 0 }), frame(1, { status: 'succeeded' }), result]);
    assert.equal(signingIn.phase, 'signing-in');
    const confirming = run([{ type: 'STEP_UP' }], signingIn);
    assert.equal(confirming.phase, 'confirming');
    assert.equal(confirming.phase === 'confirming' && confirming.grant, 'g'.repeat(32), 'the same grant is posted again with the passkey');
    assert.equal(loginWantsFrames(confirming), false);
    assert.deepEqual(run([{ type: 'SIGNED_IN', user, profile }], confirming), { phase: 'success', user, profile, liveness: false });
    const cancelled = run([{ type: 'FAILED', problem: { kind: 'client', code: 'PASSKEY_FAILED' } }], confirming);
    assert.deepEqual(cancelled, { phase: 'failed', problem: { kind: 'client', code: 'PASSKEY_FAILED' } });
    assert.equal(run([{ type: 'STEP_UP' }], run(toScanning())).phase, 'scanning', 'no step-up before there is a grant');
  });

  it('picture problems come before the challenge step in the instruction', () => {
    const s = run([
      ...toScanning(),
      { type: 'CHALLENGE', event: { loginId: 'l1', index: 0, step: 'BLINK', completed: 0, total: 2 } },
      frame(1, { feedback: ['TOO_DARK'] }),
    ]);
    assert.deepEqual(loginInstruction(s), { kind: 'feedback', code: 'TOO_DARK' });
  });

  it('without liveness there are no steps to show', () => {
    const s = run([...toScanning({ liveness: false, steps: 0 }), frame(1)]);
    assert.deepEqual(loginInstruction(s), { kind: 'feedback', code: 'GOOD' });
  });

  it('challenge pushes move the step forward but never back', () => {
    let s = run([...toScanning(), { type: 'CHALLENGE', event: { loginId: 'l1', index: 1, step: 'BLINK', completed: 1, total: 2 } }]);
    assert.equal(s.phase === 'scanning' && s.step, 1);
    s = run([{ type: 'CHALLENGE', event: { loginId: 'l1', index: 0, step: 'TURN_LEFT', completed: 0, total: 2 } }], s);
    assert.equal(s.phase === 'scanning' && s.step, 1);
    s = run([{ type: 'CHALLENGE', event: { loginId: 'other', index: 2, step: null, completed: 2, total: 2 } }], s);
    assert.equal(s.phase === 'scanning' && s.stepsCompleted, 1);
  });

  it('a photo held up: liveness failure is shown with its code', () => {
    const s = run([
      ...toScanning(),
      frame(1, { status: 'failed' }),
      { type: 'RESULT', result: { ok: false, loginId: 'l1', mode: 'verify', error: { code: 'LIVENESS_FAILED', message: 'x' } } },
    ]);
    assert.equal(s.phase === 'failed' && s.problem.kind === 'server' && s.problem.code, 'LIVENESS_FAILED');
  });

  it('another person: FACE_MISMATCH; locked out: the details with the remaining time are kept', () => {
    const mismatch = run([
      ...toScanning(),
      { type: 'RESULT', result: { ok: false, loginId: 'l1', mode: 'verify', error: { code: 'FACE_MISMATCH', message: 'x' } } },
    ]);
    assert.equal(mismatch.phase === 'failed' && mismatch.problem.kind === 'server' && mismatch.problem.code, 'FACE_MISMATCH');
    const locked = run([
      { type: 'START' },
      { type: 'CAMERA_READY' },
      { type: 'FAILED', problem: { kind: 'server', code: 'BACKOFF', details: { retryAfterMs: 30_000 } } },
    ]);
    assert.deepEqual(locked, { phase: 'failed', problem: { kind: 'server', code: 'BACKOFF', details: { retryAfterMs: 30_000 } } });
  });

  it('single refused frames are survivable, the rest ends the attempt', () => {
    let s = run([...toScanning(), { type: 'FRAME_REFUSED', error: { code: 'FRAME_REPLAYED', message: '' } }]);
    assert.equal(s.phase, 'scanning');
    s = run([{ type: 'FRAME_REFUSED', error: { code: 'CHALLENGE_EXPIRED', message: '' } }], s);
    assert.equal(s.phase === 'failed' && s.problem.kind === 'server' && s.problem.code, 'CHALLENGE_EXPIRED');
  });

  it('stale frames and results of another login are ignored; success ignores late errors', () => {
    let s = run([...toScanning(), frame(5, { stepsCompleted: 1, step: 1 }), frame(3, { stepsCompleted: 0, step: 0 })]);
    assert.equal(s.phase === 'scanning' && s.stepsCompleted, 1);
    s = run([{ type: 'RESULT', result: { ok: false, loginId: 'zzz', mode: 'verify', error: { code: 'FACE_MISMATCH', message: '' } } }], s);
    assert.equal(s.phase, 'scanning');
    const ok: LoginState = { phase: 'success', user, profile, liveness: true };
    assert.equal(run([{ type: 'FAILED', problem: { kind: 'client', code: 'DISCONNECTED' } }], ok), ok);
    assert.equal(run([{ type: 'RETRY' }], ok).phase, 'idle');
  });

  it('no answer by the time limit ends the attempt as expired; after success it changes nothing', () => {
    const s = run([...toScanning(), frame(1), { type: 'EXPIRED' }]);
    assert.equal(s.phase === 'failed' && s.problem.kind === 'server' && s.problem.code, 'CHALLENGE_EXPIRED');
    const ok: LoginState = { phase: 'success', user, profile, liveness: true };
    assert.equal(run([{ type: 'EXPIRED' }], ok), ok);
  });

  it('camera denied ends in the camera problem', () => {
    assert.deepEqual(run([{ type: 'START' }, { type: 'CAMERA_FAILED', problem: 'denied' }]), {
      phase: 'failed',
      problem: { kind: 'camera', camera: 'denied' },
    });
  });

  it('keeps the face box of the latest frame for the overlay, and drops it when a frame has none', () => {
    let s = run(toScanning());
    s = run([frame(1, { box: { x: 10, y: 20, width: 100, height: 120 }, frameSize: { width: 640, height: 480 } })], s);
    assert.equal(s.phase, 'scanning');
    assert.deepEqual(s.phase === 'scanning' && s.face, {
      box: { x: 10, y: 20, width: 100, height: 120 },
      frameSize: { width: 640, height: 480 },
    });
    s = run([frame(2, { feedback: ['NO_FACE'] })], s);
    assert.equal(s.phase === 'scanning' && s.face, undefined);
  });
});
