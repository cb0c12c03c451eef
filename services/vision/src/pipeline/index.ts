/**
 * The face models of the vision service. The worker pool calls createOnnxPipeline() once per
 * worker thread and then FacePipeline.analyze() per image.
 */
import { createOnnxFacePipeline, type OnnxFacePipeline } from './onnx-pipeline.js';
import type { PipelineSettings } from './types.js';
import { disableOrtTelemetryByDefault } from './ort-telemetry.js';

export type { FacePipeline, PipelineOptions, PipelineSettings, RgbImage } from './types.js';
export {
  createOnnxFacePipeline,
  OnnxFacePipeline,
  FACE_MEAN,
  faceRegion,
  type FaceAnalysis,
  type NetTimings,
  type AlignmentMode,
} from './onnx-pipeline.js';

export async function createOnnxPipeline(settings: PipelineSettings): Promise<OnnxFacePipeline> {
  disableOrtTelemetryByDefault();
  return createOnnxFacePipeline(settings);
}
