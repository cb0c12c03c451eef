/**
 * Decodes an image into upright interleaved RGB with sharp (libvips). Runs inside the worker
 * threads so that decode cost and the decoded buffer (up to maxPixels x 3 bytes) are bounded by
 * the pool like inference is, and the RGB never has to cross a thread boundary.
 */
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { ErrorCode } from '@faceline/contracts';
import { VisionError } from '../errors.js';
import type { RgbImage } from '../pipeline/types.js';
import type { ImageMediaType } from './sniff.js';
import { jpegSize } from './jpeg-header.js';

export interface DecodeLimits {
  /** refuse images with more pixels than this (read from the header, before decoding) */
  maxPixels: number;
  /** downscale so that the longer side is at most this many pixels; 0 = never */
  maxSide: number;
}

export interface Decoded {
  /** what the pipeline sees, possibly downscaled */
  rgb: RgbImage;
  /** upright size of the source image: coordinates in answers refer to it */
  width: number;
  height: number;
  /** source pixels per analysed pixel along x and y (1 when not downscaled) */
  scaleX: number;
  scaleY: number;
}

/** Smallest image side vision analyses; the smallest face it reports is 16 px anyway. */
export const MIN_IMAGE_SIDE = 16;

const FORMAT: Record<ImageMediaType, string> = { 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/webp': 'webp' };

function fromSharpError(e: unknown): VisionError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(msg)) return new VisionError(ErrorCode.IMAGE_TOO_MANY_PIXELS, 'the image has too many pixels');
  // libvips messages name the codec and the defect ("VipsJpeg: premature end of JPEG image"); no pixel data
  return new VisionError(ErrorCode.IMAGE_CORRUPT, `the image could not be decoded: ${msg.split('\n')[0]?.slice(0, 200)}`, undefined, {
    cause: e,
  });
}

/** RGB out of a libvips pipeline: alpha flattened onto white, any colour space to sRGB. */
async function toRgb(pipeline: Sharp): Promise<{ data: Buffer; info: OutputInfo }> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw fromSharpError(e);
  }
  if (out.info.channels !== 3) {
    throw new VisionError(ErrorCode.IMAGE_CORRUPT, `the image decoded to ${out.info.channels} channels instead of 3`);
  }
  return out;
}

function decoded({ data, info }: { data: Buffer; info: OutputInfo }, width: number, height: number): Decoded {
  return {
    rgb: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height },
    width,
    height,
    scaleX: width / info.width,
    scaleY: height / info.height,
  };
}

export interface DecodeOptions {
  /** always read the header through libvips first (the code path before the JPEG shortcut; benchmarks compare both) */
  twoPass?: boolean;
}

export async function decodeImage(
  bytes: Uint8Array,
  mediaType: ImageMediaType,
  limits: DecodeLimits,
  options: DecodeOptions = {},
): Promise<Decoded> {
  // failOn 'error': truncated or corrupt data is refused instead of analysed half-grey
  const input = { failOn: 'error' as const, limitInputPixels: limits.maxPixels };
  // The common case, a camera frame: a JPEG whose frame header already shows that it needs no
  // downscaling and passes every size check, so one libvips pass decodes it. Orientation swaps
  // width and height but changes none of these checks.
  const frame = mediaType === 'image/jpeg' && !options.twoPass ? jpegSize(bytes) : undefined;
  if (
    frame &&
    frame.width * frame.height <= limits.maxPixels &&
    Math.min(frame.width, frame.height) >= MIN_IMAGE_SIDE &&
    (limits.maxSide <= 0 || Math.max(frame.width, frame.height) <= limits.maxSide)
  ) {
    const out = await toRgb(sharp(bytes, input).rotate());
    return decoded(out, out.info.width, out.info.height);
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ...input, limitInputPixels: false }).metadata();
  } catch (e) {
    throw fromSharpError(e);
  }
  if (meta.format !== FORMAT[mediaType]) {
    throw new VisionError(ErrorCode.IMAGE_CORRUPT, `the image header does not read as ${mediaType}`);
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new VisionError(ErrorCode.IMAGE_CORRUPT, 'the image header has no size');
  if (width * height > limits.maxPixels) {
    throw new VisionError(
      ErrorCode.IMAGE_TOO_MANY_PIXELS,
      `the image is ${width}x${height} = ${width * height} pixels; at most ${limits.maxPixels} are accepted`,
      { width, height, maxPixels: limits.maxPixels },
    );
  }
  if (Math.min(width, height) < MIN_IMAGE_SIDE) {
    throw new VisionError(
      ErrorCode.IMAGE_TOO_SMALL,
      `the image is ${width}x${height}; both sides must be at least ${MIN_IMAGE_SIDE} pixels`,
      { width, height },
    );
  }

  let pipeline = sharp(bytes, input).rotate();
  const longSide = Math.max(width, height);
  const shrink = limits.maxSide > 0 && longSide > limits.maxSide ? limits.maxSide / longSide : 1;
  // a sliver (say 20x40000) keeps its size: shrinking it would lose the short side entirely
  if (shrink < 1 && Math.min(width, height) * shrink >= MIN_IMAGE_SIDE) {
    pipeline = pipeline.resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true });
  }
  return decoded(await toRgb(pipeline), width, height);
}
