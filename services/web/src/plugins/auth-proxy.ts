/**
 * Local and compose mode: the web service is the single entry point and forwards the
 * auth service's paths (HTTP API, JWKS, OpenID Connect, Socket.IO with its websocket upgrade), so the
 * browser only ever talks to its own origin. In Kubernetes the Ingress does this instead.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import { Readable, Transform } from 'node:stream';
import { AUTH_BODY_LIMIT_BYTES, ErrorCode } from '@faceline/contracts';

function forwarded(headers: IncomingHttpHeaders, req: FastifyRequest): IncomingHttpHeaders {
  return {
    ...headers,
    'x-forwarded-for': req.ip,
    'x-forwarded-proto': req.protocol,
    'x-forwarded-host': req.headers.host ?? '',
  };
}

const kTooLarge = Symbol('faceline.bodyTooLarge');
type LimitedRequest = FastifyRequest & { [kTooLarge]?: boolean };

function tooLarge(reply: Pick<FastifyReply, 'code'>, limit: number): void {
  void reply
    .code(413)
    .send({ error: { code: ErrorCode.PAYLOAD_TOO_LARGE, message: `request body larger than ${limit} bytes`, details: { limit } } });
}

/**
 * Bodies go to auth as a stream. Auth refuses more than AUTH_BODY_LIMIT_BYTES and closes the
 * connection while a large body is still being sent, which the proxy used to see as an
 * unreachable auth: a 503 NOT_READY and a false outage in the log. So the limit is applied here
 * first, with the answer auth would give: a declared length above it is refused at once, and a
 * chunked body is cut off at the first byte beyond it.
 */
export function limitBody(limit: number) {
  return (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      tooLarge(reply, limit);
      return;
    }
    const body = req.body;
    if (body instanceof Readable) {
      let seen = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          seen += chunk.length;
          if (seen <= limit) return callback(null, chunk);
          (req as LimitedRequest)[kTooLarge] = true;
          // read and drop the rest, or a client still sending would never see the answer
          // (REQUEST_TIMEOUT_MS bounds how long that may take)
          body.unpipe(counted);
          body.resume();
          callback(new Error('request body too large'));
        },
      });
      body.on('error', (err) => counted.destroy(err));
      req.body = body.pipe(counted);
    }
    done();
  };
}

function upstreamDown(reply: Pick<FastifyReply, 'log' | 'code' | 'request'>, error: unknown, limit: number): void {
  if ((reply.request as LimitedRequest)[kTooLarge]) {
    tooLarge(reply, limit);
    return;
  }
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

export async function authProxy(app: FastifyInstance, opts: { authUrl: string; bodyLimit?: number }): Promise<void> {
  const limit = opts.bodyLimit ?? AUTH_BODY_LIMIT_BYTES;
  const replyOptions: FastifyHttpProxyOptions['replyOptions'] = {
    rewriteRequestHeaders: (req, headers) => forwarded(headers, req as FastifyRequest),
    onError: (reply, { error }) => upstreamDown(reply as unknown as FastifyReply, error, limit),
  };
  // /oidc: "Sign in with Faceline" (the OpenID Connect provider in auth; discovery is under /.well-known)
  for (const prefix of ['/api', '/.well-known', '/oidc']) {
    await app.register(httpProxy, { upstream: opts.authUrl, prefix, rewritePrefix: prefix, replyOptions, preHandler: limitBody(limit) });
  }
  await app.register(httpProxy, {
    upstream: opts.authUrl,
    prefix: '/socket.io',
    rewritePrefix: '/socket.io',
    websocket: true,
    replyOptions,
    preHandler: (req, reply, done) => {
      if (sameOrigin(req.headers.origin, req.host)) return done();
      void reply
        .code(403)
        .send({ error: { code: ErrorCode.FORBIDDEN, message: 'Socket.IO connections are accepted from this origin only' } });
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
