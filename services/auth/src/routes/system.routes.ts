/** Health, readiness, metrics, browser configuration, service info and the JWKS. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AUTH_ROUTES, ClientConfig, HealthResponse, JwksResponse, ServiceInfo } from '@faceline/contracts';
import { scrape } from '@faceline/runtime';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { Metrics } from '../metrics.js';
import type { SiteService } from '../services/site.service.js';
import type { TemplateService } from '../services/template.service.js';
import type { TokenService } from '../services/token.service.js';
import type { VisionHealth } from '../services/vision-health.service.js';

export interface SystemRouteDeps {
  config: Pick<
    AuthConfig,
    | 'version'
    | 'issuer'
    | 'audience'
    | 'mode'
    | 'siteId'
    | 'liveness'
    | 'capturesRequired'
    | 'challengeSteps'
    | 'challengeTimeLimitMs'
    | 'enrollTimeLimitMs'
    | 'maxFrameBytes'
    | 'minFrameIntervalMs'
    | 'minFaceSizePx'
    | 'kiosk'
    | 'accessTokenTtlSeconds'
  >;
  db: Pick<Database, 'query' | 'kind'>;
  tokens: Pick<TokenService, 'ready' | 'jwks'>;
  templates: Pick<TemplateService, 'index'>;
  site: Pick<SiteService, 'status'>;
  visionHealth: Pick<VisionHealth, 'state'>;
  metrics: Pick<Metrics, 'registry'>;
}

export const systemRoutes =
  ({ config, db, tokens, templates, site: siteService, visionHealth, metrics }: SystemRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      AUTH_ROUTES.healthz,
      { schema: { tags: ['system'], summary: 'process is alive', response: { 200: HealthResponse } } },
      async () => ({
        status: 'ok' as const,
        service: 'auth',
        version: config.version,
      }),
    );

    app.get(
      AUTH_ROUTES.readyz,
      {
        schema: {
          tags: ['system'],
          summary: 'ready to serve: the database answers and a signing key is loaded (vision reachability is reported, not required)',
          response: { 200: HealthResponse, 503: HealthResponse },
        },
      },
      async (_req, reply) => {
        const database = await db.query('SELECT 1').then(
          () => 'ok',
          () => 'unavailable',
        );
        const keys = tokens.ready() ? 'ok' : 'missing';
        // JWKS, sessions and refresh work without vision; face flows answer RECOGNITION_UNAVAILABLE.
        // A site stays ready without its hub: logins are exactly what must go on while it is away.
        const ok = database === 'ok' && keys === 'ok';
        const site = siteService.status();
        const replication: Record<string, string> =
          site.mode === 'site'
            ? {
                mode: 'site',
                hub: site.hub,
                staleness: site.stalenessSeconds === null ? 'none yet' : `${Math.round(site.stalenessSeconds)}s`,
              }
            : { mode: site.mode };
        return reply.code(ok ? 200 : 503).send({
          status: ok ? 'ok' : 'unavailable',
          service: 'auth',
          version: config.version,
          checks: { database, keys, vision: visionHealth.state, index: String(templates.index.size), ...replication },
        });
      },
    );

    app.get(AUTH_ROUTES.metrics, { schema: { hide: true } }, async (_req, reply) => {
      const { contentType, body } = await scrape(metrics.registry);
      return reply.header('content-type', contentType).send(body);
    });

    app.get(
      AUTH_ROUTES.config,
      { schema: { tags: ['system'], summary: 'settings the browser needs', response: { 200: ClientConfig } } },
      async () => ({
        liveness: config.liveness,
        capturesRequired: config.capturesRequired,
        challengeSteps: config.liveness ? config.challengeSteps : 0,
        challengeTimeLimitMs: config.challengeTimeLimitMs,
        enrollTimeLimitMs: config.enrollTimeLimitMs,
        maxFrameBytes: config.maxFrameBytes,
        minFrameIntervalMs: config.minFrameIntervalMs,
        recommendedFrameWidth: 640,
        minFaceSizePx: config.minFaceSizePx,
        kiosk: config.kiosk,
        accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      }),
    );

    app.get(
      AUTH_ROUTES.info,
      { schema: { tags: ['system'], summary: 'issuer, audience, JWKS location', response: { 200: ServiceInfo } } },
      async () => ({
        service: 'auth' as const,
        version: config.version,
        issuer: config.issuer,
        audience: config.audience,
        jwksUri: AUTH_ROUTES.jwks,
        database: db.kind,
        mode: config.mode,
        site: config.siteId ?? null,
      }),
    );

    app.get(
      AUTH_ROUTES.jwks,
      { schema: { tags: ['tokens'], summary: 'public keys that verify access tokens', response: { 200: JwksResponse } } },
      async (_req, reply) => {
        // short cache: verifiers pick up a rotated key within a minute
        reply.header('cache-control', 'public, max-age=60');
        return tokens.jwks();
      },
    );
  };
