/**
 * Connections that would otherwise be held open forever. Node keeps a connection while its
 * request headers trickle in (default 60 s, checked every 30 s) and hands every `Upgrade`
 * request to the 'upgrade' listeners; Socket.IO's listener ignores paths that are not its own
 * and only ends them after a second, half-open. So: header, request and keep-alive timeouts from
 * the configuration, checked often enough to matter, and an upgrade on any other path is answered
 * 404 and closed at once.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthConfig } from '../config.js';

type Timeouts = Pick<AuthConfig, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>;

/** How often Node looks for connections past their header or request deadline. */
export function checkingIntervalMs(headersTimeoutMs: number): number {
  return Math.max(100, Math.min(30_000, Math.floor(headersTimeoutMs / 4)));
}

/** Options for Fastify (requestTimeout, keepAliveTimeout) and its Node server (http). */
export function serverTimeouts(t: Timeouts) {
  return {
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    http: { headersTimeout: t.headersTimeoutMs, connectionsCheckingInterval: checkingIntervalMs(t.headersTimeoutMs) },
  };
}

/** Answers a refused upgrade with a small HTTP response and drops the connection. */
export function refuseUpgrade(socket: Duplex, status = 404, reason = 'Not Found'): void {
  const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no websocket endpoint here' } });
  socket.on('error', () => undefined);
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Every upgrade whose path is not `ownPath` (Socket.IO's) is refused at once. */
export function refuseUnknownUpgrades(server: Server, ownPath: string): void {
  const prefix = ownPath.endsWith('/') ? ownPath : `${ownPath}/`;
  server.on('upgrade', (req, socket: Duplex) => {
    const pathname = (req.url ?? '').split('?')[0] ?? '';
    if (pathname.startsWith(prefix)) return; // Socket.IO (engine.io) answers these, as it matches them
    refuseUpgrade(socket);
  });
}
