import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './api.js';
import { needsReauth, reauthPath, safeNext, stepUpOptions } from './passkeys.js';

describe('passkeys in the browser', () => {
  it('finds the WebAuthn options in a STEP_UP_REQUIRED answer and nowhere else', () => {
    const options = { challenge: 'abc', rpId: 'faceline.example', allowCredentials: [] };
    assert.deepEqual(
      stepUpOptions(new ApiError({ kind: 'server', code: 'STEP_UP_REQUIRED', details: { webauthn: options } }, 403)),
      options,
    );
    assert.equal(
      stepUpOptions(new ApiError({ kind: 'server', code: 'STEP_UP_REQUIRED' }, 403)),
      null,
      'no options: nothing to confirm with',
    );
    assert.equal(stepUpOptions(new ApiError({ kind: 'server', code: 'FORBIDDEN', details: { webauthn: options } }, 403)), null);
    assert.equal(stepUpOptions(new Error('x')), null);
    assert.equal(needsReauth(new ApiError({ kind: 'server', code: 'REAUTH_REQUIRED', details: { maxAgeSeconds: 300 } }, 403)), true);
    assert.equal(needsReauth(new ApiError({ kind: 'server', code: 'STEP_UP_REQUIRED' }, 403)), false);
  });

  it('sends a person to a face login and back, and only ever back to this site', () => {
    const path = reauthPath('ada.l', '/me#passkeys');
    const u = new URL(path, 'http://localhost');
    assert.equal(u.pathname, '/login');
    assert.equal(u.searchParams.get('u'), 'ada.l');
    assert.equal(u.searchParams.get('reauth'), '1');
    assert.equal(safeNext(u.searchParams.get('next')), '/me#passkeys');
    assert.equal(safeNext('/enroll'), '/enroll');
    assert.equal(safeNext('/admin?x=1'), '/admin?x=1');
    for (const evil of ['//evil.test/x', 'https://evil.test/', '/\\evil.test', 'javascript:alert(1)', '', null]) {
      assert.equal(safeNext(evil), null, String(evil));
    }
  });
});
