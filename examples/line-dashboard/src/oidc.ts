/**
 * Faceline as this dashboard's OpenID Connect provider, through openid-client: discovery once
 * (retried until Faceline answers), then the authorization code flow with PKCE, state and
 * nonce. ID tokens are verified against Faceline's JWKS (enableNonRepudiationChecks) — the
 * token endpoint is trusted already, but this is what an application does that keeps the ID
 * token as proof.
 */
import * as client from 'openid-client';
import type { DashboardConfig } from './config.js';

/** Scopes the dashboard asks for: who (openid, profile), the admin flag (groups), and a refresh token. */
export const SCOPE = 'openid profile groups offline_access';

/**
 * In compose the dashboard reaches Faceline on the internal network (http://web:8080) while
 * browsers use the public address (the issuer); every back-channel request is sent there.
 */
function rewriteTo(cfg: DashboardConfig): client.CustomFetch | undefined {
  const internal = cfg.internalUrl;
  if (!internal) return undefined;
  return (url, options) => {
    const u = new URL(url);
    if (u.origin === cfg.issuer.origin) {
      u.protocol = internal.protocol;
      u.host = internal.host;
    }
    return fetch(u.href, options as RequestInit);
  };
}

export class Faceline {
  private config: Promise<client.Configuration> | undefined;

  constructor(private readonly cfg: DashboardConfig) {}

  /** Discovery, done on first use and again after a failure (Faceline may start after the dashboard). */
  configuration(): Promise<client.Configuration> {
    this.config ??= this.discover().catch((err: unknown) => {
      this.config = undefined;
      throw err;
    });
    return this.config;
  }

  private async discover(): Promise<client.Configuration> {
    const execute: ((c: client.Configuration) => void)[] = [client.enableNonRepudiationChecks];
    // plain http only for trials on one machine; production issuers are https
    if (this.cfg.issuer.protocol === 'http:' || this.cfg.internalUrl?.protocol === 'http:') execute.push(client.allowInsecureRequests);
    const fetchVia = rewriteTo(this.cfg);
    const config = await client.discovery(this.cfg.issuer, this.cfg.clientId, undefined, client.ClientSecretBasic(this.cfg.clientSecret), {
      execute,
      ...(fetchVia ? { [client.customFetch]: fetchVia } : {}),
    });
    if (fetchVia) config[client.customFetch] = fetchVia;
    return config;
  }

  get redirectUri(): string {
    return new URL('/callback', this.cfg.publicUrl).href;
  }

  get afterLogout(): string {
    return new URL('/', this.cfg.publicUrl).href;
  }

  /** Where to send the browser, and what to remember until it comes back. */
  async start(opts: { kiosk: boolean; fresh: boolean }): Promise<{ url: URL; pending: Pending }> {
    const config = await this.configuration();
    const pending: Pending = {
      verifier: client.randomPKCECodeVerifier(),
      state: client.randomState(),
      nonce: client.randomNonce(),
      at: Date.now(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      // offline_access needs prompt=consent (OpenID Connect Core 11); Faceline skips the screen for first-party clients
      prompt: opts.fresh ? 'login consent' : 'consent',
      // kiosk: face only, whoever stands at the terminal; otherwise user name + face
      faceline_mode: opts.kiosk ? 'identify' : 'verify',
    });
    return { url, pending };
  }

  /** The callback: code → tokens (PKCE verifier, state and nonce checked, ID token signature verified), then userinfo. */
  async finish(currentUrl: URL, pending: Pending): Promise<SignedIn> {
    const config = await this.configuration();
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims() as client.IDToken;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    return toSignedIn(tokens, claims, userinfo);
  }

  async refresh(session: SignedIn): Promise<SignedIn> {
    if (!session.refreshToken) throw new Error('no refresh token');
    const config = await this.configuration();
    const tokens = await client.refreshTokenGrant(config, session.refreshToken);
    const claims = (tokens.claims() as client.IDToken | undefined) ?? session.claims;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    return { ...toSignedIn(tokens, claims, userinfo), refreshedAt: Date.now() };
  }

  /** RP-initiated logout: Faceline asks the person, ends its session and sends them back here. */
  async logoutUrl(session: SignedIn | undefined): Promise<URL> {
    const config = await this.configuration();
    return client.buildEndSessionUrl(config, {
      post_logout_redirect_uri: this.afterLogout,
      ...(session ? { id_token_hint: session.idToken } : { client_id: this.cfg.clientId }),
    });
  }
}

export interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  at: number;
}

export interface SignedIn {
  claims: client.IDToken;
  userinfo: Record<string, unknown>;
  idToken: string;
  accessToken: string;
  accessTokenExpiresAt: number;
  refreshToken: string | undefined;
  refreshedAt?: number;
}

function toSignedIn(tokens: client.TokenEndpointResponse, claims: client.IDToken, userinfo: Record<string, unknown>): SignedIn {
  return {
    claims,
    userinfo,
    idToken: tokens.id_token as string,
    accessToken: tokens.access_token,
    accessTokenExpiresAt: Date.now() + (tokens.expires_in ?? 0) * 1000,
    refreshToken: tokens.refresh_token,
  };
}
