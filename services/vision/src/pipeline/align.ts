/**
 * Face alignment. The recognition net is dlib's metric ResNet, trained on dlib "face chips":
 * 150x150 crops made by a similarity transform (rotation, uniform scale, translation) that maps
 * the 51 inner landmarks (17..67) onto dlib's mean face shape with 25% padding. Doing the same
 * here levels the eyes of tilted heads. faceApiAlignedRect() is face-api's simpler axis-aligned
 * crop, kept for parity with the reference implementation.
 */
import type { Affine } from './image.js';

export type Pt = readonly [number, number];

/** dlib's mean face shape for landmarks 17..67 (dlib/image_transforms/interpolation.h, get_face_chip_details). */
const MEAN_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127,
  0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428,
  0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127,
  0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689,
];
const MEAN_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805,
  0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733,
  0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
  0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];
/** dlib's mean face (landmarks 17..67) in its unit square. */
export const MEAN_SHAPE_51: readonly Pt[] = MEAN_X.map((x, i) => [x, MEAN_Y[i]!] as const);

/** First landmark index that MEAN_X/MEAN_Y describe. */
export const TEMPLATE_FIRST = 17;

/** Template positions (landmarks 17..67) in a chip of `size` pixels with dlib's padding convention. */
export function chipTemplate(size: number, padding: number): Pt[] {
  return MEAN_X.map((x, i) => [((x + padding) / (2 * padding + 1)) * size, ((MEAN_Y[i]! + padding) / (2 * padding + 1)) * size]);
}

/** Least-squares similarity q ≈ s·R·p + t, as [a, b, tx, ty] with x' = a·x − b·y + tx, y' = b·x + a·y + ty. */
export function fitSimilarity(from: readonly Pt[], to: readonly Pt[]): [number, number, number, number] {
  const n = from.length;
  if (n !== to.length || n < 2) throw new RangeError('fitSimilarity needs two equally long point lists (>= 2)');
  let fx = 0,
    fy = 0,
    tx = 0,
    ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i]![0];
    fy += from[i]![1];
    tx += to[i]![0];
    ty += to[i]![1];
  }
  fx /= n;
  fy /= n;
  tx /= n;
  ty /= n;
  let sxx = 0,
    sab = 0,
    sba = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i]![0] - fx,
      py = from[i]![1] - fy;
    const qx = to[i]![0] - tx,
      qy = to[i]![1] - ty;
    sxx += px * px + py * py;
    sab += px * qx + py * qy;
    sba += px * qy - py * qx;
  }
  if (sxx === 0) throw new RangeError('fitSimilarity: all source points coincide');
  const a = sab / sxx;
  const b = sba / sxx;
  return [a, b, tx - (a * fx - b * fy), ty - (b * fx + a * fy)];
}

export function applySimilarity(m: readonly [number, number, number, number], p: Pt): [number, number] {
  const [a, b, tx, ty] = m;
  return [a * p[0] - b * p[1] + tx, b * p[0] + a * p[1] + ty];
}

export const CHIP_SIZE = 150;
export const CHIP_PADDING = 0.25;

/**
 * The map from chip pixel (u, v) to source pixel for a dlib-style face chip of the 68 landmarks,
 * plus the chip's scale relative to the source (chip px per source px).
 */
export function chipTransform(landmarks: readonly Pt[], size = CHIP_SIZE, padding = CHIP_PADDING): { map: Affine; scale: number } {
  if (landmarks.length !== 68) throw new RangeError(`expected 68 landmarks, got ${landmarks.length}`);
  // Fit chip → source directly: that is the map the sampler needs.
  const [a, b, tx, ty] = fitSimilarity(chipTemplate(size, padding), landmarks.slice(TEMPLATE_FIRST));
  return { map: { a, b: -b, c: tx, d: b, e: a, f: ty }, scale: 1 / Math.hypot(a, b) };
}

function centre(points: readonly Pt[]): [number, number] {
  let x = 0,
    y = 0;
  for (const p of points) {
    x += p[0];
    y += p[1];
  }
  return [x / points.length, y / points.length];
}

/**
 * face-api's FaceLandmarks.alignDlib(): a square from the eye and mouth centres, in source pixels.
 * `cropW`/`cropH` are the size of the landmark crop (face-api caps the side with them).
 */
export function faceApiAlignedRect(
  landmarks: readonly Pt[],
  cropW: number,
  cropH: number,
): { x: number; y: number; width: number; height: number } {
  const le = centre(landmarks.slice(36, 42));
  const re = centre(landmarks.slice(42, 48));
  const mouth = centre(landmarks.slice(48, 68));
  const dist = (p: readonly number[]) => Math.hypot(mouth[0] - p[0]!, mouth[1] - p[1]!);
  const eyeToMouth = (dist(le) + dist(re)) / 2;
  const size = Math.floor(eyeToMouth / 0.45);
  const ref = centre([le, re, mouth]);
  const x = Math.floor(Math.max(0, ref[0] - 0.5 * size));
  const y = Math.floor(Math.max(0, ref[1] - 0.43 * size));
  return { x, y, width: Math.min(size, cropW + x), height: Math.min(size, cropH + y) };
}
