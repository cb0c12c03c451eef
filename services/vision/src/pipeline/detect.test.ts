import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDetections, DETECTOR_ANCHORS, iou, nonMaxSuppression } from './detect.js';

test('iou of identical, disjoint and half-overlapping boxes', () => {
  const a = { x: 0, y: 0, width: 10, height: 10 };
  assert.equal(iou(a, a), 1);
  assert.equal(iou(a, { x: 20, y: 0, width: 10, height: 10 }), 0);
  assert.equal(iou(a, { x: 5, y: 0, width: 10, height: 10 }), 50 / 150);
});

test('nonMaxSuppression keeps the best of overlapping boxes and every disjoint one', () => {
  const boxes = [
    { x: 0, y: 0, width: 10, height: 10 },
    { x: 1, y: 0, width: 10, height: 10 },
    { x: 50, y: 50, width: 10, height: 10 },
    { x: 6, y: 0, width: 10, height: 10 },
  ];
  // box 3 overlaps box 1 by IoU 1/3: kept at threshold 0.4, suppressed at 0.3
  assert.deepEqual(nonMaxSuppression(boxes, [0.9, 0.95, 0.6, 0.7], 0.4), [1, 3, 2]);
  assert.deepEqual(nonMaxSuppression(boxes, [0.9, 0.95, 0.6, 0.7], 0.3), [1, 2]);
});

test('decodeDetections places a box from one grid cell, corrected for bottom/right padding', () => {
  const grid = 13;
  const plane = grid * grid;
  const out = new Float32Array(25 * plane).fill(-10); // every score sigmoid(-10) ≈ 0
  const row = 6,
    col = 4,
    anchor = 1;
  const base = anchor * 5 * plane + row * grid + col;
  out[base] = 0; // sigmoid 0.5: centre of the cell
  out[base + plane] = 0;
  out[base + 2 * plane] = 0; // exp(0) = 1: anchor size
  out[base + 3 * plane] = 0;
  out[base + 4 * plane] = 3; // score sigmoid(3) ≈ 0.953
  // 640x480 padded at the bottom to 640x640
  const dets = decodeDetections(out, grid, 416, 640, 480);
  assert.equal(dets.length, 1);
  const d = dets[0]!;
  assert.ok(Math.abs(d.score - 1 / (1 + Math.exp(-3))) < 1e-12);
  const [aw, ah] = DETECTOR_ANCHORS[anchor]!;
  const side = 640;
  assert.ok(Math.abs(d.box.x + d.box.width / 2 - ((col + 0.5) / grid) * side) < 1e-6);
  assert.ok(Math.abs(d.box.y + d.box.height / 2 - ((row + 0.5) / grid) * side) < 1e-6);
  assert.ok(Math.abs(d.box.width - (aw / grid) * side) < 1e-6);
  assert.ok(Math.abs(d.box.height - (ah / grid) * side) < 1e-6);
  assert.equal(decodeDetections(out, grid, 416, 640, 480, 0.96).length, 0);
});
