/**
 * Synthetic observations for the liveness unit tests: textures drawn in the contract's layout
 * (open eyes: a dark iris between bright whites; closed: skin with the lash line low; squashed:
 * the open eye pressed into a thin band in the middle) and descriptors at chosen distances.
 */
import { FACE_TEXTURE_LAYOUT, type TextureRegion } from '@faceline/contracts';
import type { ObservedFace } from './session.js';
import type { Texture } from './texture.js';

const S = FACE_TEXTURE_LAYOUT.size;

export type EyeState = 'open' | 'closed' | 'squashed';

function drawEye(t: Uint8Array, r: TextureRegion, state: EyeState, jitter: number): void {
  const cx = r.x + r.width / 2,
    cy = r.y + r.height / 2;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const dx = (x - cx) / (r.width / 2),
        dy = (y - cy) / (r.height / 2);
      let v = 150 + ((x * 7 + y * 13 + jitter) % 5);
      if (state === 'open') {
        if (Math.abs(dy) < 0.45 && Math.abs(dx) < 0.8) v = 230; // white of the eye
        if (dx * dx + (dy / 1.2) ** 2 < 0.12) v = 40; // iris
      } else if (state === 'closed') {
        if (y === Math.round(cy + r.height * 0.25) && Math.abs(dx) < 0.85) v = 50; // lashes at the lower lid
      } else {
        if (y === Math.round(cy) && Math.abs(dx) < 0.8) v = Math.abs(dx) < 0.3 ? 40 : 220; // the eye pressed flat
      }
      t[y * S + x] = v;
    }
  }
}

/** A face texture with both eyes in `state`; `jitter` varies the skin a little (frames differ). */
export function texture(state: EyeState, jitter = 0): Texture {
  const t = new Uint8Array(S * S);
  for (let y = 4; y < 60; y++) for (let x = 4; x < 60; x++) t[y * S + x] = 140 + ((x + y + jitter) % 7);
  drawEye(t, FACE_TEXTURE_LAYOUT.regions.rightEye, state, jitter);
  drawEye(t, FACE_TEXTURE_LAYOUT.regions.leftEye, state, jitter);
  return t;
}

/** A descriptor `d` away from the base person along axis `axis`. */
export function descriptor(d = 0, axis = 0): number[] {
  const e = Array.from({ length: 128 }, (_, i) => Math.sin(i * 0.37) * 0.1);
  e[axis] = (e[axis] as number) + d;
  return e;
}

export function face(over: Partial<ObservedFace> & { eyes?: EyeState; jitter?: number } = {}): ObservedFace {
  const { eyes = 'open', jitter = 0, ...rest } = over;
  // the landmark net follows a closing lid part of the way: the aspect ratio drops a little
  return { yaw: 0, pitch: 0, ear: eyes === 'closed' ? 0.25 : 0.3, embedding: descriptor(), texture: texture(eyes, jitter), ...rest };
}
