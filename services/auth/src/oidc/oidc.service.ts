/**
 * "Sign in with Faceline": runs the OpenID Connect provider (oidc-provider) inside auth and
 * finishes its interactions with the account a face login proved.
 *
 * Keys: the provider signs with the ES256 keys TokenService keeps in `signing_keys`. Its key set
 * is fixed per Provider instance, so the instance is rebuilt (same configuration, state in the
 * database) as soon as TokenService's key set changes — a key created here or by another replica
 * (TokenService reloads on its periodic check and on any token with an unknown kid), a new key
 * becoming the signing key, an old one expiring. Nothing restarts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeProtectedHeader } from 'jose';
import type Provider from 'oidc-provider';
import { errors as oidcErrors, type InteractionResults, type KoaContextWithOIDC } from 'oidc-provider';
import {
  AUTH_COOKIES,
  AUTH_ROUTES,
  ErrorCode,
  LOGIN_MODE_PARAM,
  OIDC_ROUTES,
  type InteractionDetails,
  type OidcClientsResponse,
} from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { OidcRepository } from '../repositories/oidc.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuditService } from '../services/audit.service.js';
import type { Authenticated, ClientInfo, SessionService } from '../services/session.service.js';
import type { TokenService } from '../services/token.service.js';
import { authContextOf, strongestMet } from './auth-context.js';
import { toAdminView, type OidcClientRegistration } from './clients.js';
import { KIOSK_REASON, buildProvider } from './provider.js';

type Interaction = InstanceType<Provider['Interaction']>;

export interface OidcDeps {
  config: AuthConfig;
  log: Logger;
  db: Database;
  repo: OidcRepository;
  users: UserRepository;
  tokens: TokenService;
  sessions: SessionService;
  audit: AuditService;
  cookieKey: string;
}

const now = () => Math.floor(Date.now() / 1000);

export class OidcService {
  readonly issuer: string;
  readonly clients: ReadonlyMap<string, OidcClientRegistration>;
  private provider: Provider | undefined;
  private handler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  private keyVersion = '';
  /** how long the last Provider construction took, for the log (rebuilds happen on key changes only) */
  lastBuildMs = 0;

  constructor(private readonly deps: OidcDeps) {
    if (!deps.config.publicUrl) throw new Error('the OpenID Connect provider needs PUBLIC_URL');
    this.issuer = deps.config.publicUrl;
    this.clients = new Map(deps.config.oidcClients.map((c) => [c.clientId, c]));
    this.current();
  }

  /** The provider for the current key set, rebuilt when the keys changed. */
  private current(): Provider {
    const version = this.deps.tokens.keySetVersion();
    if (!this.provider || version !== this.keyVersion) {
      const started = performance.now();
      const provider = buildProvider(
        { ...this.deps, clients: this.clients, onLogout: (ctx) => this.endWebSession(ctx) },
        this.deps.tokens.providerKeys(),
      );
      this.lastBuildMs = performance.now() - started;
      if (this.provider)
        this.deps.log.info(
          { kids: version, ms: Math.round(this.lastBuildMs) },
          'signing keys changed: OpenID Connect provider uses the new key set',
        );
      this.provider = provider;
      this.handler = provider.callback() as unknown as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
      this.keyVersion = version;
    }
    return this.provider;
  }

  /**
   * Hands one HTTP request to the provider. Koa trusts X-Forwarded-* as given, so they are set
   * here: the client address as auth decided it (TRUST_PROXY), host and scheme from the issuer,
   * so every URL the provider prints is under PUBLIC_URL whichever address the request came in on.
   */
  async handle(req: IncomingMessage, res: ServerResponse, clientIp: string): Promise<void> {
    const hint = new URL(req.url ?? '/', 'http://localhost').searchParams.get('id_token_hint');
    if (hint) {
      try {
        const { kid } = decodeProtectedHeader(hint);
        if (kid) await this.deps.tokens.knows(kid);
      } catch {
        /* not a JWT: the provider answers with its own error */
      }
    }
    this.current();
    const issuer = new URL(this.issuer);
    req.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
    req.headers['x-forwarded-host'] = issuer.host;
    req.headers['x-forwarded-for'] = clientIp;
    delete req.headers.forwarded;
    await (this.handler as (req: IncomingMessage, res: ServerResponse) => Promise<void>)(req, res);
  }

  private async interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<Interaction> {
    let interaction: Interaction;
    try {
      interaction = await this.current().interactionDetails(req, res);
    } catch (err) {
      if (err instanceof oidcErrors.SessionNotFound) {
        throw new AuthError(
          ErrorCode.INTERACTION_NOT_FOUND,
          'this sign-in request has expired or belongs to another browser; start again from the application',
        );
      }
      throw err;
    }
    // the cookie names the browser's latest interaction; an older tab must not finish it
    if (interaction.uid !== uid)
      throw new AuthError(
        ErrorCode.INTERACTION_MISMATCH,
        'a newer sign-in request was started in this browser; start again from the application',
      );
    return interaction;
  }

  private registration(interaction: Interaction): OidcClientRegistration {
    const reg = this.clients.get(String(interaction.params.client_id));
    if (!reg) throw new AuthError(ErrorCode.INTERACTION_NOT_FOUND, 'the application of this sign-in request is no longer registered');
    return reg;
  }

  private static mode(interaction: Interaction): 'verify' | 'identify' {
    return interaction.params[LOGIN_MODE_PARAM] === 'identify' ? 'identify' : 'verify';
  }

  /**
   * Since when (seconds since the epoch) the face login must have happened, or undefined when
   * any live Faceline session does: prompt=login and kiosk sign-ins need a face login during
   * this very interaction, max_age one within max_age (or during the interaction).
   */
  private static freshSince(interaction: Interaction): number | undefined {
    const reasons = interaction.prompt.reasons;
    const started = Number(interaction.iat);
    let since: number | undefined;
    if (reasons.includes('login_prompt') || reasons.includes(KIOSK_REASON) || OidcService.mode(interaction) === 'identify') since = started;
    const maxAge = Number(interaction.params.max_age);
    if (interaction.params.max_age !== undefined && Number.isFinite(maxAge))
      since = Math.max(since ?? 0, Math.min(now() - maxAge, started));
    return since;
  }

  /**
   * The provider records when an interaction started in whole seconds, so "during the
   * interaction" means: at most a second before the authorization request, or later.
   */
  private static isFresh(interaction: Interaction, auth: Authenticated): boolean {
    const since = OidcService.freshSince(interaction);
    return since === undefined || authContextOf(auth.session).authTimeMs >= since * 1000;
  }

  /** GET /oidc/interaction/:uid — consent of a first-party client needs nobody: grant it and go on. */
  async autoConsent(req: IncomingMessage, res: ServerResponse, uid: string): Promise<string | undefined> {
    let interaction: Interaction;
    try {
      interaction = await this.interaction(req, res, uid);
    } catch {
      return undefined; // the sign-in page explains it
    }
    if (interaction.prompt.name !== 'consent' || !this.registration(interaction).firstParty) return undefined;
    return this.consent(req, res, uid);
  }

  async details(req: IncomingMessage, res: ServerResponse, uid: string, auth: Authenticated | null): Promise<InteractionDetails> {
    const interaction = await this.interaction(req, res, uid);
    const reg = this.registration(interaction);
    const prompt = interaction.prompt.name === 'consent' ? 'consent' : 'login';
    const usable = auth && OidcService.isFresh(interaction, auth) ? auth : null;
    return {
      uid: interaction.uid,
      prompt,
      client: { clientId: reg.clientId, name: reg.name ?? reg.clientId, firstParty: reg.firstParty === true },
      mode: OidcService.mode(interaction),
      loginHint: typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : null,
      freshLogin: OidcService.freshSince(interaction) !== undefined,
      signedIn: usable
        ? {
            username: usable.user.username,
            displayName: usable.user.displayName,
            authTime: new Date(authContextOf(usable.session).authTime * 1000).toISOString(),
          }
        : null,
      scopes: String(interaction.params.scope ?? '')
        .split(' ')
        .filter(Boolean),
      expiresAt: new Date(Number(interaction.exp) * 1000).toISOString(),
    };
  }

  /**
   * Finishes the login prompt with the person of the browser's Faceline session. Returns where
   * the browser goes next, and whether the Faceline session should end now: a session created
   * by the sign-in page itself (or any kiosk sign-in) served only this application.
   */
  async finishLogin(
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
    auth: Authenticated,
    client: ClientInfo,
  ): Promise<{ redirectTo: string; endWebSession: boolean }> {
    const interaction = await this.interaction(req, res, uid);
    if (interaction.prompt.name !== 'login')
      throw new AuthError(ErrorCode.INTERACTION_MISMATCH, 'this sign-in request does not ask for a login now');
    const reg = this.registration(interaction);
    if (!OidcService.isFresh(interaction, auth)) {
      throw new AuthError(ErrorCode.FRESH_LOGIN_REQUIRED, `${reg.name ?? reg.clientId} asks for a new face login`);
    }
    const context = authContextOf(auth.session);
    const mode = OidcService.mode(interaction);
    const essential = (interaction.prompt.details as { acr?: { value?: string; values?: string[] } }).acr;
    const wanted = essential?.values ?? (essential?.value ? [essential.value] : undefined);
    let result: InteractionResults;
    // a stronger level satisfies a weaker requested one (a login at a trusted kiosk also passed
    // liveness); the ID token then carries the strongest requested value that was met, as OpenID
    // Connect asks for an essential acr (amr still tells how: face, kiosk, hwk)
    const met = wanted ? strongestMet(context.acr, wanted) : context.acr;
    if (!met) {
      result = {
        error: 'unmet_authentication_requirements',
        error_description: `the face login reached ${context.acr}, the application requires ${wanted?.join(' or ')}`,
      };
    } else {
      result = { login: { accountId: auth.user.id, acr: met, amr: context.amr, ts: context.authTime, remember: mode !== 'identify' } };
    }
    const redirectTo = await this.current().interactionResult(req, res, result, { mergeWithLastSubmission: false });
    if (result.login) {
      await this.deps.audit.record({
        type: 'oidc.signed_in',
        outcome: 'success',
        userId: auth.user.id,
        username: auth.user.username,
        ip: client.ip,
        userAgent: client.userAgent,
        mode: auth.session.mode,
        liveness: auth.session.liveness ? 'passed' : 'off',
        details: { clientId: reg.clientId, acr: context.acr },
      });
    }
    const createdDuringInteraction = context.authTimeMs >= Number(interaction.iat) * 1000;
    return { redirectTo, endWebSession: mode === 'identify' || createdDuringInteraction };
  }

  /** The person allowed what a (third-party) client asked for, or a first-party client's consent is implied. */
  async consent(req: IncomingMessage, res: ServerResponse, uid: string): Promise<string> {
    const interaction = await this.interaction(req, res, uid);
    if (interaction.prompt.name !== 'consent')
      throw new AuthError(ErrorCode.INTERACTION_MISMATCH, 'this sign-in request does not ask for consent now');
    const provider = this.current();
    const accountId = interaction.session?.accountId;
    if (!accountId)
      throw new AuthError(ErrorCode.INTERACTION_NOT_FOUND, 'the sign-in of this request is gone; start again from the application');
    const grant = interaction.grantId
      ? ((await provider.Grant.find(interaction.grantId)) ??
        new provider.Grant({ accountId, clientId: String(interaction.params.client_id) }))
      : new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return provider.interactionResult(req, res, { consent: interaction.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
  }

  /** The person cancelled: the client gets access_denied. */
  async abort(req: IncomingMessage, res: ServerResponse, uid: string): Promise<string> {
    await this.interaction(req, res, uid);
    return this.current().interactionResult(
      req,
      res,
      { error: 'access_denied', error_description: 'the person cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }

  /** After an RP-initiated logout the person is signed out of Faceline's own app in this browser too. */
  private async endWebSession(ctx: KoaContextWithOIDC): Promise<void> {
    const token = ctx.cookies.get(AUTH_COOKIES.access);
    if (!token) return;
    try {
      const auth = await this.deps.sessions.authenticate(token);
      await this.deps.sessions.logoutSession(auth.session.id, auth.user.id, {
        ip: ctx.ip,
        userAgent: ctx.get('user-agent').slice(0, 300) || null,
        deviceId: null,
      });
    } catch {
      /* expired or already ended */
    }
    const secure = this.deps.config.cookieSecure === 'always' || (this.deps.config.cookieSecure === 'auto' && ctx.secure);
    const common = { httpOnly: true, sameSite: 'lax' as const, secure, domain: this.deps.config.cookieDomain, overwrite: true };
    ctx.cookies.set(AUTH_COOKIES.access, null, { ...common, path: '/' });
    ctx.cookies.set(AUTH_COOKIES.refresh, null, { ...common, path: AUTH_ROUTES.sessions });
  }

  adminView(): OidcClientsResponse {
    return {
      enabled: true,
      issuer: this.issuer,
      discoveryUrl: new URL(OIDC_ROUTES.discovery, this.issuer).href,
      clients: [...this.clients.values()].map(toAdminView),
    };
  }

  purgeExpired(): Promise<number> {
    return this.deps.repo.purgeExpired(this.deps.db);
  }
}
