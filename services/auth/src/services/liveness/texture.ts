/**
 * Comparisons of the landmark-normalised face textures vision returns (`Face.texture`): the eye
 * regions of a frame against the same person's open-eyed frames from the hold phase, and whole
 * textures of consecutive frames. The layout (eye regions) is fixed by the contracts.
 */
import { FACE_TEXTURE_LAYOUT, type FaceTexture, type Quality, type TextureRegion } from '@faceline/contracts';

/** The mean eye aspect ratio of the two eyes from vision's quality report. */
export function meanEar(q: Pick<Quality, 'eyeOpenness'>): number {
  return (q.eyeOpenness.left + q.eyeOpenness.right) / 2;
}

export type Texture = Uint8Array;

/** Decodes vision's base64 texture; null when absent or of an unexpected size. */
export function decodeTexture(t: FaceTexture | undefined): Texture | null {
  if (!t || t.size !== FACE_TEXTURE_LAYOUT.size) return null;
  const bytes = Buffer.from(t.data, 'base64');
  return bytes.length === t.size * t.size ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : null;
}

/** Normalised cross-correlation of two textures over a region (pixels that are 0 in either are outside the face). */
export function regionNcc(a: Texture, b: Texture, r: TextureRegion = FULL): number {
  const size = FACE_TEXTURE_LAYOUT.size;
  let n = 0,
    sa = 0,
    sb = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const i = y * size + x;
      const va = a[i]!,
        vb = b[i]!;
      if (va === 0 || vb === 0) continue;
      n++;
      sa += va;
      sb += vb;
    }
  }
  if (n < 8) return 0;
  const ma = sa / n,
    mb = sb / n;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const i = y * size + x;
      const va = a[i]!,
        vb = b[i]!;
      if (va === 0 || vb === 0) continue;
      const da = va - ma,
        db = vb - mb;
      sab += da * db;
      saa += da * da;
      sbb += db * db;
    }
  }
  const d = Math.sqrt(saa * sbb);
  return d > 0 ? sab / d : 0;
}

const FULL: TextureRegion = { x: 0, y: 0, width: FACE_TEXTURE_LAYOUT.size, height: FACE_TEXTURE_LAYOUT.size };

/**
 * How much the eyes of `t` still look like the open eyes of the references: per eye the median
 * similarity over the references (one half-closed reference cannot make closed eyes look
 * open), then the less similar eye (a blink closes both).
 */
export function eyeSimilarity(t: Texture, refs: readonly Texture[]): number {
  const { rightEye, leftEye } = FACE_TEXTURE_LAYOUT.regions;
  if (refs.length === 0) return 1;
  const right = median(refs.map((r) => regionNcc(t, r, rightEye)));
  const left = median(refs.map((r) => regionNcc(t, r, leftEye)));
  return Math.min(right, left);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Row (0 = top of the region) whose mean grey level is darkest: the iris of an open eye, the lash line of a closed one. */
function darkestRow(t: Texture, r: TextureRegion): number {
  const size = FACE_TEXTURE_LAYOUT.size;
  let best = Infinity,
    row = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    let s = 0,
      n = 0;
    for (let x = r.x; x < r.x + r.width; x++) {
      const v = t[y * size + x]!;
      if (v === 0) continue;
      s += v;
      n++;
    }
    if (n > 0 && s / n < best) {
      best = s / n;
      row = y - r.y;
    }
  }
  return row;
}

/**
 * How far the darkest line of the eyes moved down from where it is in the open-eyed
 * references (texture pixels, both eyes averaged). An eyelid that closes meets the lower lid,
 * so the lash line lies below the iris the open eye showed; an eye band squashed towards its
 * middle keeps its dark line in the middle.
 */
export function lidDrop(t: Texture, refs: readonly Texture[]): number {
  if (refs.length === 0) return 0;
  const { rightEye, leftEye } = FACE_TEXTURE_LAYOUT.regions;
  let drop = 0;
  for (const r of [rightEye, leftEye]) {
    let ref = 0;
    for (const u of refs) ref += darkestRow(u, r);
    drop += darkestRow(t, r) - ref / refs.length;
  }
  return drop / 2;
}
