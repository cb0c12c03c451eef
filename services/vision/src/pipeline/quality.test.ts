import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticFace } from './synthetic-face.js';
import { cropStats, eyeAspectRatio, eyeOpenness, headPose } from './quality.js';
import type { Pt } from './align.js';

test('a frontal synthetic face has yaw, pitch and roll near zero', () => {
  const p = headPose(syntheticFace(0, 200, 50, 50));
  assert.ok(Math.abs(p.roll) < 1e-9);
  assert.ok(Math.abs(p.pitch) < 10, `pitch ${p.pitch}`);
  assert.ok(Math.abs(p.yaw) < 3, `yaw ${p.yaw}`);
});

test('roll is positive for a head rotated clockwise in the image and unaffected by scale', () => {
  // In image coordinates (y down) a positive angle turns +x towards +y: clockwise on screen.
  const p = headPose(syntheticFace(15, 120, 300, 300));
  assert.ok(Math.abs(p.roll - 15) < 1e-9, `roll ${p.roll}`);
  assert.ok(Math.abs(headPose(syntheticFace(-20, 400, 0, 0)).roll + 20) < 1e-9);
});

test('yaw is positive when the nose moves towards image right (the person turns to their left)', () => {
  const face = syntheticFace(0, 200, 0, 0);
  const shifted = face.map((p, i) => (i >= 27 && i <= 35 ? ([p[0] + 20, p[1]] as Pt) : p));
  assert.ok(headPose(shifted).yaw > 10);
  const other = face.map((p, i) => (i >= 27 && i <= 35 ? ([p[0] - 20, p[1]] as Pt) : p));
  assert.ok(headPose(other).yaw < -10);
  // with the head also rolled, the sign still holds
  const rolled = syntheticFace(25, 200, 0, 0);
  const a = (25 * Math.PI) / 180;
  const turned = rolled.map((p, i) => (i === 30 ? ([p[0] + 20 * Math.cos(a), p[1] + 20 * Math.sin(a)] as Pt) : p));
  assert.ok(headPose(turned).yaw > 5);
});

test('pitch is positive when the nose tip moves towards the eyes (looking up)', () => {
  const face = syntheticFace(0, 200, 0, 0);
  const up = face.map((p, i) => (i === 30 ? ([p[0], p[1] - 15] as Pt) : p));
  const down = face.map((p, i) => (i === 30 ? ([p[0], p[1] + 15] as Pt) : p));
  const level = headPose(face).pitch;
  assert.ok(headPose(up).pitch > level + 5);
  assert.ok(headPose(down).pitch < level - 5);
});

test("eye aspect ratio drops when the lids close; left means the person's left eye (42..47)", () => {
  const face = syntheticFace(0, 200, 0, 0);
  const open = eyeOpenness(face);
  assert.ok(open.left > 0.15 && open.right > 0.15);
  // close the person's left eye: lids (43, 44 and 46, 47) onto the eye's mid line
  const closed = face.map((p) => [p[0], p[1]] as Pt);
  const midY = (face[42]![1] + face[45]![1]) / 2;
  for (const i of [43, 44, 46, 47]) closed[i] = [face[i]![0], midY];
  assert.ok(eyeAspectRatio(closed, 42) < 0.05);
  assert.ok(open.left > 0.25, `open EAR ${open.left}`);
  assert.equal(eyeAspectRatio(closed, 36), open.right);
});

test('cropStats: a flat crop has zero sharpness, a checkerboard a high one; brightness is mean luminance', () => {
  const size = 8;
  const flat = new Float32Array(size * size * 3).fill(100);
  assert.deepEqual(cropStats(flat, size), { sharpness: 0, brightness: 100 });
  const board = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) board.fill(((i % size) + Math.floor(i / size)) % 2 ? 255 : 0, i * 3, i * 3 + 3);
  assert.ok(cropStats(board, size).sharpness > 10000);
  const valid = new Uint8Array(size * size).fill(0);
  valid[0] = 1;
  assert.equal(cropStats(board, size, valid).brightness, 0);
});
