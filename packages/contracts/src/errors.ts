/**
 * Stable error codes shared by every Faceline service and the browser.
 * A code never changes meaning once released; add new ones instead.
 */
import { Type, type Static } from '@sinclair/typebox';

export const ErrorCode = {
  // generic request problems
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL: 'INTERNAL',
  OVERLOADED: 'OVERLOADED',
  NOT_READY: 'NOT_READY',

  // images (vision)
  IMAGE_EMPTY: 'IMAGE_EMPTY',
  IMAGE_UNSUPPORTED_TYPE: 'IMAGE_UNSUPPORTED_TYPE',
  IMAGE_CORRUPT: 'IMAGE_CORRUPT',
  IMAGE_TOO_MANY_PIXELS: 'IMAGE_TOO_MANY_PIXELS',
  IMAGE_TOO_SMALL: 'IMAGE_TOO_SMALL',
  INVALID_OPTIONS: 'INVALID_OPTIONS',

  // accounts and sessions (auth)
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_INVALID: 'TOKEN_INVALID',
  SESSION_REVOKED: 'SESSION_REVOKED',
  ACCOUNT_LOCKED: 'ACCOUNT_LOCKED',
  BACKOFF: 'BACKOFF',
  NOT_ENROLLED: 'NOT_ENROLLED',

  // face flows (auth)
  NO_FACE: 'NO_FACE',
  MULTIPLE_FACES: 'MULTIPLE_FACES',
  CAPTURES_DISAGREE: 'CAPTURES_DISAGREE',
  FACE_ALREADY_ENROLLED: 'FACE_ALREADY_ENROLLED',
  FACE_MISMATCH: 'FACE_MISMATCH',
  FACE_UNKNOWN: 'FACE_UNKNOWN',
  LIVENESS_FAILED: 'LIVENESS_FAILED',
  CHALLENGE_EXPIRED: 'CHALLENGE_EXPIRED',
  FRAME_REPLAYED: 'FRAME_REPLAYED',
  FRAME_OUT_OF_ORDER: 'FRAME_OUT_OF_ORDER',
  FLOW_NOT_STARTED: 'FLOW_NOT_STARTED',
  FLOW_ALREADY_RUNNING: 'FLOW_ALREADY_RUNNING',
  RECOGNITION_UNAVAILABLE: 'RECOGNITION_UNAVAILABLE',
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',

  // OpenID Connect interactions (auth); the protocol endpoints answer with OAuth's own errors
  OIDC_DISABLED: 'OIDC_DISABLED',
  INTERACTION_NOT_FOUND: 'INTERACTION_NOT_FOUND',
  INTERACTION_MISMATCH: 'INTERACTION_MISMATCH',
  FRESH_LOGIN_REQUIRED: 'FRESH_LOGIN_REQUIRED',
  // hub and sites (auth)
  /** a site cannot reach the hub for an operation only the hub may do (enrollment, deletion, roles, keys) */
  HUB_UNAVAILABLE: 'HUB_UNAVAILABLE',
  /** a site's copy of the identities is older than its staleness limit: no logins until it catches up */
  SITE_STALE: 'SITE_STALE',
  // first administrator: the one-time setup link is spent, expired, or an administrator exists
  SETUP_TOKEN_INVALID: 'SETUP_TOKEN_INVALID',
  // text with control, invisible, direction-changing characters or broken UTF-16 (lone surrogates)
  INVALID_CHARACTERS: 'INVALID_CHARACTERS',
  /** administration needs a login at a trusted device or a passkey (details.webauthn: options when the account has one) */
  STEP_UP_REQUIRED: 'STEP_UP_REQUIRED',
  /** this change needs a fresh face login with liveness (details.maxAgeSeconds) */
  REAUTH_REQUIRED: 'REAUTH_REQUIRED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The body of every non-2xx HTTP answer from every service. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable machine-readable code, see ErrorCode' }),
      message: Type.String({ description: 'human-readable, English; never contains secrets or biometric data' }),
      retryable: Type.Optional(Type.Boolean()),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Errors that a caller may retry (on another replica, or later). */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.OVERLOADED,
  ErrorCode.NOT_READY,
  ErrorCode.RECOGNITION_UNAVAILABLE,
  ErrorCode.DATABASE_UNAVAILABLE,
  ErrorCode.HUB_UNAVAILABLE,
  ErrorCode.SITE_STALE,
  ErrorCode.RATE_LIMITED,
  ErrorCode.BACKOFF,
  // the other flow ends, or its lease lapses within seconds when its replica died
  ErrorCode.FLOW_ALREADY_RUNNING,
]);
