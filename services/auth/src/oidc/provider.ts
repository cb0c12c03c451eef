/**
 * The oidc-provider configuration: Faceline's clients, accounts, claims, keys, storage and
 * pages. `buildProvider` is called again whenever the signing keys change (oidc-provider's key
 * set is fixed per instance); every instance has the same configuration and all state is in the
 * database, so swapping instances between two requests loses nothing.
 */
import Provider, {
  errors,
  interactionPolicy,
  type Account,
  type AccountClaims,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { JWK } from 'jose';
import { ACR_VALUES, LOGIN_MODE_PARAM, OIDC_ROUTES, OIDC_SCOPES } from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { OidcRepository } from '../repositories/oidc.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import { adapterFor } from './adapter.js';
import { loginModeOf, pkceRequired, toProviderMetadata, type OidcClientRegistration } from './clients.js';
import { STYLE_HASH, errorPage, logoutPage, pageLang, signedOutPage } from './pages.js';

export interface ProviderDeps {
  config: AuthConfig;
  log: Logger;
  db: Database;
  repo: OidcRepository;
  users: UserRepository;
  clients: ReadonlyMap<string, OidcClientRegistration>;
  /** signs and verifies the provider's cookies; the same on every replica (derived from the master key) */
  cookieKey: string;
  /** runs after a person confirmed an RP-initiated logout (the provider session is gone by then) */
  onLogout: (ctx: KoaContextWithOIDC) => Promise<void>;
}

const { Check, base } = interactionPolicy;

/** Reasons (interaction prompt reasons) for which an older face login does not do. */
export const KIOSK_REASON = 'kiosk';

/** The Content-Security-Policy of every provider answer; form-action lists where its forms and redirects may go. */
export function providerCsp(clients: Iterable<OidcClientRegistration>): string {
  const origins = new Set<string>();
  for (const c of clients) {
    for (const u of [...c.redirectUris, ...(c.postLogoutRedirectUris ?? [])]) {
      try {
        const o = new URL(u).origin;
        if (o !== 'null') origins.add(o);
      } catch {
        /* validated at start */
      }
    }
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${STYLE_HASH}`,
    "img-src 'self'",
    `form-action 'self' ${[...origins].join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function claimsOf(user: { id: string; username: string; displayName: string; role: string; profile: { locale?: string } }): AccountClaims {
  return {
    sub: user.id,
    preferred_username: user.username,
    name: user.displayName,
    ...(user.profile.locale ? { locale: user.profile.locale } : {}),
    groups: user.role === 'admin' ? ['admin'] : [],
    role: user.role,
  };
}

export function buildProvider(deps: ProviderDeps, keys: JWK[]): Provider {
  const { config, log, db, repo, users, clients } = deps;
  const issuer = config.publicUrl as string;
  const registration = (clientId: string) => clients.get(clientId);
  const csp = providerCsp(clients.values());

  const policy = base();
  // A kiosk is a shared terminal: whoever stands in front of the camera now signs in, never the
  // person the browser remembers from before.
  policy
    .get('login')
    ?.checks.add(
      new Check(KIOSK_REASON, 'a face-only (kiosk) sign-in always needs the face in front of the camera now', (ctx) =>
        ctx.oidc.params?.[LOGIN_MODE_PARAM] === 'identify' && !ctx.oidc.result?.login ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
      ),
    );

  const configuration: Configuration = {
    adapter: adapterFor(db, repo),
    clients: [...clients.values()].map(toProviderMetadata),
    jwks: { keys: keys as never },
    cookies: {
      keys: [deps.cookieKey],
      names: { session: 'faceline_oidc_session', interaction: 'faceline_oidc_interaction', resume: 'faceline_oidc_resume' },
      // Lax: sent on the top-level redirects from the client's site to the provider (GET), not on
      // cross-site subrequests
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    routes: {
      authorization: OIDC_ROUTES.authorization,
      pushed_authorization_request: OIDC_ROUTES.pushedAuthorizationRequest,
      token: OIDC_ROUTES.token,
      userinfo: OIDC_ROUTES.userinfo,
      revocation: OIDC_ROUTES.revocation,
      introspection: OIDC_ROUTES.introspection,
      end_session: OIDC_ROUTES.endSession,
      // the same document as /.well-known/jwks.json, which auth serves itself (one JWKS)
      jwks: OIDC_ROUTES.jwks,
      code_verification: '/oidc/device',
      device_authorization: '/oidc/device/auth',
      backchannel_authentication: '/oidc/backchannel',
      registration: '/oidc/reg',
      challenge: '/oidc/challenge',
      credential: '/oidc/credential',
    } as Configuration['routes'],
    scopes: [...OIDC_SCOPES],
    claims: {
      // how the person was authenticated goes into every ID token, asked for or not
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['preferred_username', 'name', 'locale'],
      groups: ['groups', 'role'],
    },
    acrValues: [...ACR_VALUES],
    // the scope's claims go into the ID token too: many applications read only the ID token
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    allowOmittingSingleRegisteredRedirectUri: false,
    // ES256 is Faceline's own; RS256 because OpenID Connect Discovery requires it and some relying parties verify nothing else
    enabledJWA: { idTokenSigningAlgValues: ['ES256', 'RS256'] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'] },
    pkce: {
      required: (_ctx, client) => {
        const reg = registration(client.clientId);
        return reg ? pkceRequired(reg) : true;
      },
    },
    extraParams: {
      async [LOGIN_MODE_PARAM](ctx: KoaContextWithOIDC, value: string | undefined, client: { clientId: string }) {
        const params = ctx.oidc.params as Record<string, unknown>;
        const reg = registration(client.clientId);
        const mode = value ?? (reg ? loginModeOf(reg) : 'verify');
        if (mode !== 'verify' && mode !== 'identify') throw new errors.InvalidRequest(`${LOGIN_MODE_PARAM} must be verify or identify`);
        if (mode === 'identify' && !config.kiosk)
          throw new errors.InvalidRequest('face-only (kiosk) sign-in is switched off on this server');
        params[LOGIN_MODE_PARAM] = mode;
      },
    } as never,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      claimsParameter: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = logoutPage(pageLang(ctx.get('accept-language')), form, ctx.oidc.client?.clientName);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = signedOutPage(pageLang(ctx.get('accept-language')), ctx.oidc.client?.clientName);
        },
      },
    },
    async findAccount(_ctx, id): Promise<Account | undefined> {
      const user = await users.findById(db, id);
      if (!user) return undefined;
      return { accountId: user.id, claims: () => claimsOf(user) };
    },
    // first-party clients of the operator: no consent screen; what they ask for is granted
    async loadExistingGrant(ctx) {
      const clientId = ctx.oidc.client?.clientId as string;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!registration(clientId)?.firstParty) return existing;
      const grant = existing ?? new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session?.accountId as string });
      const scope = [...ctx.oidc.requestParamOIDCScopes].join(' ');
      if (scope) grant.addOIDCScope(scope);
      const claims = [...ctx.oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => OIDC_ROUTES.interaction(interaction.uid),
    },
    ttl: {
      AccessToken: config.oidcAccessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: config.oidcIdTokenTtlSeconds,
      RefreshToken: config.oidcRefreshTokenTtlSeconds,
      Session: config.oidcSessionTtlSeconds,
      Interaction: config.oidcInteractionTtlSeconds,
      Grant: Math.max(config.oidcRefreshTokenTtlSeconds, config.oidcSessionTtlSeconds),
    },
    // each refresh token works once, like Faceline's own
    rotateRefreshToken: true,
    // offline_access counts only with prompt=consent (OpenID Connect Core 11), which applications such as
    // Grafana never send; the operator's own (first-party) applications get refresh tokens anyway, bound
    // to the person's sign-in: without offline_access they end with the provider session (sign-out)
    async issueRefreshToken(_ctx, client, code) {
      if (!client.grantTypeAllowed('refresh_token')) return false;
      return code.scopes.has('offline_access') || registration(client.clientId)?.firstParty === true;
    },
    clientBasedCORS(_ctx, origin, client) {
      // browser apps (public clients) may call the token and userinfo endpoints from their own origin
      const reg = registration(client.clientId);
      return Boolean(reg?.redirectUris.some((u) => new URL(u).origin === origin));
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(
        pageLang(ctx.get('accept-language')),
        String(out.error),
        out.error_description ? String(out.error_description) : undefined,
      );
    },
  };

  const provider = new Provider(issuer, configuration);
  // auth rewrites X-Forwarded-* from its own trust decision before a request reaches the provider
  provider.proxy = true;
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'OpenID Connect provider error'));
  for (const event of [
    'authorization.error',
    'grant.error',
    'end_session.error',
    'userinfo.error',
    'introspection.error',
    'revocation.error',
  ]) {
    (provider.on.bind(provider) as (e: string, l: (ctx: unknown, err: { error?: string; error_description?: string }) => void) => void)(
      event,
      (_ctx, err) => log.info({ event, error: err.error, description: err.error_description }, 'OpenID Connect request refused'),
    );
  }
  provider.use(async (ctx, next) => {
    ctx.set('content-security-policy', csp);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    await next();
    const params = ctx.oidc?.params as Record<string, unknown> | undefined;
    // a person's own sign-out (not the provider ending the previous person's session when another signs in)
    const backToAuthorization = (ctx.response.get('location') ?? '').startsWith(`${issuer}${OIDC_ROUTES.authorization}/`);
    if (ctx.oidc?.route === 'end_session_confirm' && ctx.status === 303 && params?.logout && !backToAuthorization)
      await deps.onLogout(ctx as KoaContextWithOIDC);
  });
  return provider;
}
