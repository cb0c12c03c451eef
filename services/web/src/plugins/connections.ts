/**
 * Connections that would otherwise be held open forever. Node keeps a connection while its
 * request headers trickle in (default 60 s, checked every 30 s); and with the auth proxy
 * registered, every `Upgrade` request is routed into Fastify with its socket taken over, so an
 * upgrade on a path that is not Socket.IO (say `/api/…`) got no answer at all. Hence header,
 * request and keep-alive timeouts from the configuration, checked often enough to matter, and
 * every upgrade that is not Socket.IO's answered 404 and closed at once.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, SOCKET_PATH } from '@faceline/contracts';
import type { WebConfig } from '../config.js';

type Timeouts = Pick<WebConfig, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>;

/** Node server options (http or https) for the header deadline and how often it is checked. */
export function nodeServerTimeouts(t: Timeouts) {
  return {
    headersTimeout: t.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(t.headersTimeoutMs / 4))),
  };
}

/** Fastify's own options for the rest. */
export function fastifyTimeouts(t: Timeouts) {
  return { requestTimeout: t.requestTimeoutMs, keepAliveTimeout: t.keepAliveTimeoutMs };
}

export async function refuseUnknownUpgrades(app: FastifyInstance): Promise<void> {
  const socketPrefix = `${SOCKET_PATH}/`;
  app.addHook('onRequest', async (req, reply) => {
    // Node marks a request as an upgrade only when it hands the socket to an 'upgrade' listener
    // (the Socket.IO proxy); without one, upgrades are answered as ordinary requests anyway
    if (!(req.raw as IncomingMessage & { upgrade?: boolean }).upgrade || req.url.startsWith(socketPrefix)) return;
    return reply
      .code(404)
      .header('connection', 'close')
      .send({ error: { code: ErrorCode.NOT_FOUND, message: 'no websocket endpoint here' } });
  });
}
