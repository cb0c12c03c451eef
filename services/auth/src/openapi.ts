/**
 * The OpenAPI document: its header, and the document itself generated from the route schemas.
 * `npm run -w @faceline/auth openapi` writes it to openapi.json (checked in); a test fails when
 * the checked-in file is stale. Generating it opens no database and calls no vision service:
 * the routes are registered with stand-ins that throw if anything reaches for a service.
 */
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { registerRoutes, type RouteDeps } from './routes/index.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

/** Registers @fastify/swagger with the document's header; the routes registered after it fill in the paths. */
export async function describeApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Faceline auth',
        version: '1',
        description:
          'Accounts, sessions, administration and JWKS of the Faceline auth service. Enrollment and face login run over Socket.IO (path /socket.io); their events are typed in @faceline/contracts realtime.ts.',
      },
      tags: [
        { name: 'system' },
        { name: 'tokens' },
        { name: 'accounts' },
        { name: 'me' },
        { name: 'sessions' },
        { name: 'admin' },
        { name: 'oidc' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'faceline_access' },
        },
      },
    },
  });
}

/** A service the routes are registered with but must not use: reading anything from it throws. */
function unavailable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get(_target, key) {
      throw new Error(`${name}.${String(key)} was used while generating the OpenAPI document, which reads route schemas only`);
    },
  });
}

/** Route dependencies for reading schemas only. The OpenID Connect provider is off, as in the checked-in document. */
export function schemaOnlyDeps(): RouteDeps {
  return {
    config: unavailable('config'),
    db: unavailable('db'),
    tokens: unavailable('tokens'),
    templates: unavailable('templates'),
    site: unavailable('site'),
    visionHealth: unavailable('visionHealth'),
    metrics: unavailable('metrics'),
    users: unavailable('users'),
    sessions: unavailable('sessions'),
    passkeys: unavailable('passkeys'),
    devices: unavailable('devices'),
    oidc: undefined,
  };
}

export async function generateOpenApi(): Promise<string> {
  const app = Fastify({ logger: false });
  try {
    await describeApi(app);
    await registerRoutes(app, schemaOnlyDeps());
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
  }
}
