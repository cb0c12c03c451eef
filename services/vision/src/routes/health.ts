/** Liveness and readiness for orchestrators (Kubernetes probes, scripts/start.mjs). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthResponse } from '@faceline/contracts';
import type { AnalyzePool } from '../app.js';

export const healthRoutes: FastifyPluginAsyncTypebox<{ pool: AnalyzePool; version: string }> = async (app, { pool, version }) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: HealthResponse } } }, async () => ({
    status: 'ok' as const,
    service: 'vision',
    version,
  }));
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Every worker has loaded its models (503 before that, and while a crashed worker is replaced)',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (_req, reply) => {
      const s = pool.stats();
      const checks = { workers: `${s.ready}/${s.size} ready`, queue: `${s.queued}/${s.queueMax}` };
      if (pool.ready) return { status: 'ok' as const, service: 'vision', version, checks };
      reply.header('retry-after', '1');
      return reply.status(503).send({ status: 'starting' as const, service: 'vision', version, checks });
    },
  );
};
