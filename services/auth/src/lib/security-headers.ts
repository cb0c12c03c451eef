/**
 * Security headers on everything auth answers itself. Where an Ingress routes /api, /socket.io
 * and /.well-known straight to auth, the web service's headers are not in front of it. Auth only
 * answers JSON (and Socket.IO's polling frames), never a page, so the policy is as closed as it
 * gets: nothing may load, nothing may frame it, no referrer, no content sniffing.
 */
import type { FastifyInstance } from 'fastify';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Sent when the request came over TLS (directly or per a trusted X-Forwarded-Proto) or PUBLIC_URL is https. */
export const HSTS = 'max-age=15552000; includeSubDomains';

export function securityHeaders(app: FastifyInstance, opts: { publicUrl: string | undefined }): void {
  const alwaysHttps = opts.publicUrl?.startsWith('https:') ?? false;
  // onRequest, so that every answer has them: routes, errors, 404s, refusals of other hooks
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (alwaysHttps || req.protocol === 'https') reply.header('strict-transport-security', HSTS);
  });
}
