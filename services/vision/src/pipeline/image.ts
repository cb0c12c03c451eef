/**
 * Pixel work around the nets: building their input tensors exactly as face-api's TensorFlow.js
 * preprocessing does (pad to a square, tf.image.resizeBilinear without align-corners or
 * half-pixel centres, subtract a mean colour, divide by 255), and the aligned face crop.
 */
import type { RgbImage } from './types.js';

export type Rgb3 = readonly [number, number, number];

/** An integer rectangle in source pixels. */
export interface IntRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where a w x h picture sits inside the square it is padded to.
 * face-api pads the detector input at the bottom/right only, and face crops centred, with the
 * odd extra pixel (Math.round(diff / 2)) going after the picture.
 */
export function squarePadding(width: number, height: number, centred: boolean): { side: number; offsetX: number; offsetY: number } {
  const side = Math.max(width, height);
  const diff = side - Math.min(width, height);
  const before = centred ? diff - Math.round(diff * 0.5) : 0;
  return { side, offsetX: width < height ? before : 0, offsetY: height < width ? before : 0 };
}

/** Where a picture sits in a larger square of `fill` grey (for the detector's padded retry). */
export interface Canvas {
  side: number;
  offsetX: number;
  offsetY: number;
  fill: number;
}

/**
 * Pads `rect` of `img` to a square with zeros (or places it on `canvas`), resizes it to size x size with TensorFlow's legacy
 * bilinear rule (source = dest * in/out, neighbours clamped at the far edge) and writes
 * (value - mean) / 255 as planar CHW into `out` (length 3 * size * size).
 */
export function squareResizeNormalize(
  img: RgbImage,
  rect: IntRect,
  centred: boolean,
  size: number,
  mean: Rgb3,
  out: Float32Array,
  canvas?: Canvas,
): void {
  const { side, offsetX, offsetY } = canvas ?? squarePadding(rect.width, rect.height, centred);
  const fill = canvas?.fill ?? 0;
  const scale = side / size;
  const plane = size * size;
  const { data, width: iw } = img;
  const [mr, mg, mb] = mean;
  // Byte offset of each padded-square column inside a source row, or -1 in the zero padding;
  // the same for every row, so computed once.
  const colOffset = (px: number) => {
    const cx = px - offsetX;
    return cx < 0 || cx >= rect.width ? -1 : (rect.x + cx) * 3;
  };
  const rowOffset = (py: number) => {
    const cy = py - offsetY;
    return cy < 0 || cy >= rect.height ? -1 : (rect.y + cy) * iw * 3;
  };
  const x0s = new Int32Array(size);
  const x1s = new Int32Array(size);
  const dxs = new Float64Array(size);
  for (let ox = 0; ox < size; ox++) {
    const sx = ox * scale;
    const x0 = Math.floor(sx);
    x0s[ox] = colOffset(x0);
    x1s[ox] = colOffset(Math.min(x0 + 1, side - 1));
    dxs[ox] = sx - x0;
  }
  for (let oy = 0; oy < size; oy++) {
    const sy = oy * scale;
    const y0 = Math.floor(sy);
    const r0 = rowOffset(y0);
    const r1 = rowOffset(Math.min(y0 + 1, side - 1));
    const dy = sy - y0;
    let o = oy * size;
    for (let ox = 0; ox < size; ox++, o++) {
      const c0 = x0s[ox]!;
      const c1 = x1s[ox]!;
      const dx = dxs[ox]!;
      let t0 = fill,
        t1 = fill,
        t2 = fill,
        b0 = fill,
        b1 = fill,
        b2 = fill;
      if (r0 >= 0) {
        let a0 = fill,
          a1 = fill,
          a2 = fill,
          e0 = fill,
          e1 = fill,
          e2 = fill;
        if (c0 >= 0) {
          const p = r0 + c0;
          a0 = data[p]!;
          a1 = data[p + 1]!;
          a2 = data[p + 2]!;
        }
        if (c1 >= 0) {
          const p = r0 + c1;
          e0 = data[p]!;
          e1 = data[p + 1]!;
          e2 = data[p + 2]!;
        }
        t0 = a0 + (e0 - a0) * dx;
        t1 = a1 + (e1 - a1) * dx;
        t2 = a2 + (e2 - a2) * dx;
      }
      if (r1 >= 0) {
        let a0 = fill,
          a1 = fill,
          a2 = fill,
          e0 = fill,
          e1 = fill,
          e2 = fill;
        if (c0 >= 0) {
          const p = r1 + c0;
          a0 = data[p]!;
          a1 = data[p + 1]!;
          a2 = data[p + 2]!;
        }
        if (c1 >= 0) {
          const p = r1 + c1;
          e0 = data[p]!;
          e1 = data[p + 1]!;
          e2 = data[p + 2]!;
        }
        b0 = a0 + (e0 - a0) * dx;
        b1 = a1 + (e1 - a1) * dx;
        b2 = a2 + (e2 - a2) * dx;
      }
      out[o] = (t0 + (b0 - t0) * dy - mr) / 255;
      out[plane + o] = (t1 + (b1 - t1) * dy - mg) / 255;
      out[2 * plane + o] = (t2 + (b2 - t2) * dy - mb) / 255;
    }
  }
}

