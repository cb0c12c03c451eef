/**
 * Image warps an attacker applies to one photo of the victim to fake the motions a liveness
 * challenge asks for, without a live person: anisotropic stretches and planar rotations that
 * imitate a head turn, landmark-driven thin-plate-spline warps that move every landmark where a
 * rotated 3-D face would put it, a squashed eye band that imitates a blink, mirroring and sensor
 * noise. Pure TypeScript on interleaved 8-bit RGB, so the harness needs nothing but npm packages.
 */
export interface Rgb {
  data: Uint8Array;
  width: number;
  height: number;
}

export type Pt = readonly [number, number];

/** Output pixel (x, y) takes the source colour at inverse(x, y), bilinearly; outside → edge colour. */
export function remap(src: Rgb, inverse: (x: number, y: number) => Pt): Rgb {
  const { width: w, height: h, data } = src;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sx0, sy0] = inverse(x, y);
      const sx = Math.min(w - 1.001, Math.max(0, sx0));
      const sy = Math.min(h - 1.001, Math.max(0, sy0));
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy);
      const fx = sx - x0,
        fy = sy - y0;
      const i00 = (y0 * w + x0) * 3,
        i10 = i00 + 3,
        i01 = i00 + w * 3,
        i11 = i01 + 3;
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = (data[i00 + c]! * (1 - fx) + data[i10 + c]! * fx) * (1 - fy) + (data[i01 + c]! * (1 - fx) + data[i11 + c]! * fx) * fy;
        out[o + c] = Math.round(v);
      }
    }
  }
  return { data: out, width: w, height: h };
}

function meanOf(lm: readonly Pt[], from: number, to: number): [number, number] {
  let x = 0,
    y = 0;
  for (let i = from; i < to; i++) {
    x += lm[i]![0];
    y += lm[i]![1];
  }
  return [x / (to - from), y / (to - from)];
}

