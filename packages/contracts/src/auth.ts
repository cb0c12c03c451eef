/**
 * The auth service's HTTP contract. Every route of services/auth validates against these
 * schemas and the browser compiles against the same types.
 *
 * Sessions: a successful face login (Socket.IO, see realtime.ts) ends with a one-time `grant`.
 * The browser exchanges it at `POST /api/v1/sessions`, which sets two httpOnly cookies
 * (`faceline_access`: the short-lived signed access token; `faceline_refresh`: the opaque
 * refresh token, path-limited to `/api/v1/sessions`) and also returns the access token so
 * that other line applications can send it as `Authorization: Bearer`. The grant step exists
 * because a Socket.IO acknowledgement cannot set an HTTP cookie.
 */
import { FormatRegistry, Type, type Static } from '@sinclair/typebox';

// TypeBox's Value.Check refuses unknown formats; register the two these schemas use so that
// browsers and tests can check answers without extra set-up (Fastify's Ajv has its own).
if (!FormatRegistry.Has('uuid')) {
  FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));
}
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set(
    'date-time',
    (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)),
  );
}

/** Prefix of every auth HTTP route (the web service forwards `/api` and `/socket.io` to auth). */
export const AUTH_API_PREFIX = '/api/v1';

/**
 * Largest HTTP request body auth accepts (its JSON requests are small; frames go over Socket.IO).
 * Larger bodies get 413 PAYLOAD_TOO_LARGE, from auth itself or already from the web service's proxy.
 */
export const AUTH_BODY_LIMIT_BYTES = 64 * 1024;

/** Cookie names set by auth. */
export const AUTH_COOKIES = {
  access: 'faceline_access',
  refresh: 'faceline_refresh',
  /** a kiosk an administrator trusts holds its device credential here (long-lived, httpOnly) */
  device: 'faceline_device',
} as const;

/** Issuer and audience of access tokens unless configured otherwise (AUTH_ISSUER / AUTH_AUDIENCE). */
export const ACCESS_TOKEN_DEFAULTS = { issuer: 'faceline', audience: 'faceline' } as const;

// ---------------------------------------------------------------- building blocks

export const Username = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^[a-z0-9][a-z0-9._-]{2,31}$',
  description: 'lowercase letters, digits, dot, underscore, dash; 3-32 characters; starts with a letter or digit',
});
export type Username = Static<typeof Username>;

export const DisplayName = Type.String({ minLength: 1, maxLength: 80, description: 'shown in the UI' });

export const Role = Type.Union([Type.Literal('user'), Type.Literal('admin')]);
export type Role = Static<typeof Role>;

export const UserId = Type.String({ format: 'uuid' });

export const IsoDateTime = Type.String({ format: 'date-time' });

