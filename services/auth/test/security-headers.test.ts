/**
 * Auth's own answers carry security headers, for Ingresses that route /api, /socket.io and
 * /.well-known straight to auth (before, only the web service sent any): nosniff, no framing,
 * no referrer, a CSP that lets nothing load, and HSTS when served over TLS or PUBLIC_URL is https.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, startReplica, type Replica, type Store } from './support/auth.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';

function assertHardened(res: Response, what: string): void {
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
}

describe("security headers on auth's own answers", { timeout: 120_000 }, () => {
  let store: Store;
  let plain: Replica;
  let proxied: Replica;
  let public_: Replica;
  before(async () => {
    store = await createStore('pglite');
    plain = await startReplica(store, UNREACHABLE_VISION);
  });
  after(async () => {
    for (const r of [plain, proxied, public_]) await r?.stop().catch(() => undefined);
    await store?.drop();
  });

  test('every kind of answer: JSON routes, JWKS, OpenAPI, errors, 404, refusals, Socket.IO polling', async () => {
    const answers: [string, RequestInit | undefined][] = [
      ['/healthz', undefined],
      ['/api/v1/config', undefined],
      ['/.well-known/jwks.json', undefined],
      ['/openapi.json', undefined],
      ['/api/v1/me', undefined], // 401
      ['/nothing/here', undefined], // 404
      ['/api/v1/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":1}' }], // 400
      ['/api/v1/sessions/logout', { method: 'POST', headers: { cookie: 'a=b', origin: 'https://evil.example' } }], // 403 from a hook
      ['/socket.io/?EIO=4&transport=polling', undefined],
    ];
    for (const [path, init] of answers) {
      const res = await fetch(`${plain.url}${path}`, init);
      await res.arrayBuffer();
      assertHardened(res, `${path} (${res.status})`);
      assert.equal(res.headers.get('strict-transport-security'), null, `${path}: no HSTS over plain HTTP`);
    }
  });

  test('HSTS when the request came over TLS through a trusted proxy, or PUBLIC_URL is https', async () => {
    // an untrusted peer cannot claim TLS
    const claimed = await fetch(`${plain.url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(claimed.headers.get('strict-transport-security'), null);
    // one PGlite data directory, one replica at a time
    await plain.stop();
    proxied = await startReplica(store, UNREACHABLE_VISION, { trustProxy: 'loopback' });
    const viaTls = await fetch(`${proxied.url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(viaTls.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    const viaHttp = await fetch(`${proxied.url}/healthz`, { headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(viaHttp.headers.get('strict-transport-security'), null);
    await proxied.stop();

    public_ = await startReplica(store, UNREACHABLE_VISION, { publicUrl: 'https://faceline.example.com' });
    const res = await fetch(`${public_.url}/api/v1/info`);
    assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+; includeSubDomains/);
    assertHardened(res, 'with PUBLIC_URL');
  });
});
