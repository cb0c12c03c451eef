/** Administration: users (list, unlock, role, delete), trusted kiosk devices and the audit log. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AUTH_API_PREFIX,
  AUTH_COOKIES,
  AUTH_ROUTES,
  AdminUserResponse,
  AdminUsersQuery,
  AdminUsersResponse,
  AuditQuery,
  AuditResponse,
  DeviceIdParams,
  ErrorBody,
  ErrorCode,
  SetRoleRequest,
  TrustDeviceRequest,
  TrustedDeviceResponse,
  TrustedDevicesResponse,
  UserIdParams,
} from '@faceline/contracts';
import { AuthError } from '../errors.js';
import type { DeviceRecord } from '../repositories/device.repository.js';
import { deviceIdOf, type DeviceService } from '../services/device.service.js';
import type { Authenticated } from '../services/session.service.js';
import type { UserService } from '../services/user.service.js';
import { clearDeviceCookie, clientInfo, requireAdmin, setDeviceCookie, type Authenticator, type CookieSettings } from './plugin-auth.js';

export interface AdminRouteDeps {
  users: Pick<UserService, 'list' | 'unlock' | 'setRole' | 'get' | 'deleteAccount' | 'auditLog'>;
  devices: Pick<DeviceService, 'list' | 'verify' | 'trust' | 'revoke'>;
  sessions: Authenticator;
  config: CookieSettings;
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 500: ErrorBody, 503: ErrorBody };

export const adminRoutes =
  ({ users, devices, sessions, config }: AdminRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.addHook('preHandler', requireAdmin(sessions));

    app.get(
      AUTH_ROUTES.adminUsers,
      {
        schema: {
          tags: ['admin'],
          summary: 'list users with their lock state',
          querystring: AdminUsersQuery,
          response: { 200: AdminUsersResponse, ...errors },
        },
      },
      async (req) => users.list({ q: req.query.q, limit: req.query.limit ?? 50, cursor: req.query.cursor }),
    );

    app.post(
      `${AUTH_API_PREFIX}/admin/users/:id/unlock`,
      {
        schema: {
          tags: ['admin'],
          summary: 'lift a lock or back-off',
          params: UserIdParams,
          response: { 200: AdminUserResponse, ...errors },
        },
      },
      async (req) => ({ user: await users.unlock(req.params.id, (req.auth as Authenticated).user.id, clientInfo(req)) }),
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
      async (req) => ({ user: await users.setRole(req.params.id, req.body.role, (req.auth as Authenticated).user.id, clientInfo(req)) }),
    );

    app.delete(
      `${AUTH_API_PREFIX}/admin/users/:id`,
      {
        schema: {
          tags: ['admin'],
          summary: 'delete a user with all their data',
          params: UserIdParams,
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (req, reply) => {
        const target = await users.get(req.params.id);
        await users.deleteAccount(target, clientInfo(req), (req.auth as Authenticated).user.id);
        return reply.code(204).send(null);
      },
    );

    const toDevice = (d: DeviceRecord, current: string | null) => ({ ...d, current: d.id === current });

    app.get(
      AUTH_ROUTES.adminDevices,
      {
        schema: {
          tags: ['admin'],
          summary: 'trusted kiosk devices, newest first (revoked ones with revokedAt)',
          response: { 200: TrustedDevicesResponse, ...errors },
        },
      },
      async (req) => {
        const current = deviceIdOf(req.cookies[AUTH_COOKIES.device]);
        return { devices: (await devices.list()).map((d) => toDevice(d, current)) };
      },
    );

    app.post(
      AUTH_ROUTES.adminDevices,
      {
        schema: {
          tags: ['admin'],
          summary: 'trust the browser that sends this as a kiosk: it receives the device credential in the httpOnly cookie faceline_device',
          body: TrustDeviceRequest,
          response: { 201: TrustedDeviceResponse, ...errors },
        },
      },
      async (req, reply) => {
        const adminId = (req.auth as Authenticated).user.id;
        const client = clientInfo(req);
        // a browser holds one device credential: the one it had before is replaced, so revoke it
        const previous = await devices.verify(req.cookies[AUTH_COOKIES.device]);
        const { device, credential } = await devices.trust(req.body.name.trim(), adminId, client);
        if (previous) await devices.revoke(previous, adminId, client);
        setDeviceCookie(config, req, reply, credential);
        return reply.code(201).send({ device: toDevice(device, device.id) });
      },
    );

    app.delete(
      `${AUTH_ROUTES.adminDevices}/:id`,
      {
        schema: {
          tags: ['admin'],
          summary: 'revoke a trusted device: logins from it count as from any browser again',
          params: DeviceIdParams,
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (req, reply) => {
        if (!(await devices.revoke(req.params.id, (req.auth as Authenticated).user.id, clientInfo(req)))) {
          throw new AuthError(ErrorCode.NOT_FOUND, 'no such trusted device, or it was already revoked');
        }
        if (deviceIdOf(req.cookies[AUTH_COOKIES.device]) === req.params.id) clearDeviceCookie(config, req, reply);
        return reply.code(204).send(null);
      },
    );

    app.get(
      AUTH_ROUTES.adminAudit,
      {
        schema: {
          tags: ['admin'],
          summary: 'audit log, newest first',
          querystring: AuditQuery,
          response: { 200: AuditResponse, ...errors },
        },
      },
      async (req) =>
        users.auditLog({ limit: req.query.limit ?? 50, cursor: req.query.cursor, userId: req.query.userId, type: req.query.type }),
    );
  };
