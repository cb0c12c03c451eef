/**
 * Every error vision answers with: a stable code from the contracts and its HTTP status (the
 * status map of the contracts, shared with auth).
 * Workers send errors across the thread boundary as { code, message, details }, so the
 * status is derived from the code here rather than carried around.
 */
import { ErrorCode, RETRYABLE_CODES, clientDetails, statusOfCode, type ErrorBody } from '@faceline/contracts';

// one status map for every service
export { STATUS_BY_CODE } from '@faceline/contracts';

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class VisionError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VisionError';
    this.statusCode = statusOfCode(code);
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }

  /** What a client sees: 5xx answers carry no details (they stay in toJSON, for the logs). */
  toBody(): ErrorBody {
    const details = clientDetails(this.statusCode, this.details);
    return {
      error: {
        code: this.code,
        message: this.message,
        retryable: this.retryable,
        ...(details === undefined ? {} : { details }),
      },
    };
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }

  static from(e: SerializedError): VisionError {
    return new VisionError(e.code, e.message, e.details);
  }
}

export const overloaded = (queued: number) =>
  new VisionError(ErrorCode.OVERLOADED, 'all workers are busy and the queue is full; retry later or on another replica', {
    queued,
  });

export const notReady = (why = 'the face models are still loading') => new VisionError(ErrorCode.NOT_READY, `vision is not ready: ${why}`);
