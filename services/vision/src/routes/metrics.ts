/** Prometheus scrape endpoint. */
import type { FastifyPluginAsync } from 'fastify';
import { scrape } from '@faceline/runtime';

export const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)' } }, async (_req, reply) => {
    const { contentType, body } = await scrape(app.metrics.registry);
    return reply.type(contentType).send(body);
  });
};
