/**
 * What the browser uses of @faceline/contracts at run time.
 *
 * The contracts package builds TypeBox schemas at module level; importing any value from
 * it would put the schema builder (about 15 kB gzipped) into the app. So the browser
 * imports types only and writes the few constants it needs here, each checked against
 * the contract's own type with `satisfies`: if a route or name changes there, this file
 * stops compiling.
 */
import type { AUTH_ROUTES, SOCKET_PATH as ContractSocketPath, AUTH_API_PREFIX } from '@faceline/contracts';

export const API_PREFIX = '/api/v1' satisfies typeof AUTH_API_PREFIX;
export const SOCKET_PATH = '/socket.io' satisfies typeof ContractSocketPath;

type StaticRoutes = { [K in keyof typeof AUTH_ROUTES as (typeof AUTH_ROUTES)[K] extends string ? K : never]: (typeof AUTH_ROUTES)[K] };

export const ROUTES = {
  config: '/api/v1/config',
  register: '/api/v1/users',
  me: '/api/v1/me',
  meFace: '/api/v1/me/face',
  meEnrollmentTicket: '/api/v1/me/enrollment-ticket',
  meAudit: '/api/v1/me/audit',
  sessions: '/api/v1/sessions',
  refresh: '/api/v1/sessions/refresh',
  logout: '/api/v1/sessions/logout',
  adminUsers: '/api/v1/admin/users',
  adminAudit: '/api/v1/admin/audit',
  mePasskeys: '/api/v1/me/passkeys',
  mePasskeyOptions: '/api/v1/me/passkeys/options',
  adminDevices: '/api/v1/admin/devices',
} satisfies Partial<StaticRoutes>;

export const adminUser = ((id: string) => `/api/v1/admin/users/${encodeURIComponent(id)}`) satisfies (typeof AUTH_ROUTES)['adminUser'];
export const adminUnlock = ((id: string) =>
  `/api/v1/admin/users/${encodeURIComponent(id)}/unlock`) satisfies (typeof AUTH_ROUTES)['adminUnlock'];

export const mePasskey = ((id: string) => `/api/v1/me/passkeys/${encodeURIComponent(id)}`) satisfies (typeof AUTH_ROUTES)['mePasskey'];
export const adminDevice = ((id: string) =>
  `/api/v1/admin/devices/${encodeURIComponent(id)}`) satisfies (typeof AUTH_ROUTES)['adminDevice'];

/**
 * The contract's Username pattern (a TypeBox schema value, so not importable here without
 * the schema builder); lib/contracts.test.ts compares the two.
 */
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._-]{2,31}$';
