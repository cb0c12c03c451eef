/**
 * What the attacker works with: photos of the victim (framed as a camera would frame a person
 * at a terminal, 640x480), the open face model to choose warps with (the same ONNX pipeline
 * vision runs, in-process), and frame sequences prepared from one photo: head turns by 2-D
 * warps, blinks by squashing the eye band, mirrored copies. Every frame gets fresh sensor
 * noise and its own JPEG encoding, as a camera's frames would.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ChallengeStep } from '@faceline/contracts';
import { createOnnxPipeline, type FacePipeline } from '../../services/vision/src/pipeline/index.js';
import * as W from './warps.js';

const FRAME_W = 640;
const FRAME_H = 480;

export interface LocalModel {
  /** yaw, pitch and eye aspect ratio of the largest face as the open model sees it */
  measure(img: W.Rgb): Promise<{ yaw: number; pitch: number; ear: number; landmarks: W.Pt[] } | null>;
  close(): Promise<void>;
}

export async function localModel(): Promise<LocalModel> {
  const p: FacePipeline = await createOnnxPipeline({ intraOpThreads: 1 });
  return {
    async measure(img) {
      const f = (await p.analyze(img, { largestOnly: true, maxFaces: 1, embeddings: false, minFaceSize: 40 }))[0];
      if (!f) return null;
      return {
        yaw: f.quality.yaw,
        pitch: f.quality.pitch,
        ear: (f.quality.eyeOpenness.left + f.quality.eyeOpenness.right) / 2,
        landmarks: f.landmarks as W.Pt[],
      };
    },
    close: () => p.close(),
  };
}

export async function decode(jpeg: Buffer): Promise<W.Rgb> {
  const { data, info } = await sharp(jpeg).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

export async function encode(img: W.Rgb, quality = 88): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .jpeg({ quality })
    .toBuffer();
}

/** The photo as a terminal camera would see the person: the face about 40% of a 640x480 frame. */
export async function frameAsCamera(file: string, model: LocalModel): Promise<{ img: W.Rgb; landmarks: W.Pt[] } | null> {
  const full = await decode(readFileSync(file));
  const m = await model.measure(full);
  if (!m) return null;
  const xs = m.landmarks.map((p) => p[0]),
    ys = m.landmarks.map((p) => p[1]);
  const faceW = Math.max(...xs) - Math.min(...xs);
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2,
    cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  let cw = Math.min(full.width, Math.round(faceW / 0.4));
  let ch = Math.round((cw * FRAME_H) / FRAME_W);
  if (ch > full.height) {
    ch = full.height;
    cw = Math.min(full.width, Math.round((ch * FRAME_W) / FRAME_H));
  }
  const left = Math.max(0, Math.min(full.width - cw, Math.round(cx - cw / 2)));
  const top = Math.max(0, Math.min(full.height - ch, Math.round(cy - ch / 2)));
  const raw = await sharp(Buffer.from(full.data), { raw: { width: full.width, height: full.height, channels: 3 } })
    .extract({ left, top, width: cw, height: ch })
    .resize(FRAME_W, FRAME_H, { fit: 'fill' })
    .raw()
    .toBuffer();
  const img = { data: new Uint8Array(raw), width: FRAME_W, height: FRAME_H };
  const again = await model.measure(img);
  return again ? { img, landmarks: again.landmarks } : null;
}

export type TurnWarp = 'stretch' | 'tps' | 'planar';

/**
 * Frames that fake a head turn from one photo, chosen with the local model: for each target yaw
 * (in steps, as a real turn passes through them) the warp strength whose measured yaw comes
 * closest. `dir` +1 is the person's own left (TURN_LEFT), -1 their right.
 */
export async function turnFrames(
  photo: { img: W.Rgb; landmarks: W.Pt[] },
  warp: TurnWarp,
  dir: 1 | -1,
  model: LocalModel,
): Promise<W.Rgb[]> {
  const base = (await model.measure(photo.img))?.yaw ?? 0;
  const candidates: { yaw: number; img: W.Rgb }[] = [];
  const strengths =
    warp === 'stretch'
      ? [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.36, 0.42]
      : warp === 'tps'
        ? [4, 8, 12, 16, 20, 24, 28, 32]
        : [8, 16, 24, 32, 40, 48];
  for (const s of strengths) {
    const img =
      warp === 'stretch'
        ? W.stretchTurn(photo.img, photo.landmarks, dir * s)
        : warp === 'tps'
          ? W.tpsTurn(photo.img, photo.landmarks, dir * s)
          : W.planarTurn(photo.img, photo.landmarks, dir * s);
    const m = await model.measure(img);
    if (m) candidates.push({ yaw: m.yaw, img });
  }
  const out: W.Rgb[] = [];
  for (const target of [5, 9, 13, 17, 21, 25]) {
    const want = base + dir * target;
    const best = candidates.reduce<{ yaw: number; img: W.Rgb } | null>(
      (b, c) => (!b || Math.abs(c.yaw - want) < Math.abs(b.yaw - want) ? c : b),
      null,
    );
    if (best) out.push(best.img);
  }
  return out;
}

