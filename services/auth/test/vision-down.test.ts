/**
 * Auth without vision (every edge site offline in a hybrid cluster): it stays ready, so the
 * Service keeps routing to it; JWKS, sessions and token refresh keep working; face flows answer
 * RECOGNITION_UNAVAILABLE (retryable); vision's state shows as a metric and a /readyz field.
 * (Before: /readyz was 503 whenever no vision address answered, so every auth pod left the
 * Ingress and relying applications got 503 for the JWKS.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ErrorCode } from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';
import { createStore, signInWithoutFace, startReplica, type Replica, type Store } from './support/auth.js';
import { ask, connect, cookieHeader, data, errorCode, http, photo, variant } from './support/client.js';
import { startVision, type ChildService } from './support/vision.js';

async function visionGauge(r: Replica): Promise<number> {
  const text = await fetch(`${r.url}/metrics`).then((res) => res.text());
  const m = /^faceline_auth_vision_ready (\d+)/m.exec(text);
  assert.ok(m, 'the metric is exported');
  return Number(m[1]);
}

describe('auth while vision is stopped', { timeout: 300_000 }, () => {
  let vision: ChildService;
  let store: Store;
  let r: Replica;
  let cookie: string;

  before(async () => {
    requireFaces();
    [vision, store] = await Promise.all([startVision(), createStore('postgres')]);
    r = await startReplica(store, vision.url, { liveness: false });
    const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'shift', displayName: 'Shift Lead' } });
    cookie = await signInWithoutFace(r, reg.json.user.id);
  });
  after(async () => {
    await r?.stop().catch(() => undefined);
    await vision?.stop();
    await store?.drop();
  });

  test('with vision up: ready, vision reported ok, gauge 1', async () => {
    await r.ctx.visionHealth.probe();
    const ready = await http(r.url, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual([ready.json.checks.database, ready.json.checks.keys, ready.json.checks.vision], ['ok', 'ok', 'ok']);
    assert.equal(await visionGauge(r), 1);
  });

  test('vision stopped: still ready, vision reported unavailable, gauge 0; JWKS, refresh and the session keep working', async () => {
    assert.equal(await vision.stop(), 0);
    assert.equal(await r.ctx.visionHealth.probe(), 'unavailable');
    const ready = await http(r.url, 'GET', '/readyz');
    assert.equal(ready.status, 200, 'the replica stays in the Service');
    assert.equal(ready.json.status, 'ok');
    assert.deepEqual([ready.json.checks.database, ready.json.checks.keys, ready.json.checks.vision], ['ok', 'ok', 'unavailable']);
    assert.equal(await visionGauge(r), 0);

    const jwks = await http(r.url, 'GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.ok(jwks.json.keys.length >= 1);

    const refreshed = await http(r.url, 'POST', '/api/v1/sessions/refresh', { cookie, headers: { origin: r.url } });
    assert.equal(refreshed.status, 200, refreshed.text);
    const { payload } = await jwtVerify(refreshed.json.accessToken, createRemoteJWKSet(new URL(`${r.url}/.well-known/jwks.json`)), {
      issuer: 'faceline',
      audience: 'faceline',
    });
    assert.equal(payload.username, 'shift');
    const me = await http(r.url, 'GET', '/api/v1/me', { cookie: cookieHeader(refreshed.setCookies) });
    assert.equal(me.status, 200);
  });

  test('vision stopped: a face login answers RECOGNITION_UNAVAILABLE (retryable) and the flow goes on', async () => {
    const s = await connect(r.url);
    try {
      data(await ask(s, 'login:start', { mode: 'identify' }));
      const frame = await ask(s, 'login:frame', { seq: 1, image: photo('face_recognition/barack_obama/obama3.jpg') });
      assert.equal(errorCode(frame), ErrorCode.RECOGNITION_UNAVAILABLE);
      assert.equal('error' in frame && frame.error.retryable, true);
      const next = await ask(s, 'login:frame', { seq: 2, image: variant(photo('face_recognition/barack_obama/obama3.jpg'), 1) });
      assert.equal(errorCode(next), ErrorCode.RECOGNITION_UNAVAILABLE, 'the login is still running: a later frame may succeed');
    } finally {
      s.disconnect();
    }
  });
});