/** Face frame from the landmarks: centre, inter-ocular distance, roll angle. */
export function faceFrame(lm: readonly Pt[]) {
  const re = meanOf(lm, 36, 42),
    le = meanOf(lm, 42, 48);
  const iod = Math.hypot(le[0] - re[0], le[1] - re[1]);
  const roll = Math.atan2(le[1] - re[1], le[0] - re[0]);
  const xs = lm.map((p) => p[0]),
    ys = lm.map((p) => p[1]);
  const box = { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
  return { eyes: [re, le] as const, iod, roll, nose: lm[30]!, box };
}

function smoothstep(t: number): number {
  const u = Math.min(1, Math.max(0, t));
  return u * u * (3 - 2 * u);
}

/**
 * "Stretch one side, squeeze the other": horizontal piecewise-linear remap around the nose tip,
 * the image-left half scaled by (1 + a) and the right half by (1 − a) (negative a the other way),
 * faded out smoothly outside the face so the background does not tear.
 */
export function stretchTurn(src: Rgb, lm: readonly Pt[], a: number): Rgb {
  const f = faceFrame(lm);
  const cx = f.nose[0];
  const halfW = (f.box.x1 - f.box.x0) * 0.75;
  const cy = (f.box.y0 + f.box.y1) / 2;
  const halfH = (f.box.y1 - f.box.y0) * 0.9;
  return remap(src, (x, y) => {
    const dx = x - cx;
    const scale = dx < 0 ? 1 + a : 1 - a;
    const sx = cx + dx / scale;
    const wx = 1 - smoothstep((Math.abs(dx) - halfW) / (halfW * 0.5));
    const wy = 1 - smoothstep((Math.abs(y - cy) - halfH) / (halfH * 0.4));
    const w = wx * wy;
    return [x + (sx - x) * w, y];
  });
}

/**
 * The photo as a flat print rotated about the vertical axis through the face centre by `yawDeg`
 * in front of a pinhole camera (focal length in pixels): a homography.
 */
export function planarTurn(src: Rgb, lm: readonly Pt[], yawDeg: number, focal = 800): Rgb {
  const f = faceFrame(lm);
  const cx = (f.box.x0 + f.box.x1) / 2,
    cy = (f.box.y0 + f.box.y1) / 2;
  const t = (yawDeg * Math.PI) / 180;
  const c = Math.cos(t),
    s = Math.sin(t);
  // plane point (u, v, 0) → camera (c·u, v, s·u + focal) → image (focal·c·u / (s·u + focal), focal·v / (…))
  return remap(src, (x, y) => {
    const X = x - cx,
      Y = y - cy;
    // invert: X = focal·c·u / (s·u + focal) → u = X·focal / (focal·c − X·s)
    const den = focal * c - X * s;
    const u = (X * focal) / den;
    const v = (Y * (s * u + focal)) / focal;
    return [cx + u, cy + v];
  });
}

/**
 * Depth of each iBUG-68 landmark in front of the plane of the eye corners, in inter-ocular
 * distances: an attacker's generic face model (nose forward, jaw line round the back).
 */
export const ATTACKER_DEPTH: number[] = (() => {
  const z = new Array<number>(68).fill(0);
  for (let i = 0; i <= 16; i++) {
    const t = Math.abs(i - 8) / 8; // 0 at the chin, 1 at the ears
    z[i] = 0.15 - 0.85 * t * t;
  }
  for (let i = 17; i <= 26; i++) z[i] = 0.05 + 0.15 * (1 - Math.abs(i - 21.5) / 4.5);
  for (const [k, v] of [0.25, 0.33, 0.42, 0.5].entries()) z[27 + k] = v;
  for (const [k, v] of [0.22, 0.27, 0.32, 0.27, 0.22].entries()) z[31 + k] = v;
  for (const [k, v] of [-0.05, 0.05, 0.05, 0.08, 0.05, 0.05].entries()) z[36 + k] = v;
  for (const [k, v] of [0.08, 0.05, 0.05, -0.05, 0.05, 0.05].entries()) z[42 + k] = v;
  for (let i = 48; i < 68; i++) z[i] = 0.18 - 0.02 * Math.abs(((i < 60 ? i - 48 : i - 60) % 12) - 3);
  return z;
})();

/** Solve A x = b (Gaussian elimination with partial pivoting), A n×n row-major. */
function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A),
    x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(M[i * n + k]!) > Math.abs(M[p * n + k]!)) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) [M[k * n + j], M[p * n + j]] = [M[p * n + j]!, M[k * n + j]!];
      [x[k], x[p]] = [x[p]!, x[k]!];
    }
    const d = M[k * n + k]!;
    if (Math.abs(d) < 1e-12) continue;
    for (let i = k + 1; i < n; i++) {
      const f = M[i * n + k]! / d;
      if (f === 0) continue;
      for (let j = k; j < n; j++) M[i * n + j]! -= f * M[k * n + j]!;
      x[i]! -= f * x[k]!;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    let s = x[k]!;
    for (let j = k + 1; j < n; j++) s -= M[k * n + j]! * x[j]!;
    const d = M[k * n + k]!;
    x[k] = Math.abs(d) < 1e-12 ? 0 : s / d;
  }
  return x;
}

/** A thin-plate spline through (from[i] → to[i]); returns the mapping. */
export function thinPlate(from: readonly Pt[], to: readonly Pt[]): (x: number, y: number) => Pt {
  const n = from.length,
    N = n + 3;
  const U = (r2: number) => (r2 <= 1e-12 ? 0 : r2 * Math.log(r2));
  const A = new Float64Array(N * N);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dx = from[i]![0] - from[j]![0],
        dy = from[i]![1] - from[j]![1];
      A[i * N + j] = U(dx * dx + dy * dy);
    }
    A[i * N + n] = 1;
    A[i * N + n + 1] = from[i]![0];
    A[i * N + n + 2] = from[i]![1];
    A[n * N + i] = 1;
    A[(n + 1) * N + i] = from[i]![0];
    A[(n + 2) * N + i] = from[i]![1];
  }
  const bx = new Float64Array(N),
    by = new Float64Array(N);
  for (let i = 0; i < n; i++) {
    bx[i] = to[i]![0];
    by[i] = to[i]![1];
  }
  const wx = solve(A, bx, N),
    wy = solve(A, by, N);
  return (x, y) => {
    let sx = wx[n]! + wx[n + 1]! * x + wx[n + 2]! * y;
    let sy = wy[n]! + wy[n + 1]! * x + wy[n + 2]! * y;
    for (let i = 0; i < n; i++) {
      const dx = x - from[i]![0],
        dy = y - from[i]![1];
      const u = U(dx * dx + dy * dy);
      sx += wx[i]! * u;
      sy += wy[i]! * u;
    }
    return [sx, sy];
  };
}

