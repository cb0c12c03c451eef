/**
 * Serves the built browser app. Vite puts content-hashed files under /assets/, so those
 * can be cached for a year; index.html must be revalidated on every visit so that a new
 * release is picked up at once. Unknown GET paths that want HTML get index.html because
 * the app routes on the client (/login, /kiosk, /me, ...).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import compress from '@fastify/compress';
import { ErrorCode } from '@faceline/contracts';

export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
export const CACHE_REVALIDATE = 'no-cache';
export const CACHE_SHORT = 'public, max-age=3600';

/** Paths that belong to other services; they never fall back to the app. */
const NOT_APP = /^\/(api|socket\.io|\.well-known|oidc|healthz|readyz|metrics)(\/|$|\?)/;

export function cacheControlFor(filePath: string): string {
  const p = filePath.split(path.sep).join('/');
  if (p.endsWith('/index.html')) return CACHE_REVALIDATE;
  if (p.includes('/assets/')) return CACHE_IMMUTABLE;
  return CACHE_SHORT;
}

export function appIsBuilt(publicDir: string): boolean {
  return existsSync(path.join(publicDir, 'index.html'));
}

export async function staticApp(app: FastifyInstance, opts: { publicDir: string }): Promise<void> {
  // Compression only here: proxied Socket.IO and API answers pass through untouched.
  await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });

  if (existsSync(opts.publicDir)) {
    await app.register(fastifyStatic, {
      root: opts.publicDir,
      prefix: '/',
      index: ['index.html'],
      cacheControl: false,
      etag: true,
      lastModified: true,
      dotfiles: 'deny',
      setHeaders: (reply, filePath) => {
        reply.header('cache-control', cacheControlFor(filePath));
      },
    });
  }

  app.setNotFoundHandler((req, reply) => {
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    const url = req.url;
    const looksLikeFile = /\.[a-z0-9]{1,8}$/i.test(url.split('?')[0] ?? '');
    if ((req.method === 'GET' || req.method === 'HEAD') && wantsHtml && !NOT_APP.test(url) && !looksLikeFile) {
      if (!appIsBuilt(opts.publicDir)) {
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .header('cache-control', 'no-store')
          .send('The Faceline app is not built yet. Run: npm run build:app -w @faceline/web (npm start does it for you).\n');
      }
      reply.header('cache-control', CACHE_REVALIDATE);
      return reply.sendFile('index.html', opts.publicDir);
    }
    return reply.code(404).send({ error: { code: ErrorCode.NOT_FOUND, message: `nothing at ${req.method} ${url.split('?')[0]}` } });
  });
}
