/** Prometheus scrape endpoint. */
import type { FastifyPluginAsync } from 'fastify';

export const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)' } }, async (_req, reply) => {
    const registry = app.metrics.registry;
    reply.type(registry.contentType);
    return registry.metrics();
  });
};