/**
 * Frames that fake a blink from one photo: the eye band squashed more and more (down to the
 * strength at which the local model's eye aspect ratio falls below the classic 0.19 "closed"
 * threshold, or the strongest tried), held, and released.
 */
export async function blinkFrames(
  photo: { img: W.Rgb; landmarks: W.Pt[] },
  towards: 'middle' | 'lower-lid',
  model: LocalModel,
): Promise<W.Rgb[]> {
  let chosen = 0.1;
  for (const k of [0.6, 0.45, 0.35, 0.25, 0.18, 0.12, 0.08]) {
    const m = await model.measure(W.squashEyes(photo.img, photo.landmarks, k, towards));
    chosen = k;
    if (m && m.ear < 0.19) break;
  }
  const at = (k: number) => (k >= 1 ? photo.img : W.squashEyes(photo.img, photo.landmarks, k, towards));
  return [0.8, 0.5, chosen, chosen, chosen, 0.5, 1, 1].map(at);
}

/** Everything one photo can be turned into, prepared once and reused by every try. */
export interface PreparedPhoto {
  file: string;
  still: W.Rgb;
  mirrored: W.Rgb;
  turns: Record<TurnWarp, Record<'TURN_LEFT' | 'TURN_RIGHT', W.Rgb[]>>;
  blinks: Record<'middle' | 'lower-lid', W.Rgb[]>;
}

export async function preparePhoto(file: string, model: LocalModel): Promise<PreparedPhoto | null> {
  const photo = await frameAsCamera(file, model);
  if (!photo) return null;
  const turns = {} as PreparedPhoto['turns'];
  for (const warp of ['stretch', 'tps', 'planar'] as const) {
    turns[warp] = {
      [ChallengeStep.TURN_LEFT]: await turnFrames(photo, warp, 1, model),
      [ChallengeStep.TURN_RIGHT]: await turnFrames(photo, warp, -1, model),
    } as Record<'TURN_LEFT' | 'TURN_RIGHT', W.Rgb[]>;
  }
  return {
    file,
    still: photo.img,
    mirrored: W.mirror(photo.img),
    turns,
    blinks: { middle: await blinkFrames(photo, 'middle', model), 'lower-lid': await blinkFrames(photo, 'lower-lid', model) },
  };
}

/** Gaussian noise fields made once (drawing ~1M gaussians per frame would cost the script more than the camera). */
const NOISE_FIELDS: Int8Array[] = [];
function noiseField(k: number, sigma: number): Int8Array {
  while (NOISE_FIELDS.length < 8) {
    const f = new Int8Array(640 * 480 * 3 + 4096);
    const r = W.rng(9000 + NOISE_FIELDS.length);
    for (let i = 0; i < f.length; i++) {
      const u = Math.max(1e-9, r()),
        v = r();
      f[i] = Math.max(-127, Math.min(127, Math.round(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * sigma)));
    }
    NOISE_FIELDS.push(f);
  }
  return NOISE_FIELDS[k % NOISE_FIELDS.length] as Int8Array;
}

/**
 * A camera-like frame from a picture: sensor noise (a random field at a random offset, so no
 * two frames match), a small exposure change, and its own JPEG quality.
 */
export async function cameraFrame(img: W.Rgb, random: () => number, sigma = 3): Promise<Buffer> {
  const field = noiseField(Math.floor(random() * 8), sigma);
  const offset = Math.floor(random() * 4096);
  const gain = 1 + (random() - 0.5) * 0.04;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]! * gain + field[(i + offset) % field.length]!;
    out[i] = v < 0 ? 0 : Math.min(v, 255);
  }
  return encode({ data: out, width: img.width, height: img.height }, 80 + Math.floor(random() * 12));
}
