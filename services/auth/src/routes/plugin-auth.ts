/** Request authentication (Bearer header or the access-token cookie) and the session cookies. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_API_PREFIX, AUTH_COOKIES, ErrorCode } from '@faceline/contracts';
import type { AppContext } from '../context.js';
import { AuthError } from '../errors.js';
import { plainAddress } from '../lib/client-address.js';
import type { Authenticated, ClientInfo, IssuedSession } from '../services/session.service.js';
import { toUser } from '../services/user.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
}

export function clientInfo(req: FastifyRequest): ClientInfo {
  const ua = req.headers['user-agent'];
  // req.ip applies TRUST_PROXY through lib/client-address.ts (see app.ts), as Socket.IO does
  return { ip: plainAddress(req.ip), userAgent: typeof ua === 'string' ? ua.slice(0, 300) : null };
}

function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return req.cookies[AUTH_COOKIES.access];
}

export function requireUser(ctx: AppContext) {
  return async (req: FastifyRequest): Promise<void> => {
    const token = tokenOf(req);
    if (!token) throw new AuthError(ErrorCode.UNAUTHENTICATED, 'sign in first');
    req.auth = await ctx.sessions.authenticate(token);
  };
}

export function requireAdmin(ctx: AppContext) {
  const user = requireUser(ctx);
  return async (req: FastifyRequest): Promise<void> => {
    await user(req);
    // the role is read from the database, not the token: a demoted admin loses access at once
    if (req.auth?.user.role !== 'admin') throw new AuthError(ErrorCode.FORBIDDEN, 'administrators only');
  };
}

const REFRESH_PATH = `${AUTH_API_PREFIX}/sessions`;

function secure(ctx: AppContext, req: FastifyRequest): boolean {
  return ctx.config.cookieSecure === 'always' || (ctx.config.cookieSecure === 'auto' && req.protocol === 'https');
}

export function setSessionCookies(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, s: IssuedSession): void {
  const common = { httpOnly: true, sameSite: 'lax' as const, secure: secure(ctx, req), domain: ctx.config.cookieDomain };
  reply.setCookie(AUTH_COOKIES.access, s.accessToken, { ...common, path: '/', expires: s.accessTokenExpiresAt });
  reply.setCookie(AUTH_COOKIES.refresh, s.refreshToken, { ...common, path: REFRESH_PATH, expires: s.refreshTokenExpiresAt });
}

export function clearSessionCookies(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): void {
  const common = { httpOnly: true, sameSite: 'lax' as const, secure: secure(ctx, req), domain: ctx.config.cookieDomain };
  reply.clearCookie(AUTH_COOKIES.access, { ...common, path: '/' });
  reply.clearCookie(AUTH_COOKIES.refresh, { ...common, path: REFRESH_PATH });
}

export function sessionBody(s: IssuedSession) {
  return {
    user: toUser(s.user),
    profile: s.user.profile,
    accessToken: s.accessToken,
    tokenType: 'Bearer' as const,
    expiresIn: Math.max(0, Math.round((s.accessTokenExpiresAt.getTime() - Date.now()) / 1000)),
    accessTokenExpiresAt: s.accessTokenExpiresAt.toISOString(),
    refreshTokenExpiresAt: s.refreshTokenExpiresAt.toISOString(),
  };
}
