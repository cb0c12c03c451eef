/**
 * A landmark-normalised face texture: the inner face (brows, eyes, nose, mouth: landmarks
 * 17..67) warped piecewise-affinely onto dlib's mean face shape, as a small grey image. Two
 * frames of the same rigid picture give the same texture however the picture was moved,
 * stretched or bent in 2-D, because the warp follows the landmarks; a real head that turns or
 * closes its eyes changes it (shading, occlusion, the eyelid over the iris). Auth compares
 * these textures across the frames of a login.
 */
import Delaunator from 'delaunator';
import { MEAN_SHAPE_51, TEMPLATE_FIRST, type Pt } from './align.js';

export const TEXTURE_SIZE = 64;

interface Sample {
  /** pixel index in the texture */
  p: number;
  /** triangle corners (landmark indices) and barycentric weights */
  a: number;
  b: number;
  c: number;
  wa: number;
  wb: number;
  wc: number;
}

const PAD = 0.04;

function build(size: number) {
  const xs = MEAN_SHAPE_51.map((q) => q[0]),
    ys = MEAN_SHAPE_51.map((q) => q[1]);
  const x0 = Math.min(...xs) - PAD,
    x1 = Math.max(...xs) + PAD,
    y0 = Math.min(...ys) - PAD,
    y1 = Math.max(...ys) + PAD;
  const span = Math.max(x1 - x0, y1 - y0);
  const canon: Pt[] = MEAN_SHAPE_51.map((q) => [((q[0] - x0) / span) * size, ((q[1] - y0) / span) * size]);
  const tri = Delaunator.from(canon as [number, number][]).triangles;
  const samples: Sample[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5,
        py = y + 0.5;
      for (let t = 0; t < tri.length; t += 3) {
        const A = canon[tri[t]!]!,
          B = canon[tri[t + 1]!]!,
          C = canon[tri[t + 2]!]!;
        const det = (B[1] - C[1]) * (A[0] - C[0]) + (C[0] - B[0]) * (A[1] - C[1]);
        const wa = ((B[1] - C[1]) * (px - C[0]) + (C[0] - B[0]) * (py - C[1])) / det;
        const wb = ((C[1] - A[1]) * (px - C[0]) + (A[0] - C[0]) * (py - C[1])) / det;
        const wc = 1 - wa - wb;
        if (wa >= -1e-9 && wb >= -1e-9 && wc >= -1e-9) {
          samples.push({ p: y * size + x, a: tri[t]!, b: tri[t + 1]!, c: tri[t + 2]!, wa, wb, wc });
          break;
        }
      }
    }
  }
  const mask = new Uint8Array(size * size);
  for (const s of samples) mask[s.p] = 1;
  return { samples, mask, canon };
}

const MAP = build(TEXTURE_SIZE);
/** Which texture pixels lie inside the face (the rest stay 0). */
export const TEXTURE_MASK = MAP.mask;
/** Landmarks 17..67 in texture pixels. */
export const TEXTURE_LANDMARKS = MAP.canon;

/**
 * The texture of one face: grey levels 0..255 sampled bilinearly from interleaved RGB at the
 * positions the landmarks give (68 points, source pixels).
 */
export function faceTexture(rgb: Uint8Array, width: number, height: number, landmarks: readonly Pt[]): Uint8Array {
  const out = new Uint8Array(TEXTURE_SIZE * TEXTURE_SIZE);
  const L = (i: number) => landmarks[i + TEMPLATE_FIRST]!;
  for (const s of MAP.samples) {
    const A = L(s.a),
      B = L(s.b),
      C = L(s.c);
    const x = s.wa * A[0] + s.wb * B[0] + s.wc * C[0];
    const y = s.wa * A[1] + s.wb * B[1] + s.wc * C[1];
    // 0 marks "outside the face", so a black pixel inside becomes 1
    out[s.p] = Math.max(1, grey(rgb, width, height, x, y));
  }
  return out;
}

function grey(rgb: Uint8Array, w: number, h: number, x: number, y: number): number {
  const sx = Math.min(w - 1.001, Math.max(0, x - 0.5)),
    sy = Math.min(h - 1.001, Math.max(0, y - 0.5));
  const x0 = Math.floor(sx),
    y0 = Math.floor(sy),
    fx = sx - x0,
    fy = sy - y0;
  const g = (xx: number, yy: number) => {
    const i = (yy * w + xx) * 3;
    return 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
  };
  const v = (g(x0, y0) * (1 - fx) + g(x0 + 1, y0) * fx) * (1 - fy) + (g(x0, y0 + 1) * (1 - fx) + g(x0 + 1, y0 + 1) * fx) * fy;
  return Math.round(v);
}
