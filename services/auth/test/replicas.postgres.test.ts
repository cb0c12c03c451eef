/**
 * Two auth replicas on one PostgreSQL database (started at the same moment, so migrations and
 * the first signing key race), one real vision service, and a vision address list whose first
 * entry is dead: what one replica writes, the other sees.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ErrorCode } from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';
import { loadMigrations } from '../src/db/migrate.js';
import { createStore, startReplica, type Replica, type Store } from './support/auth.js';
import { cookieHeader, data, enroll, errorCode, http, login, photo, variant, ask, connect } from './support/client.js';
import { startVision, type ChildService } from './support/vision.js';

const OBAMA = ['obama.jpg', 'obama_small.jpg', 'obama_partial_face.jpg'].map((f) => photo(`face_recognition/barack_obama/${f}`));
const OBAMA_OTHER = photo('face_recognition/barack_obama/obama3.jpg');
const BIDEN = photo('face_recognition/joe_biden/biden2.jpg');
/** nothing listens here: connection refused, the client must move on to the next address */
const DEAD = 'http://127.0.0.1:9';

let vision: ChildService;
let store: Store;
let a: Replica;
let b: Replica;

before(async () => {
  requireFaces();
  [vision, store] = await Promise.all([startVision(), createStore('postgres')]);
  const settings = { liveness: false, maxMismatchFrames: 1, backoffAfter: 2, lockAfter: 4, backoffBaseSeconds: 60, backoffMaxSeconds: 60 };
  [a, b] = await Promise.all([
    startReplica(store, vision.url, { ...settings, visionUrls: [DEAD, vision.url] }),
    startReplica(store, vision.url, settings),
  ]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()].map((p) => p?.catch(() => undefined)));
  await vision?.stop();
  await store?.drop();
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Retries `attempt` until it resolves; after 10 s its last error fails the test. */
async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

test('both replicas migrated once and publish the same signing key', async () => {
  const { rows } = await a.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
  assert.equal(rows[0]!.n, loadMigrations().length, 'every migration applied exactly once');
  const keys = await a.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM signing_keys');
  assert.equal(keys.rows[0]!.n, 1, 'one key although both started at once');
  assert.deepEqual((await http(a.url, 'GET', '/.well-known/jwks.json')).json, (await http(b.url, 'GET', '/.well-known/jwks.json')).json);
});

test('enrolled on one replica, recognised 1:N on the other (index synced by NOTIFY); sessions work across replicas', async () => {
  const reg = await http(a.url, 'POST', '/api/v1/users', { body: { username: 'obama', displayName: 'Barack' } });
  const res = await enroll(a.url, reg.json.enrollmentTicket, OBAMA);
  assert.ok(res.result?.ok, JSON.stringify(res.result));
  await waitFor(() => b.ctx.templates.index.size === 3, 'replica B to load the new templates');

  const kiosk = await login(b.url, { mode: 'identify' }, [OBAMA_OTHER]);
  assert.ok(kiosk.result?.ok, JSON.stringify(kiosk.result));
  // the grant from B is exchanged on A; the token from A is accepted by B and by a JWKS verifier of B
  const s = await http(a.url, 'POST', '/api/v1/sessions', { body: { grant: kiosk.result.grant } });
  assert.equal(s.status, 200, s.text);
  assert.equal((await http(b.url, 'GET', '/api/v1/me', { bearer: s.json.accessToken })).status, 200);
  await jwtVerify(s.json.accessToken, createRemoteJWKSet(new URL(`${b.url}/.well-known/jwks.json`)), {
    issuer: 'faceline',
    audience: 'faceline',
  });
  const cookie = cookieHeader(s.setCookies);
  assert.equal((await http(b.url, 'POST', '/api/v1/sessions/logout', { cookie })).status, 204);
  assert.equal((await http(a.url, 'GET', '/api/v1/me', { bearer: s.json.accessToken })).json.error.code, ErrorCode.SESSION_REVOKED);

  // deletion on B empties A's index
  const again = await login(a.url, { mode: 'verify', username: 'obama' }, [variant(OBAMA_OTHER, 1)]);
  const s2 = await http(a.url, 'POST', '/api/v1/sessions', { body: { grant: again.result?.ok ? again.result.grant : '' } });
  assert.equal((await http(b.url, 'DELETE', '/api/v1/me/face', { bearer: s2.json.accessToken })).status, 200);
  await waitFor(() => a.ctx.templates.index.size === 0, 'replica A to drop the deleted templates');
  const gone = await login(a.url, { mode: 'identify' }, [variant(OBAMA_OTHER, 2)]);
  assert.equal(!gone.result?.ok && gone.result?.error.code, ErrorCode.FACE_UNKNOWN);
});

test('failed attempts on one replica count on the other', async () => {
  const reg = await http(b.url, 'POST', '/api/v1/users', { body: { username: 'obama2', displayName: 'Barack again' } });
  assert.ok(
    (
      await enroll(
        b.url,
        reg.json.enrollmentTicket,
        OBAMA.map((o, i) => variant(o, 10 + i)),
      )
    ).result?.ok,
  );
  for (const r of [a, b]) {
    const f = await login(r.url, { mode: 'verify', username: 'obama2' }, [variant(BIDEN, Math.random() * 1e9)]);
    assert.equal(!f.result?.ok && f.result?.error.code, ErrorCode.FACE_MISMATCH);
  }
  for (const r of [a, b]) {
    const blocked = await login(r.url, { mode: 'verify', username: 'obama2' }, [OBAMA_OTHER]);
    assert.equal(errorCode(blocked.started as never), ErrorCode.BACKOFF, 'two failures, one on each replica, start the back-off on both');
  }
});

test('with no vision reachable the browser gets RECOGNITION_UNAVAILABLE and may retry', async () => {
  const lonely = await startReplica(store, DEAD, { liveness: false, visionUrls: [DEAD, 'http://127.0.0.1:10'] });
  try {
    await lonely.ctx.visionHealth.probe();
    const ready = await http(lonely.url, 'GET', '/readyz');
    assert.equal(ready.status, 200, 'auth stays ready without vision (JWKS, sessions, refresh)');
    assert.equal(ready.json.checks.vision, 'unavailable');
    const s = await connect(lonely.url);
    data(await ask(s, 'login:start', { mode: 'identify' }));
    const r = await ask(s, 'login:frame', { seq: 1, image: OBAMA_OTHER });
    assert.equal(errorCode(r), ErrorCode.RECOGNITION_UNAVAILABLE);
    assert.equal('error' in r && r.error.retryable, true);
    // the flow survives: a later frame may succeed when vision is back
    assert.equal(errorCode(await ask(s, 'login:frame', { seq: 2, image: variant(OBAMA_OTHER, 3) })), ErrorCode.RECOGNITION_UNAVAILABLE);
    s.disconnect();
  } finally {
    await lonely.stop();
  }
  await a.ctx.visionHealth.probe();
  assert.equal((await http(a.url, 'GET', '/readyz')).json.checks.vision, 'ok', 'A reaches vision through its second address');
});

test('signing keys rotate: a new key signs, the old one stays published until its tokens expire', async () => {
  const before = (await http(a.url, 'GET', '/.well-known/jwks.json')).json.keys as { kid: string }[];
  const sign = async () =>
    (
      await a.ctx.tokens.signAccessToken({
        userId: 'u',
        sessionId: 's',
        username: 'x',
        displayName: 'X',
        role: 'user',
        amr: ['face'],
        acr: 'urn:faceline:acr:face',
        authTime: new Date().toISOString(),
      })
    ).token;
  const oldToken = await sign();
  // the current key reaches the end of its signing period
  await a.ctx.db.query('UPDATE signing_keys SET retire_at = now()');
  await a.ctx.tokens.ensureCurrentKey();
  const after = (await http(a.url, 'GET', '/.well-known/jwks.json')).json.keys as { kid: string }[];
  assert.equal(after.length, before.length + 1);
  const newToken = await sign();
  const kidOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid as string;
  assert.notEqual(kidOf(newToken), kidOf(oldToken), 'new tokens use the new key');
  // replica B has not seen the new key yet: it reloads on the unknown kid (at most once a second)
  await eventually(() => b.ctx.tokens.verifyAccessToken(newToken));
  await b.ctx.tokens.verifyAccessToken(oldToken);
});

test('behind a trusted proxy: Secure cookies under TLS, and the client address from X-Forwarded-For limits registrations', async () => {
  const proxied = await startReplica(store, vision.url, { trustProxy: true, registrationsPerIp: 2 });
  try {
    const register = (username: string, ip: string) =>
      fetch(`${proxied.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ username, displayName: username }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } }));
    assert.equal((await register('line-a1', '203.0.113.7')).status, 201);
    assert.equal((await register('line-a2', '203.0.113.7')).status, 201);
    const third = await register('line-a3', '203.0.113.7');
    assert.equal(third.body.error?.code, ErrorCode.RATE_LIMITED);
    assert.equal((await register('line-b1', '203.0.113.8')).status, 201, 'another address is not affected');

    const res = await fetch(`${proxied.url}/api/v1/sessions/logout`, { method: 'POST', headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.status, 204);
    for (const c of res.headers.getSetCookie()) assert.match(c, /; Secure/i, c);
    const plain = await fetch(`${proxied.url}/api/v1/sessions/logout`, { method: 'POST' });
    for (const c of plain.headers.getSetCookie()) assert.doesNotMatch(c, /; Secure/i, c);
  } finally {
    await proxied.stop();
  }
});
