/**
 * Builds the auth service: Fastify (HTTP) and Socket.IO on the same server. Never listens;
 * server.ts does, and tests call `app.listen({ port: 0 })` or `app.inject`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AUTH_BODY_LIMIT_BYTES, ErrorCode, SOCKET_PATH } from '@faceline/contracts';
import type { AppContext } from './context.js';
import { AuthError, RETRY_AFTER_SECONDS, databaseUnavailableAck, isDatabaseUnavailable, retryAfterSeconds } from './errors.js';
import { trustFunction } from './lib/client-address.js';
import { refuseUnknownUpgrades, serverTimeouts } from './lib/connections.js';
import { originAllowed, originPolicy } from './lib/origin.js';
import { SECURITY_HEADERS, securityHeaders } from './lib/security-headers.js';
import { cleanOrThrow } from './lib/text.js';
import { describeApi } from './openapi.js';
import { createRealtime, type RealtimeServer } from './realtime/socket.js';
import { guardText } from './realtime/text-guard.js';
import { registerRoutes } from './routes/index.js';

export interface AuthApp {
  app: FastifyInstance;
  io: RealtimeServer;
}

export async function buildApp(ctx: AppContext): Promise<AuthApp> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // req.ip, req.protocol and req.host follow the same TRUST_PROXY rules as Socket.IO (lib/client-address.ts)
    trustProxy: trustFunction(ctx.config.trustProxy),
    bodyLimit: AUTH_BODY_LIMIT_BYTES,
    // slow or silent clients cannot hold connections (lib/connections.ts)
    ...serverTimeouts(ctx.config),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('auth', null);
  securityHeaders(app, { publicUrl: ctx.config.publicUrl });

  await describeApi(app);
  await app.register(cookie);

  // cross-site request forgery with the session cookies: refuse state changes from pages of other sites
  const policy = originPolicy(ctx.config);
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS' || !req.headers.cookie) return;
    // OpenID Connect endpoints take cross-site requests by design and protect themselves (state, PKCE, xsrf)
    if ((req.routeOptions.config as { crossSite?: boolean } | undefined)?.crossSite) return;
    if (originAllowed(req.headers.origin, req.host, policy)) return;
    req.log.warn({ origin: String(req.headers.origin).slice(0, 200) }, 'refused a request with cookies from another origin');
    return reply
      .code(403)
      .send({ error: { code: ErrorCode.FORBIDDEN, message: 'requests with cookies are accepted from this site only' } });
  });

  // hostile text (NUL, lone surrogates; invisible characters in names) is a 400 before any route
  // runs, and every string a route sees is NFC (lib/text.ts; Socket.IO events: realtime/text-guard.ts)
  app.addHook('preValidation', async (req) => {
    req.body = cleanOrThrow(req.body);
    req.query = cleanOrThrow(req.query);
    req.params = cleanOrThrow(req.params);
  });

  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.http.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((err: FastifyError | AuthError, req, reply) => {
    if (err instanceof AuthError) {
      if (err.statusCode >= 500) req.log.error({ err, cause: (err.cause as Error | undefined)?.message }, err.message);
      if (err.statusCode === 503) reply.header('retry-after', String(retryAfterSeconds(err.code)));
      return reply.code(err.statusCode).send(err.toBody());
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply
        .code(400)
        .send({ error: { code: ErrorCode.VALIDATION_FAILED, message: fe.message, details: { context: fe.validationContext } } });
    }
    if (fe.statusCode === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: { code: ErrorCode.PAYLOAD_TOO_LARGE, message: 'request body too large' } });
    }
    if (fe.statusCode === 415 || fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ error: { code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: 'send application/json' } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ error: { code: ErrorCode.BAD_REQUEST, message: fe.message } });
    }
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ err: (err as Error).message }, 'database unavailable');
      return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ error: databaseUnavailableAck() });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: ErrorCode.INTERNAL, message: 'internal error' } });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: ErrorCode.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  await registerRoutes(app, ctx);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const io = createRealtime(app.server, ctx);
  refuseUnknownUpgrades(app.server, SOCKET_PATH);
  io.on('connection', (socket) => guardText(socket));
  // Socket.IO's long-polling answers bypass Fastify: same headers there
  io.engine.on('headers', (headers: Record<string, string>) => Object.assign(headers, SECURITY_HEADERS));
  // Socket.IO's own close() would close the HTTP server Fastify is closing; disconnect clients only.
  app.addHook('preClose', async () => {
    io.local.disconnectSockets(true);
    io.engine.close();
  });

  await app.ready();
  return { app, io };
}
