/**
 * Every error auth answers with: a stable code from the contracts, its HTTP status, and
 * an optional cause that is logged but never sent. 5xx answers never carry details.
 */
import { ErrorCode, RETRYABLE_CODES, clientDetails, statusOfCode, type AckError, type ErrorBody } from '@faceline/contracts';

// one status map for every service
export { STATUS_BY_CODE } from '@faceline/contracts';

export class AuthError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
    this.statusCode = statusOfCode(code);
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }

  toAck(): AckError {
    const details = clientDetails(this.statusCode, this.details);
    return {
      code: this.code,
      message: this.message,
      ...(this.retryable ? { retryable: true } : {}),
      ...(details ? { details } : {}),
    };
  }

  toBody(): ErrorBody {
    return { error: this.toAck() };
  }
}

export const internalAck = (): AckError => ({ code: ErrorCode.INTERNAL, message: 'internal error' });

/** Seconds a client is asked to wait after a 503 (Retry-After). */
export const RETRY_AFTER_SECONDS = 2;

/** An uplink that is down usually stays down for more than a moment. */
const RETRY_AFTER_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.HUB_UNAVAILABLE]: 10,
  [ErrorCode.SITE_STALE]: 30,
};

export function retryAfterSeconds(code: ErrorCode): number {
  return RETRY_AFTER_BY_CODE[code] ?? RETRY_AFTER_SECONDS;
}

// node errors of a connection that cannot be made or was lost, and PostgreSQL's SQLSTATEs for
// "connection exception" (08…), shutdown/starting up (57P01-57P03) and too many connections
const DB_DOWN_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|08\d{3}|08P01|57P0[123]|53300)$/;
const DB_DOWN_MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|Connection terminated due to connection timeout/;

/** True when the error means the database cannot be reached now (as opposed to a bad query). */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && DB_DOWN_CODES.test(e.code)) return true;
  if (typeof e.message === 'string' && DB_DOWN_MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

export const databaseUnavailableAck = (): AckError => ({
  code: ErrorCode.DATABASE_UNAVAILABLE,
  message: 'the database is unavailable; try again shortly',
  retryable: true,
});

/**
 * Any thrown value as what a client may see: AuthErrors as they are, a database that cannot be
 * reached as DATABASE_UNAVAILABLE (retryable), everything else as INTERNAL.
 */
export function toAckError(err: unknown): AckError {
  if (err instanceof AuthError) return err.toAck();
  return isDatabaseUnavailable(err) ? databaseUnavailableAck() : internalAck();
}
