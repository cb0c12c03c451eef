/**
 * The boundary between the HTTP/worker side of vision and the face models.
 * The worker decodes an image into RGB pixels and hands them to a FacePipeline.
 */
import type { Face, ModelInfo } from '@faceline/contracts';

/** Interleaved 8-bit RGB (3 channels), row-major, already EXIF-rotated. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface PipelineOptions {
  /** return only the largest face */
  largestOnly: boolean;
  /** at most this many faces, largest first */
  maxFaces: number;
  /** compute embeddings for the returned faces */
  embeddings: boolean;
  /** ignore faces whose box side is smaller than this, in source pixels */
  minFaceSize: number;
  /** add each face's landmark-normalised texture (see face-texture.ts) */
  texture?: boolean;
}

export interface FacePipeline {
  readonly info: ModelInfo;
  analyze(image: RgbImage, options: PipelineOptions): Promise<Face[]>;
  close(): Promise<void>;
}

export interface PipelineSettings {
  /** ONNX Runtime intra-op threads per session (1 when several workers share the cores). */
  intraOpThreads: number;
  /**
   * How the 150x150 recognition crop is made: 'similarity' (default) rotates and scales the face
   * onto dlib's mean face shape, so tilted heads are levelled; 'face-api' is face-api's own
   * axis-aligned crop (kept for parity with the reference implementation).
   */
  alignment?: 'similarity' | 'face-api';
  /** detector score threshold, 0..1 (default 0.5, face-api's default) */
  scoreThreshold?: number;
  /**
   * When the detector finds nothing, look again with the picture centred on a larger grey canvas
   * (default true): the tiny detector misses faces that fill most of the frame.
   */
  paddedRetry?: boolean;
  /** folder with face-api's weight manifests and .bin files (default: the installed @vladmandic/face-api/model) */
  modelDir?: string;
  /**
   * The code paths as they were before the speed work (WebAssembly kernels, one-pass decode) (plain TypeScript pixel loops,
   * the original graphs), kept so that the benchmark can print the old figures beside the new
   * ones in the same run. Results are the same either way (tests compare them); only speed differs.
   */
  baseline?: boolean;
}
