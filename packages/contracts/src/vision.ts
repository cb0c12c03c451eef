/**
 * The vision service's HTTP contract: POST /v1/analyze turns one image into faces.
 * Vision never sees a user id and never stores an image.
 */
import { Type, type Static } from '@sinclair/typebox';

export const VISION_API_VERSION = 'v1';

/** Image types vision decodes. Anything else is 415 IMAGE_UNSUPPORTED_TYPE. */
export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;

export const AnalyzeQuery = Type.Object(
  {
    largestOnly: Type.Optional(Type.Boolean({ default: false, description: 'return only the largest face' })),
    maxFaces: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'at most this many faces, largest first' })),
    embeddings: Type.Optional(Type.Boolean({ default: true, description: 'compute the 128-D embedding of each returned face' })),
    minFaceSize: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 4096, default: 40, description: 'ignore faces smaller than this (px, box side)' }),
    ),
    texture: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'add the landmark-normalised grey texture of each face (liveness: eye closure, changes between frames)',
      }),
    ),
  },
  { additionalProperties: false, $id: 'AnalyzeQuery' },
);
export type AnalyzeQuery = Static<typeof AnalyzeQuery>;

export const Point = Type.Tuple([Type.Number(), Type.Number()]);
export type Point = Static<typeof Point>;

export const Box = Type.Object(
  {
    x: Type.Number(),
    y: Type.Number(),
    width: Type.Number(),
    height: Type.Number(),
  },
  { $id: 'Box' },
);
export type Box = Static<typeof Box>;

export const Quality = Type.Object(
  {
    faceSizePx: Type.Number({ description: 'shorter side of the face box, in source-image pixels' }),
    sharpness: Type.Number({ description: 'variance of the Laplacian on the aligned grey face crop; below ~40 is blurry' }),
    brightness: Type.Number({ description: 'mean luminance of the aligned face crop, 0..255' }),
    yaw: Type.Number({ description: 'degrees, positive = the person turns to their left (image right)' }),
    pitch: Type.Number({ description: 'degrees, positive = looking up' }),
    roll: Type.Number({ description: 'degrees, positive = head tilted clockwise in the image' }),
    eyeOpenness: Type.Object({
      left: Type.Number({ description: "eye aspect ratio of the person's left eye; about 0.25-0.35 open, below ~0.18 closed" }),
      right: Type.Number(),
    }),
  },
  { $id: 'Quality' },
);
export type Quality = Static<typeof Quality>;

/**
 * The inner face (landmarks 17..67: brows, eyes, nose, mouth) warped piecewise-affinely onto a
 * fixed mean face shape: `size`x`size` grey levels, row-major, base64. Pixels outside the face
 * are 0. Any 2-D bending of a picture moves its landmarks with it, so it leaves this texture
 * unchanged; a real eyelid closing over the eye, or a real head turning, changes it.
 */
export const FaceTexture = Type.Object(
  {
    size: Type.Integer({ minimum: 8, maximum: 256 }),
    data: Type.String({ contentEncoding: 'base64', description: 'size*size bytes, grey 0..255, row-major' }),
  },
  { $id: 'FaceTexture' },
);
export type FaceTexture = Static<typeof FaceTexture>;

/** A rectangle of texture pixels. */
export interface TextureRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where things are in a FaceTexture: regions around the landmarks of dlib's mean face (eyes
 * with their lids, the nose, the mouth). Vision's tests check these against its geometry.
 */
export const FACE_TEXTURE_LAYOUT = {
  size: 64,
  regions: {
    /** the person's right eye (image left), lids included */
    rightEye: { x: 7, y: 9, width: 18, height: 11 },
    leftEye: { x: 39, y: 9, width: 18, height: 11 },
    nose: { x: 21, y: 12, width: 22, height: 29 },
    mouth: { x: 16, y: 44, width: 32, height: 14 },
  },
} as const satisfies { size: number; regions: Record<string, TextureRegion> };

export const Face = Type.Object(
  {
    box: Box,
    score: Type.Number({ description: 'detector confidence 0..1' }),
    landmarks: Type.Array(Point, { minItems: 68, maxItems: 68, description: 'iBUG 68-point layout, source-image pixels' }),
    quality: Quality,
    embedding: Type.Optional(
      Type.Array(Type.Number(), {
        minItems: 128,
        maxItems: 128,
        description: 'raw descriptor (not normalised); compare with Euclidean distance',
      }),
    ),
    texture: Type.Optional(FaceTexture),
  },
  { $id: 'Face' },
);
export type Face = Static<typeof Face>;

export const ModelInfo = Type.Object(
  {
    detector: Type.String(),
    landmarks: Type.String(),
    embedding: Type.String(),
    embeddingDimensions: Type.Literal(128),
    embeddingNormalized: Type.Boolean({ description: 'false: descriptors are raw; Euclidean distance thresholds apply to raw vectors' }),
    runtime: Type.String(),
  },
  { $id: 'ModelInfo' },
);
export type ModelInfo = Static<typeof ModelInfo>;

export const AnalyzeResponse = Type.Object(
  {
    model: ModelInfo,
    image: Type.Object({ width: Type.Integer(), height: Type.Integer(), type: Type.String() }),
    faces: Type.Array(Face),
    timings: Type.Object({
      decodeMs: Type.Number(),
      inferenceMs: Type.Number(),
      queueMs: Type.Number(),
      totalMs: Type.Number(),
    }),
  },
  { $id: 'AnalyzeResponse' },
);
export type AnalyzeResponse = Static<typeof AnalyzeResponse>;

/**
 * Distance thresholds on raw 128-D descriptors (Euclidean). Decided by `npm run eval:faces`
 * on ../shared/faces photos; see docs/face-pipeline.md. This is the one place they are written.
 */
export const MATCH_THRESHOLDS = {
  /** 1:1 verification (username + face): measured FAR 0.02%, FRR 12% per photo pair (closest impostor 0.544). */
  verify: 0.55,
  /** 1:N identification (kiosk): stricter threshold, below every impostor pair measured... */
  identify: 0.5,
  /** ...and the best person must beat the second-best by at least this much. */
  identifyMargin: 0.08,
} as const;

/** Euclidean distance between two descriptors. */
export function descriptorDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`descriptor lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sum += d * d;
  }
  return Math.sqrt(sum);
}
