/** Messages between the pool (main thread) and an analysis worker. */
import type { Face, ModelInfo } from '@faceline/contracts';
import type { SerializedError } from '../errors.js';
import type { ImageMediaType } from '../image/sniff.js';
import type { PipelineOptions } from '../pipeline/types.js';
import type { NetTimings } from '../pipeline/onnx-pipeline.js';

/** Passed as workerData when a worker starts. */
export interface AnalyzeWorkerSettings {
  intraOpThreads: number;
  maxPixels: number;
  maxSide: number;
  /** the code paths from before the speed work (benchmarks print both); see PipelineSettings.baseline */
  baseline?: boolean;
}

export interface AnalyzeTask {
  /** the encoded image; its buffer is transferred, not copied */
  bytes: Uint8Array;
  mediaType: ImageMediaType;
  options: PipelineOptions;
}

export interface AnalyzeOutcome {
  image: { width: number; height: number };
  faces: Face[];
  decodeMs: number;
  inferenceMs: number;
  /** where the inference time went (benchmarks; not part of the HTTP answer) */
  stages?: NetTimings;
}

export type ToWorker<T> = { type: 'task'; id: number; task: T };

export type FromWorker<R, I> =
  | { type: 'ready'; info: I }
  | { type: 'result'; id: number; ok: true; value: R }
  /** `internal`: the stack of an unexpected failure, for the main thread's log (never image data) */
  | { type: 'result'; id: number; ok: false; error: SerializedError; internal?: string }
  /** the worker cannot start (models failed to load); it exits after sending this */
  | { type: 'fatal'; message: string };

export type AnalyzeFromWorker = FromWorker<AnalyzeOutcome, ModelInfo>;
