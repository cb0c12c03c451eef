/**
 * A VisionClient for unit tests of the face flows: each analyze() call answers with the next
 * scripted frame (the faces, their pose, eyes, quality and descriptor), so the auth service's
 * decisions can be driven without models, photos or a network. Never wired into routes.
 */
import { FACE_TEXTURE_LAYOUT, type AnalyzeResponse, type Face } from '@faceline/contracts';
import type { AnalyzeOptions, VisionClient } from '../repositories/vision.repository.js';
import { descriptor, texture, type EyeState } from '../services/liveness/fixtures.js';

/** One face of a scripted frame; anything left out is a sharp, well-lit, frontal face of the base person. */
export interface ScriptedFace {
  /** 128 numbers (see `descriptorOf`); null: a face without a descriptor; default: `descriptorOf(0)` */
  embedding?: number[] | null;
  yaw?: number;
  pitch?: number;
  eyes?: EyeState;
  /** varies the texture a little, as consecutive camera frames differ */
  jitter?: number;
  faceSizePx?: number;
  sharpness?: number;
  brightness?: number;
}

/** The faces vision finds in one frame (empty: no face). */
export type ScriptedFrame = ScriptedFace[];

/** Well above every default quality gate. */
export const GOOD_QUALITY = { faceSizePx: 240, sharpness: 200, brightness: 128 } as const;

/** Axes 0 and 1 carry the offsets of `descriptorOf`; each person has an axis of their own after them. */
const PEOPLE_FROM_AXIS = 2;
/** How far apart two people are along their own axes (5·√2 between any two, far beyond every threshold). */
const PERSON_SPREAD = 5;
export const MAX_PEOPLE = 128 - PEOPLE_FROM_AXIS;

/**
 * A descriptor of person `p` (0 ≤ p < MAX_PEOPLE), moved `dx` along axis 0 and `dy` along axis
 * 1: its distance to `descriptorOf(p)` is exactly √(dx² + dy²), so a test puts a frame just
 * inside or just outside a threshold.
 */
export function descriptorOf(p: number, dx = 0, dy = 0): number[] {
  if (!Number.isInteger(p) || p < 0 || p >= MAX_PEOPLE) throw new RangeError(`person ${p} is not between 0 and ${MAX_PEOPLE - 1}`);
  const e = descriptor(dx, 0);
  e[1] = (e[1] as number) + dy;
  e[PEOPLE_FROM_AXIS + p] = (e[PEOPLE_FROM_AXIS + p] as number) + PERSON_SPREAD;
  return e;
}

export function toFace(f: ScriptedFace): Face {
  const eyes = f.eyes ?? 'open';
  // the landmark net follows a closing lid part of the way (as the liveness fixtures draw it)
  const ear = eyes === 'closed' ? 0.25 : 0.3;
  const size = f.faceSizePx ?? GOOD_QUALITY.faceSizePx;
  const embedding = f.embedding === null ? undefined : (f.embedding ?? descriptorOf(0));
  return {
    box: { x: 100, y: 80, width: size, height: size },
    score: 0.99,
    landmarks: Array.from({ length: 68 }, (_, i): [number, number] => [100 + (i % 17) * 10, 80 + Math.floor(i / 17) * 10]),
    quality: {
      faceSizePx: size,
      sharpness: f.sharpness ?? GOOD_QUALITY.sharpness,
      brightness: f.brightness ?? GOOD_QUALITY.brightness,
      yaw: f.yaw ?? 0,
      pitch: f.pitch ?? 0,
      roll: 0,
      eyeOpenness: { left: ear, right: ear },
    },
    ...(embedding ? { embedding } : {}),
    texture: { size: FACE_TEXTURE_LAYOUT.size, data: Buffer.from(texture(eyes, f.jitter ?? 0)).toString('base64') },
  };
}

export class ScriptedVision implements VisionClient {
  private readonly frames: ScriptedFrame[] = [];
  /** the options of every call, in order */
  readonly calls: AnalyzeOptions[] = [];

  /** Queues frames; each analyze() takes the next one. */
  push(...frames: ScriptedFrame[]): this {
    this.frames.push(...frames);
    return this;
  }

  get pending(): number {
    return this.frames.length;
  }

  async analyze(_image: Uint8Array, opts: AnalyzeOptions = {}): Promise<AnalyzeResponse> {
    const frame = this.frames.shift();
    // a frame the test did not script is a mistake in the test, not an answer
    if (!frame) throw new Error('ScriptedVision: no frame scripted for this call');
    this.calls.push(opts);
    return {
      model: {
        detector: 'scripted',
        landmarks: 'scripted',
        embedding: 'scripted',
        embeddingDimensions: 128,
        embeddingNormalized: false,
        runtime: 'none',
      },
      image: { width: 640, height: 480, type: 'image/jpeg' },
      faces: frame.map(toFace),
      timings: { decodeMs: 0, inferenceMs: 0, queueMs: 0, totalMs: 0 },
    };
  }

  async ready(): Promise<boolean> {
    return true;
  }
}
