import type { FastifyInstance } from 'fastify';
import { HealthResponse } from '@faceline/contracts';
import { appIsBuilt } from '../plugins/static-app.js';

export interface HealthOptions {
  version: string;
  publicDir: string;
  authUrl: string | undefined;
  /** set while shutting down so that load balancers stop sending traffic first */
  isClosing: () => boolean;
}

async function authReachable(authUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${authUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  const schema = { response: { 200: HealthResponse, 503: HealthResponse } };

  app.get('/healthz', { schema, logLevel: 'warn' }, async () => ({ status: 'ok' as const, service: 'web', version: opts.version }));

  app.get('/readyz', { schema, logLevel: 'warn' }, async (_req, reply) => {
    const checks: Record<string, string> = { app: appIsBuilt(opts.publicDir) ? 'ok' : 'missing' };
    // Reported, but not a reason to leave the load balancer: while auth is down the app
    // itself should still load and tell people that sign-in is temporarily unavailable.
    if (opts.authUrl) checks.auth = (await authReachable(opts.authUrl)) ? 'ok' : 'unreachable';
    const ready = checks.app === 'ok' && !opts.isClosing();
    if (opts.isClosing()) checks.shutdown = 'in progress';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', service: 'web', version: opts.version, checks });
  });
}
