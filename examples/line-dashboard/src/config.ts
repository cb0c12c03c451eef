/**
 * Settings from the environment, checked at start (all problems at once).
 *
 *   FACELINE_ISSUER        where people open Faceline, e.g. https://faceline.example.com (the issuer)
 *   FACELINE_INTERNAL_URL  optional: how this server reaches Faceline when that differs (compose: http://web:8080)
 *   CLIENT_ID              as registered with Faceline (default line-dashboard)
 *   CLIENT_SECRET / CLIENT_SECRET_FILE
 *   PUBLIC_URL             where people open this dashboard (default http://localhost:8090);
 *                          Faceline must know PUBLIC_URL/callback as a redirect URI and PUBLIC_URL/ for sign-out
 *   PORT, HOST             listen address (8090, 0.0.0.0)
 */
import { readFileSync } from 'node:fs';

export interface DashboardConfig {
  issuer: URL;
  internalUrl: URL | undefined;
  clientId: string;
  clientSecret: string;
  publicUrl: URL;
  port: number;
  host: string;
  /** the line this dashboard belongs to, shown in the header */
  line: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): DashboardConfig {
  const problems: string[] = [];
  const url = (name: string, fallback?: string): URL | undefined => {
    const raw = env[name]?.trim() || fallback;
    if (!raw) return undefined;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      return u;
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${raw}"`);
      return undefined;
    }
  };
  let clientSecret = env.CLIENT_SECRET?.trim();
  const secretFile = env.CLIENT_SECRET_FILE?.trim();
  if (secretFile) {
    try {
      clientSecret = readFileSync(secretFile, 'utf8').trim();
    } catch {
      problems.push(`CLIENT_SECRET_FILE cannot be read: ${secretFile}`);
    }
  }
  if (!clientSecret) problems.push('set CLIENT_SECRET or CLIENT_SECRET_FILE (the secret registered with Faceline)');
  const port = Number(env.PORT ?? 8090);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number, got "${env.PORT}"`);
  const issuer = url('FACELINE_ISSUER', 'http://localhost:8080');
  const publicUrl = url('PUBLIC_URL', 'http://localhost:8090');
  const internalUrl = url('FACELINE_INTERNAL_URL');
  if (problems.length) throw new Error(`line-dashboard: invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return {
    issuer: issuer as URL,
    internalUrl,
    clientId: env.CLIENT_ID?.trim() || 'line-dashboard',
    clientSecret: clientSecret as string,
    publicUrl: publicUrl as URL,
    port,
    host: env.HOST?.trim() || '0.0.0.0',
    line: env.LINE_NAME?.trim() || 'Line 4',
  };
}
