/**
 * Cross-site websocket hijacking and cross-site requests with cookies: when an Ingress sends
 * browser traffic straight to auth, auth itself checks the Origin of Socket.IO connections and
 * of state-changing requests that carry cookies. Default: the request's own host (or
 * X-Forwarded-Host from a trusted proxy) and PUBLIC_URL; ALLOWED_ORIGINS replaces that.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { createStore, startReplica, type Replica, type Store } from './support/auth.js';
import { connect, http } from './support/client.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';

async function socketOutcome(
  url: string,
  headers: Record<string, string>,
  transports: ('websocket' | 'polling')[] = ['websocket'],
): Promise<'connected' | 'refused'> {
  try {
    const s = await connect(url, { headers, transports });
    s.disconnect();
    return 'connected';
  } catch {
    return 'refused';
  }
}

describe('Origin checks in auth', { timeout: 120_000 }, () => {
  let store: Store;
  let plain: Replica;
  let listed: Replica;
  let proxied: Replica;
  before(async () => {
    store = await createStore('pglite');
    plain = await startReplica(store, UNREACHABLE_VISION, { publicUrl: 'https://faceline.example.com' });
  });
  after(async () => {
    for (const r of [plain, listed, proxied]) await r?.stop().catch(() => undefined);
    await store?.drop();
  });

  test('default: Socket.IO from the same host, PUBLIC_URL or without Origin connects; other sites are refused', async () => {
    const host = new URL(plain.url).host;
    assert.equal(await socketOutcome(plain.url, { origin: `http://${host}` }), 'connected');
    assert.equal(await socketOutcome(plain.url, { origin: 'https://faceline.example.com' }), 'connected');
    assert.equal(await socketOutcome(plain.url, {}), 'connected', 'non-browser clients send no Origin');
    assert.equal(await socketOutcome(plain.url, { origin: 'https://evil.example' }), 'refused');
    assert.equal(await socketOutcome(plain.url, { origin: 'null' }), 'refused');
    assert.equal(await socketOutcome(plain.url, { origin: `http://${host}.evil.example` }), 'refused');
    assert.equal(await socketOutcome(plain.url, { origin: 'https://evil.example' }, ['polling']), 'refused', 'long-polling too');
    // a Forwarded host is not believed from an untrusted peer
    assert.equal(await socketOutcome(plain.url, { origin: 'https://evil.example', 'x-forwarded-host': 'evil.example' }), 'refused');
  });

  test('state-changing HTTP requests with cookies from another site are refused', async () => {
    const host = new URL(plain.url).host;
    const cookie = 'faceline_access=not-a-token';
    const evil = await http(plain.url, 'PATCH', '/api/v1/me', {
      body: { displayName: 'x' },
      cookie,
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(evil.status, 403);
    assert.equal(evil.json.error.code, ErrorCode.FORBIDDEN);
    const logout = await http(plain.url, 'POST', '/api/v1/sessions/logout', { cookie, headers: { origin: 'https://evil.example' } });
    assert.equal(logout.status, 403);
    // same origin, or no cookie (Bearer clients are not exposed to CSRF), reach the route
    const same = await http(plain.url, 'PATCH', '/api/v1/me', {
      body: { displayName: 'x' },
      cookie,
      headers: { origin: `http://${host}` },
    });
    assert.equal(same.status, 401, same.text);
    const noCookie = await http(plain.url, 'PATCH', '/api/v1/me', {
      body: { displayName: 'x' },
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(noCookie.status, 401, noCookie.text);
    // reading is not state-changing
    const read = await http(plain.url, 'GET', '/api/v1/config', { cookie, headers: { origin: 'https://evil.example' } });
    assert.equal(read.status, 200);
  });

  test('ALLOWED_ORIGINS replaces the default', async () => {
    listed = await startReplica(store, UNREACHABLE_VISION, { allowedOrigins: ['https://app.example', 'http://localhost:5173'] });
    const host = new URL(listed.url).host;
    assert.equal(await socketOutcome(listed.url, { origin: 'https://app.example' }), 'connected');
    assert.equal(await socketOutcome(listed.url, { origin: 'http://localhost:5173' }), 'connected');
    assert.equal(await socketOutcome(listed.url, { origin: `http://${host}` }), 'refused');
    const r = await http(listed.url, 'POST', '/api/v1/sessions/logout', {
      cookie: 'faceline_refresh=x',
      headers: { origin: `http://${host}` },
    });
    assert.equal(r.status, 403);
  });

  test('behind a trusted proxy the public host is X-Forwarded-Host', async () => {
    proxied = await startReplica(store, UNREACHABLE_VISION, { trustProxy: '127.0.0.1' });
    const fwd = { 'x-forwarded-host': 'faceline.example.org' };
    assert.equal(await socketOutcome(proxied.url, { ...fwd, origin: 'https://faceline.example.org' }), 'connected');
    assert.equal(await socketOutcome(proxied.url, { ...fwd, origin: 'https://evil.example' }), 'refused');
  });
});
