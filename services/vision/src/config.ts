/**
 * The only module that reads process.env. Every variable is validated at start and all
 * problems are reported at once, so a misconfigured deployment fails with one clear message.
 */
import os from 'node:os';
import { DEFAULT_PORTS } from '@faceline/contracts';

export interface VisionConfig {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
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

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): VisionConfig {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };

  const port = int('PORT', DEFAULT_PORTS.vision, 0, 65535);
  const workers = int('VISION_WORKERS', defaultWorkers(), 1, 256);
  const intraOpThreads = int('VISION_INTRA_OP_THREADS', 1, 1, 256);
  const queueMax = int('VISION_QUEUE_MAX', QUEUE_PER_WORKER * workers, 0, 100_000);
  const bodyLimitBytes = int('VISION_BODY_LIMIT_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const maxPixels = int('VISION_MAX_PIXELS', 40_000_000, 1024, 1_000_000_000);
  const maxSide = int('VISION_MAX_SIDE', 1920, 0, 100_000);
  if (maxSide > 0 && maxSide < 320) problems.push(`VISION_MAX_SIDE must be 0 (off) or at least 320, got "${maxSide}"`);
  const taskTimeoutMs = int('VISION_TASK_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const retryAfterSeconds = int('VISION_RETRY_AFTER_SECONDS', 1, 0, 3600);
  const shutdownGraceSeconds = int('SHUTDOWN_GRACE_SECONDS', 10, 0, 600);

  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as VisionConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  if (problems.length) throw new ConfigError(problems);
  return {
    host: env.HOST?.trim() || '0.0.0.0',
    port,
    logLevel,
    workers,
    intraOpThreads,
    queueMax,
    bodyLimitBytes,
    maxPixels,
    maxSide,
    taskTimeoutMs,
    retryAfterSeconds,
    shutdownGraceSeconds,
    version: env.FACELINE_VERSION?.trim() || '0.1.0',
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
