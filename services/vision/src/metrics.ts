/**
 * Prometheus metrics of one vision process. A registry per app (not prom-client's global one)
 * so that tests can build several apps in one process.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@faceline/runtime';
import type { PoolStats, TaskSettled } from './workers/pool.js';

export interface VisionMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status_code'>;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  analyzeErrors: Counter<'code'>;
  decodeSeconds: Histogram;
  inferenceSeconds: Histogram;
  queueWaitSeconds: Histogram;
  facesPerImage: Histogram;
  /** called by the pool when a worker finishes (or loses) a task */
  taskSettled(e: TaskSettled): void;
  workerRestarted(e: { reason: string }): void;
}

/** Frames take ~10-50 ms; large photos and queueing push into the hundreds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(poolStats: () => PoolStats): VisionMetrics {
  const registry = createMetricsRegistry({ prefix: 'vision_' });

  const httpRequests = new Counter({
    name: 'vision_http_requests_total',
    help: 'HTTP requests answered, by route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'vision_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its answer (includes upload, queue, decode and inference)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const analyzeErrors = new Counter({
    name: 'vision_analyze_errors_total',
    help: 'Failed /v1/analyze requests by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const decodeSeconds = new Histogram({
    name: 'vision_decode_duration_seconds',
    help: 'Image decoding (sharp, in a worker) per analysed image',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const inferenceSeconds = new Histogram({
    name: 'vision_inference_duration_seconds',
    help: 'Face pipeline time (detection, landmarks, embeddings) per analysed image',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const queueWaitSeconds = new Histogram({
    name: 'vision_queue_wait_seconds',
    help: 'Time an image waited for a free worker',
    buckets: [0, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const facesPerImage = new Histogram({
    name: 'vision_faces_per_image',
    help: 'Faces returned per analysed image',
    buckets: [0, 1, 2, 3, 5, 10, 20, 50],
    registers: [registry],
  });
  const workerBusySeconds = new Counter({
    name: 'vision_worker_busy_seconds_total',
    help: 'Time workers spent on tasks; rate() divided by vision_workers is the utilisation',
    labelNames: ['worker'] as const,
    registers: [registry],
  });
  const workerTasks = new Counter({
    name: 'vision_worker_tasks_total',
    help: 'Tasks finished by workers, by outcome (ok, error = refused image, crashed, timeout)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const workerRestarts = new Counter({
    name: 'vision_worker_restarts_total',
    help: 'Workers replaced after they exited, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'vision_queue_depth',
    help: 'Images waiting for a free worker',
    registers: [registry],
    collect() {
      this.set(poolStats().queued);
    },
  });
  new Gauge({
    name: 'vision_queue_capacity',
    help: 'Most images that may wait; beyond it requests get 503 OVERLOADED',
    registers: [registry],
    collect() {
      this.set(poolStats().queueMax);
    },
  });
  new Gauge({
    name: 'vision_workers',
    help: 'Worker threads by state (starting = loading models or being replaced)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = poolStats();
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'busy' }, s.busy);
      this.set({ state: 'starting' }, s.starting);
    },
  });

  return {
    registry,
    httpRequests,
    httpDuration,
    analyzeErrors,
    decodeSeconds,
    inferenceSeconds,
    queueWaitSeconds,
    facesPerImage,
    taskSettled(e) {
      workerBusySeconds.inc({ worker: String(e.workerId) }, e.busyMs / 1000);
      workerTasks.inc({ outcome: e.outcome });
    },
    workerRestarted(e) {
      workerRestarts.inc({ reason: e.reason });
    },
  };
}
