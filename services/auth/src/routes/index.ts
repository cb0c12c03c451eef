/**
 * Every HTTP route of the auth service. Each plugin declares the services it calls and is
 * handed only those, so a route's reach is visible in its signature.
 */
import type { FastifyInstance } from 'fastify';
import { accountRoutes, type AccountRouteDeps } from './account.routes.js';
import { adminRoutes, type AdminRouteDeps } from './admin.routes.js';
import { oidcRoutes, type OidcRouteDeps } from './oidc.routes.js';
import { passkeyRoutes, type PasskeyRouteDeps } from './passkey.routes.js';
import { sessionRoutes, type SessionRouteDeps } from './session.routes.js';
import { systemRoutes, type SystemRouteDeps } from './system.routes.js';

export type RouteDeps = SystemRouteDeps & AccountRouteDeps & PasskeyRouteDeps & SessionRouteDeps & AdminRouteDeps & OidcRouteDeps;

export async function registerRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { config, sessions, users } = deps;
  await app.register(
    systemRoutes({
      config,
      db: deps.db,
      tokens: deps.tokens,
      templates: deps.templates,
      site: deps.site,
      visionHealth: deps.visionHealth,
      metrics: deps.metrics,
    }),
  );
  await app.register(accountRoutes({ users, sessions, config }));
  await app.register(passkeyRoutes({ passkeys: deps.passkeys, sessions, config }));
  await app.register(sessionRoutes({ sessions, config }));
  await app.register(adminRoutes({ users, devices: deps.devices, sessions, config }));
  await app.register(oidcRoutes({ oidc: deps.oidc, sessions, config }));
}
