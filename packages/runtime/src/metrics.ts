/**
 * The Prometheus set-up every service shares: a registry of its own per app (tests build several
 * apps in one process, so prom-client's global registry would collide), Node's default metrics
 * in it, and the answer to a scrape.
 *
 * @example
 * const registry = createMetricsRegistry({ prefix: 'vision_' });
 * app.get('/metrics', async (_req, reply) => {
 *   const { contentType, body } = await scrape(registry);
 *   return reply.type(contentType).send(body);
 * });
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  /** prefix of the default metrics' names (process_cpu_seconds_total → vision_process_cpu_seconds_total) */
  prefix?: string;
  /** labels on every metric of the registry */
  labels?: Record<string, string>;
}

export function createMetricsRegistry(opts: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  collectDefaultMetrics({ register: registry, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
  return registry;
}

/** The text exposition and the content type it must be served with. */
export async function scrape(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
