/** Registration and the signed-in user's own account. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AUTH_ROUTES,
  DeleteFaceResponse,
  EnrollmentTicketResponse,
  ErrorBody,
  MeResponse,
  MyAuditQuery,
  MyAuditResponse,
  RegisterRequest,
  RegisterResponse,
  UpdateMeRequest,
} from '@faceline/contracts';
import type { UserRecord } from '../repositories/user.repository.js';
import { toUser, type UserService } from '../services/user.service.js';
import type { Authenticated } from '../services/session.service.js';
import { clearSessionCookies, clientInfo, requireUser, type Authenticator, type CookieSettings } from './plugin-auth.js';

export interface AccountRouteDeps {
  users: Pick<UserService, 'register' | 'update' | 'ownSignIns' | 'deleteFace' | 'enrollmentTicket' | 'deleteAccount'>;
  sessions: Authenticator;
  config: CookieSettings;
}

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
};

function me(sessions: Authenticator, user: UserRecord, auth: Authenticated) {
  const s = auth.session;
  return {
    user: toUser(user),
    profile: user.profile,
    session: {
      id: s.id,
      createdAt: s.createdAt,
      mode: s.mode,
      liveness: s.liveness,
      acr: s.acr,
      amr: s.amr,
      authTime: s.authTime,
      role: sessions.effectiveRole(user.role, s),
    },
  };
}

export const accountRoutes =
  ({ users, sessions, config }: AccountRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const auth = requireUser(sessions);

    app.post(
      AUTH_ROUTES.register,
      {
        schema: {
          tags: ['accounts'],
          summary: 'create an account; enroll the face next with the returned ticket',
          body: RegisterRequest,
          response: { 201: RegisterResponse, ...errors },
        },
      },
      async (req, reply) => reply.code(201).send(await users.register(req.body, clientInfo(req))),
    );

    app.get(
      AUTH_ROUTES.me,
      { preHandler: auth, schema: { tags: ['me'], summary: 'the signed-in user', response: { 200: MeResponse, ...errors } } },
      async (req) => {
        const a = req.auth as Authenticated;
        return me(sessions, a.user, a);
      },
    );

    app.patch(
      AUTH_ROUTES.me,
      {
        preHandler: auth,
        schema: {
          tags: ['me'],
          summary: 'change display name and profile',
          body: UpdateMeRequest,
          response: { 200: MeResponse, ...errors },
        },
      },
      async (req) => {
        const a = req.auth as Authenticated;
        return me(sessions, await users.update(a.user, req.body, clientInfo(req)), a);
      },
    );

    app.get(
      AUTH_ROUTES.meAudit,
      {
        preHandler: auth,
        schema: {
          tags: ['me'],
          summary: 'my own sign-in history, newest first (no match distances)',
          querystring: MyAuditQuery,
          response: { 200: MyAuditResponse, ...errors },
        },
      },
      async (req) => users.ownSignIns((req.auth as Authenticated).user.id, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
    );

    app.delete(
      AUTH_ROUTES.meFace,
      {
        preHandler: auth,
        schema: { tags: ['me'], summary: 'erase my face templates (the account stays)', response: { 200: DeleteFaceResponse, ...errors } },
      },
      async (req) => ({ deletedTemplates: await users.deleteFace((req.auth as Authenticated).user, clientInfo(req)) }),
    );

    app.post(
      AUTH_ROUTES.meEnrollmentTicket,
      {
        preHandler: auth,
        schema: {
          tags: ['me'],
          summary: 'a ticket to enroll again (needs a fresh face login: REAUTH_REQUIRED otherwise)',
          response: { 200: EnrollmentTicketResponse, ...errors },
        },
      },
      async (req) => users.enrollmentTicket((req.auth as Authenticated).user.id, (req.auth as Authenticated).session),
    );

    app.delete(
      AUTH_ROUTES.me,
      {
        preHandler: auth,
        schema: { tags: ['me'], summary: 'erase my account, face data, sessions and profile', response: { 204: Type.Null(), ...errors } },
      },
      async (req, reply) => {
        await users.deleteAccount((req.auth as Authenticated).user, clientInfo(req));
        clearSessionCookies(config, req, reply);
        return reply.code(204).send(null);
      },
    );
  };
