/**
 * The only module that reads process.env. Every variable is validated at start and all
 * problems are reported at once, so a misconfigured deployment fails with one clear message.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTS } from '@faceline/contracts';

export interface WebConfig {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Folder holding the built browser app (index.html + assets/). */
  publicDir: string;
  /**
   * Where /api, /.well-known and /socket.io are forwarded. Empty when an Ingress does the
   * routing (Kubernetes): then the web service serves only the app.
   */
  authUrl: string | undefined;
  tls: { certFile: string; keyFile: string } | undefined;
  /** Trust X-Forwarded-* from a reverse proxy in front of this service. */
  trustProxy: boolean;
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

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The built app lives beside the compiled server: services/web/dist/public. */
export const DEFAULT_PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'public');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WebConfig {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };

  const port = int('PORT', DEFAULT_PORTS.web, 0, 65535);
  const shutdownGraceSeconds = int('SHUTDOWN_GRACE_SECONDS', 10, 0, 600);
  const metricsPort = env.METRICS_PORT === undefined || env.METRICS_PORT === '' ? undefined : int('METRICS_PORT', 0, 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) problems.push(`METRICS_PORT must differ from PORT (${port})`);

  const headersTimeoutMs = int('HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = int('REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) problems.push('HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS');
  // longer than the 60 s idle timeout of common load balancers, so that they close first
  const keepAliveTimeoutMs = int('KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 600_000);

  const logLevel = (env.LOG_LEVEL ?? 'info') as WebConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  let authUrl: string | undefined = env.AUTH_URL?.trim() || undefined;
  if (authUrl) {
    try {
      const u = new URL(authUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      authUrl = u.origin;
    } catch {
      problems.push(`AUTH_URL must be an http(s) URL such as http://127.0.0.1:${DEFAULT_PORTS.auth}, got "${authUrl}"`);
    }
  }

  const publicDir = path.resolve(env.WEB_PUBLIC_DIR?.trim() || DEFAULT_PUBLIC_DIR);

  const certFile = env.TLS_CERT_FILE?.trim();
  const keyFile = env.TLS_KEY_FILE?.trim();
  let tls: WebConfig['tls'];
  if (certFile || keyFile) {
    if (!certFile || !keyFile) problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
    else {
      if (!existsSync(certFile)) problems.push(`TLS_CERT_FILE not found: ${certFile}`);
      if (!existsSync(keyFile)) problems.push(`TLS_KEY_FILE not found: ${keyFile}`);
      tls = { certFile, keyFile };
    }
  }

  const trustRaw = (env.TRUST_PROXY ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(trustRaw)) problems.push(`TRUST_PROXY must be true or false, got "${env.TRUST_PROXY}"`);

  if (problems.length) throw new ConfigError(problems);
  return {
    host: env.HOST?.trim() || '0.0.0.0',
    port,
    logLevel,
    publicDir,
    authUrl,
    tls,
    trustProxy: trustRaw === 'true' || trustRaw === '1',
    shutdownGraceSeconds,
    metricsPort,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    version: env.FACELINE_VERSION?.trim() || '0.1.0',
  };
}
