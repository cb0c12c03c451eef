import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Server as IoServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { Readable } from 'node:stream';
import pino from 'pino';
import { AUTH_BODY_LIMIT_BYTES } from '@faceline/contracts';
import { buildApp, loadConfig } from './index.js';

const publicDir = mkdtempSync(path.join(tmpdir(), 'faceline-web-'));
mkdirSync(path.join(publicDir, 'assets'));
writeFileSync(
  path.join(publicDir, 'index.html'),
  '<!doctype html><html><head><script type="module" src="/assets/main-abc123.js"></script></head><body></body></html>',
);
// Large enough to be compressed (threshold 1 kB).
writeFileSync(path.join(publicDir, 'assets', 'main-abc123.js'), `console.log(${JSON.stringify('faceline '.repeat(400))});`);
writeFileSync(path.join(publicDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');

const cfg = (env: Record<string, string> = {}) => loadConfig({ WEB_PUBLIC_DIR: publicDir, LOG_LEVEL: 'silent', ...env });

describe('web service: static app', () => {
  let app: FastifyInstance;
  before(async () => {
    app = (await buildApp({ config: cfg() })).app;
  });
  after(() => app.close());

  it('serves index.html with no-cache and strict security headers', async () => {
    const res = await app.inject({ url: '/', headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    const csp = res.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no unsafe-inline for scripts');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /connect-src 'self'(;|$)/, 'sockets and fetches to this origin only: no bare ws: or wss:');
    assert.doesNotMatch(csp, /\bwss?:/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'plain-http localhost must keep working');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.headers['permissions-policy'] as string, /camera=\(self\)/);
    assert.match(res.headers['permissions-policy'] as string, /microphone=\(\)/);
    assert.match(res.headers['permissions-policy'] as string, /publickey-credentials-get=\(self\)/, 'passkeys on this origin only');
    assert.equal(res.headers['strict-transport-security'], undefined);
  });

  it('caches hashed assets for a year and compresses them', async () => {
    const res = await app.inject({ url: '/assets/main-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.ok(res.rawPayload.length < 1000, `compressed to ${res.rawPayload.length} bytes`);
  });

  it('other files get a short cache', async () => {
    const res = await app.inject({ url: '/favicon.svg' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'public, max-age=3600');
  });

  it('client routes get the app; unknown files, API paths and non-HTML requests get a JSON 404', async () => {
    for (const url of ['/login', '/kiosk', '/me?x=1', '/admin']) {
      const res = await app.inject({ url, headers: { accept: 'text/html,application/xhtml+xml' } });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<!doctype html>/);
      assert.equal(res.headers['cache-control'], 'no-cache');
    }
    for (const [url, accept] of [
      ['/assets/missing-1.js', 'text/html'],
      ['/api/v1/me', 'text/html'],
      ['/login', 'application/json'],
    ] as const) {
      const res = await app.inject({ url, headers: { accept } });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
  });

  it('answers health, readiness and metrics', async () => {
    const health = await app.inject({ url: '/healthz' });
    assert.deepEqual(health.json(), { status: 'ok', service: 'web', version: '0.1.0' });
    const ready = await app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().checks.app, 'ok');
    await app.inject({ url: '/login', headers: { accept: 'text/html' } });
    const metrics = await app.inject({ url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /faceline_web_http_requests_total\{[^}]*status="200"/);
    assert.match(metrics.body, /process_cpu_user_seconds_total/);
  });
});

describe('web service: metrics on a port of their own (METRICS_PORT)', () => {
  it('the main port, which an Ingress or LoadBalancer publishes, no longer answers /metrics; the metrics listener does, counting the main port', async () => {
    const { app, metricsApp } = await buildApp({ config: cfg({ METRICS_PORT: '9464' }) });
    assert.ok(metricsApp, 'no metrics listener');
    try {
      await app.inject({ url: '/login', headers: { accept: 'text/html' } });
      const hidden = await app.inject({ url: '/metrics' });
      assert.equal(hidden.statusCode, 404);
      assert.doesNotMatch(hidden.body, /faceline_web_http_requests_total/);
      const metrics = await metricsApp.inject({ url: '/metrics' });
      assert.equal(metrics.statusCode, 200);
      assert.match(
        metrics.body,
        /faceline_web_http_requests_total\{method="GET",[^}]*status="200"[^}]*\} 1/,
        'the page served on the main port',
      );
      assert.equal((await metricsApp.inject({ url: '/' })).statusCode, 404, 'the metrics listener serves nothing else');
    } finally {
      await app.close();
      await metricsApp.close();
    }
  });

  it('without METRICS_PORT there is no second listener', async () => {
    const { app, metricsApp } = await buildApp({ config: cfg() });
    assert.equal(metricsApp, undefined);
    await app.close();
  });
});

describe('web service: not built / closing', () => {
  it('without a built app: readiness fails and pages explain how to build', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'faceline-web-empty-'));
    const { app, beginShutdown } = await buildApp({ config: loadConfig({ WEB_PUBLIC_DIR: empty }) });
    try {
      const ready = await app.inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().checks.app, 'missing');
      const page = await app.inject({ url: '/', headers: { accept: 'text/html' } });
      assert.equal(page.statusCode, 503);
      assert.match(page.body, /npm run build:app/);
      beginShutdown();
      assert.equal((await app.inject({ url: '/readyz' })).json().checks.shutdown, 'in progress');
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('web service: forwarding to auth', () => {
  let upstream: FastifyInstance;
  let web: FastifyInstance;
  let webUrl: string;
  let seen: { forwardedFor?: string; cookie?: string } = {};

  before(async () => {
    upstream = Fastify();
    upstream.get('/api/v1/echo', async (req) => {
      seen = { forwardedFor: req.headers['x-forwarded-for'] as string, cookie: req.headers.cookie };
      return { path: req.url };
    });
    upstream.get('/.well-known/jwks.json', async () => ({ keys: [] }));
    upstream.get('/.well-known/openid-configuration', async () => ({ issuer: 'http://faceline.test' }));
    // the OpenID Connect provider's own pages come with their own policy (form posts and redirects to client sites)
    upstream.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    upstream.post('/oidc/session/end/confirm', async (req, reply) => {
      seen = { forwardedFor: req.headers['x-forwarded-for'] as string, cookie: req.headers.cookie };
      return reply
        .header('content-security-policy', "default-src 'none'; form-action 'self' https://grafana.test")
        .code(303)
        .header('location', 'https://grafana.test/')
        .send();
    });
    upstream.get('/healthz', async () => ({ status: 'ok' }));
    const ioServer = new IoServer(upstream.server, { path: '/socket.io', transports: ['websocket', 'polling'] });
    ioServer.on('connection', (socket) => {
      socket.on('ping:me', (text: string, ack: (r: unknown) => void) =>
        ack({ data: { echo: text, cookie: socket.handshake.headers.cookie ?? null, transport: socket.conn.transport.name } }),
      );
    });
    upstream.addHook('onClose', async () => void ioServer.close());
    await upstream.listen({ host: '127.0.0.1', port: 0 });
    const authUrl = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
    web = (await buildApp({ config: cfg({ AUTH_URL: authUrl }) })).app;
    await web.listen({ host: '127.0.0.1', port: 0 });
    webUrl = `http://127.0.0.1:${(web.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await web.close();
    await upstream.close();
  });

  it('forwards /api and /.well-known with the caller address and cookies', async () => {
    const res = await fetch(`${webUrl}/api/v1/echo?x=1`, { headers: { cookie: 'faceline_access=abc' } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { path: '/api/v1/echo?x=1' });
    assert.equal(seen.cookie, 'faceline_access=abc');
    assert.equal(seen.forwardedFor, '127.0.0.1');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const jwks = await fetch(`${webUrl}/.well-known/jwks.json`);
    assert.deepEqual(await jwks.json(), { keys: [] });
    const ready = await fetch(`${webUrl}/readyz`);
    assert.equal(((await ready.json()) as { checks: { auth: string } }).checks.auth, 'ok');
  });

  it("forwards Sign in with Faceline (/oidc, discovery) and keeps auth's own policy for its pages", async () => {
    const discovery = await fetch(`${webUrl}/.well-known/openid-configuration`);
    assert.deepEqual(await discovery.json(), { issuer: 'http://faceline.test' });
    const res = await fetch(`${webUrl}/oidc/session/end/confirm`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: 'faceline_oidc_session=s1', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'xsrf=x&logout=yes',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), 'https://grafana.test/');
    assert.equal(seen.cookie, 'faceline_oidc_session=s1');
    // the web service's strict form-action 'self' would stop the redirect back to the client
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; form-action 'self' https://grafana.test");
    const unknown = await fetch(`${webUrl}/oidc/nothing`, { headers: { accept: 'text/html' } });
    assert.equal(unknown.status, 404, "never the app's index.html");
  });

  for (const transport of ['websocket', 'polling'] as const) {
    it(`refuses Socket.IO over ${transport} from a page of another origin`, async () => {
      const socket = ioClient(webUrl, {
        path: '/socket.io',
        transports: [transport],
        extraHeaders: { origin: 'https://evil.example' },
        reconnection: false,
      });
      try {
        const err = await new Promise<Error | null>((resolve) => {
          socket.once('connect', () => resolve(null));
          socket.once('connect_error', (e) => resolve(e));
        });
        assert.ok(err, 'the connection must be refused');
      } finally {
        socket.close();
      }
      const same = ioClient(webUrl, { path: '/socket.io', transports: [transport], extraHeaders: { origin: webUrl }, reconnection: false });
      try {
        await new Promise<void>((resolve, reject) => {
          same.once('connect', () => resolve());
          same.once('connect_error', reject);
        });
      } finally {
        same.close();
      }
    });

    it(`carries Socket.IO over ${transport} to auth, cookies included`, async () => {
      const socket = ioClient(webUrl, {
        path: '/socket.io',
        transports: [transport],
        extraHeaders: { cookie: 'faceline_access=xyz' },
        reconnection: false,
      });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        const res = (await socket.timeout(5000).emitWithAck('ping:me', 'hello')) as {
          data: { echo: string; cookie: string | null; transport: string };
        };
        assert.equal(res.data.echo, 'hello');
        assert.equal(res.data.cookie, 'faceline_access=xyz');
        assert.equal(res.data.transport, transport);
      } finally {
        socket.close();
      }
    });
  }
});

describe('web service: request bodies larger than auth accepts', () => {
  let upstream: FastifyInstance;
  let web: FastifyInstance;
  let webUrl: string;
  const logLines: string[] = [];
  let received = 0;

  before(async () => {
    upstream = Fastify({ bodyLimit: AUTH_BODY_LIMIT_BYTES });
    upstream.post('/api/v1/users', async (req) => {
      received++;
      return { bytes: JSON.stringify(req.body).length };
    });
    upstream.get('/healthz', async () => ({ status: 'ok' }));
    await upstream.listen({ host: '127.0.0.1', port: 0 });
    const authUrl = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    web = (await buildApp({ config: cfg({ AUTH_URL: authUrl }), logger })).app;
    await web.listen({ host: '127.0.0.1', port: 0 });
    webUrl = `http://127.0.0.1:${(web.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await web.close();
    await upstream.close();
  });

  it('a 5 MB body answers 413 PAYLOAD_TOO_LARGE, as auth does, with and without Content-Length, and logs no outage', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const chunked = () => Readable.from([big.subarray(0, 1024 * 1024), big.subarray(1024 * 1024)]);
    for (const body of [big, chunked()]) {
      const res = await fetch(`${webUrl}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      assert.equal(res.status, 413);
      const json = (await res.json()) as { error: { code: string } };
      assert.equal(json.error.code, 'PAYLOAD_TOO_LARGE');
    }
    assert.equal(received, 0, 'nothing too large reached auth');
    // bodies auth accepts still pass
    const small = await fetch(`${webUrl}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(1000) }),
    });
    assert.equal(small.status, 200);
    assert.equal(received, 1);
    assert.ok(!logLines.some((l) => /unreachable/.test(l)), `no false outage in the log:\n${logLines.join('')}`);
    const ready = await fetch(`${webUrl}/readyz`);
    assert.equal(((await ready.json()) as { checks: { auth: string } }).checks.auth, 'ok');
  });
});

describe('web service: auth unreachable', () => {
  it('answers 503 NOT_READY with retry-after instead of hanging or leaking details', async () => {
    const probe = Fastify();
    await probe.listen({ host: '127.0.0.1', port: 0 });
    const deadUrl = `http://127.0.0.1:${(probe.server.address() as AddressInfo).port}`;
    await probe.close();
    const { app } = await buildApp({ config: cfg({ AUTH_URL: deadUrl }) });
    try {
      const res = await app.inject({ url: '/api/v1/config' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().error.code, 'NOT_READY');
      assert.equal(res.headers['retry-after'], '2');
      const ready = await app.inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 200, 'the app itself stays up to tell people what is wrong');
      assert.equal(ready.json().checks.auth, 'unreachable');
    } finally {
      await app.close();
    }
  });
});

after(() => rmSync(publicDir, { recursive: true, force: true }));