/** A little data the user edits and sees again on their next login. */
export const Profile = Type.Object(
  {
    greeting: Type.Optional(Type.String({ maxLength: 120, description: 'shown after login, e.g. "Good shift!"' })),
    station: Type.Optional(Type.String({ maxLength: 80, description: 'usual production line or workstation' })),
    locale: Type.Optional(Type.String({ maxLength: 35, pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$', description: 'BCP 47 tag' })),
    theme: Type.Optional(Type.Union([Type.Literal('system'), Type.Literal('light'), Type.Literal('dark')])),
    largeText: Type.Optional(Type.Boolean({ description: 'bigger UI for gloves and distance' })),
  },
  { additionalProperties: false },
);
export type Profile = Static<typeof Profile>;

export const User = Type.Object({
  id: UserId,
  username: Username,
  displayName: DisplayName,
  role: Role,
  createdAt: IsoDateTime,
  enrolled: Type.Boolean({ description: 'has at least one face template' }),
  templateCount: Type.Integer({ minimum: 0 }),
});
export type User = Static<typeof User>;

/** What an administrator sees of a user: the account plus its brute-force state. */
export const AdminUser = Type.Composite([
  User,
  Type.Object({
    lastLoginAt: Type.Union([Type.Null(), IsoDateTime]),
    failedAttempts: Type.Integer({ minimum: 0, description: 'consecutive failed face attempts' }),
    backoffUntil: Type.Union([Type.Null(), IsoDateTime]),
    locked: Type.Boolean({ description: 'locked after too many failures until an admin unlocks' }),
  }),
]);
export type AdminUser = Static<typeof AdminUser>;

// ---------------------------------------------------------------- browser configuration

/** GET /api/v1/config — what the browser needs before it opens the camera. */
export const ClientConfig = Type.Object({
  liveness: Type.Boolean({ description: 'false only when an operator switched liveness off explicitly' }),
  capturesRequired: Type.Integer({ minimum: 1, description: 'good captures needed to enroll' }),
  challengeSteps: Type.Integer({ minimum: 0, description: 'number of liveness steps in a login challenge' }),
  challengeTimeLimitMs: Type.Integer({ minimum: 1 }),
  enrollTimeLimitMs: Type.Integer({ minimum: 1 }),
  maxFrameBytes: Type.Integer({ minimum: 1, description: 'larger frames are refused with PAYLOAD_TOO_LARGE' }),
  minFrameIntervalMs: Type.Integer({ minimum: 0, description: 'send frames at most this often; faster is refused with RATE_LIMITED' }),
  recommendedFrameWidth: Type.Integer({ minimum: 1 }),
  minFaceSizePx: Type.Integer({ minimum: 1 }),
  kiosk: Type.Boolean({ description: 'face-only (1:N) login is enabled' }),
  accessTokenTtlSeconds: Type.Integer({ minimum: 1 }),
});
export type ClientConfig = Static<typeof ClientConfig>;

/** GET /api/v1/info — service identity (version, issuer) for operators and other applications. */
export const ServiceInfo = Type.Object({
  service: Type.Literal('auth'),
  version: Type.String(),
  issuer: Type.String(),
  audience: Type.String(),
  jwksUri: Type.String(),
  database: Type.Union([Type.Literal('postgres'), Type.Literal('pglite')]),
  mode: Type.Union([Type.Literal('single'), Type.Literal('hub'), Type.Literal('site')], {
    description: 'single: one database; hub: the identity authority that sites replicate; site: a replicated copy at a production site',
  }),
  site: Type.Union([Type.Null(), Type.String()], { description: 'the site name in site mode' }),
});
export type ServiceInfo = Static<typeof ServiceInfo>;

// ---------------------------------------------------------------- registration

/**
 * POST /api/v1/users. `setupToken` is the one-time token of the setup link auth prints while no
 * administrator exists (`/register?setup=…`, or FACELINE_SETUP_TOKEN): the account it creates is
 * the first administrator. A spent, expired or unknown token refuses the registration
 * (SETUP_TOKEN_INVALID) instead of creating an ordinary account.
 */
export const RegisterRequest = Type.Object(
  {
    username: Username,
    displayName: DisplayName,
    setupToken: Type.Optional(
      Type.String({ minLength: 16, maxLength: 200, description: 'one-time setup token: makes this account the first administrator' }),
    ),
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

/**
 * 201 from POST /api/v1/users. The ticket authorises `enroll:start` on the socket for a short
 * time; the account cannot log in until it has enrolled.
 */
export const RegisterResponse = Type.Object({
  user: User,
  enrollmentTicket: Type.String(),
  enrollmentTicketExpiresAt: IsoDateTime,
});
export type RegisterResponse = Static<typeof RegisterResponse>;

/** POST /api/v1/me/enrollment-ticket — a signed-in user re-enrolls (e.g. after deleting face data). */
export const EnrollmentTicketResponse = Type.Object({
  enrollmentTicket: Type.String(),
  enrollmentTicketExpiresAt: IsoDateTime,
});
export type EnrollmentTicketResponse = Static<typeof EnrollmentTicketResponse>;

// ---------------------------------------------------------------- me

/** GET /api/v1/me and the answer of PATCH /api/v1/me */
export const MeResponse = Type.Object({
  user: User,
  profile: Profile,
  session: Type.Object({
    id: Type.String(),
    createdAt: IsoDateTime,
    mode: Type.Union([Type.Literal('verify'), Type.Literal('identify')]),
    liveness: Type.Boolean({ description: 'the login that created this session passed a liveness challenge' }),
    /** how the session was proven (one of ACR), when, and the role it may act with now */
    acr: Type.String(),
    amr: Type.Array(Type.String()),
    authTime: IsoDateTime,
    role: Role,
  }),
});
export type MeResponse = Static<typeof MeResponse>;

/** PATCH /api/v1/me — profile fields are merged; send null to clear one. */
export const UpdateMeRequest = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    profile: Type.Optional(
      Type.Object(
        {
          greeting: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 120 })])),
          station: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 80 })])),
          locale: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 35, pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$' })])),
          theme: Type.Optional(Type.Union([Type.Null(), Type.Literal('system'), Type.Literal('light'), Type.Literal('dark')])),
          largeText: Type.Optional(Type.Union([Type.Null(), Type.Boolean()])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type UpdateMeRequest = Static<typeof UpdateMeRequest>;

/** DELETE /api/v1/me/face — the user's templates are erased; the account stays (re-enroll later). */
export const DeleteFaceResponse = Type.Object({ deletedTemplates: Type.Integer({ minimum: 0 }) });
export type DeleteFaceResponse = Static<typeof DeleteFaceResponse>;

/** DELETE /api/v1/me answers 204; the account, templates, sessions and profile are erased. */

// ---------------------------------------------------------------- sessions

/** POST /api/v1/sessions — exchange the one-time grant from `login:result` for a session. */
export const CreateSessionRequest = Type.Object(
  {
    grant: Type.String({ minLength: 16, maxLength: 256 }),
    /**
     * An administrator's passkey assertion (WebAuthn AuthenticationResponseJSON) after a
     * STEP_UP_REQUIRED answer, which carries the options in details.webauthn.
     */
    webauthn: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type CreateSessionRequest = Static<typeof CreateSessionRequest>;

/** Answer of POST /api/v1/sessions and POST /api/v1/sessions/refresh (cookies are set too). */
export const SessionResponse = Type.Object({
  user: User,
  profile: Profile,
  /** how this session was proven (acr: one of ACR) and the role it may act with */
  assurance: Type.Object({
    acr: Type.String(),
    amr: Type.Array(Type.String()),
    authTime: IsoDateTime,
    role: Role,
  }),
  accessToken: Type.String({ description: 'JWT signed with a key from /.well-known/jwks.json' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  accessTokenExpiresAt: IsoDateTime,
  refreshTokenExpiresAt: IsoDateTime,
});
export type SessionResponse = Static<typeof SessionResponse>;

/**
 * POST /api/v1/sessions/refresh — the refresh token comes from the `faceline_refresh` cookie
 * or, for non-browser clients, from this body. Each refresh token works once (rotation); using
 * an already-rotated one revokes the whole session (theft detection).
 */
export const RefreshRequest = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })) },
  { additionalProperties: false },
);
export type RefreshRequest = Static<typeof RefreshRequest>;

