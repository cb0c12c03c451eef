/**
 * Starts the vision service: validates the configuration, starts the workers, listens, and shuts
 * down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, stop workers).
 *
 * Logs one line {"event":"listening","url":...} once bound, which scripts and tests parse to find
 * the port when PORT=0.
 */
import 'sharp'; // loaded on the main thread before any worker: keeps libvips resident for all threads (sharp's worker_threads advice)
import { pino } from 'pino';
import { onShutdown } from '@faceline/runtime';
import { buildApp, loggerOptions, type AnalyzePool } from './app.js';
import { ConfigError, loadConfig, threadWarning, type VisionConfig } from './config.js';
import { WorkerPool } from './workers/pool.js';
import { spawnAnalyzeWorker } from './workers/spawn.js';

async function main(): Promise<void> {
  let config: VisionConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`vision: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }

  const settings = { intraOpThreads: config.intraOpThreads, maxPixels: config.maxPixels, maxSide: config.maxSide };
  const logger = pino(loggerOptions(config.logLevel));
  const pool: AnalyzePool = new WorkerPool({
    size: config.workers,
    queueMax: config.queueMax,
    taskTimeoutMs: config.taskTimeoutMs,
    spawn: (id) => spawnAnalyzeWorker(settings, id),
    logger: logger.child({ component: 'pool' }),
  });
  const app = await buildApp({ config, pool, logger });

  const warning = threadWarning(config);
  if (warning) app.log.warn(warning);
  app.log.info(
    {
      workers: config.workers,
      intraOpThreads: config.intraOpThreads,
      queueMax: config.queueMax,
      bodyLimitBytes: config.bodyLimitBytes,
      maxPixels: config.maxPixels,
      maxSide: config.maxSide,
    },
    'starting vision',
  );
  const loadStart = performance.now();
  pool.start();
  void pool
    .whenReady()
    .then(() => app.log.info({ event: 'ready', ms: Math.round(performance.now() - loadStart) }, 'all workers have loaded their models'));

  let stopping = false;
  // answers sent while draining close their connection, or keep-alive clients would hold the
  // server open until the grace period ends
  app.addHook('onSend', async (_req, reply) => {
    if (stopping) reply.header('connection', 'close');
  });

  const address = await app.listen({ port: config.port, host: config.host });
  app.log.info({ event: 'listening', url: address }, `vision listening at ${address}`);

  onShutdown({
    log: app.log,
    graceMs: config.shutdownGraceSeconds * 1000,
    onSignal: () => (stopping = true),
    // stop accepting and finish in-flight requests first, then stop the workers they ran on
    closers: [
      ['http server', () => app.close()],
      ['worker pool', () => pool.close()],
    ],
  });
}

main().catch((e: unknown) => {
  console.error('vision failed to start:', e);
  process.exit(1);
});
