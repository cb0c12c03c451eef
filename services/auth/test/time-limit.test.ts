/**
 * The time limit ends every flow on the server, whatever frames arrive (repeated frames,
 * none at all). Vision is deliberately unreachable: frames then get RECOGNITION_UNAVAILABLE
 * and the flow goes on, which is exactly the situation in which only the clock can end it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as pause } from 'node:timers/promises';
import { ErrorCode, type EnrollResult, type LoginResult } from '@faceline/contracts';
import { createStore, startReplica, type Replica, type Store } from './support/auth.js';
import { ask, connect, data, errorCode, http, photo } from './support/client.js';

const FRAME = photo('face_recognition/barack_obama/obama.jpg');
const UNREACHABLE_VISION = 'http://127.0.0.1:9';

function resultWithin<T>(socket: { once(e: string, f: (r: T) => void): unknown }, event: string, ms: number): Promise<T | 'timeout'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), ms);
    socket.once(event, (r: T) => {
      clearTimeout(t);
      resolve(r);
    });
  });
}

/**
 * Sends the same frame at a camera's pace until `result` settles (or `max` frames went out):
 * the flow must end on the server's clock while frames still arrive.
 */
async function repeatUntil(result: Promise<unknown>, send: (i: number) => Promise<unknown>, max = 50): Promise<void> {
  let ended = false;
  void result.then(() => (ended = true));
  for (let i = 0; !ended && i < max; i++) {
    await send(i);
    await Promise.race([result, pause(200)]);
  }
}

describe('time limits end flows on the server', { timeout: 120_000 }, () => {
  let store: Store;
  let r: Replica;
  before(async () => {
    store = await createStore('pglite');
    r = await startReplica(store, UNREACHABLE_VISION, { challengeTimeLimitMs: 1000, enrollTimeLimitMs: 1000, liveness: false });
  });
  after(async () => {
    await r?.stop().catch(() => undefined);
    await store?.drop();
  });

  test('a kiosk login that only receives repeated frames ends with CHALLENGE_EXPIRED', async () => {
    const socket = await connect(r.url);
    try {
      data(await ask(socket, 'login:start', { mode: 'identify' }));
      const result = resultWithin<LoginResult>(socket, 'login:result', 4000);
      const first = await ask(socket, 'login:frame', { seq: 1, image: FRAME });
      assert.equal(errorCode(first), ErrorCode.RECOGNITION_UNAVAILABLE);
      // the same frame again and again: each one is a replay, none may keep the flow alive
      await repeatUntil(result, (i) => ask(socket, 'login:frame', { seq: 2 + i, image: FRAME }));
      const r1 = await result;
      assert.notEqual(r1, 'timeout', 'the login must end when its time is up');
      assert.equal((r1 as LoginResult).ok, false);
      assert.equal((r1 as Extract<LoginResult, { ok: false }>).error.code, ErrorCode.CHALLENGE_EXPIRED);
      // frames after the end belong to no flow
      const last = await ask(socket, 'login:frame', { seq: 100, image: FRAME });
      assert.equal(errorCode(last), ErrorCode.FLOW_NOT_STARTED);
      // a new login may start at once on the same connection
      data(await ask(socket, 'login:start', { mode: 'identify' }));
    } finally {
      socket.disconnect();
    }
  });

  test('a login that receives no frame at all ends with CHALLENGE_EXPIRED on a server timer', async () => {
    const socket = await connect(r.url);
    try {
      data(await ask(socket, 'login:start', { mode: 'identify' }));
      const r1 = await resultWithin<LoginResult>(socket, 'login:result', 4000);
      assert.notEqual(r1, 'timeout');
      assert.equal((r1 as Extract<LoginResult, { ok: false }>).error.code, ErrorCode.CHALLENGE_EXPIRED);
    } finally {
      socket.disconnect();
    }
  });

  test('an enrollment that receives only repeated frames ends with CHALLENGE_EXPIRED', async () => {
    const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'timekeeper', displayName: 'Time Keeper' } });
    assert.equal(reg.status, 201, reg.text);
    const socket = await connect(r.url);
    try {
      data(await ask(socket, 'enroll:start', { ticket: reg.json.enrollmentTicket }));
      const result = resultWithin<EnrollResult>(socket, 'enroll:result', 4000);
      await ask(socket, 'enroll:frame', { seq: 0, image: FRAME });
      await repeatUntil(result, (i) => ask(socket, 'enroll:frame', { seq: 1 + i, image: FRAME }));
      const r1 = await result;
      assert.notEqual(r1, 'timeout', 'the enrollment must end when its time is up');
      assert.equal((r1 as Extract<EnrollResult, { ok: false }>).error.code, ErrorCode.CHALLENGE_EXPIRED);
      // the audit log records the refusal
      const events = await r.ctx.users.auditLog({ limit: 10, type: 'enroll.refused' });
      assert.ok(events.events.some((e) => e.code === ErrorCode.CHALLENGE_EXPIRED && e.username === 'timekeeper'));
    } finally {
      socket.disconnect();
    }
  });
});
