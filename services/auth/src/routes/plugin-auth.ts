/** Request authentication (Bearer header or the access-token cookie) and the session cookies. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_API_PREFIX, AUTH_COOKIES, ErrorCode } from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import { AuthError } from '../errors.js';
import { plainAddress } from '../lib/client-address.js';
import type { Authenticated, ClientInfo, IssuedSession, SessionService, WebAuthnSite } from '../services/session.service.js';
import { toUser } from '../services/user.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
}

/** What the guards need: the session behind a token, and the role it may act in. */
export type Authenticator = Pick<SessionService, 'authenticate' | 'effectiveRole'>;
/** The settings every cookie this service sets is made with. */
export type CookieSettings = Pick<AuthConfig, 'cookieSecure' | 'cookieDomain'>;

export function clientInfo(req: FastifyRequest): ClientInfo {
  const ua = req.headers['user-agent'];
  // req.ip applies TRUST_PROXY through lib/client-address.ts (see app.ts), as Socket.IO does;
  // HTTP requests carry no face flow: the trusted device a login came from travels in its grant
  return { ip: plainAddress(req.ip), userAgent: typeof ua === 'string' ? ua.slice(0, 300) : null, deviceId: null };
}

function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return req.cookies[AUTH_COOKIES.access];
}

export function requireUser(sessions: Pick<Authenticator, 'authenticate'>) {
  return async (req: FastifyRequest): Promise<void> => {
    const token = tokenOf(req);
    if (!token) throw new AuthError(ErrorCode.UNAUTHENTICATED, 'sign in first');
    req.auth = await sessions.authenticate(token);
  };
}

export function requireAdmin(sessions: Authenticator) {
  const user = requireUser(sessions);
  return async (req: FastifyRequest): Promise<void> => {
    await user(req);
    // the role is read from the database, not the token: a demoted admin loses access at once
    const a = req.auth as Authenticated;
    if (a.user.role !== 'admin') throw new AuthError(ErrorCode.FORBIDDEN, 'administrators only');
    // and acts as one only after a login at a trusted device or with a passkey
    if (sessions.effectiveRole(a.user.role, a.session) !== 'admin') {
      throw new AuthError(ErrorCode.STEP_UP_REQUIRED, 'administration needs a login at a trusted kiosk or with a passkey');
    }
  };
}

const REFRESH_PATH = `${AUTH_API_PREFIX}/sessions`;

function secure(cookies: CookieSettings, req: FastifyRequest): boolean {
  return cookies.cookieSecure === 'always' || (cookies.cookieSecure === 'auto' && req.protocol === 'https');
}

/**
 * The WebAuthn relying party of this request: PUBLIC_URL when set, else the host the browser
 * addressed (X-Forwarded-Host / -Proto only from a trusted proxy). Passkeys are bound to the
 * RP ID, so a site that people reach under one name should set PUBLIC_URL.
 */
export function webauthnSite(config: Pick<AuthConfig, 'publicUrl'>, req: FastifyRequest): WebAuthnSite {
  if (config.publicUrl) {
    const u = new URL(config.publicUrl);
    return { rpId: u.hostname, origin: u.origin };
  }
  // Fastify reads X-Forwarded-Host and -Proto only from a trusted proxy, as the origin check does
  let origin: URL;
  try {
    origin = new URL(`${req.protocol}://${req.host}`);
  } catch {
    throw new AuthError(ErrorCode.BAD_REQUEST, 'the Host header is not a host name');
  }
  return { rpId: origin.hostname, origin: origin.origin };
}

/** ~400 days, the longest lifetime browsers keep a cookie */
const DEVICE_COOKIE_MAX_AGE = 400 * 86_400;

/** A trusted kiosk's credential: httpOnly, never sent cross-site, long-lived, on every path (sockets too). */
export function setDeviceCookie(cookies: CookieSettings, req: FastifyRequest, reply: FastifyReply, credential: string): void {
  reply.setCookie(AUTH_COOKIES.device, credential, {
    httpOnly: true,
    sameSite: 'strict',
    secure: secure(cookies, req),
    domain: cookies.cookieDomain,
    path: '/',
    maxAge: DEVICE_COOKIE_MAX_AGE,
  });
}

export function clearDeviceCookie(cookies: CookieSettings, req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(AUTH_COOKIES.device, {
    httpOnly: true,
    sameSite: 'strict',
    secure: secure(cookies, req),
    domain: cookies.cookieDomain,
    path: '/',
  });
}

export function setSessionCookies(cookies: CookieSettings, req: FastifyRequest, reply: FastifyReply, s: IssuedSession): void {
  const common = { httpOnly: true, sameSite: 'lax' as const, secure: secure(cookies, req), domain: cookies.cookieDomain };
  reply.setCookie(AUTH_COOKIES.access, s.accessToken, { ...common, path: '/', expires: s.accessTokenExpiresAt });
  reply.setCookie(AUTH_COOKIES.refresh, s.refreshToken, { ...common, path: REFRESH_PATH, expires: s.refreshTokenExpiresAt });
}

export function clearSessionCookies(cookies: CookieSettings, req: FastifyRequest, reply: FastifyReply): void {
  const common = { httpOnly: true, sameSite: 'lax' as const, secure: secure(cookies, req), domain: cookies.cookieDomain };
  reply.clearCookie(AUTH_COOKIES.access, { ...common, path: '/' });
  reply.clearCookie(AUTH_COOKIES.refresh, { ...common, path: REFRESH_PATH });
}

export function sessionBody(sessions: Pick<Authenticator, 'effectiveRole'>, s: IssuedSession) {
  return {
    user: toUser(s.user),
    profile: s.user.profile,
    assurance: {
      acr: s.session.acr,
      amr: s.session.amr,
      authTime: s.session.authTime,
      role: sessions.effectiveRole(s.user.role, s.session),
    },
    accessToken: s.accessToken,
    tokenType: 'Bearer' as const,
    expiresIn: Math.max(0, Math.round((s.accessTokenExpiresAt.getTime() - Date.now()) / 1000)),
    accessTokenExpiresAt: s.accessTokenExpiresAt.toISOString(),
    refreshTokenExpiresAt: s.refreshTokenExpiresAt.toISOString(),
  };
}
