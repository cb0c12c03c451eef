/** Prometheus metrics, one registry per app instance (tests run two replicas in one process). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetricsRegistry } from '@faceline/runtime';

export function createMetrics() {
  const registry = createMetricsRegistry({ prefix: 'faceline_auth_' });
  return {
    registry,
    http: new Histogram({
      name: 'faceline_auth_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'faceline_auth_logins_total',
      help: 'Finished face logins by mode and outcome',
      labelNames: ['mode', 'outcome'] as const,
      registers: [registry],
    }),
    loginDuration: new Histogram({
      name: 'faceline_auth_login_duration_seconds',
      help: 'Time from login:start to the result',
      labelNames: ['mode', 'outcome'] as const,
      buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32],
      registers: [registry],
    }),
    enrollments: new Counter({
      name: 'faceline_auth_enrollments_total',
      help: 'Finished enrollments by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    frames: new Counter({
      name: 'faceline_auth_frames_total',
      help: 'Frames received over Socket.IO by flow and result (accepted or the refusal code)',
      labelNames: ['flow', 'result'] as const,
      registers: [registry],
    }),
    vision: new Histogram({
      name: 'faceline_auth_vision_request_duration_seconds',
      help: 'Calls to the vision service by address and outcome',
      labelNames: ['url', 'ok'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    enrolledPeople: new Gauge({
      name: 'faceline_auth_enrolled_people',
      help: 'People with at least one template in the 1:N index',
      registers: [registry],
    }),
    indexSize: new Gauge({ name: 'faceline_auth_index_templates', help: 'Templates in the in-memory 1:N index', registers: [registry] }),
    sockets: new Gauge({ name: 'faceline_auth_socket_connections', help: 'Open Socket.IO connections', registers: [registry] }),
    siteStaleness: new Gauge({
      name: 'faceline_auth_site_staleness_seconds',
      help: "Site mode: seconds since the newest hub heartbeat in this site's copy",
      registers: [registry],
    }),
    hubReachable: new Gauge({
      name: 'faceline_auth_hub_reachable',
      help: 'Site mode: 1 when the last probe reached the hub, 0 when not',
      registers: [registry],
    }),
    visionReady: new Gauge({
      name: 'faceline_auth_vision_ready',
      help: '1 when at least one vision address answers its readiness probe (probed every 5 s), else 0; auth stays ready either way',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
