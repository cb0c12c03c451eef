/**
 * PostgreSQL goes away and comes back while auth runs: HTTP and Socket.IO answer
 * DATABASE_UNAVAILABLE (retryable, 503 with Retry-After) instead of INTERNAL, nothing crashes,
 * and the replica recovers by itself — including the LISTEN connection that keeps the 1:N index
 * in sync, after which the index is reloaded so notifications sent meanwhile are not lost.
 * Uses a private PostgreSQL instance that the test stops and starts, never the shared server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode } from '@faceline/contracts';
import { startReplica, type Replica, type Store } from './support/auth.js';
import { ask, connect, errorCode, http } from './support/client.js';
import { PrivatePostgres, findPgBin } from './support/private-postgres.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';
const QUALITY = { faceSizePx: 200, sharpness: 100, brightness: 120, yaw: 0, pitch: 0 };
const embedding = (seed: number) => Array.from({ length: 128 }, (_, i) => Math.sin(seed * 31 + i) / 4);

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const bin = findPgBin();

describe('auth while PostgreSQL is down and after it is back', {
  skip: bin ? false : 'no PostgreSQL server binaries (initdb, pg_ctl)',
  timeout: 180_000,
}, () => {
  let pgp: PrivatePostgres;
  let store: Store;
  let a: Replica;
  let b: Replica;

  before(async () => {
    pgp = await PrivatePostgres.create(bin as string);
    await pgp.start();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'faceline-auth-outage-'));
    store = {
      backend: 'postgres',
      databaseUrl: pgp.url(),
      dataDir,
      masterKey: randomBytes(32),
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    a = await startReplica(store, UNREACHABLE_VISION);
    b = await startReplica(store, UNREACHABLE_VISION);
  });
  after(async () => {
    await a?.stop().catch(() => undefined);
    await b?.stop().catch(() => undefined);
    await pgp?.destroy();
    await store?.drop();
  });

  test('DATABASE_UNAVAILABLE over HTTP and Socket.IO during the outage, recovery without restart', async () => {
    const reg = await http(a.url, 'POST', '/api/v1/users', { body: { username: 'before', displayName: 'Before' } });
    assert.equal(reg.status, 201, reg.text);
    const socket = await connect(a.url);
    try {
      await pgp.stop('fast');

      const res = await fetch(`${a.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'during', displayName: 'During' }),
      });
      const body = (await res.json()) as { error: { code: string; retryable?: boolean } };
      assert.equal(res.status, 503);
      assert.equal(body.error.code, ErrorCode.DATABASE_UNAVAILABLE);
      assert.equal(body.error.retryable, true);
      assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, 'a 503 says when to try again');

      const started = await ask(socket, 'login:start', { mode: 'verify', username: 'before' });
      assert.equal(errorCode(started), ErrorCode.DATABASE_UNAVAILABLE);
      assert.equal('error' in started && started.error.retryable, true);
      const kiosk = await ask(socket, 'login:start', { mode: 'identify' });
      assert.equal(errorCode(kiosk), ErrorCode.DATABASE_UNAVAILABLE);
      const ticket = await ask(socket, 'enroll:start', { ticket: reg.json.enrollmentTicket });
      assert.equal(errorCode(ticket), ErrorCode.DATABASE_UNAVAILABLE);

      const ready = await http(a.url, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.json.checks.database, 'unavailable');

      await pgp.start();
      // the same replica, the same socket: everything works again
      await until('registration to work again', async () => {
        const r = await http(a.url, 'POST', '/api/v1/users', { body: { username: 'after', displayName: 'After' } });
        return r.status === 201 ? r : undefined;
      });
      const again = await ask(socket, 'login:start', { mode: 'verify', username: 'before' });
      assert.equal(errorCode(again), ErrorCode.USER_NOT_FOUND, 'the login reaches the database again');
      assert.ok(socket.connected);
    } finally {
      socket.disconnect();
    }
  });

  test('after the notification connection was lost, templates written meanwhile reach the index', async () => {
    const reg = await http(a.url, 'POST', '/api/v1/users', { body: { username: 'missed', displayName: 'Missed' } });
    assert.equal(reg.status, 201, reg.text);
    const userId = reg.json.user.id as string;
    // both listening connections are waiting to reconnect when b writes: a misses the NOTIFY
    await until('the LISTEN connections to be back after the restart', async () => {
      const r = await pgp.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN %'`);
      return (r.rows[0] as { n: number }).n >= 2 ? true : undefined;
    });
    await pgp.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'`);
    const [t] = await b.ctx.templates.replaceForUser(userId, [{ embedding: embedding(1), quality: QUALITY }]);
    assert.equal(a.ctx.templates.index.has(t!.id), false);
    await until('replica a to reload its index', async () => (a.ctx.templates.index.has(t!.id) ? true : undefined), 15_000);

    // and notifications flow again over the new connection
    const [t2] = await b.ctx.templates.replaceForUser(userId, [{ embedding: embedding(2), quality: QUALITY }]);
    await until(
      'replica a to follow a notification',
      async () => (a.ctx.templates.index.has(t2!.id) && !a.ctx.templates.index.has(t!.id) ? true : undefined),
      15_000,
    );
  });
});
