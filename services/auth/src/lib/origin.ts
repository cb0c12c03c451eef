/**
 * Which pages may use auth with the browser's cookies. Browsers send cookies with cross-site
 * websocket upgrades and cross-site form posts, so an Origin from another site must be refused
 * before a socket opens or state changes. Requests without Origin are not from a browser page
 * (or are same-origin GETs) and pass: they cannot ride on someone else's cookies.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthConfig } from '../config.js';

export interface OriginPolicy {
  /** explicit list (ALLOWED_ORIGINS); when set, only these */
  allowedOrigins: string[] | undefined;
  /** PUBLIC_URL's origin, always allowed */
  publicOrigin: string | undefined;
  trustProxy: AuthConfig['trustProxy'];
}

export function originPolicy(config: Pick<AuthConfig, 'allowedOrigins' | 'publicUrl' | 'trustProxy'>): OriginPolicy {
  return {
    allowedOrigins: config.allowedOrigins,
    publicOrigin: config.publicUrl ? new URL(config.publicUrl).origin : undefined,
    trustProxy: config.trustProxy,
  };
}

/** The host the browser addressed: Host, or X-Forwarded-Host when a proxy is trusted. */
export function requestHost(headers: IncomingHttpHeaders, trustProxy: AuthConfig['trustProxy']): string | undefined {
  const forwarded = headers['x-forwarded-host'];
  if (trustProxy !== false && typeof forwarded === 'string' && forwarded.trim()) {
    // the nearest proxy appends last
    const hops = forwarded
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    if (hops.length) return hops[hops.length - 1]!.toLowerCase();
  }
  return headers.host?.toLowerCase();
}

/**
 * Whether a request from `origin` (the Origin header) to `host` (the host the browser
 * addressed) may act with the browser's cookies.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, policy: OriginPolicy): boolean {
  if (origin === undefined || origin === '') return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // includes "null" (sandboxed frames, file: pages)
  }
  if (parsed.origin === 'null') return false;
  if (policy.publicOrigin && parsed.origin === policy.publicOrigin) return true;
  if (policy.allowedOrigins) return policy.allowedOrigins.includes(parsed.origin);
  return host !== undefined && parsed.host.toLowerCase() === host.toLowerCase();
}
