/**
 * Checks an uploaded body before it costs a worker anything: empty, unsupported or
 * mislabelled images are refused here from their first bytes.
 */
import { ErrorCode } from '@faceline/contracts';
import { VisionError } from '../errors.js';
import { essence, isImageMediaType, sniffImage, type ImageMediaType } from './sniff.js';

export const GENERIC_BINARY = 'application/octet-stream';

/**
 * Returns the image's media type as found in its bytes.
 * `declared` is the Content-Type of the body or of the multipart part.
 */
export function checkUpload(bytes: Uint8Array, declared: string | undefined): ImageMediaType {
  if (bytes.length === 0) throw new VisionError(ErrorCode.IMAGE_EMPTY, 'the image is empty (0 bytes)');
  const claimed = essence(declared);
  const sniffed = sniffImage(bytes);
  if (!sniffed.supported || !sniffed.mediaType || !isImageMediaType(sniffed.mediaType)) {
    throw new VisionError(
      ErrorCode.IMAGE_UNSUPPORTED_TYPE,
      sniffed.mediaType
        ? `${sniffed.mediaType} is not supported; send image/jpeg, image/png or image/webp`
        : 'the body is not a JPEG, PNG or WebP image',
      { declared: claimed ?? null, detected: sniffed.mediaType ?? null },
    );
  }
  // A label naming another supported image type is a common, harmless mistake (a PNG saved as
  // .jpg gets image/jpeg from the browser): the bytes decide. A label that is not an image at all
  // means the caller sent something else by mistake.
  if (claimed && claimed !== GENERIC_BINARY && !claimed.startsWith('image/')) {
    throw new VisionError(ErrorCode.IMAGE_UNSUPPORTED_TYPE, `the body is labelled ${claimed}; send image/jpeg, image/png or image/webp`, {
      declared: claimed,
      detected: sniffed.mediaType,
    });
  }
  return sniffed.mediaType;
}