/** Clamps a float rectangle to the image and floors it, as face-api's Box.clipAtImageBorders does. */
export function clipRect(r: { x: number; y: number; width: number; height: number }, imgW: number, imgH: number): IntRect {
  const x = Math.max(r.x, 0);
  const y = Math.max(r.y, 0);
  const w = Math.min(r.x + r.width - x, imgW - x);
  const h = Math.min(r.y + r.height - y, imgH - y);
  return { x: Math.floor(x), y: Math.floor(y), width: Math.floor(w), height: Math.floor(h) };
}

/** Copies a rectangle out of an image (used for tests and the reference). */
export function cropImage(img: RgbImage, r: IntRect): RgbImage {
  const data = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const src = ((r.y + y) * img.width + r.x) * 3;
    data.set(img.data.subarray(src, src + r.width * 3), y * r.width * 3);
  }
  return { data, width: r.width, height: r.height };
}

/** An affine map from output pixel (u, v) to source pixel: x = a*u + b*v + c, y = d*u + e*v + f. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/**
 * Samples size x size pixels through `map` with bilinear interpolation (zeros outside the image),
 * into interleaved float RGB 0..255. `valid` gets 1 where the sample lies inside the image.
 */
export function warpBilinear(img: RgbImage, map: Affine, size: number, out: Float32Array, valid?: Uint8Array): void {
  const { data, width: w, height: h } = img;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const sx = map.a * u + map.b * v + map.c;
      const sy = map.d * u + map.e * v + map.f;
      const o = (v * size + u) * 3;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        out[o] = out[o + 1] = out[o + 2] = 0;
        if (valid) valid[v * size + u] = 0;
        continue;
      }
      const fx = sx - x0;
      const fy = sy - y0;
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < w;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < h;
      const wa = (1 - fx) * (1 - fy);
      const wb = fx * (1 - fy);
      const wc = (1 - fx) * fy;
      const wd = fx * fy;
      const pa = inX0 && inY0 ? (y0 * w + x0) * 3 : -1;
      const pb = inX1 && inY0 ? (y0 * w + x0 + 1) * 3 : -1;
      const pc = inX0 && inY1 ? ((y0 + 1) * w + x0) * 3 : -1;
      const pd = inX1 && inY1 ? ((y0 + 1) * w + x0 + 1) * 3 : -1;
      for (let ch = 0; ch < 3; ch++) {
        out[o + ch] =
          (pa < 0 ? 0 : data[pa + ch]! * wa) +
          (pb < 0 ? 0 : data[pb + ch]! * wb) +
          (pc < 0 ? 0 : data[pc + ch]! * wc) +
          (pd < 0 ? 0 : data[pd + ch]! * wd);
      }
      if (valid) valid[v * size + u] = sx >= 0 && sy >= 0 && sx <= w - 1 && sy <= h - 1 ? 1 : 0;
    }
  }
}

/** Interleaved float RGB (0..255) → planar CHW (value - mean) / 255. */
export function normalizeToChw(rgb: Float32Array, size: number, mean: Rgb3, out: Float32Array): void {
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    out[i] = (rgb[i * 3]! - mean[0]) / 255;
    out[plane + i] = (rgb[i * 3 + 1]! - mean[1]) / 255;
    out[2 * plane + i] = (rgb[i * 3 + 2]! - mean[2]) / 255;
  }
}

/** Planar CHW normalised tensor back to interleaved float RGB 0..255 (for quality measures). */
export function chwToRgb(chw: Float32Array, size: number, mean: Rgb3, out: Float32Array): void {
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    out[i * 3] = chw[i]! * 255 + mean[0];
    out[i * 3 + 1] = chw[plane + i]! * 255 + mean[1];
    out[i * 3 + 2] = chw[2 * plane + i]! * 255 + mean[2];
  }
}

/**
 * Shrinks an image region by an integer factor with a box filter. Bilinear sampling alone skips
 * pixels when a large face is reduced to 150 px; averaging first keeps the crop free of aliasing.
 * Returns the reduced image and where its pixel (0,0) lies in the source.
 */
export function boxDownsample(img: RgbImage, rect: IntRect, factor: number): RgbImage {
  const ow = Math.max(1, Math.floor(rect.width / factor));
  const oh = Math.max(1, Math.floor(rect.height / factor));
  const out = new Uint8Array(ow * oh * 3);
  const acc = new Float64Array(ow * 3);
  const n = factor * factor;
  for (let oy = 0; oy < oh; oy++) {
    acc.fill(0);
    for (let k = 0; k < factor; k++) {
      const row = (rect.y + oy * factor + k) * img.width;
      for (let ox = 0; ox < ow; ox++) {
        let p = (row + rect.x + ox * factor) * 3;
        for (let j = 0; j < factor; j++, p += 3) {
          acc[ox * 3] = acc[ox * 3]! + img.data[p]!;
          acc[ox * 3 + 1] = acc[ox * 3 + 1]! + img.data[p + 1]!;
          acc[ox * 3 + 2] = acc[ox * 3 + 2]! + img.data[p + 2]!;
        }
      }
    }
    for (let i = 0; i < ow * 3; i++) out[oy * ow * 3 + i] = Math.round(acc[i]! / n);
  }
  return { data: out, width: ow, height: oh };
}
