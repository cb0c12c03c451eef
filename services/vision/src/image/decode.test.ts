import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ErrorCode } from '@faceline/contracts';
import { VisionError } from '../errors.js';
import { decodeImage } from './decode.js';
import { facesToSource, minFaceSizeForAnalysis } from './scale.js';

const limits = { maxPixels: 40_000_000, maxSide: 1920 };
const code = (c: string) => (e: unknown) => e instanceof VisionError && e.code === c;
const solid = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 200, g: 100, b: 50, alpha: 0.5 } } });

test('grey and RGBA images become 3-channel RGB', async () => {
  const greyPng = await solid(64, 32).toColourspace('b-w').png().toBuffer();
  assert.equal((await sharp(greyPng).metadata()).channels, 1);
  const grey = await decodeImage(greyPng, 'image/png', limits);
  assert.equal(grey.rgb.data.length, 64 * 32 * 3);
  const rgba = await decodeImage(await solid(64, 32, 4).png().toBuffer(), 'image/png', limits);
  assert.equal(rgba.rgb.data.length, 64 * 32 * 3);
  const webp = await decodeImage(await solid(40, 30).webp().toBuffer(), 'image/webp', limits);
  assert.equal(webp.rgb.data.length, 40 * 30 * 3);
});

test('large images are downscaled for analysis and report their scale', async () => {
  const jpg = await solid(4000, 2000).jpeg().toBuffer();
  const d = await decodeImage(jpg, 'image/jpeg', { maxPixels: 40_000_000, maxSide: 1000 });
  assert.deepEqual([d.width, d.height, d.rgb.width, d.rgb.height], [4000, 2000, 1000, 500]);
  assert.equal(d.scaleX, 4);
  const off = await decodeImage(jpg, 'image/jpeg', { maxPixels: 40_000_000, maxSide: 0 });
  assert.deepEqual([off.rgb.width, off.scaleX], [4000, 1]);
});

test('too many pixels, too small, truncated and mislabelled images are refused with their codes', async () => {
  const jpg = await solid(400, 300).jpeg().toBuffer();
  await assert.rejects(decodeImage(jpg, 'image/jpeg', { maxPixels: 100_000, maxSide: 0 }), code(ErrorCode.IMAGE_TOO_MANY_PIXELS));
  await assert.rejects(decodeImage(await solid(8, 300).png().toBuffer(), 'image/png', limits), code(ErrorCode.IMAGE_TOO_SMALL));
  await assert.rejects(decodeImage(jpg.subarray(0, jpg.length - 200), 'image/jpeg', limits), code(ErrorCode.IMAGE_CORRUPT));
  await assert.rejects(decodeImage(jpg, 'image/png', limits), code(ErrorCode.IMAGE_CORRUPT));
});

test('faces found on a downscaled copy are reported in source pixels', () => {
  const face = {
    box: { x: 10, y: 20, width: 30, height: 40 },
    score: 0.9,
    landmarks: Array.from({ length: 68 }, (_, i) => [i, 2 * i] as [number, number]),
    quality: { faceSizePx: 30, sharpness: 100, brightness: 120, yaw: 0, pitch: 0, roll: 0, eyeOpenness: { left: 0.3, right: 0.3 } },
  };
  const [f] = facesToSource([face], 2, 2);
  assert.deepEqual(f!.box, { x: 20, y: 40, width: 60, height: 80 });
  assert.deepEqual(f!.landmarks[5], [10, 20]);
  assert.equal(f!.quality.faceSizePx, 60);
  assert.equal(f!.quality.sharpness, 100);
  assert.equal(minFaceSizeForAnalysis(40, 2, 2), 20);
  assert.equal(facesToSource([face], 1, 1)[0], face);
});
