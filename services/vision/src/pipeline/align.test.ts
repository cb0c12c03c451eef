import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applySimilarity,
  CHIP_SIZE,
  chipTemplate,
  chipTransform,
  faceApiAlignedRect,
  fitSimilarity,
  TEMPLATE_FIRST,
  type Pt,
} from './align.js';
import { syntheticFace } from './synthetic-face.js';

test('fitSimilarity recovers a known rotation, scale and shift', () => {
  const from: Pt[] = [
    [0, 0],
    [1, 0],
    [0, 2],
    [3, 1],
  ];
  const m: [number, number, number, number] = [2 * Math.cos(0.3), 2 * Math.sin(0.3), 5, -7];
  const to = from.map((p) => applySimilarity(m, p));
  const fit = fitSimilarity(from, to);
  for (const [i, v] of fit.entries()) assert.ok(Math.abs(v - m[i]!) < 1e-9, `${v} vs ${m[i]}`);
});

test('a rotated, scaled, shifted face comes back level and on the dlib template', () => {
  for (const angle of [-35, -10, 0, 20, 40]) {
    const face = syntheticFace(angle, 300, 400, 250);
    const { map, scale } = chipTransform(face);
    assert.ok(Math.abs(scale - CHIP_SIZE / 1.5 / 300) < 1e-9);
    // Map the source landmarks into the chip with the inverse of `map`.
    const det = map.a * map.e - map.b * map.d;
    const toChip = (p: Pt): [number, number] => {
      const x = p[0] - map.c,
        y = p[1] - map.f;
      return [(map.e * x - map.b * y) / det, (-map.d * x + map.a * y) / det];
    };
    const eye = (from: number) => {
      const pts = face.slice(from, from + 6).map(toChip);
      return [pts.reduce((s, p) => s + p[0], 0) / 6, pts.reduce((s, p) => s + p[1], 0) / 6];
    };
    const [l, r] = [eye(36), eye(42)];
    assert.ok(Math.abs(l[1]! - r[1]!) < 1e-6, `eyes not level at ${angle}°: ${l[1]} vs ${r[1]}`);
    const tpl = chipTemplate(CHIP_SIZE, 0.25);
    const nose = toChip(face[30]!);
    assert.ok(Math.hypot(nose[0] - tpl[30 - TEMPLATE_FIRST]![0], nose[1] - tpl[30 - TEMPLATE_FIRST]![1]) < 1e-6);
  }
});

test('faceApiAlignedRect reproduces face-api alignDlib: square from eye and mouth centres', () => {
  const face = syntheticFace(0, 200, 100, 50);
  const r = faceApiAlignedRect(face, 1000, 1000);
  assert.equal(r.width, r.height);
  const cx = (r.x + r.width / 2 - 100) / 200;
  assert.ok(Math.abs(cx - 0.49) < 0.02, `centre x ${cx}`);
  // capped by the crop size as face-api does
  assert.equal(faceApiAlignedRect(face, 10, 10).width, Math.min(r.width, 10 + r.x));
});
