/**
 * The HTTP status of every error code, for every service. The map is complete, so a new code
 * does not compile until it has a status; a code that is not in it (a string from another
 * version of a service or a worker) answers 500. Codes that only travel in Socket.IO
 * acknowledgements (the face flows) keep 400, the status they would have on an HTTP route.
 */
import { ErrorCode } from './errors.js';

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.VALIDATION_FAILED]: 400,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.METHOD_NOT_ALLOWED]: 405,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.OVERLOADED]: 503,
  [ErrorCode.NOT_READY]: 503,

  [ErrorCode.IMAGE_EMPTY]: 400,
  [ErrorCode.IMAGE_UNSUPPORTED_TYPE]: 415,
  [ErrorCode.IMAGE_CORRUPT]: 422,
  [ErrorCode.IMAGE_TOO_MANY_PIXELS]: 413,
  [ErrorCode.IMAGE_TOO_SMALL]: 422,
  [ErrorCode.INVALID_OPTIONS]: 400,

  [ErrorCode.USERNAME_TAKEN]: 409,
  [ErrorCode.USER_NOT_FOUND]: 404,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.TOKEN_EXPIRED]: 401,
  [ErrorCode.TOKEN_INVALID]: 401,
  [ErrorCode.SESSION_REVOKED]: 401,
  [ErrorCode.ACCOUNT_LOCKED]: 423,
  [ErrorCode.BACKOFF]: 429,
  [ErrorCode.NOT_ENROLLED]: 409,

  [ErrorCode.NO_FACE]: 400,
  [ErrorCode.MULTIPLE_FACES]: 400,
  [ErrorCode.CAPTURES_DISAGREE]: 400,
  [ErrorCode.FACE_ALREADY_ENROLLED]: 409,
  [ErrorCode.FACE_MISMATCH]: 400,
  [ErrorCode.FACE_UNKNOWN]: 400,
  [ErrorCode.LIVENESS_FAILED]: 400,
  [ErrorCode.CHALLENGE_EXPIRED]: 400,
  [ErrorCode.FRAME_REPLAYED]: 400,
  [ErrorCode.FRAME_OUT_OF_ORDER]: 400,
  [ErrorCode.FLOW_NOT_STARTED]: 400,
  [ErrorCode.FLOW_ALREADY_RUNNING]: 400,
  [ErrorCode.RECOGNITION_UNAVAILABLE]: 503,
  [ErrorCode.DATABASE_UNAVAILABLE]: 503,

  [ErrorCode.OIDC_DISABLED]: 404,
  [ErrorCode.INTERACTION_NOT_FOUND]: 404,
  [ErrorCode.INTERACTION_MISMATCH]: 409,
  [ErrorCode.FRESH_LOGIN_REQUIRED]: 401,
  [ErrorCode.HUB_UNAVAILABLE]: 503,
  [ErrorCode.SITE_STALE]: 503,
  [ErrorCode.SETUP_TOKEN_INVALID]: 403,
  [ErrorCode.INVALID_CHARACTERS]: 400,
  [ErrorCode.STEP_UP_REQUIRED]: 403,
  [ErrorCode.REAUTH_REQUIRED]: 403,
};

/** The status a code answers with; 500 for anything that is not a known code. */
export function statusOfCode(code: string): number {
  return Object.hasOwn(STATUS_BY_CODE, code) ? STATUS_BY_CODE[code as ErrorCode] : 500;
}

/**
 * The `details` a client may see for an answer with this status: none on a 5xx, whose details
 * describe the server rather than the request.
 */
export function clientDetails<T>(status: number, details: T | undefined): T | undefined {
  return status >= 500 ? undefined : details;
}
