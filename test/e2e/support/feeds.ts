/**
 * Fake camera feeds for Chromium. An .mjpeg file is just JPEG images one after another;
 * Chromium plays it at 30 fps in a loop.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';

/** The JPEG images inside an MJPEG stream (SOI ... EOI). */
export function splitMjpeg(data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let start = -1;
  for (let i = 0; i < data.length - 1; i++) {
    if (data[i] !== 0xff) continue;
    const marker = data[i + 1];
    if (marker === 0xd8 && start < 0) start = i;
    else if (marker === 0xd9 && start >= 0) {
      frames.push(data.subarray(start, i + 2));
      start = -1;
      i++;
    }
  }
  return frames;
}

/**
 * A photo held up to a camera: one frame of `source` for `count` frames (30 per second),
 * each with its own faint sensor-like noise, so that no two frames are identical (identical
 * frames are refused as replays before liveness is judged). The pose and the eyes never
 * change, which is what the liveness challenge must catch.
 */
export async function writePhotoFeed(source: string, index: number, out: string, count = 360): Promise<void> {
  const frame = splitMjpeg(readFileSync(source))[index];
  if (!frame) throw new Error(`${source} has fewer than ${index + 1} frames`);
  const { data, info } = await sharp(frame).raw().toBuffer({ resolveWithObject: true });
  // One noise field, read at a different offset for each frame: cheap, and every frame differs.
  let seed = 12345;
  const noise = new Int8Array(data.length + count * 7);
  for (let k = 0; k < noise.length; k++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    noise[k] = Math.round((seed / 0x7fffffff - 0.5) * 6);
  }
  const frames: Buffer[] = [];
  const noisy = Buffer.alloc(data.length);
  for (let i = 0; i < count; i++) {
    const off = i * 7;
    for (let p = 0; p < data.length; p++) noisy[p] = Math.max(0, Math.min(255, (data[p] as number) + (noise[p + off] as number)));
    frames.push(
      await sharp(noisy, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  writeFileSync(out, Buffer.concat(frames));
}
