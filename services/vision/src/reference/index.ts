/**
 * face-api on TensorFlow.js (WASM): the slow reference the ONNX pipeline is verified against.
 * `referenceFrame` runs face-api's whole chain on one picture, for timing comparisons.
 */
export {
  initReference,
  referenceAnalyze,
  referenceAnalyze as referenceFrame,
  referenceDescriptor,
  referenceDetect,
  referenceLandmarks,
  type ReferenceFace,
} from './face-api-reference.js';
