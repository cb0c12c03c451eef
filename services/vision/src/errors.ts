/**
 * Every error vision answers with: a stable code from the contracts and its HTTP status.
 * Workers send errors across the thread boundary as { code, message, details }, so the
 * status is derived from the code here rather than carried around.
 */
import { ErrorCode, RETRYABLE_CODES, type ErrorBody } from '@faceline/contracts';

/** HTTP status of each code vision uses. */
export const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.VALIDATION_FAILED]: 400,
  [ErrorCode.INVALID_OPTIONS]: 400,
  [ErrorCode.IMAGE_EMPTY]: 400,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.IMAGE_TOO_MANY_PIXELS]: 413,
  [ErrorCode.IMAGE_UNSUPPORTED_TYPE]: 415,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.IMAGE_CORRUPT]: 422,
  [ErrorCode.IMAGE_TOO_SMALL]: 422,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.OVERLOADED]: 503,
  [ErrorCode.NOT_READY]: 503,
};

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
    this.statusCode = STATUS_BY_CODE[code] ?? 500;
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        retryable: this.retryable,
        ...(this.details === undefined ? {} : { details: this.details }),
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

export const notReady = (why = 'the face models are still loading') =>
  new VisionError(ErrorCode.NOT_READY, `vision is not ready: ${why}`);
