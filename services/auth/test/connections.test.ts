/**
 * Connections auth must not hold: a WebSocket upgrade on a path that is not Socket.IO is
 * answered and closed at once (it used to get no answer and stay half-open), and a client that
 * sends its headers, its body or nothing at all too slowly is cut off after the configured
 * timeouts (Node's defaults kept them for a minute or more). Short timeouts here; the test
 * asserts that the close happens, not how fast.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createStore, startReplica, type Replica, type Store } from './support/auth.js';
import { connect, http } from './support/client.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';

interface Probe {
  received: () => string;
  /** the server ended the connection (FIN, or a reset) */
  closed: Promise<void>;
  socket: net.Socket;
}

/** A raw connection that never closes its own side: only the server can end it. */
async function rawConnection(url: string, send: string): Promise<Probe> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true });
  let data = '';
  socket.on('data', (d) => (data += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (send) socket.write(send);
  return { received: () => data, closed, socket };
}

const upgrade = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: auth\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

function openConnections(r: Replica): Promise<number> {
  return new Promise((resolve, reject) => r.app.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

async function eventually(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe('connections auth does not hold', { timeout: 120_000 }, () => {
  let store: Store;
  let r: Replica;
  before(async () => {
    store = await createStore('pglite');
    r = await startReplica(store, UNREACHABLE_VISION, { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300 });
  });
  after(async () => {
    await r?.stop().catch(() => undefined);
    await store?.drop();
  });

  test('a WebSocket upgrade on a path that is not Socket.IO is answered 404 and closed within a second', async () => {
    const paths = ['/', '/nope', '/api/v1/config', '/socket.io', '/.well-known/jwks.json?x=1', '/socket.iox/'];
    const probes = await Promise.all(Array.from({ length: 20 }, (_, i) => rawConnection(r.url, upgrade(paths[i % paths.length]!))));
    try {
      const allClosed = await Promise.race([
        Promise.all(probes.map((p) => p.closed)).then(() => true),
        new Promise<false>((res) => setTimeout(() => res(false), 1000)),
      ]);
      assert.ok(allClosed, 'the server closed every connection');
      for (const p of probes) assert.match(p.received(), /^HTTP\/1\.1 404 /, 'answered, not left waiting');
      assert.ok(await eventually(async () => (await openConnections(r)) === 0, 1000), 'and the server side is gone too');
    } finally {
      for (const p of probes) p.socket.destroy();
    }
    // Socket.IO itself still upgrades
    const s = await connect(r.url);
    assert.equal(s.io.engine.transport.name, 'websocket');
    s.disconnect();
  });

  test('slow headers, silence, a slow body and an idle keep-alive connection are closed after the configured timeouts', async () => {
    const silent = await rawConnection(r.url, '');
    const slowHeaders = await rawConnection(r.url, 'GET /healthz HTTP/1.1\r\n');
    const dribble = setInterval(() => slowHeaders.socket.writable && slowHeaders.socket.write('X-Slow: 1\r\n'), 50);
    const slowBody = await rawConnection(
      r.url,
      'POST /api/v1/users HTTP/1.1\r\nHost: auth\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const idle = await rawConnection(r.url, 'GET /healthz HTTP/1.1\r\nHost: auth\r\n\r\n');
    try {
      // generous deadline: what matters is that they close at all (Node's defaults: a minute and more)
      const closed = await Promise.race([
        Promise.all([silent.closed, slowHeaders.closed, slowBody.closed, idle.closed]).then(() => true),
        new Promise<false>((res) => setTimeout(() => res(false), 15_000)),
      ]);
      assert.ok(closed, 'the server ended every one of them');
      assert.ok(await eventually(async () => (await openConnections(r)) === 0, 5000), 'none left on the server');
      assert.match(slowHeaders.received(), /^HTTP\/1\.1 408 /);
      assert.match(idle.received(), /^HTTP\/1\.1 200 /, 'the kept-alive one was answered first');
    } finally {
      clearInterval(dribble);
      for (const p of [silent, slowHeaders, slowBody, idle]) p.socket.destroy();
    }
    // ordinary requests are unaffected
    assert.equal((await http(r.url, 'GET', '/healthz')).status, 200);
  });
});
