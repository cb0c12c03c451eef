/**
 * Client registrations for the OpenID Connect provider, written by the operator (a JSON or YAML
 * file named by OIDC_CLIENTS_FILE, and/or OIDC_CLIENTS inline): validated once at start, every
 * problem reported together, then turned into oidc-provider client metadata.
 *
 * ```yaml
 * clients:
 *   - clientId: grafana
 *     name: Grafana
 *     clientSecret: "…at least 32 characters…"
 *     redirectUris: [https://grafana.line4.example.com/login/generic_oauth]
 *     firstParty: true
 *   - clientId: hmi-terminal
 *     public: true                      # no secret; PKCE (S256) is then required
 *     loginMode: identify               # kiosk: face only, 1:N
 *     redirectUris: [https://hmi.line4.example.com/callback]
 * ```
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { ClientMetadata } from 'oidc-provider';
import { OIDC_SCOPES, type OidcClient } from '@faceline/contracts';

export const OidcClientRegistration = Type.Object(
  {
    clientId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._~-]+$' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** confidential clients; at least 32 characters (e.g. `openssl rand -base64 32`) */
    clientSecret: Type.Optional(Type.String({ minLength: 32, maxLength: 512 })),
    /** a browser or native app that cannot keep a secret: no secret, PKCE S256 required */
    public: Type.Optional(Type.Boolean()),
    /** exact redirect URIs (no wildcards, no fragment) */
    redirectUris: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: 50 }),
    postLogoutRedirectUris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 50 })),
    /** an application of the same operator: no consent screen */
    firstParty: Type.Optional(Type.Boolean()),
    /** verify: user name + face (1:1, default); identify: face only (kiosk, 1:N) */
    loginMode: Type.Optional(Type.Union([Type.Literal('verify'), Type.Literal('identify')])),
    /** how a confidential client authenticates at the token endpoint */
    tokenEndpointAuthMethod: Type.Optional(Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')])),
    /** PKCE for a confidential client too (always required for public ones) */
    requirePkce: Type.Optional(Type.Boolean()),
    /** refresh tokens (offline_access) allowed; default true */
    refreshTokens: Type.Optional(Type.Boolean()),
    /** ID token signature: ES256 (default, Faceline's own algorithm) or RS256 for relying parties that verify nothing else */
    idTokenSigningAlg: Type.Optional(Type.Union([Type.Literal('ES256'), Type.Literal('RS256')])),
    /** scopes the client may ask for; default all */
    scopes: Type.Optional(Type.Array(Type.Union(OIDC_SCOPES.map((s) => Type.Literal(s))), { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type OidcClientRegistration = Static<typeof OidcClientRegistration>;

const RegistrationFile = Type.Object({ clients: Type.Array(Type.Unknown()) }, { additionalProperties: false });

function checkUri(uri: string, where: string, problems: string[]): void {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    problems.push(`${where}: "${uri}" is not an absolute URL`);
    return;
  }
  if (u.hash || uri.includes('#')) problems.push(`${where}: "${uri}" must not have a fragment`);
  if (u.protocol === 'javascript:' || u.protocol === 'data:') problems.push(`${where}: "${uri}" has a forbidden scheme`);
}

/**
 * Parses one source (the file's text or the inline variable) into registrations. `source` names
 * it in messages. YAML is a superset of JSON, so one parser reads both.
 */
export function parseClientRegistrations(text: string, source: string): { clients: OidcClientRegistration[]; problems: string[] } {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { clients: [], problems: [`${source} is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  if (!Value.Check(RegistrationFile, doc)) {
    return { clients: [], problems: [`${source} must be an object with a "clients" list`] };
  }
  const clients: OidcClientRegistration[] = [];
  doc.clients.forEach((raw, i) => {
    const where = `${source} clients[${i}]${raw && typeof raw === 'object' && 'clientId' in raw ? ` (${String((raw as { clientId: unknown }).clientId)})` : ''}`;
    const errors = [...Value.Errors(OidcClientRegistration, raw)];
    if (errors.length) {
      // JSON pointer → the field as written: /redirectUris/0 → .redirectUris[0]
      const field = (pointer: string) => pointer.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
      for (const e of errors.slice(0, 5)) problems.push(`${where}${field(e.path)}: ${e.message}`);
      return;
    }
    const c = raw as OidcClientRegistration;
    if (c.public && c.clientSecret) problems.push(`${where}: a public client has no clientSecret`);
    if (!c.public && !c.clientSecret) problems.push(`${where}: set clientSecret (confidential client) or public: true`);
    if (c.public && c.tokenEndpointAuthMethod) problems.push(`${where}: a public client has no tokenEndpointAuthMethod`);
    for (const [j, u] of c.redirectUris.entries()) checkUri(u, `${where}.redirectUris[${j}]`, problems);
    for (const [j, u] of (c.postLogoutRedirectUris ?? []).entries()) checkUri(u, `${where}.postLogoutRedirectUris[${j}]`, problems);
    if (c.scopes && !c.scopes.includes('openid')) problems.push(`${where}: scopes must include openid`);
    clients.push(c);
  });
  return { clients, problems };
}

/** Several sources together; a client id may appear only once. */
export function mergeRegistrations(parts: { clients: OidcClientRegistration[]; problems: string[] }[]): {
  clients: OidcClientRegistration[];
  problems: string[];
} {
  const problems = parts.flatMap((p) => p.problems);
  const clients: OidcClientRegistration[] = [];
  const seen = new Set<string>();
  for (const c of parts.flatMap((p) => p.clients)) {
    if (seen.has(c.clientId)) problems.push(`OIDC client "${c.clientId}" is registered twice`);
    else clients.push(c);
    seen.add(c.clientId);
  }
  return { clients, problems };
}

export const isPublic = (c: OidcClientRegistration): boolean => c.public === true;
export const pkceRequired = (c: OidcClientRegistration): boolean => isPublic(c) || c.requirePkce === true;
export const refreshTokensAllowed = (c: OidcClientRegistration): boolean => c.refreshTokens !== false;
export const loginModeOf = (c: OidcClientRegistration): 'verify' | 'identify' => c.loginMode ?? 'verify';

/** The metadata oidc-provider validates and keeps (standard names, RFC 7591). */
export function toProviderMetadata(c: OidcClientRegistration): ClientMetadata {
  const scopes = c.scopes ?? [...OIDC_SCOPES];
  const refresh = refreshTokensAllowed(c) && scopes.includes('offline_access');
  return {
    client_id: c.clientId,
    client_name: c.name ?? c.clientId,
    ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
    token_endpoint_auth_method: isPublic(c) ? 'none' : (c.tokenEndpointAuthMethod ?? 'client_secret_basic'),
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
    response_types: ['code'],
    grant_types: refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    scope: scopes.join(' '),
    id_token_signed_response_alg: c.idTokenSigningAlg ?? 'ES256',
  };
}

/** What administrators see: everything but the secret. */
export function toAdminView(c: OidcClientRegistration): OidcClient {
  const meta = toProviderMetadata(c);
  return {
    clientId: c.clientId,
    name: c.name ?? c.clientId,
    type: isPublic(c) ? 'public' : 'confidential',
    tokenEndpointAuthMethod: String(meta.token_endpoint_auth_method),
    idTokenSigningAlg: c.idTokenSigningAlg ?? 'ES256',
    firstParty: c.firstParty === true,
    loginMode: loginModeOf(c),
    pkceRequired: pkceRequired(c),
    refreshTokens: (meta.grant_types as string[]).includes('refresh_token'),
    scopes: String(meta.scope).split(' '),
    redirectUris: c.redirectUris,
    postLogoutRedirectUris: c.postLogoutRedirectUris ?? [],
  };
}
