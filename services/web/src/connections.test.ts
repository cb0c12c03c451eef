/**
 * Connections the web service must not hold: a WebSocket upgrade on a path that is not
 * Socket.IO is answered 404 and closed at once (with the auth proxy it used to get no answer at
 * all, e.g. on /api/…), and slow or silent clients are cut off after the configured timeouts.
 * Short timeouts here; the test asserts that the close happens, not how fast.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Server as IoServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { buildApp, loadConfig } from './index.js';

const publicDir = mkdtempSync(path.join(tmpdir(), 'faceline-web-conn-'));
writeFileSync(path.join(publicDir, 'index.html'), '<!doctype html><html><body></body></html>');

interface Probe {
  received: () => string;
  /** the server ended the connection (FIN or reset) */
  ended: Promise<void>;
  socket: net.Socket;
}

/** A raw connection that never closes its own side: only the server can end it. */
async function raw(url: string, send: string): Promise<Probe> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true });
  let data = '';
  socket.on('data', (d) => (data += d));
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (send) socket.write(send);
  return { received: () => data, ended, socket };
}

const upgrade = (p: string) =>
  `GET ${p} HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms))]);

function openConnections(app: FastifyInstance): Promise<number> {
  return new Promise((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe('web service: connections it does not hold', () => {
  let upstream: FastifyInstance;
  let web: FastifyInstance;
  let webUrl: string;

  before(async () => {
    upstream = Fastify();
    upstream.get('/healthz', async () => ({ status: 'ok' }));
    const ioServer = new IoServer(upstream.server, { path: '/socket.io' });
    upstream.addHook('onClose', async () => void ioServer.close());
    await upstream.listen({ host: '127.0.0.1', port: 0 });
    const authUrl = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
    const config = loadConfig({
      WEB_PUBLIC_DIR: publicDir,
      LOG_LEVEL: 'silent',
      AUTH_URL: authUrl,
      HEADERS_TIMEOUT_MS: '300',
      REQUEST_TIMEOUT_MS: '600',
      KEEP_ALIVE_TIMEOUT_MS: '300',
    });
    web = (await buildApp({ config })).app;
    await web.listen({ host: '127.0.0.1', port: 0 });
    webUrl = `http://127.0.0.1:${(web.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await web.close();
    await upstream.close();
    rmSync(publicDir, { recursive: true, force: true });
  });

  it('a WebSocket upgrade on a path that is not Socket.IO is answered 404 and closed within a second', async () => {
    const paths = ['/api/v1/config', '/.well-known/jwks.json', '/', '/login', '/nope', '/socket.io'];
    const probes = await Promise.all(Array.from({ length: 20 }, (_, i) => raw(webUrl, upgrade(paths[i % paths.length]!))));
    try {
      assert.ok(await within(Promise.all(probes.map((p) => p.ended)), 1000), 'the server closed every connection');
      for (const p of probes) assert.match(p.received(), /^HTTP\/1\.1 404 /);
      const end = Date.now() + 1000;
      while ((await openConnections(web)) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await openConnections(web), 0, 'nothing left open on the server');
    } finally {
      for (const p of probes) p.socket.destroy();
    }
    // Socket.IO's own upgrade still goes through to auth
    const s = ioClient(webUrl, { path: '/socket.io', transports: ['websocket'], reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
    } finally {
      s.close();
    }
  });

  it('slow headers, silence, a slow body and an idle keep-alive connection are closed after the configured timeouts', async () => {
    const silent = await raw(webUrl, '');
    const slowHeaders = await raw(webUrl, 'GET /healthz HTTP/1.1\r\n');
    const dribble = setInterval(() => slowHeaders.socket.writable && slowHeaders.socket.write('X-Slow: 1\r\n'), 50);
    const slowBody = await raw(
      webUrl,
      'POST /api/v1/users HTTP/1.1\r\nHost: web\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const idle = await raw(webUrl, 'GET /healthz HTTP/1.1\r\nHost: web\r\n\r\n');
    try {
      // generous deadline: what matters is that they close at all (Node's defaults: a minute and more)
      assert.ok(
        await within(Promise.all([silent.ended, slowHeaders.ended, slowBody.ended, idle.ended]), 15_000),
        'the server ended every one of them',
      );
      assert.match(slowHeaders.received(), /^HTTP\/1\.1 408 /);
      assert.match(idle.received(), /^HTTP\/1\.1 200 /, 'the kept-alive one was answered first');
    } finally {
      clearInterval(dribble);
      for (const p of [silent, slowHeaders, slowBody, idle]) p.socket.destroy();
    }
    assert.equal((await fetch(`${webUrl}/healthz`)).status, 200, 'ordinary requests are unaffected');
  });

  it('timeouts are configuration: defaults, and headers no longer than the whole request', () => {
    const d = loadConfig({});
    assert.deepEqual([d.headersTimeoutMs, d.requestTimeoutMs, d.keepAliveTimeoutMs], [10_000, 30_000, 72_000]);
    assert.throws(
      () => loadConfig({ HEADERS_TIMEOUT_MS: '9000', REQUEST_TIMEOUT_MS: '5000' }),
      /HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS/,
    );
    assert.throws(() => loadConfig({ KEEP_ALIVE_TIMEOUT_MS: 'soon' }), /KEEP_ALIVE_TIMEOUT_MS must be an integer/);
  });
});
