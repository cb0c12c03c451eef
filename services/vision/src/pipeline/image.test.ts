import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxDownsample, clipRect, squarePadding, squareResizeNormalize, warpBilinear } from './image.js';

test('squarePadding: bottom/right for the detector, centred with the odd pixel after for crops', () => {
  assert.deepEqual(squarePadding(640, 480, false), { side: 640, offsetX: 0, offsetY: 0 });
  assert.deepEqual(squarePadding(10, 15, true), { side: 15, offsetX: 2, offsetY: 0 });
  assert.deepEqual(squarePadding(16, 10, true), { side: 16, offsetX: 0, offsetY: 3 });
});

test('squareResizeNormalize pads with zeros before subtracting the mean', () => {
  // 2x1 image, padded bottom to 2x2, no resize: the bottom row is (0 - mean) / 255.
  const img = { data: new Uint8Array([255, 0, 10, 20, 30, 40]), width: 2, height: 1 };
  const out = new Float32Array(3 * 4);
  squareResizeNormalize(img, { x: 0, y: 0, width: 2, height: 1 }, false, 2, [10, 20, 30], out);
  const r = Array.from(out.subarray(0, 4));
  assert.deepEqual(
    r.map((v) => Math.round(v * 255)),
    [245, 10, -10, -10],
  );
  const b = Array.from(out.subarray(8, 12));
  assert.deepEqual(
    b.map((v) => Math.round(v * 255)),
    [-20, 10, -30, -30],
  );
});

test('squareResizeNormalize follows TF legacy bilinear (source = dest * in/out, clamped)', () => {
  // 4x4 grey ramp in x, shrunk to 2x2: samples source columns 0 and 2 exactly.
  const data = new Uint8Array(4 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data.fill(x * 10, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
  const out = new Float32Array(12);
  squareResizeNormalize({ data, width: 4, height: 4 }, { x: 0, y: 0, width: 4, height: 4 }, false, 2, [0, 0, 0], out);
  assert.deepEqual(
    Array.from(out.subarray(0, 4)).map((v) => Math.round(v * 255)),
    [0, 20, 0, 20],
  );
  // Enlarged 4 → 8: column 7 maps to 3.5, whose right neighbour is clamped to column 3.
  const big = new Float32Array(3 * 64);
  squareResizeNormalize({ data, width: 4, height: 4 }, { x: 0, y: 0, width: 4, height: 4 }, false, 8, [0, 0, 0], big);
  assert.deepEqual(
    Array.from(big.subarray(0, 8)).map((v) => Math.round(v * 255)),
    [0, 5, 10, 15, 20, 25, 30, 30],
  );
});

test('clipRect clamps to the image and floors like face-api', () => {
  assert.deepEqual(clipRect({ x: -5.5, y: 3.7, width: 20, height: 100 }, 10, 50), { x: 0, y: 3, width: 10, height: 46 });
});

test('warpBilinear samples through the affine map and marks pixels outside the image', () => {
  const data = new Uint8Array(3 * 3 * 3);
  for (let i = 0; i < 9; i++) data.fill(i * 10, i * 3, i * 3 + 3);
  const out = new Float32Array(2 * 2 * 3);
  const valid = new Uint8Array(4);
  // shift by half a pixel right and one down
  warpBilinear({ data, width: 3, height: 3 }, { a: 1, b: 0, c: 0.5, d: 0, e: 1, f: 1 }, 2, out, valid);
  assert.deepEqual([out[0], out[3], out[6], out[9]], [35, 45, 65, 75]);
  assert.deepEqual(Array.from(valid), [1, 1, 1, 1]);
  warpBilinear({ data, width: 3, height: 3 }, { a: 1, b: 0, c: -5, d: 0, e: 1, f: 0 }, 2, out, valid);
  assert.deepEqual(Array.from(valid), [0, 0, 0, 0]);
  assert.equal(out[0], 0);
});

test('boxDownsample averages factor x factor blocks', () => {
  const data = new Uint8Array(4 * 2 * 3);
  for (const [i, v] of [0, 10, 20, 30, 40, 50, 60, 70].entries()) data.fill(v, i * 3, i * 3 + 3);
  const small = boxDownsample({ data, width: 4, height: 2 }, { x: 0, y: 0, width: 4, height: 2 }, 2);
  assert.equal(small.width, 2);
  assert.equal(small.height, 1);
  assert.deepEqual([small.data[0], small.data[3]], [25, 45]);
});
