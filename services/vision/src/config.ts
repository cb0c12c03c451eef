/**
 * The only module that reads process.env. Every variable is validated at start and all
 * problems are reported at once, so a misconfigured deployment fails with one clear message.
 */
import os from 'node:os';
import { DEFAULT_PORTS } from '@faceline/contracts';
import { logLevel, readEnv, type Env, type LogLevel } from '@faceline/runtime';

export { ConfigError } from '@faceline/runtime';

export interface VisionConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Worker threads, each with its own copy of the models. */
  workers: number;
  /** ONNX Runtime intra-op threads per worker session. workers x intraOpThreads should not exceed the cores. */
  intraOpThreads: number;
  /** Requests allowed to wait for a worker; beyond that the service answers 503 OVERLOADED. */
  queueMax: number;
  /** Largest accepted request body (raw image or multipart file), bytes. */
  bodyLimitBytes: number;
  /** Largest accepted image, width x height; checked from the header before decoding. */
  maxPixels: number;
  /** Images whose longer side exceeds this are downscaled before detection; 0 turns it off. */
  maxSide: number;
  /** A request that has not been answered by a worker in this time fails instead of hanging. */
  taskTimeoutMs: number;
  /** Value of Retry-After on 503 answers. */
  retryAfterSeconds: number;
  /** Seconds to wait for in-flight requests on SIGTERM before exiting anyway. */
  shutdownGraceSeconds: number;
  version: string;
}

/** One worker per core: each worker runs one frame at a time on one ONNX thread. */
export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}

/**
 * Four waiting requests per worker: a queued frame then waits at most about four frame times
 * (~100 ms for a 640x480 frame), which a login still tolerates, and a burst of a few frames from
 * one login fits. Longer queues only add latency that a caller is better off spending on another
 * replica, and they bound memory: (workers + queue) x body limit.
 */
export const QUEUE_PER_WORKER = 4;

export function loadConfig(source: Env = process.env): VisionConfig {
  const env = readEnv(source);
  const int = (name: string, fallback: number, min: number, max: number) => env.int(name, fallback, { min, max });

  const port = int('PORT', DEFAULT_PORTS.vision, 0, 65535);
  const workers = int('VISION_WORKERS', defaultWorkers(), 1, 256);
  const intraOpThreads = int('VISION_INTRA_OP_THREADS', 1, 1, 256);
  const queueMax = int('VISION_QUEUE_MAX', QUEUE_PER_WORKER * workers, 0, 100_000);
  const bodyLimitBytes = int('VISION_BODY_LIMIT_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const maxPixels = int('VISION_MAX_PIXELS', 40_000_000, 1024, 1_000_000_000);
  const maxSide = int('VISION_MAX_SIDE', 1920, 0, 100_000);
  if (maxSide > 0 && maxSide < 320) env.problem(`VISION_MAX_SIDE must be 0 (off) or at least 320, got "${maxSide}"`);
  const taskTimeoutMs = int('VISION_TASK_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const retryAfterSeconds = int('VISION_RETRY_AFTER_SECONDS', 1, 0, 3600);
  const shutdownGraceSeconds = int('SHUTDOWN_GRACE_SECONDS', 10, 0, 600);
  const level = logLevel(env);
  const host = env.str('HOST') ?? '0.0.0.0';
  const version = env.str('FACELINE_VERSION') ?? '0.1.0';

  env.done();
  return {
    host,
    port,
    logLevel: level,
    workers,
    intraOpThreads,
    queueMax,
    bodyLimitBytes,
    maxPixels,
    maxSide,
    taskTimeoutMs,
    retryAfterSeconds,
    shutdownGraceSeconds,
    version,
  };
}

/** A warning to log at start when the configuration oversubscribes the cores (not an error: it still works). */
export function threadWarning(config: VisionConfig, cores = os.availableParallelism()): string | undefined {
  const total = config.workers * config.intraOpThreads;
  if (total <= cores) return undefined;
  return (
    `VISION_WORKERS (${config.workers}) x VISION_INTRA_OP_THREADS (${config.intraOpThreads}) = ${total} ` +
    `threads on ${cores} cores: threads will compete and each frame gets slower`
  );
}
