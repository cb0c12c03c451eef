/**
 * Builds the vision HTTP app around a worker pool. Never listens (server.ts does), so tests can
 * use app.inject() or listen on port 0 themselves.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest, type FastifyBaseLogger } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorCode, IMAGE_MEDIA_TYPES, VISION_API_VERSION, type ModelInfo } from '@faceline/contracts';
import type { VisionConfig } from './config.js';
import { VisionError } from './errors.js';
import { GENERIC_BINARY } from './image/intake.js';
import { createMetrics, type VisionMetrics } from './metrics.js';
import { ANALYZE_PATH, ANALYZE_REQUEST_BODY, analyzeRoutes } from './routes/analyze.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { openapiRoutes } from './routes/openapi.js';
import type { AnalyzeOutcome, AnalyzeTask } from './workers/protocol.js';
import type { WorkerPool } from './workers/pool.js';

export type AnalyzePool = WorkerPool<AnalyzeTask, AnalyzeOutcome, ModelInfo>;

export interface AppDeps {
  config: Pick<VisionConfig, 'bodyLimitBytes' | 'retryAfterSeconds' | 'version' | 'logLevel'>;
  pool: AnalyzePool;
  /** a pino logger; defaults to one at config.logLevel */
  logger?: FastifyBaseLogger;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: VisionMetrics;
  }
}

const RAW_BODY_TYPES = [...IMAGE_MEDIA_TYPES, GENERIC_BINARY];

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, pool } = deps;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: loggerOptions(config.logLevel) }),
    bodyLimit: config.bodyLimitBytes,
    ajv: {
      // unknown query options are an error, not silently dropped
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true },
    },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics = createMetrics(() => pool.stats());
  pool.observe(metrics);
  app.decorate('metrics', metrics);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Faceline vision',
        description:
          'Face detection, landmarks, quality and 128-D embeddings for one image per request. ' +
          'Stateless: no user ids, no stored images.',
        version: VISION_API_VERSION,
      },
      tags: [
        { name: 'analyze', description: 'face analysis' },
        { name: 'operations', description: 'health, readiness, metrics' },
      ],
    },
    // the image body is parsed as raw bytes, so it cannot carry a validation schema; document it here
    transform: ({ schema, url }) => (url === ANALYZE_PATH ? { schema: { ...schema, body: ANALYZE_REQUEST_BODY }, url } : { schema, url }),
  });

  await app.register(multipart, {
    limits: { fileSize: config.bodyLimitBytes, files: 1, fields: 16, parts: 32, fieldSize: 64 * 1024 },
  });
  app.addContentTypeParser(RAW_BODY_TYPES, { parseAs: 'buffer', bodyLimit: config.bodyLimitBytes }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (req, reply) => {
    const labels = { method: req.method, route: routeLabel(req), status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | VisionError, req, reply) => {
    const ve = toVisionError(err, req);
    if (ve.code === ErrorCode.INTERNAL) req.log.error({ err }, 'request failed');
    else req.log.info({ code: ve.code, status: ve.statusCode }, ve.message);
    if (req.routeOptions.url === ANALYZE_PATH) metrics.analyzeErrors.inc({ code: ve.code });
    if (ve.statusCode === 503) reply.header('retry-after', String(config.retryAfterSeconds));
    return reply.status(ve.statusCode).send(ve.toBody());
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(new VisionError(ErrorCode.NOT_FOUND, `no route for ${req.method} ${req.url.split('?')[0]}`).toBody()),
  );

  await app.register(healthRoutes, { pool, version: config.version });
  await app.register(metricsRoutes);
  await app.register(openapiRoutes);
  await app.register(analyzeRoutes, { pool });
  return app;
}

export function loggerOptions(level: VisionConfig['logLevel']) {
  // Fastify never logs bodies (images); headers could carry a caller's credentials
  return { level, redact: ['req.headers.authorization', 'req.headers.cookie'] };
}

function routeLabel(req: FastifyRequest): string {
  // unmatched URLs share one label so that scanners cannot blow up the metric's cardinality
  return req.routeOptions.url ?? 'unmatched';
}

const TOO_LARGE = new Set([
  'FST_ERR_CTP_BODY_TOO_LARGE',
  'FST_REQ_FILE_TOO_LARGE',
  'FST_FILES_LIMIT',
  'FST_PARTS_LIMIT',
  'FST_FIELDS_LIMIT',
]);

/** Maps anything thrown while handling a request onto a stable code. */
export function toVisionError(err: FastifyError | VisionError | Error, req: FastifyRequest): VisionError {
  if (err instanceof VisionError) return err;
  const fe = err as FastifyError;
  if (fe.validation) {
    const code = fe.validationContext === 'querystring' ? ErrorCode.INVALID_OPTIONS : ErrorCode.VALIDATION_FAILED;
    return new VisionError(code, fe.message, { issues: fe.validation.map((v) => ({ path: v.instancePath, message: v.message })) });
  }
  if (fe.code && TOO_LARGE.has(fe.code)) {
    return new VisionError(ErrorCode.PAYLOAD_TOO_LARGE, fe.message);
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.code === 'FST_ERR_CTP_EMPTY_TYPE' || fe.code === 'FST_ERR_CTP_INVALID_TYPE') {
    const analyze = req.routeOptions.url === ANALYZE_PATH;
    return new VisionError(
      analyze ? ErrorCode.IMAGE_UNSUPPORTED_TYPE : ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      analyze
        ? `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}; send ${RAW_BODY_TYPES.join(', ')} or multipart/form-data with a file field "image"`
        : fe.message,
    );
  }
  const status = fe.statusCode ?? 500;
  if (status >= 400 && status < 500) return new VisionError(ErrorCode.BAD_REQUEST, fe.message);
  return new VisionError(ErrorCode.INTERNAL, 'internal error', undefined, { cause: err });
}
