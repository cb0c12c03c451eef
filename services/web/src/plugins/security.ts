/**
 * Security headers for everything the web service answers, proxied answers included.
 * The app is built without inline scripts or styles, so the CSP can forbid both.
 */
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

/**
 * Only the camera and passkeys (WebAuthn) are needed, and only by this origin; everything
 * else a page could ask for is switched off. Fullscreen stays available to the kiosk page.
 */
export const PERMISSIONS_POLICY = [
  'camera=(self)',
  'publickey-credentials-get=(self)',
  'publickey-credentials-create=(self)',
  'microphone=()',
  'geolocation=()',
  'payment=()',
  'usb=()',
  'serial=()',
  'display-capture=()',
  'fullscreen=(self)',
].join(', ');

export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  mediaSrc: ["'self'", 'blob:', 'mediastream:'],
  // 'self' covers the same origin's ws:/wss: (CSP Level 3, every current browser); a bare
  // `ws: wss:` would let a page connect to any host.
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: null,
} as const;

export async function securityHeaders(app: FastifyInstance, opts: { tls: boolean }): Promise<void> {
  const directives: Record<string, Iterable<string> | null> = { ...CSP_DIRECTIVES };
  // Upgrading to https on a plain-http localhost would break `npm start`; only ask for it with TLS.
  if (opts.tls) directives.upgradeInsecureRequests = [];
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    strictTransportSecurity: opts.tls ? { maxAge: 15552000, includeSubDomains: true } : false,
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('permissions-policy', PERMISSIONS_POLICY);
  });
}
