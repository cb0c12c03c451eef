/**
 * The reference implementation: face-api itself on the TensorFlow.js WASM backend. It is slow
 * (about 7x the ONNX pipeline) but it is the code the weights were published with, so the ONNX
 * graphs are verified against it (test/parity.test.ts) and the benchmark times it for comparison.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RgbImage } from '../pipeline/types.js';
import { faceApiModelDir } from '../pipeline/weights.js';

const require = createRequire(import.meta.url);
// The node-wasm bundle uses @tensorflow/tfjs + tfjs-backend-wasm and never fetches anything.
type FaceApi = typeof import('@vladmandic/face-api');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
const tf = faceapi.tf as unknown as typeof import('@tensorflow/tfjs');

export interface ReferenceFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: [number, number][];
  /** face-api's own descriptor crop (dlib-style axis-aligned rectangle from the landmarks) */
  alignedRect: { x: number; y: number; width: number; height: number };
  descriptor: Float32Array;
}

let ready: Promise<void> | undefined;

/** Initialises the WASM backend (single-threaded, SIMD) and loads the three nets from face-api's model folder. */
export function initReference(): Promise<void> {
  ready ??= (async () => {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
    wasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    const dir = faceApiModelDir();
    await faceapi.nets.tinyFaceDetector.loadFromDisk(dir);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(dir);
    await faceapi.nets.faceRecognitionNet.loadFromDisk(dir);
  })();
  return ready;
}

function toTensor(img: RgbImage) {
  return tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
}

function rect(r: { x: number; y: number; width: number; height: number }) {
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

/**
 * face-api's full chain: tiny face detector (416, score 0.5) → 68 landmarks → descriptor on its
 * dlib-style crop. This is one "reference frame" for the benchmark.
 */
export async function referenceAnalyze(img: RgbImage): Promise<ReferenceFace[]> {
  await initReference();
  const t = toTensor(img);
  try {
    const results = await faceapi
      .detectAllFaces(t as never, new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 }))
      .withFaceLandmarks()
      .withFaceDescriptors();
    return results.map((r) => ({
      box: rect(r.detection.box),
      score: r.detection.score,
      landmarks: r.landmarks.positions.map((p) => [p.x, p.y] as [number, number]),
      alignedRect: rect(r.landmarks.align(null, { useDlibAlignment: true })),
      descriptor: r.descriptor,
    }));
  } finally {
    t.dispose();
  }
}

/** Landmark net on one face crop: 68 points in crop pixels. */
export async function referenceLandmarks(crop: RgbImage): Promise<[number, number][]> {
  await initReference();
  const t = toTensor(crop);
  try {
    const lm = (await faceapi.nets.faceLandmark68Net.detectLandmarks(t as never)) as InstanceType<FaceApi['FaceLandmarks68']>;
    return lm.positions.map((p) => [p.x, p.y] as [number, number]);
  } finally {
    t.dispose();
  }
}

/** Recognition net on one face crop (padded to a square and resized to 150 as face-api does). */
export async function referenceDescriptor(crop: RgbImage): Promise<Float32Array> {
  await initReference();
  const t = toTensor(crop);
  try {
    return (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t as never)) as Float32Array;
  } finally {
    t.dispose();
  }
}
