import type { AckError, FaceLocation } from '@faceline/contracts';

/**
 * Frame refusals that concern one frame only: the flow goes on with the next frame.
 * Anything else ends the attempt with a message.
 */
export const TRANSIENT_FRAME_CODES: ReadonlySet<string> = new Set([
  'RATE_LIMITED',
  'FRAME_REPLAYED',
  'FRAME_OUT_OF_ORDER',
  'OVERLOADED',
  'IMAGE_CORRUPT',
  'IMAGE_EMPTY',
]);

export function isTransientFrameError(error: AckError): boolean {
  return TRANSIENT_FRAME_CODES.has(error.code);
}

/** The face box of a frame result, when the server sent one with its frame size. */
export function faceOf(result: FaceLocation): FaceLocation | undefined {
  return result.box && result.frameSize ? { box: result.box, frameSize: result.frameSize } : undefined;
}
