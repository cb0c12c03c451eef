import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FACE_TEXTURE_LAYOUT } from '@faceline/contracts';
import { faceTexture, TEXTURE_LANDMARKS, TEXTURE_MASK, TEXTURE_SIZE } from './face-texture.js';
import { TEMPLATE_FIRST, type Pt } from './align.js';

/** The bounding box of some landmarks in texture pixels, widened by a margin. */
function around(from: number, to: number, mx: number, my: number) {
  const pts = TEXTURE_LANDMARKS.slice(from - TEMPLATE_FIRST, to - TEMPLATE_FIRST);
  const x0 = Math.floor(Math.min(...pts.map((p) => p[0])) - mx),
    x1 = Math.ceil(Math.max(...pts.map((p) => p[0])) + mx);
  const y0 = Math.floor(Math.min(...pts.map((p) => p[1])) - my),
    y1 = Math.ceil(Math.max(...pts.map((p) => p[1])) + my);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

test('the texture layout in the contracts matches the mean face the texture is warped to', () => {
  assert.equal(FACE_TEXTURE_LAYOUT.size, TEXTURE_SIZE);
  assert.deepEqual(FACE_TEXTURE_LAYOUT.regions.rightEye, around(36, 42, 2, 3));
  assert.deepEqual(FACE_TEXTURE_LAYOUT.regions.leftEye, around(42, 48, 2, 3));
  assert.deepEqual(FACE_TEXTURE_LAYOUT.regions.nose, around(27, 36, 3, 1));
  assert.deepEqual(FACE_TEXTURE_LAYOUT.regions.mouth, around(48, 60, 1, 1));
});

/** A synthetic image whose grey level encodes position: g = (x + 2y) mod 256. */
function gradientImage(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.fill((x + 2 * y) % 256, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return rgb;
}

function landmarksOf(scale: number, dx: number, dy: number, bend = 0): Pt[] {
  const lm: Pt[] = Array.from({ length: 68 }, () => [0, 0] as const);
  TEXTURE_LANDMARKS.forEach((p, i) => {
    lm[i + TEMPLATE_FIRST] = [p[0] * scale + dx + bend * Math.sin(p[1] / 10), p[1] * scale + dy];
  });
  return lm;
}

test('the texture follows the landmarks: the same picture moved or bent gives the same texture', () => {
  const w = 400,
    h = 300;
  // a picture of "a face" drawn in texture coordinates, then placed twice at different places/scales
  const pattern = (u: number, v: number) => 40 + ((Math.floor(u / 4) + Math.floor(v / 4)) % 2) * 150;
  const draw = (lm: Pt[], scale: number, dx: number, dy: number, bend: number) => {
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = (y - dy) / scale;
        const u = (x - dx - bend * Math.sin(v / 10)) / scale;
        rgb.fill(pattern(u, v), (y * w + x) * 3, (y * w + x) * 3 + 3);
      }
    return faceTexture(rgb, w, h, lm);
  };
  const a = draw(landmarksOf(3, 50, 40), 3, 50, 40, 0);
  const b = draw(landmarksOf(4, 20, 10, 6), 4, 20, 10, 6);
  let diff = 0,
    n = 0;
  for (let i = 0; i < a.length; i++)
    if (TEXTURE_MASK[i]) {
      diff += Math.abs(a[i]! - b[i]!);
      n++;
    }
  assert.ok(n > 1500, 'most of the texture lies inside the face');
  assert.ok(diff / n < 25, `mean difference ${diff / n} grey levels`);
  // and a different picture at the same landmarks gives a different texture
  const c = faceTexture(gradientImage(w, h), w, h, landmarksOf(3, 50, 40));
  let diff2 = 0;
  for (let i = 0; i < a.length; i++) if (TEXTURE_MASK[i]) diff2 += Math.abs(a[i]! - c[i]!);
  assert.ok(diff2 / n > 40);
});

test('pixels outside the face are 0 and inside are sampled', () => {
  const w = 200,
    h = 200;
  const rgb = new Uint8Array(w * h * 3).fill(200);
  const t = faceTexture(rgb, w, h, landmarksOf(2.5, 10, 10));
  for (let i = 0; i < t.length; i++) assert.equal(t[i], TEXTURE_MASK[i] ? 200 : 0);
});
