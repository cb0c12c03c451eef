/**
 * Quality and liveness signals from the 68 landmarks and the aligned crop.
 *
 * Conventions (as in @faceline/contracts Quality), image coordinates with y pointing down:
 *  - roll: angle of the line from the image-left eye to the image-right eye; positive = the head
 *    is rotated clockwise in the image (the image-right eye is lower).
 *  - yaw: positive = the person turns to their own left, which moves the nose towards image right.
 *  - pitch: positive = looking up (the nose tip moves towards the eyes).
 * Both yaw and pitch are measured after removing roll, from where the nose tip sits between
 * fixed face points, through a simple rigid-head model (see docs/face-pipeline.md). They are
 * estimates good to a few degrees near frontal, not a full 3-D head pose; they respond clearly
 * and monotonically to turning and nodding, which is what liveness challenges need.
 */
import type { Pt } from './align.js';

const DEG = 180 / Math.PI;

function mean(points: readonly Pt[], from: number, to: number): [number, number] {
  let x = 0,
    y = 0;
  for (let i = from; i < to; i++) {
    x += points[i]![0];
    y += points[i]![1];
  }
  return [x / (to - from), y / (to - from)];
}

/**
 * How far the nose tip sits in front of the face's plane relative to the measured spans
 * (from dlib's mean face: nose protrusion ≈ 0.35 of the eye-to-mouth distance; side points
 * 0/16 sit about 75° round a head whose nose is at ~1.1 of its radius).
 */
const YAW_GAIN = 0.87;
const PITCH_GAIN = 0.35;
/**
 * Where the nose tip sits between the eye line (0) and the mouth centre (1) when pitch is 0.
 * dlib's mean face puts it at 0.51; this landmark net puts it at 0.55 (median over the 142
 * portraits and video frames of the face set), so 0.55 is "level" for the landmarks we get.
 */
export const NEUTRAL_NOSE_RATIO = 0.55;

export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

export function headPose(lm: readonly Pt[]): Pose {
  const rightEye = mean(lm, 36, 42); // the person's right eye, on the image left
  const leftEye = mean(lm, 42, 48);
  const roll = Math.atan2(leftEye[1] - rightEye[1], leftEye[0] - rightEye[0]);
  const c = Math.cos(-roll),
    s = Math.sin(-roll);
  // Undo the roll so that "horizontal" and "vertical" mean the face's own axes.
  const level = (p: Pt): [number, number] => [c * p[0] - s * p[1], s * p[0] + c * p[1]];
  const nose = level(lm[30]!);
  // Jaw points at eye level on both sides (average two per side for stability).
  const sideL = level(mean(lm, 0, 2));
  const sideR = level(mean(lm, 15, 17));
  const dl = nose[0] - sideL[0];
  const dr = sideR[0] - nose[0];
  const offset = dl + dr > 0 ? (dl - dr) / (dl + dr) : 0;
  const yaw = Math.atan(offset / YAW_GAIN) * DEG;

  const eyes = level([(rightEye[0] + leftEye[0]) / 2, (rightEye[1] + leftEye[1]) / 2]);
  const mouth = level(mean(lm, 48, 68));
  const span = mouth[1] - eyes[1];
  const ratio = span > 0 ? (nose[1] - eyes[1]) / span : NEUTRAL_NOSE_RATIO;
  const pitch = Math.atan((NEUTRAL_NOSE_RATIO - ratio) / PITCH_GAIN) * DEG;
  return { yaw, pitch, roll: roll * DEG };
}

/**
 * Eye aspect ratio (Soukupová & Čech 2016): (|p2−p6| + |p3−p5|) / (2·|p1−p4|) over the six eye points.
 * About 0.25–0.35 open, below ~0.18 closed.
 */
export function eyeAspectRatio(lm: readonly Pt[], first: number): number {
  const p = (i: number) => lm[first + i]!;
  const d = (a: Pt, b: Pt) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const width = d(p(0), p(3));
  return width > 0 ? (d(p(1), p(5)) + d(p(2), p(4))) / (2 * width) : 0;
}

export function eyeOpenness(lm: readonly Pt[]): { left: number; right: number } {
  // iBUG 68: 36..41 is the person's right eye, 42..47 their left.
  return { left: eyeAspectRatio(lm, 42), right: eyeAspectRatio(lm, 36) };
}

/**
 * Sharpness and brightness of an interleaved float RGB crop (0..255): variance of the 4-neighbour
 * Laplacian of the grey image, and mean luminance (ITU-R BT.601), both over pixels inside the
 * source image only (`valid`), so that black fill beyond the picture's edge does not count.
 */
export function cropStats(rgb: Float32Array, size: number, valid?: Uint8Array): { sharpness: number; brightness: number } {
  const grey = new Float32Array(size * size);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < size * size; i++) {
    const g = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
    grey[i] = g;
    if (!valid || valid[i]) {
      sum += g;
      n++;
    }
  }
  let ls = 0,
    ls2 = 0,
    m = 0;
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const i = y * size + x;
      if (valid && !(valid[i] && valid[i - 1] && valid[i + 1] && valid[i - size] && valid[i + size])) continue;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - size]! + grey[i + size]! - 4 * grey[i]!;
      ls += l;
      ls2 += l * l;
      m++;
    }
  }
  const sharpness = m > 0 ? ls2 / m - (ls / m) ** 2 : 0;
  return { sharpness, brightness: n > 0 ? sum / n : 0 };
}
