/**
 * Local and compose mode: the web service is the single entry point and forwards the
 * auth service's paths (HTTP API, JWKS, OpenID Connect, Socket.IO with its websocket upgrade), so the
 * browser only ever talks to its own origin. In Kubernetes the Ingress does this instead.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import { ErrorCode } from '@faceline/contracts';

function forwarded(headers: IncomingHttpHeaders, req: FastifyRequest): IncomingHttpHeaders {
  return {
    ...headers,
    'x-forwarded-for': req.ip,
    'x-forwarded-proto': req.protocol,
    'x-forwarded-host': req.headers.host ?? '',
  };
}

function upstreamDown(reply: Pick<FastifyReply, 'log' | 'code'>, error: unknown): void {
  reply.log.warn({ err: error }, 'auth service unreachable');
  void reply
    .code(503)
    .header('retry-after', '2')
    .send({ error: { code: ErrorCode.NOT_READY, message: 'the auth service is not reachable; try again shortly', retryable: true } });
}

/**
 * Browsers send cookies with cross-site websocket upgrades, so a page elsewhere could open a
 * socket in the signed-in person's name (cross-site websocket hijacking). Socket.IO traffic
 * is only accepted from pages of this origin; clients that send no Origin (not browsers) pass.
 */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export async function authProxy(app: FastifyInstance, opts: { authUrl: string }): Promise<void> {
  const replyOptions: FastifyHttpProxyOptions['replyOptions'] = {
    rewriteRequestHeaders: (req, headers) => forwarded(headers, req as FastifyRequest),
    onError: (reply, { error }) => upstreamDown(reply as unknown as FastifyReply, error),
  };
  // /oidc: "Sign in with Faceline" (the OpenID Connect provider in auth; discovery is under /.well-known)
  for (const prefix of ['/api', '/.well-known', '/oidc']) {
    await app.register(httpProxy, { upstream: opts.authUrl, prefix, rewritePrefix: prefix, replyOptions });
  }
  await app.register(httpProxy, {
    upstream: opts.authUrl,
    prefix: '/socket.io',
    rewritePrefix: '/socket.io',
    websocket: true,
    replyOptions,
    preHandler: (req, reply, done) => {
      if (sameOrigin(req.headers.origin, req.host)) return done();
      void reply.code(403).send({ error: { code: ErrorCode.FORBIDDEN, message: 'Socket.IO connections are accepted from this origin only' } });
    },
    wsClientOptions: {
      rewriteRequestHeaders: (headers: IncomingHttpHeaders, req: FastifyRequest) => {
        const out = forwarded(headers, req);
        if (req.headers.cookie) out.cookie = req.headers.cookie;
        if (req.headers.origin) out.origin = req.headers.origin;
        if (req.headers['user-agent']) out['user-agent'] = req.headers['user-agent'];
        return out;
      },
    } as Record<string, unknown>,
  });
}
