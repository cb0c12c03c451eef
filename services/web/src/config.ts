/**
 * The only module that reads process.env. Every variable is validated at start and all
 * problems are reported at once, so a misconfigured deployment fails with one clear message.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTS } from '@faceline/contracts';
import { logLevel, readEnv, trustProxy, type Env, type LogLevel, type TrustProxy } from '@faceline/runtime';

export { ConfigError } from '@faceline/runtime';

export interface WebConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Folder holding the built browser app (index.html + assets/). */
  publicDir: string;
  /**
   * Where /api, /.well-known and /socket.io are forwarded. Empty when an Ingress does the
   * routing (Kubernetes): then the web service serves only the app.
   */
  authUrl: string | undefined;
  tls: { certFile: string; keyFile: string } | undefined;
  /**
   * Whose X-Forwarded-* to believe: true, false, a hop count or addresses/CIDRs, as in auth
   * (packages/runtime/src/trust-proxy.ts); handed to Fastify as it is.
   */
  trustProxy: TrustProxy;
  /** Seconds to wait for open connections on SIGTERM before exiting anyway. */
  shutdownGraceSeconds: number;
  /**
   * Port of a separate listener for /metrics. Unset: /metrics is served on the main port. In
   * Kubernetes the main port is published through the Ingress `/` rule (or the LoadBalancer), so
   * metrics move to a port only the scraper reaches.
   */
  metricsPort: number | undefined;
  /** Time a client has to send its request headers; slower connections are closed (408). */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request (headers and body). */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  version: string;
}

/** The built app lives beside the compiled server: services/web/dist/public. */
export const DEFAULT_PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'public');

export function loadConfig(source: Env = process.env): WebConfig {
  const env = readEnv(source);
  const int = (name: string, fallback: number, min: number, max: number) => env.int(name, fallback, { min, max });

  const port = int('PORT', DEFAULT_PORTS.web, 0, 65535);
  const shutdownGraceSeconds = int('SHUTDOWN_GRACE_SECONDS', 10, 0, 600);
  const metricsPort = env.optionalInt('METRICS_PORT', { min: 0, max: 65535 });
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) env.problem(`METRICS_PORT must differ from PORT (${port})`);

  const headersTimeoutMs = int('HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = int('REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) env.problem('HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS');
  // longer than the 60 s idle timeout of common load balancers, so that they close first
  const keepAliveTimeoutMs = int('KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 600_000);

  const level = logLevel(env);
  const authUrl = env.url('AUTH_URL', { example: `http://127.0.0.1:${DEFAULT_PORTS.auth}`, origin: true });
  const publicDir = path.resolve(env.str('WEB_PUBLIC_DIR') ?? DEFAULT_PUBLIC_DIR);

  const certFile = env.str('TLS_CERT_FILE');
  const keyFile = env.str('TLS_KEY_FILE');
  let tls: WebConfig['tls'];
  if (certFile || keyFile) {
    if (!certFile || !keyFile) env.problem('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
    else {
      if (!existsSync(certFile)) env.problem(`TLS_CERT_FILE not found: ${certFile}`);
      if (!existsSync(keyFile)) env.problem(`TLS_KEY_FILE not found: ${keyFile}`);
      tls = { certFile, keyFile };
    }
  }

  const trust = trustProxy(env);
  const host = env.str('HOST') ?? '0.0.0.0';
  const version = env.str('FACELINE_VERSION') ?? '0.1.0';

  env.done();
  return {
    host,
    port,
    logLevel: level,
    publicDir,
    authUrl,
    tls,
    trustProxy: trust,
    shutdownGraceSeconds,
    metricsPort,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    version,
  };
}
