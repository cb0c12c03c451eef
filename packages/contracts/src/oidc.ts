/**
 * "Sign in with Faceline": the OpenID Connect provider inside the auth service.
 *
 * The issuer is the address people open (PUBLIC_URL); the protocol endpoints live under
 * `/oidc`, discovery at the issuer's `/.well-known/openid-configuration`, and ID tokens are
 * signed with the same rotating ES256 keys as every other Faceline token (one JWKS,
 * `/.well-known/jwks.json`).
 *
 * When the provider needs the person, it sends the browser to `/oidc/interaction/{uid}`, which
 * leads to the web app's sign-in page (`/authorize?uid=…`). That page reads the interaction
 * below, runs the ordinary face login (1:1 with a user name, or 1:N kiosk-style when the client
 * asked for it) and finishes the interaction with the Faceline session the login created.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ACR, IsoDateTime, type Acr } from './auth.js';

/** Path prefix of every provider endpoint (the web service and the Ingress route it to auth). */
export const OIDC_PREFIX = '/oidc';

/** Where the provider answers; relative to the issuer. */
export const OIDC_ROUTES = {
  discovery: '/.well-known/openid-configuration',
  /** RFC 8414 metadata, the same document */
  authorizationServerMetadata: '/.well-known/oauth-authorization-server',
  jwks: '/.well-known/jwks.json',
  authorization: `${OIDC_PREFIX}/auth`,
  pushedAuthorizationRequest: `${OIDC_PREFIX}/request`,
  token: `${OIDC_PREFIX}/token`,
  userinfo: `${OIDC_PREFIX}/me`,
  revocation: `${OIDC_PREFIX}/token/revocation`,
  introspection: `${OIDC_PREFIX}/token/introspection`,
  endSession: `${OIDC_PREFIX}/session/end`,
  interaction: (uid: string) => `${OIDC_PREFIX}/interaction/${encodeURIComponent(uid)}`,
  interactionDetails: (uid: string) => `${OIDC_PREFIX}/interaction/${encodeURIComponent(uid)}/details`,
  interactionLogin: (uid: string) => `${OIDC_PREFIX}/interaction/${encodeURIComponent(uid)}/login`,
  interactionConsent: (uid: string) => `${OIDC_PREFIX}/interaction/${encodeURIComponent(uid)}/consent`,
  interactionAbort: (uid: string) => `${OIDC_PREFIX}/interaction/${encodeURIComponent(uid)}/abort`,
  adminClients: '/api/v1/admin/oidc/clients',
} as const;

/** The authentication context classes the provider announces (`acr_values_supported`), weakest first (ACR in auth.ts). */
export const ACR_VALUES: readonly Acr[] = [ACR.FACE, ACR.FACE_LIVENESS, ACR.TRUSTED_DEVICE, ACR.MFA];

/**
 * Authorization request parameter a client sends to choose the face login: `verify` (the
 * person types or the client hints their user name, 1:1) or `identify` (kiosk: face only, 1:N).
 * Without it the client's registered `loginMode` applies.
 */
export const LOGIN_MODE_PARAM = 'faceline_mode';

/** Scopes the provider knows; claims per scope are listed in docs/oidc.md. */
export const OIDC_SCOPES = ['openid', 'profile', 'groups', 'offline_access'] as const;

// ---------------------------------------------------------------- interaction API (browser)

export const InteractionParams = Type.Object(
  { uid: Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) },
  { additionalProperties: false },
);
export type InteractionParams = Static<typeof InteractionParams>;

/** GET /oidc/interaction/{uid}/details — what the sign-in page needs to know. */
export const InteractionDetails = Type.Object({
  uid: Type.String(),
  prompt: Type.Union([Type.Literal('login'), Type.Literal('consent')], {
    description: 'login: a face login is needed; consent: the person must allow a third-party client',
  }),
  client: Type.Object({
    clientId: Type.String(),
    name: Type.String(),
    firstParty: Type.Boolean(),
  }),
  mode: Type.Union([Type.Literal('verify'), Type.Literal('identify')], {
    description: 'verify: 1:1 with a user name; identify: kiosk, face only',
  }),
  loginHint: Type.Union([Type.Null(), Type.String()], { description: 'user name suggested by the client (login_hint)' }),
  freshLogin: Type.Boolean({
    description: 'a face login during this interaction is required (prompt=login, max_age, kiosk); an older Faceline session does not do',
  }),
  signedIn: Type.Union([Type.Null(), Type.Object({ username: Type.String(), displayName: Type.String(), authTime: IsoDateTime })], {
    description: 'the Faceline session of this browser, when it may finish the interaction without a new face login',
  }),
  scopes: Type.Array(Type.String(), { description: 'scopes the client asks for' }),
  expiresAt: IsoDateTime,
});
export type InteractionDetails = Static<typeof InteractionDetails>;

/** Answer of the interaction's login / consent / abort: where the browser goes next (back to the provider). */
export const InteractionRedirect = Type.Object({ redirectTo: Type.String() });
export type InteractionRedirect = Static<typeof InteractionRedirect>;

// ---------------------------------------------------------------- admin

/** One client registered by the operator (secrets are never shown). */
export const OidcClient = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  tokenEndpointAuthMethod: Type.String(),
  idTokenSigningAlg: Type.Union([Type.Literal('ES256'), Type.Literal('RS256')]),
  firstParty: Type.Boolean({ description: 'consent is not asked' }),
  loginMode: Type.Union([Type.Literal('verify'), Type.Literal('identify')]),
  pkceRequired: Type.Boolean(),
  refreshTokens: Type.Boolean(),
  scopes: Type.Array(Type.String()),
  redirectUris: Type.Array(Type.String()),
  postLogoutRedirectUris: Type.Array(Type.String()),
});
export type OidcClient = Static<typeof OidcClient>;

/** GET /api/v1/admin/oidc/clients */
export const OidcClientsResponse = Type.Object({
  enabled: Type.Boolean(),
  issuer: Type.Union([Type.Null(), Type.String()]),
  discoveryUrl: Type.Union([Type.Null(), Type.String()]),
  clients: Type.Array(OidcClient),
});
export type OidcClientsResponse = Static<typeof OidcClientsResponse>;
