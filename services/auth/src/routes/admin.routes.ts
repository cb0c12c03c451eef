/** Administration: users (list, unlock, role, delete) and the audit log. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AUTH_API_PREFIX, AUTH_ROUTES, AdminUserResponse, AdminUsersQuery, AdminUsersResponse, AuditQuery, AuditResponse, ErrorBody, SetRoleRequest, UserIdParams } from '@faceline/contracts';
import type { AppContext } from '../context.js';
import type { Authenticated } from '../services/session.service.js';
import { clientInfo, requireAdmin } from './plugin-auth.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 500: ErrorBody, 503: ErrorBody };

export const adminRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  app.addHook('preHandler', requireAdmin(ctx));

  app.get(
    AUTH_ROUTES.adminUsers,
    { schema: { tags: ['admin'], summary: 'list users with their lock state', querystring: AdminUsersQuery, response: { 200: AdminUsersResponse, ...errors } } },
    async (req) => ctx.users.list({ q: req.query.q, limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  );

  app.post(
    `${AUTH_API_PREFIX}/admin/users/:id/unlock`,
    { schema: { tags: ['admin'], summary: 'lift a lock or back-off', params: UserIdParams, response: { 200: AdminUserResponse, ...errors } } },
    async (req) => ({ user: await ctx.users.unlock(req.params.id, (req.auth as Authenticated).user.id, clientInfo(req)) }),
  );

  app.put(
    `${AUTH_API_PREFIX}/admin/users/:id/role`,
    {
      schema: {
        tags: ['admin'],
        summary: 'make a user an admin or a user again (at a site: done at the hub, 503 HUB_UNAVAILABLE while it cannot be reached)',
        params: UserIdParams,
        body: SetRoleRequest,
        response: { 200: AdminUserResponse, ...errors },
      },
    },
    async (req) => ({ user: await ctx.users.setRole(req.params.id, req.body.role, (req.auth as Authenticated).user.id, clientInfo(req)) }),
  );

  app.delete(
    `${AUTH_API_PREFIX}/admin/users/:id`,
    { schema: { tags: ['admin'], summary: 'delete a user with all their data', params: UserIdParams, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const target = await ctx.users.get(req.params.id);
      await ctx.users.deleteAccount(target, clientInfo(req), (req.auth as Authenticated).user.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    AUTH_ROUTES.adminAudit,
    { schema: { tags: ['admin'], summary: 'audit log, newest first', querystring: AuditQuery, response: { 200: AuditResponse, ...errors } } },
    async (req) => ctx.users.auditLog({ limit: req.query.limit ?? 50, cursor: req.query.cursor, userId: req.query.userId, type: req.query.type }),
  );
};