/** POST /api/v1/sessions/logout answers 204 and revokes the session; cookies are cleared. */

/** Claims of an access token (JWT, EdDSA or ES256). */
/**
 * Authentication context class references Faceline issues, weakest first. Relying applications
 * require a level with the token's `acr` (and OpenID Connect's `acr_values`).
 */
export const ACR = {
  /** the face matched; no liveness challenge (liveness switched off) */
  FACE: 'urn:faceline:acr:face',
  /** the face matched and a liveness challenge was passed */
  FACE_LIVENESS: 'urn:faceline:acr:face-liveness',
  /** ...at a kiosk an administrator trusts */
  TRUSTED_DEVICE: 'urn:faceline:acr:face-liveness-device',
  /** ...and a passkey confirmed it (a second factor) */
  MFA: 'urn:faceline:acr:mfa',
} as const;
export type Acr = (typeof ACR)[keyof typeof ACR];
const ACR_RANK: Record<string, number> = { [ACR.FACE]: 0, [ACR.FACE_LIVENESS]: 1, [ACR.TRUSTED_DEVICE]: 2, [ACR.MFA]: 2 };

/** True when `acr` is at least `required` (a trusted device and a passkey count the same). */
export function acrSatisfies(acr: string, required: Acr): boolean {
  return (ACR_RANK[acr] ?? -1) >= (ACR_RANK[required] ?? Infinity);
}

export const AccessTokenClaims = Type.Object({
  iss: Type.String(),
  aud: Type.String(),
  sub: Type.String({ description: 'user id' }),
  sid: Type.String({ description: 'session id' }),
  username: Type.String(),
  name: Type.String({ description: 'display name' }),
  role: Role,
  amr: Type.Array(Type.String(), {
    description: 'RFC 8176 methods: "face"; "hwk" and "mfa" after a passkey; "kiosk" at a trusted device',
  }),
  acr: Type.String({ description: 'assurance level, one of ACR (liveness passed, trusted device, passkey)' }),
  auth_time: Type.Integer({ description: 'when the face login happened (seconds since the epoch)' }),
  iat: Type.Integer(),
  exp: Type.Integer(),
  jti: Type.String(),
});
export type AccessTokenClaims = Static<typeof AccessTokenClaims>;

