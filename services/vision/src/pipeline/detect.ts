/**
 * Turning the tiny face detector's 13x13x5 grid into face boxes, exactly as face-api's
 * TinyYolov2Base.extractBoxes + nonMaxSuppression do.
 */
import type { Rgb3 } from './image.js';

/** Anchor sizes in grid cells (face-api tinyFaceDetector/const.ts). */
export const DETECTOR_ANCHORS: readonly (readonly [number, number])[] = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308],
];
export const DETECTOR_MEAN: Rgb3 = [117.001, 114.697, 97.404];
export const DETECTOR_IOU = 0.4;
export const DETECTOR_SCORE = 0.5;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Detection {
  box: Rect;
  score: number;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function iou(a: Rect, b: Rect): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Greedy non-maximum suppression; returns indices in descending score order. */
export function nonMaxSuppression(boxes: Rect[], scores: number[], iouThreshold: number): number[] {
  let order = scores
    .map((s, i) => ({ s, i }))
    .sort((p, q) => p.s - q.s)
    .map((p) => p.i);
  const pick: number[] = [];
  while (order.length > 0) {
    const cur = order.pop()!;
    pick.push(cur);
    order = order.filter((j) => iou(boxes[cur]!, boxes[j]!) <= iouThreshold);
  }
  return pick;
}

/**
 * Decodes the detector output (NCHW [1, 25, grid, grid]; channel = anchor * 5 + [x, y, w, h, score])
 * for an image of imgW x imgH that was padded bottom/right to a square before resizing.
 * Boxes come back in source pixels, highest score first.
 */
export function decodeDetections(
  out: Float32Array,
  grid: number,
  inputSize: number,
  imgW: number,
  imgH: number,
  scoreThreshold = DETECTOR_SCORE,
  iouThreshold = DETECTOR_IOU,
): Detection[] {
  // face-api corrects for the padding with the rounded size the picture had inside the square.
  const scale = inputSize / Math.max(imgW, imgH);
  const rw = Math.round(imgW * scale);
  const rh = Math.round(imgH * scale);
  const side = Math.max(rw, rh);
  const cfx = side / rw;
  const cfy = side / rh;
  const plane = grid * grid;
  const rel: Rect[] = [];
  const scores: number[] = [];
  for (let row = 0; row < grid; row++) {
    for (let col = 0; col < grid; col++) {
      for (let a = 0; a < DETECTOR_ANCHORS.length; a++) {
        const base = a * 5 * plane + row * grid + col;
        const score = sigmoid(out[base + 4 * plane]!);
        if (score <= scoreThreshold) continue;
        const [ax, ay] = DETECTOR_ANCHORS[a]!;
        const cx = ((col + sigmoid(out[base]!)) / grid) * cfx;
        const cy = ((row + sigmoid(out[base + plane]!)) / grid) * cfy;
        const w = ((Math.exp(out[base + 2 * plane]!) * ax) / grid) * cfx;
        const h = ((Math.exp(out[base + 3 * plane]!) * ay) / grid) * cfy;
        rel.push({ x: cx - w / 2, y: cy - h / 2, width: w, height: h });
        scores.push(score);
      }
    }
  }
  const keep = nonMaxSuppression(
    rel.map((r) => ({ x: r.x * inputSize, y: r.y * inputSize, width: r.width * inputSize, height: r.height * inputSize })),
    scores,
    iouThreshold,
  );
  return keep.map((i) => {
    const r = rel[i]!;
    return { box: { x: r.x * imgW, y: r.y * imgH, width: r.width * imgW, height: r.height * imgH }, score: scores[i]! };
  });
}
