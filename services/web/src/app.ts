/**
 * Builds the web service without listening: security headers, metrics, health, the auth
 * proxy (local/compose mode) and the static app. server.ts listens; tests use inject().
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ErrorCode } from '@faceline/contracts';
import type { WebConfig } from './config.js';
import { fastifyTimeouts, nodeServerTimeouts, refuseUnknownUpgrades } from './plugins/connections.js';
import { securityHeaders } from './plugins/security.js';
import { staticApp } from './plugins/static-app.js';
import { authProxy } from './plugins/auth-proxy.js';
import { healthRoutes } from './routes/health.routes.js';
import { createMetrics, metricsEndpoint, metricsRoutes } from './routes/metrics.routes.js';
import { trustFunction } from '@faceline/runtime';

export interface WebDeps {
  config: WebConfig;
  /** a pino logger; without one the app logs nothing (tests) */
  logger?: FastifyBaseLogger;
}

export interface WebApp {
  app: FastifyInstance;
  /** Serves /metrics when METRICS_PORT is set (then the main app does not); server.ts listens on it. */
  metricsApp: FastifyInstance | undefined;
  /** Marks the service as shutting down: /readyz answers 503 from now on. */
  beginShutdown: () => void;
}

export async function buildApp({ config, logger }: WebDeps): Promise<WebApp> {
  let closing = false;
  // slow or silent clients cannot hold connections (plugins/connections.ts)
  const server = config.tls
    ? { https: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), ...nodeServerTimeouts(config) } }
    : { http: nodeServerTimeouts(config) };
  const app = Fastify({
    ...server,
    ...fastifyTimeouts(config),
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    // a function, because Fastify alone would read a hop count as "trust nobody"
    trustProxy: trustFunction(config.trustProxy),
    // Frames never pass through here as HTTP bodies (they go over Socket.IO); keep bodies small.
    bodyLimit: 256 * 1024,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    // 5xx details stay in the log.
    const message = status >= 500 ? 'internal error' : err.message;
    const code = status >= 500 ? ErrorCode.INTERNAL : status === 404 ? ErrorCode.NOT_FOUND : ErrorCode.BAD_REQUEST;
    void reply.code(status).send({ error: { code, message } });
  });

  await refuseUnknownUpgrades(app);
  await securityHeaders(app, { tls: Boolean(config.tls) });
  const metrics = createMetrics();
  await metricsRoutes(app, { metrics, endpoint: config.metricsPort === undefined });
  let metricsApp: FastifyInstance | undefined;
  if (config.metricsPort !== undefined) {
    metricsApp = Fastify(logger ? { loggerInstance: logger } : { logger: false }) as unknown as FastifyInstance;
    await metricsEndpoint(metricsApp, metrics);
  }
  await app.register(healthRoutes, {
    version: config.version,
    publicDir: config.publicDir,
    authUrl: config.authUrl,
    isClosing: () => closing,
  });
  if (config.authUrl) await app.register(authProxy, { authUrl: config.authUrl });
  await app.register(staticApp, { publicDir: config.publicDir });

  return {
    app,
    metricsApp,
    beginShutdown: () => {
      closing = true;
    },
  };
}
