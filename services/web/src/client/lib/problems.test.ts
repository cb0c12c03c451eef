import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LANGUAGES } from '../i18n/index.js';
import { describeProblem, formatDuration, retryAfter } from './problems.js';
import { problemFromResponse } from './api.js';
import { classifyCameraError } from './camera.js';

const { en, de } = LANGUAGES;
const now = Date.parse('2026-01-01T12:00:00Z');

describe('problems', () => {
  it('locked out: says how long, in both languages, and offers to wait', () => {
    const p = { kind: 'server' as const, code: 'BACKOFF', details: { retryAfterMs: 90_000 } };
    const d = describeProblem(p, en, now);
    assert.equal(d.next, 'wait');
    assert.equal(d.retryAfterMs, 90_000);
    assert.match(d.message, /Try again in 2 min\./);
    assert.match(describeProblem(p, de, now).message, /In 2 min erneut versuchen\./);
  });

  it('account locked until a time: remaining time from lockedUntil; without a time: ask an admin', () => {
    const until = new Date(now + 45_000).toISOString();
    const timed = describeProblem({ kind: 'server', code: 'ACCOUNT_LOCKED', details: { lockedUntil: until } }, en, now);
    assert.equal(timed.next, 'wait');
    assert.match(timed.message, /45 s/);
    const admin = describeProblem({ kind: 'server', code: 'ACCOUNT_LOCKED' }, en, now);
    assert.equal(admin.next, 'contact-admin');
    assert.match(admin.message, /administrator/);
  });

  it('recognition down, liveness failed, unknown face, expired session get their own way forward', () => {
    assert.equal(
      describeProblem({ kind: 'server', code: 'RECOGNITION_UNAVAILABLE' }, en).title,
      'Face recognition temporarily unavailable',
    );
    assert.equal(describeProblem({ kind: 'server', code: 'LIVENESS_FAILED' }, en).next, 'retry');
    assert.equal(describeProblem({ kind: 'server', code: 'FACE_UNKNOWN' }, en).next, 'register');
    assert.equal(describeProblem({ kind: 'server', code: 'TOKEN_EXPIRED' }, en).next, 'sign-in');
    assert.equal(describeProblem({ kind: 'client', code: 'NETWORK' }, de).title, 'Server nicht erreichbar');
  });

  it('a code the app does not know yet falls back to a generic message instead of nothing', () => {
    const d = describeProblem({ kind: 'server', code: 'SOMETHING_NEW' }, en);
    assert.equal(d.title, en.clientErrors.UNKNOWN.title);
  });

  it('retryAfter ignores past times and nonsense', () => {
    assert.equal(retryAfter({ lockedUntil: new Date(now - 1000).toISOString() }, now), undefined);
    assert.equal(retryAfter({ retryAfterMs: -5 }, now), undefined);
    assert.equal(retryAfter({ retryAfterMs: 'x' }, now), undefined);
    assert.equal(retryAfter({ retryAfterSeconds: 3 }, now), 3000);
    assert.equal(retryAfter(undefined, now), undefined);
  });

  it('durations round up so a countdown never shows zero while waiting', () => {
    assert.equal(formatDuration(1, en), '1 s');
    assert.equal(formatDuration(59_001, en), '1 min');
    assert.equal(formatDuration(3_600_001, en), '2 h');
  });

  it('HTTP answers: our error body wins; a bare gateway error means the server is unreachable', () => {
    assert.deepEqual(problemFromResponse(423, { error: { code: 'ACCOUNT_LOCKED', message: 'x', details: { retryAfterMs: 5 } } }), {
      kind: 'server',
      code: 'ACCOUNT_LOCKED',
      retryable: undefined,
      details: { retryAfterMs: 5 },
    });
    assert.deepEqual(problemFromResponse(502, null), { kind: 'client', code: 'NETWORK' });
    assert.deepEqual(problemFromResponse(504, '<html>'), { kind: 'client', code: 'NETWORK' });
    assert.deepEqual(problemFromResponse(401, null), { kind: 'server', code: 'UNAUTHENTICATED' });
    assert.deepEqual(problemFromResponse(500, null), { kind: 'client', code: 'UNKNOWN' });
  });

  it('camera errors: each DOMException name maps to the message a person can act on', () => {
    const e = (name: string) => Object.assign(new Error(name), { name });
    assert.equal(classifyCameraError(e('NotAllowedError'), true), 'denied');
    assert.equal(classifyCameraError(e('PermissionDeniedError'), true), 'denied');
    assert.equal(classifyCameraError(e('NotFoundError'), true), 'not-found');
    assert.equal(classifyCameraError(e('OverconstrainedError'), true), 'not-found');
    assert.equal(classifyCameraError(e('NotReadableError'), true), 'in-use');
    assert.equal(classifyCameraError(e('TrackStartError'), true), 'in-use');
    assert.equal(classifyCameraError(e('SecurityError'), false), 'insecure');
    assert.equal(classifyCameraError(e('TypeError'), true), 'unsupported');
    assert.equal(classifyCameraError(e('Weird'), true), 'failed');
  });
});
