import type { FastifyInstance } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import { createMetricsRegistry, scrape } from '@faceline/runtime';

/** One registry per app instance so that tests can build several apps in one process. */
export function createMetrics() {
  const registry = createMetricsRegistry({ labels: { service: 'web' } });
  const requests = new Counter({
    name: 'faceline_web_http_requests_total',
    help: 'HTTP requests answered by the web service (proxied ones included)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'faceline_web_http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  return { registry, requests, duration };
}
export type WebMetrics = ReturnType<typeof createMetrics>;

/**
 * Counts the app's requests, and serves GET /metrics on the same app unless `endpoint` is false
 * (then metricsEndpoint serves it on a listener of its own).
 */
export async function metricsRoutes(app: FastifyInstance, opts: { metrics: WebMetrics; endpoint?: boolean }): Promise<void> {
  const { metrics } = opts;
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  if (opts.endpoint !== false) await metricsEndpoint(app, metrics);
}

export async function metricsEndpoint(app: FastifyInstance, metrics: WebMetrics): Promise<void> {
  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => {
    const { contentType, body } = await scrape(metrics.registry);
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
}
