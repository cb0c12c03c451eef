/**
 * X-Forwarded-For is believed only from a trusted proxy, on Socket.IO as on HTTP. Direct to
 * auth, a client rotating the header must still be one address for the per-address limits.
 * (Before: with TRUST_PROXY set, the socket code took the leftmost forwarded address without
 * asking whether the peer was a trusted proxy, so each new header value was a fresh address.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { createStore, startReplica, type Replica, type Store } from './support/auth.js';
import { ask, connect, errorCode, http } from './support/client.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';

async function kioskStart(r: Replica, forwardedFor: string): Promise<string | undefined> {
  const s = await connect(r.url, { headers: { 'x-forwarded-for': forwardedFor } });
  try {
    return errorCode(await ask(s, 'login:start', { mode: 'identify' }));
  } finally {
    s.disconnect();
  }
}

/** The address has used up its failures (as if 3 face logins had failed from it). */
async function exhaust(r: Replica, ip: string): Promise<void> {
  await r.ctx.db.query(
    `INSERT INTO attempt_counters (scope, key, consecutive, window_failures) VALUES ('ip', $1, 3, 3)
     ON CONFLICT (site, scope, key) DO UPDATE SET window_failures = 3, window_start = now()`,
    [ip],
  );
}

describe('client address behind and around a proxy', { timeout: 120_000 }, () => {
  let store: Store;
  let direct: Replica;
  let proxied: Replica;
  before(async () => {
    store = await createStore('pglite');
    const limits = { ipMaxFailures: 3, registrationsPerIp: 3, liveness: false };
    // the only trusted proxy is somewhere else: this test talks to auth directly
    direct = await startReplica(store, UNREACHABLE_VISION, { ...limits, trustProxy: '10.9.9.9' });
  });
  after(async () => {
    for (const r of [direct, proxied]) await r?.stop().catch(() => undefined);
    await store?.drop();
  });

  test('Socket.IO, direct: a rotating X-Forwarded-For does not escape the per-address failure limit', async () => {
    assert.equal(await kioskStart(direct, '198.51.100.1'), undefined, 'not limited yet');
    await exhaust(direct, '127.0.0.1');
    for (let i = 2; i < 8; i++) {
      assert.equal(
        await kioskStart(direct, `198.51.100.${i}`),
        ErrorCode.RATE_LIMITED,
        `header 198.51.100.${i} is not an address of its own`,
      );
    }
    assert.equal(
      await kioskStart(direct, '198.51.100.9, 10.9.9.9'),
      ErrorCode.RATE_LIMITED,
      'naming the trusted proxy in the header does not help',
    );
  });

  test('HTTP, direct: a rotating X-Forwarded-For does not escape the per-address registration limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await http(direct.url, 'POST', '/api/v1/users', {
        body: { username: `rot${i}`, displayName: 'R' },
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
    const { rows } = await direct.ctx.db.query<{ ip: string }>(`SELECT DISTINCT ip FROM audit_events WHERE type = 'user.registered'`);
    assert.deepEqual(
      rows.map((r) => r.ip),
      ['127.0.0.1'],
      'the audit log names the real peer',
    );
  });

  test('through a trusted proxy the forwarded address counts, on Socket.IO and HTTP alike', async () => {
    await direct.stop();
    proxied = await startReplica(store, UNREACHABLE_VISION, {
      ipMaxFailures: 3,
      registrationsPerIp: 3,
      liveness: false,
      trustProxy: 'loopback',
    });
    await exhaust(proxied, '198.51.100.50');
    assert.equal(await kioskStart(proxied, '198.51.100.50'), ErrorCode.RATE_LIMITED);
    assert.equal(await kioskStart(proxied, '198.51.100.51'), undefined, 'another client behind the same proxy is not limited');
    const reg = await http(proxied.url, 'POST', '/api/v1/users', {
      body: { username: 'viaproxy', displayName: 'P' },
      headers: { 'x-forwarded-for': '198.51.100.51' },
    });
    assert.equal(reg.status, 201);
    const { rows } = await proxied.ctx.db.query<{ ip: string }>(`SELECT ip FROM audit_events WHERE username = 'viaproxy'`);
    assert.equal(rows[0]?.ip, '198.51.100.51');
  });
});
