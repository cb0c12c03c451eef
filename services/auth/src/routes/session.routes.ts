/** Turning a login grant into a session, refreshing it, ending it. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  AUTH_COOKIES,
  AUTH_ROUTES,
  CreateSessionRequest,
  ErrorBody,
  ErrorCode,
  RefreshRequest,
  SessionResponse,
} from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import { AuthError } from '../errors.js';
import type { SessionService } from '../services/session.service.js';
import { clearSessionCookies, clientInfo, sessionBody, setSessionCookies, webauthnSite, type CookieSettings } from './plugin-auth.js';

export interface SessionRouteDeps {
  sessions: Pick<SessionService, 'exchangeGrant' | 'refresh' | 'authenticate' | 'logoutSession' | 'logoutByRefresh' | 'effectiveRole'>;
  config: CookieSettings & Pick<AuthConfig, 'publicUrl'>;
}

/** Browsers refresh and log out with an empty POST (the token is in a cookie). */
async function emptyBodyIsObject(req: FastifyRequest): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {};
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 500: ErrorBody, 503: ErrorBody };

export const sessionRoutes =
  ({ sessions, config }: SessionRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      AUTH_ROUTES.sessions,
      {
        schema: {
          tags: ['sessions'],
          summary: 'exchange the one-time grant from login:result for a session (sets cookies)',
          description:
            'An administrator who is not at a trusted kiosk and has a passkey gets 403 STEP_UP_REQUIRED with WebAuthn request options in error.details.webauthn; the grant stays usable: post it again with `webauthn` (the answer of startAuthentication).',
          body: CreateSessionRequest,
          response: { 200: SessionResponse, ...errors },
        },
      },
      async (req, reply) => {
        const s = await sessions.exchangeGrant(req.body.grant, clientInfo(req), {
          webauthn: req.body.webauthn,
          site: webauthnSite(config, req),
        });
        setSessionCookies(config, req, reply, s);
        return sessionBody(sessions, s);
      },
    );

    app.post(
      AUTH_ROUTES.refresh,
      {
        schema: {
          tags: ['sessions'],
          summary: 'new access token; the refresh token rotates',
          body: RefreshRequest,
          response: { 200: SessionResponse, ...errors },
        },
        preValidation: emptyBodyIsObject,
      },
      async (req, reply) => {
        const token = req.body.refreshToken ?? req.cookies[AUTH_COOKIES.refresh];
        if (!token) throw new AuthError(ErrorCode.UNAUTHENTICATED, 'no refresh token');
        try {
          const s = await sessions.refresh(token, clientInfo(req));
          setSessionCookies(config, req, reply, s);
          return sessionBody(sessions, s);
        } catch (err) {
          clearSessionCookies(config, req, reply);
          throw err;
        }
      },
    );

    app.post(
      AUTH_ROUTES.logout,
      {
        schema: {
          tags: ['sessions'],
          summary: 'end the session (access token or refresh token)',
          body: RefreshRequest,
          response: { 204: Type.Null(), ...errors },
        },
        preValidation: emptyBodyIsObject,
      },
      async (req, reply) => {
        const client = clientInfo(req);
        const bearer = req.headers.authorization?.startsWith('Bearer ')
          ? req.headers.authorization.slice(7).trim()
          : req.cookies[AUTH_COOKIES.access];
        let done = false;
        if (bearer) {
          try {
            const a = await sessions.authenticate(bearer);
            await sessions.logoutSession(a.session.id, a.user.id, client);
            done = true;
          } catch {
            // expired or already revoked: fall back to the refresh token
          }
        }
        const refresh = req.body.refreshToken ?? req.cookies[AUTH_COOKIES.refresh];
        if (!done && refresh) await sessions.logoutByRefresh(refresh, client);
        clearSessionCookies(config, req, reply);
        return reply.code(204).send(null);
      },
    );
  };
