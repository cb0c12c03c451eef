/**
 * An auth replica with the OpenID Connect provider on, for system tests and the benchmark: the
 * port is chosen first so that the issuer (PUBLIC_URL) can name it, and a second replica can
 * share the first one's issuer.
 */
import { pino } from 'pino';
import { freePort } from '@faceline/testkit';
import { buildApp, type AuthApp } from '../../src/app.js';
import { loadConfig, testConfig, type AuthConfig } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import type { Store } from './auth.js';

export const RP = 'http://127.0.0.1:7777';
export const SPA = 'http://127.0.0.1:7778';
export const SECRET = 'dashboard-secret-0123456789-abcdefghijklmnop';

export const CLIENTS = {
  clients: [
    {
      clientId: 'dashboard',
      name: 'Line dashboard',
      clientSecret: SECRET,
      redirectUris: [`${RP}/cb`],
      postLogoutRedirectUris: [`${RP}/bye`],
      firstParty: true,
    },
    { clientId: 'spa', name: 'Shift planner', public: true, redirectUris: [`${SPA}/cb`] },
    { clientId: 'hmi', name: 'Press HMI', clientSecret: SECRET, redirectUris: [`${RP}/hmi`], firstParty: true, loginMode: 'identify' },
    {
      clientId: 'legacy',
      clientSecret: SECRET,
      redirectUris: [`${RP}/legacy`],
      firstParty: true,
      idTokenSigningAlg: 'RS256',
      tokenEndpointAuthMethod: 'client_secret_post',
      refreshTokens: false,
    },
  ],
};

export interface OidcReplica {
  ctx: AppContext;
  app: AuthApp;
  url: string;
  stop(): Promise<void>;
}

/** One auth replica on a port chosen beforehand, with the issuer `issuer` (PUBLIC_URL). */
export async function startOidcReplica(
  store: Store,
  issuer: string | undefined,
  overrides: Partial<AuthConfig> = {},
): Promise<OidcReplica> {
  const port = await freePort();
  const publicUrl = issuer ?? `http://127.0.0.1:${port}`;
  const base = loadConfig({ LOG_LEVEL: 'silent', PUBLIC_URL: publicUrl, OIDC_CLIENTS: JSON.stringify(CLIENTS) });
  const config = testConfig({
    ...base,
    databaseUrl: store.databaseUrl,
    dataDir: store.dataDir,
    masterKey: store.masterKey,
    visionUrls: ['http://127.0.0.1:9'],
    databasePoolSize: 4,
    indexResyncSeconds: 0,
    // these tests are about the provider; step-up has its own (step-up.postgres.test.ts)
    adminStepUp: false,
    ...overrides,
  });
  const ctx = await createContext(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const app = await buildApp(ctx);
  await app.app.listen({ host: '127.0.0.1', port });
  return {
    ctx,
    app,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await app.app.close();
      await ctx.close();
    },
  };
}