/**
 * Where the landmarks of the photo would be if the head turned by yawDeg (and nodded by
 * pitchDeg), according to a depth model: the strongest 2-D warp, since it moves every landmark
 * as a rotated 3-D face would.
 */
export function rotatedLandmarks(lm: readonly Pt[], yawDeg: number, pitchDeg = 0, depth = ATTACKER_DEPTH): Pt[] {
  const f = faceFrame(lm);
  const c = Math.cos(f.roll),
    s = Math.sin(f.roll);
  const o = [(f.eyes[0][0] + f.eyes[1][0]) / 2, (f.eyes[0][1] + f.eyes[1][1]) / 2];
  const ty = (yawDeg * Math.PI) / 180,
    tp = (pitchDeg * Math.PI) / 180;
  return lm.map((p, i) => {
    // into the face's own axes (roll removed), in IOD units
    const X = (c * (p[0] - o[0]!) + s * (p[1] - o[1]!)) / f.iod;
    const Y = (-s * (p[0] - o[0]!) + c * (p[1] - o[1]!)) / f.iod;
    const Z = depth[i]!;
    // yaw: positive = the person turns to their own left = nose moves to image right
    const X1 = X * Math.cos(ty) + Z * Math.sin(ty);
    const Z1 = -X * Math.sin(ty) + Z * Math.cos(ty);
    const Y1 = Y * Math.cos(tp) - Z1 * Math.sin(tp);
    const bx = X1 * f.iod,
      by = Y1 * f.iod;
    return [o[0]! + c * bx - s * by, o[1]! + s * bx + c * by] as const;
  });
}

/** Border anchors that keep the background still while the face moves. */
function anchors(w: number, h: number, lm: readonly Pt[]): Pt[] {
  const f = faceFrame(lm);
  const out: Pt[] = [];
  const k = 4;
  for (let i = 0; i <= k; i++) {
    out.push([(i / k) * (w - 1), 0], [(i / k) * (w - 1), h - 1]);
    if (i > 0 && i < k) out.push([0, (i / k) * (h - 1)], [w - 1, (i / k) * (h - 1)]);
  }
  // a ring round the head, so the warp stays on the face
  const cx = (f.box.x0 + f.box.x1) / 2,
    cy = (f.box.y0 + f.box.y1) / 2 - f.iod * 0.3;
  const rx = (f.box.x1 - f.box.x0) * 0.85,
    ry = (f.box.y1 - f.box.y0) * 1.0;
  for (let a = 0; a < 12; a++) out.push([cx + rx * Math.cos((a * Math.PI) / 6), cy + ry * Math.sin((a * Math.PI) / 6)]);
  return out.filter((p) => p[0] >= -w && p[0] <= 2 * w);
}

/**
 * A smooth mapping evaluated on a coarse grid and interpolated in between: a thin-plate spline
 * with ~90 control points costs too much to evaluate at every pixel, and is smooth enough that
 * the difference does not show.
 */
export function gridMap(f: (x: number, y: number) => Pt, w: number, h: number, step = 8): (x: number, y: number) => Pt {
  const gw = Math.ceil(w / step) + 1,
    gh = Math.ceil(h / step) + 1;
  const gx = new Float64Array(gw * gh),
    gy = new Float64Array(gw * gh);
  for (let j = 0; j < gh; j++)
    for (let i = 0; i < gw; i++) {
      const [a, b] = f(i * step, j * step);
      gx[j * gw + i] = a;
      gy[j * gw + i] = b;
    }
  return (x, y) => {
    const u = x / step,
      v = y / step;
    const i = Math.min(gw - 2, Math.floor(u)),
      j = Math.min(gh - 2, Math.floor(v));
    const fu = u - i,
      fv = v - j;
    const k = j * gw + i;
    const lerp = (g: Float64Array) => (g[k]! * (1 - fu) + g[k + 1]! * fu) * (1 - fv) + (g[k + gw]! * (1 - fu) + g[k + gw + 1]! * fu) * fv;
    return [lerp(gx), lerp(gy)];
  };
}

