/**
 * The WebAssembly kernels against the TypeScript functions they replace: bit for bit the same
 * tensors, chips and quality figures, on synthetic pictures with every kind of edge (padding on
 * each side, the grey canvas, crops at the borders, chips hanging over the picture's edge).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeToChw, squareResizeNormalize, warpBilinear, type Affine, type IntRect } from './image.js';
import { cropStats } from './quality.js';
import { SquareResizer } from './resize-kernel.js';
import { ChipSampler } from './chip-kernel.js';
import { jpegSize } from '../image/jpeg-header.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}
const picture = (r: () => number, width: number, height: number) => ({
  data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(r() * 256)),
  width,
  height,
});
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return null;
};

test('SquareResizer gives the same tensor as squareResizeNormalize, bit for bit', () => {
  const r = rng(1);
  const mean = [117.001, 114.697, 97.404] as const;
  for (const size of [416, 112, 150]) {
    const resizer = new SquareResizer(size);
    const expected = new Float32Array(3 * size * size);
    for (let k = 0; k < 12; k++) {
      const w = 20 + Math.floor(r() * 700);
      const h = 20 + Math.floor(r() * 500);
      const img = picture(r, w, h);
      const x = Math.floor(r() * (w - 10));
      const y = Math.floor(r() * (h - 10));
      const rect: IntRect =
        k % 3 === 0
          ? { x: 0, y: 0, width: w, height: h }
          : { x, y, width: 1 + Math.floor(r() * (w - x - 1)), height: 1 + Math.floor(r() * (h - y - 1)) };
      const centred = k % 2 === 1;
      const side = Math.max(rect.width, rect.height) * 2;
      const canvas =
        k % 4 === 2
          ? { side, offsetX: Math.round((side - rect.width) / 2), offsetY: Math.round((side - rect.height) / 2), fill: 128 }
          : undefined;
      squareResizeNormalize(img, rect, centred, size, mean, expected, canvas);
      const got = resizer.run(img, rect, centred, mean, canvas);
      assert.equal(
        firstDifference(got, expected),
        null,
        `size ${size}, ${w}x${h}, rect ${JSON.stringify(rect)}, centred ${centred}, canvas ${!!canvas}`,
      );
    }
  }
  assert.throws(() => new SquareResizer(113), RangeError);
});

test('ChipSampler gives the same chip, tensor, mask, sharpness and brightness as the TypeScript path', () => {
  const r = rng(2);
  const mean = [122.782, 117.001, 104.298] as const;
  const sampler = new ChipSampler(150);
  const rgb = new Float32Array(3 * 150 * 150);
  const valid = new Uint8Array(150 * 150);
  const chw = new Float32Array(3 * 150 * 150);
  for (let k = 0; k < 16; k++) {
    const img = picture(r, 100 + Math.floor(r() * 400), 100 + Math.floor(r() * 300));
    const angle = (r() - 0.5) * 1.2;
    const scale = 0.3 + r() * 1.5;
    // the chip's corner anywhere from well outside the picture to inside it
    const map: Affine = {
      a: scale * Math.cos(angle),
      b: -scale * Math.sin(angle),
      c: (r() - 0.3) * img.width,
      d: scale * Math.sin(angle),
      e: scale * Math.cos(angle),
      f: (r() - 0.3) * img.height,
    };
    warpBilinear(img, map, 150, rgb, valid);
    normalizeToChw(rgb, 150, mean, chw);
    const stats = cropStats(rgb, 150, valid);
    const chip = sampler.sample(img, map, mean);
    const where = `case ${k}: ${img.width}x${img.height}, map ${JSON.stringify(map)}`;
    assert.equal(firstDifference(chip.rgb, rgb), null, `chip, ${where}`);
    assert.equal(firstDifference(chip.valid, valid), null, `mask, ${where}`);
    assert.equal(firstDifference(chip.tensor, chw), null, `tensor, ${where}`);
    assert.ok(Object.is(chip.sharpness, stats.sharpness) && Object.is(chip.brightness, stats.brightness), `quality, ${where}`);
  }
  assert.throws(() => sampler.sample(picture(r, 20, 20), { a: NaN, b: 0, c: 0, d: 0, e: 1, f: 0 }, mean), RangeError);
});

test('jpegSize reads the frame header and gives up on anything else', () => {
  // SOI, APP0 (length 16), SOF0 (height 480, width 640), SOS
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...Array.from({ length: 14 }, () => 0)];
  const sof0 = [0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03, ...Array.from({ length: 9 }, () => 1)];
  const jpeg = Uint8Array.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xda, 0x00, 0x02]);
  assert.deepEqual(jpegSize(jpeg), { width: 640, height: 480 });
  // a DHT table (0xC4) is not a frame header; a progressive SOF2 is
  const dht = [0xff, 0xc4, 0x00, 0x04, 0x00, 0x00];
  const sof2 = [...sof0];
  sof2[1] = 0xc2;
  assert.deepEqual(jpegSize(Uint8Array.from([0xff, 0xd8, ...dht, ...sof2])), { width: 640, height: 480 });
  assert.equal(jpegSize(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2])), undefined);
  assert.equal(jpegSize(Uint8Array.from([0x89, 0x50, 0x4e, 0x47])), undefined);
  assert.equal(jpegSize(jpeg.subarray(0, 24)), undefined);
});

test('faceRegion copies the face at full resolution with the landmarks in its coordinates', async () => {
  const { faceRegion } = await import('./onnx-pipeline.js');
  const r = rng(3);
  const img = picture(r, 200, 100);
  const lm = Array.from({ length: 68 }, (_, i) => [60 + (i % 10) * 4, 30 + Math.floor(i / 10) * 5] as [number, number]);
  const { region, origin, landmarks } = faceRegion(img, lm, 0.25);
  // landmarks span x 60..96, y 30..60: 25% more on each side, clipped to the picture
  assert.deepEqual(origin, { x: 51, y: 22 });
  assert.deepEqual([region.width, region.height], [55, 47]);
  assert.deepEqual(landmarks[0], [9, 8]);
  // the same pixel, seen from the region and from the picture
  const [lx, ly] = landmarks[37]!;
  const inRegion = region.data.subarray((ly * region.width + lx) * 3, (ly * region.width + lx) * 3 + 3);
  const [px, py] = lm[37]!;
  assert.deepEqual(Array.from(inRegion), Array.from(img.data.subarray((py * img.width + px) * 3, (py * img.width + px) * 3 + 3)));
  // at the picture's edge the region is clipped
  assert.equal(
    faceRegion(
      img,
      lm.map(([x, y]) => [x + 100, y] as [number, number]),
      0.25,
    ).region.width,
    200 - 151,
  );
});