// ---------------------------------------------------------------- JWKS

export const Jwk = Type.Object(
  {
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.Optional(Type.String()),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type Jwk = Static<typeof Jwk>;

/** GET /.well-known/jwks.json */
export const JwksResponse = Type.Object({ keys: Type.Array(Jwk) });
export type JwksResponse = Static<typeof JwksResponse>;

// ---------------------------------------------------------------- admin

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

/** GET /api/v1/admin/users */
export const AdminUsersQuery = Type.Composite(
  [PageQuery, Type.Object({ q: Type.Optional(Type.String({ maxLength: 80, description: 'username or display name contains' })) })],
  { additionalProperties: false },
);
export type AdminUsersQuery = Static<typeof AdminUsersQuery>;

export const AdminUsersResponse = Type.Object({
  users: Type.Array(AdminUser),
  nextCursor: Type.Union([Type.Null(), Type.String()]),
});
export type AdminUsersResponse = Static<typeof AdminUsersResponse>;

export const UserIdParams = Type.Object({ id: UserId }, { additionalProperties: false });
export type UserIdParams = Static<typeof UserIdParams>;

/** POST /api/v1/admin/users/:id/unlock answers the unlocked user; DELETE /api/v1/admin/users/:id answers 204. */
export const AdminUserResponse = Type.Object({ user: AdminUser });
export type AdminUserResponse = Static<typeof AdminUserResponse>;

/** PUT /api/v1/admin/users/:id/role — an authority operation: in site mode it is done at the hub. */
export const SetRoleRequest = Type.Object({ role: Role }, { additionalProperties: false });
export type SetRoleRequest = Static<typeof SetRoleRequest>;

export const AuditEventType = Type.Union([
  Type.Literal('user.registered'),
  Type.Literal('enroll.completed'),
  Type.Literal('enroll.refused'),
  Type.Literal('login.succeeded'),
  Type.Literal('login.failed'),
  /** a login that had seen a face was cancelled by the client (it counted as an attempt) */
  Type.Literal('login.cancelled'),
  /** ...or ended by a disconnect or a dying connection */
  Type.Literal('login.abandoned'),
  Type.Literal('account.backoff'),
  Type.Literal('account.locked'),
  Type.Literal('account.unlocked'),
  Type.Literal('face.deleted'),
  Type.Literal('user.deleted'),
  Type.Literal('session.refreshed'),
  Type.Literal('session.revoked'),
  Type.Literal('session.reuse_detected'),
  Type.Literal('profile.updated'),
  Type.Literal('oidc.signed_in'),
  Type.Literal('role.changed'),
  Type.Literal('device.trusted'),
  Type.Literal('device.revoked'),
  Type.Literal('passkey.added'),
  Type.Literal('passkey.removed'),
  Type.Literal('session.stepped_up'),
]);
export type AuditEventType = Static<typeof AuditEventType>;

/** One audit record: who, when, from where, how, outcome. Never an image or an embedding. */
export const AuditEvent = Type.Object({
  id: Type.String(),
  at: IsoDateTime,
  type: AuditEventType,
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  userId: Type.Union([Type.Null(), Type.String()]),
  username: Type.Union([Type.Null(), Type.String()]),
  actorId: Type.Union([Type.Null(), Type.String()], { description: 'who acted, when not the user (admin)' }),
  ip: Type.Union([Type.Null(), Type.String()]),
  userAgent: Type.Union([Type.Null(), Type.String()]),
  mode: Type.Union([Type.Null(), Type.Literal('verify'), Type.Literal('identify'), Type.Literal('enroll')]),
  code: Type.Union([Type.Null(), Type.String({ description: 'error code of a failure' })]),
  distance: Type.Union([Type.Null(), Type.Number()]),
  liveness: Type.Union([Type.Null(), Type.Literal('passed'), Type.Literal('failed'), Type.Literal('off')]),
  details: Type.Union([Type.Null(), Type.Record(Type.String(), Type.Unknown())]),
  site: Type.Union([Type.Null(), Type.String()], {
    description: 'the site whose auth recorded the event; null for the hub (or a single installation)',
  }),
});
export type AuditEvent = Static<typeof AuditEvent>;

/** GET /api/v1/admin/audit */
export const AuditQuery = Type.Composite(
  [
    PageQuery,
    Type.Object({
      userId: Type.Optional(UserId),
      type: Type.Optional(AuditEventType),
    }),
  ],
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditResponse = Type.Object({
  events: Type.Array(AuditEvent),
  nextCursor: Type.Union([Type.Null(), Type.String()]),
});
export type AuditResponse = Static<typeof AuditResponse>;

/** The audit events that make up a person's own sign-in history (GET /api/v1/me/audit). */
export const SIGN_IN_EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.cancelled',
  'login.abandoned',
] as const satisfies readonly AuditEventType[];
type SignInEventType = (typeof SIGN_IN_EVENT_TYPES)[number];

/**
 * One entry of the signed-in person's own sign-in history: when, how, outcome and from where.
 * Unlike the administrators' AuditEvent it carries no match distance (derived from the face)
 * and no other person's data.
 */
export const MyAuditEvent = Type.Object(
  {
    id: Type.String(),
    at: IsoDateTime,
    type: Type.Union([
      Type.Literal('login.succeeded'),
      Type.Literal('login.failed'),
      Type.Literal('login.cancelled'),
      Type.Literal('login.abandoned'),
    ]),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
    mode: Type.Union([Type.Null(), Type.Literal('verify'), Type.Literal('identify')]),
    code: Type.Union([Type.Null(), Type.String({ description: 'error code of a failure' })]),
    liveness: Type.Union([Type.Null(), Type.Literal('passed'), Type.Literal('failed'), Type.Literal('off')]),
    ip: Type.Union([Type.Null(), Type.String()]),
    userAgent: Type.Union([Type.Null(), Type.String()]),
  },
  { additionalProperties: false },
);
export type MyAuditEvent = Static<typeof MyAuditEvent>;
// the schema's literal list and SIGN_IN_EVENT_TYPES must agree (compile-time check)
type SameSignInTypes = [MyAuditEvent['type']] extends [SignInEventType]
  ? [SignInEventType] extends [MyAuditEvent['type']]
    ? true
    : never
  : never;
const signInTypesAgree: SameSignInTypes = true;
void signInTypesAgree;

/** GET /api/v1/me/audit */
export const MyAuditQuery = PageQuery;
export type MyAuditQuery = Static<typeof MyAuditQuery>;

export const MyAuditResponse = Type.Object({
  events: Type.Array(MyAuditEvent),
  nextCursor: Type.Union([Type.Null(), Type.String()]),
});
export type MyAuditResponse = Static<typeof MyAuditResponse>;

/** Route table, for clients that build URLs. Paths are relative to the service root. */
export const AUTH_ROUTES = {
  config: `${AUTH_API_PREFIX}/config`,
  info: `${AUTH_API_PREFIX}/info`,
  register: `${AUTH_API_PREFIX}/users`,
  me: `${AUTH_API_PREFIX}/me`,
  meFace: `${AUTH_API_PREFIX}/me/face`,
  meEnrollmentTicket: `${AUTH_API_PREFIX}/me/enrollment-ticket`,
  meAudit: `${AUTH_API_PREFIX}/me/audit`,
  sessions: `${AUTH_API_PREFIX}/sessions`,
  refresh: `${AUTH_API_PREFIX}/sessions/refresh`,
  logout: `${AUTH_API_PREFIX}/sessions/logout`,
  adminUsers: `${AUTH_API_PREFIX}/admin/users`,
  adminUser: (id: string) => `${AUTH_API_PREFIX}/admin/users/${encodeURIComponent(id)}`,
  adminUnlock: (id: string) => `${AUTH_API_PREFIX}/admin/users/${encodeURIComponent(id)}/unlock`,
  adminRole: (id: string) => `${AUTH_API_PREFIX}/admin/users/${encodeURIComponent(id)}/role`,
  adminAudit: `${AUTH_API_PREFIX}/admin/audit`,
  mePasskeys: `${AUTH_API_PREFIX}/me/passkeys`,
  mePasskeyOptions: `${AUTH_API_PREFIX}/me/passkeys/options`,
  mePasskey: (id: string) => `${AUTH_API_PREFIX}/me/passkeys/${encodeURIComponent(id)}`,
  adminDevices: `${AUTH_API_PREFIX}/admin/devices`,
  adminDevice: (id: string) => `${AUTH_API_PREFIX}/admin/devices/${encodeURIComponent(id)}`,
  jwks: '/.well-known/jwks.json',
  openapi: '/openapi.json',
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
} as const;