/** Warp the photo so that its landmarks land on `target` (thin-plate spline, background fixed). */
export function landmarkWarp(src: Rgb, lm: readonly Pt[], target: readonly Pt[]): Rgb {
  const fixed = anchors(src.width, src.height, lm);
  const inv = thinPlate([...target, ...fixed], [...lm, ...fixed]);
  return remap(src, gridMap(inv, src.width, src.height));
}

export function tpsTurn(src: Rgb, lm: readonly Pt[], yawDeg: number, pitchDeg = 0): Rgb {
  return landmarkWarp(src, lm, rotatedLandmarks(lm, yawDeg, pitchDeg));
}

/**
 * Squash the eye band vertically towards each eye's centre line by `factor` (0.5 = half as
 * tall): within `core` of the centre line the picture is compressed, between `core` and `reach`
 * it is stretched to make up for it, beyond that nothing moves; the effect fades out sideways.
 * The mapping stays monotonic, so nothing folds over. The landmark net then reports narrow,
 * "closed" eyes.
 */
export function squashEyes(src: Rgb, lm: readonly Pt[], factor: number, towards: 'middle' | 'lower-lid' = 'middle'): Rgb {
  const f = faceFrame(lm);
  // 'lower-lid' squashes towards the lower lid, where a closed lid's lashes would be
  const eyes: [number, number][] =
    towards === 'middle'
      ? [meanOf(lm, 36, 42), meanOf(lm, 42, 48)]
      : [
          [meanOf(lm, 36, 42)[0], (lm[40]![1] + lm[41]![1]) / 2],
          [meanOf(lm, 42, 48)[0], (lm[46]![1] + lm[47]![1]) / 2],
        ];
  const core = f.iod * 0.16;
  const reach = f.iod * 0.42;
  const halfW = f.iod * 0.32;
  // output offset → source offset (inverse of the compressing map d ↦ g(d))
  const inverse = (d: number): number => {
    const a = Math.abs(d);
    const inner = core * factor;
    let s: number;
    if (a <= inner) s = a / factor;
    else if (a <= reach) s = core + ((a - inner) * (reach - core)) / (reach - inner);
    else s = a;
    return Math.sign(d) * s;
  };
  return remap(src, (x, y) => {
    for (const e of eyes) {
      const dx = Math.abs(x - e[0]);
      const dy = y - e[1];
      if (Math.abs(dy) > reach) continue;
      const w = 1 - smoothstep((dx - halfW) / (halfW * 0.5));
      if (w > 0) return [x, e[1] + dy + w * (inverse(dy) - dy)];
    }
    return [x, y];
  });
}

export function mirror(src: Rgb): Rgb {
  const { width: w, height: h, data } = src;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3,
        i = (y * w + (w - 1 - x)) * 3;
      out[o] = data[i]!;
      out[o + 1] = data[i + 1]!;
      out[o + 2] = data[i + 2]!;
    }
  return { data: out, width: w, height: h };
}

/** A small deterministic PRNG (mulberry32), so attack runs can be repeated. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian sensor noise of `sigma` grey levels per channel, plus a small random exposure change. */
export function sensorNoise(src: Rgb, sigma: number, random: () => number): Rgb {
  const out = new Uint8Array(src.data.length);
  const gain = 1 + (random() - 0.5) * 0.04;
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(1e-9, random()),
      v = random();
    const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * sigma;
    out[i] = Math.max(0, Math.min(255, Math.round(src.data[i]! * gain + n)));
  }
  return { data: out, width: src.width, height: src.height };
}
