/**
 * The face pipeline on ONNX Runtime: detect → 68 landmarks → aligned 150x150 crop → quality →
 * 128-D embedding. The graphs are built in memory from face-api's weights at start-up.
 */
import ort from 'onnxruntime-node';
import type { Face, ModelInfo } from '@faceline/contracts';
import { CHIP_SIZE, chipTransform, faceApiAlignedRect, type Pt } from './align.js';
import { decodeDetections, DETECTOR_MEAN, type Detection } from './detect.js';
import {
  boxDownsample,
  chwToRgb,
  clipRect,
  cropImage,
  normalizeToChw,
  squareResizeNormalize,
  warpBilinear,
  type Affine,
  type Canvas,
  type IntRect,
  type Rgb3,
} from './image.js';
import {
  buildDetector,
  buildLandmarkNet,
  buildRecognitionNet,
  DETECTOR_GRID,
  DETECTOR_INPUT,
  LANDMARK_INPUT,
  RECOGNITION_INPUT,
  type BuiltNet,
} from './nets.js';
import { cropStats, eyeOpenness, headPose } from './quality.js';
import { SquareResizer } from './resize-kernel.js';
import { ChipSampler } from './chip-kernel.js';
import { faceTexture, TEXTURE_SIZE } from './face-texture.js';
import type { FacePipeline, PipelineOptions, PipelineSettings, RgbImage } from './types.js';
import { faceApiModelDir, loadWeights } from './weights.js';

/** face-api's mean colour for the landmark and recognition nets. */
export const FACE_MEAN: Rgb3 = [122.782, 117.001, 104.298];

/** Where the time of the last analyze() call went, in milliseconds. */
export interface NetTimings {
  /** the detector's input tensor (pad, resize, normalise), every pass */
  detectorInputMs: number;
  /** the detector net itself (ONNX Runtime), every pass */
  detectorMs: number;
  landmarksInputMs: number;
  landmarksMs: number;
  /** alignment, the aligned chip and its tensor, sharpness and brightness */
  chipMs: number;
  recognitionMs: number;
}

const noTimings = (): NetTimings => ({
  detectorInputMs: 0,
  detectorMs: 0,
  landmarksInputMs: 0,
  landmarksMs: 0,
  chipMs: 0,
  recognitionMs: 0,
});

class OnnxNet {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly net: BuiltNet,
  ) {}

  static async create(net: BuiltNet, settings: PipelineSettings): Promise<OnnxNet> {
    const session = await ort.InferenceSession.create(net.bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: Math.max(1, settings.intraOpThreads),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // A spinning intra-op thread competes with the JS pre/post-processing on small machines.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    return new OnnxNet(session, net);
  }

  async run(input: Float32Array): Promise<Float32Array> {
    const tensor = new ort.Tensor('float32', input, this.net.inputDims);
    const out = await this.session.run({ [this.net.input]: tensor });
    const result = out[this.net.output]!;
    const data = result.data as Float32Array;
    tensor.dispose?.();
    return data;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export type AlignmentMode = 'similarity' | 'face-api';

export interface FaceAnalysis extends Face {
  /** the integer crop the landmark net saw (source pixels) */
  landmarkCrop: IntRect;
  /** with alignment 'face-api': the integer crop the recognition net saw */
  descriptorCrop?: IntRect;
}

export class OnnxFacePipeline implements FacePipeline {
  readonly info: ModelInfo;
  /**
   * Time spent in each net (with its pre-processing) during the last analyze() call.
   * detect(), landmarks() and embed() are building blocks for tests and tools: they share
   * buffers, so do not run them concurrently with each other or with analyze().
   */
  lastTimings: NetTimings = noTimings();
  private readonly detIn = new Float32Array(3 * DETECTOR_INPUT * DETECTOR_INPUT);
  private readonly lmIn = new Float32Array(3 * LANDMARK_INPUT * LANDMARK_INPUT);
  private readonly recIn = new Float32Array(3 * RECOGNITION_INPUT * RECOGNITION_INPUT);
  private readonly chipRgb = new Float32Array(3 * CHIP_SIZE * CHIP_SIZE);
  private readonly chipValid = new Uint8Array(CHIP_SIZE * CHIP_SIZE);
  /** WebAssembly resizers for the nets' inputs; absent in the baseline configuration */
  private readonly resizers: { det: SquareResizer; lm: SquareResizer; rec: SquareResizer } | undefined;
  private readonly chips: ChipSampler | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly detector: OnnxNet,
    private readonly landmarkNet: OnnxNet,
    private readonly recognition: OnnxNet,
    readonly settings: Required<PipelineSettings>,
  ) {
    this.info = {
      detector: 'face-api tiny_face_detector (inputSize 416)',
      landmarks: 'face-api face_landmark_68',
      embedding: `face-api face_recognition (dlib ResNet, 150x150 ${settings.alignment === 'similarity' ? 'similarity-aligned' : 'face-api'} crop)`,
      embeddingDimensions: 128,
      embeddingNormalized: false,
      runtime: `onnxruntime-node ${ort.env.versions.node ?? ''}`.trim(),
    };
    if (!settings.baseline) {
      this.resizers = {
        det: new SquareResizer(DETECTOR_INPUT),
        lm: new SquareResizer(LANDMARK_INPUT),
        rec: new SquareResizer(RECOGNITION_INPUT),
      };
      this.chips = new ChipSampler(CHIP_SIZE);
    }
  }

  /** The net input for `rect` padded to a square: bit for bit the same from either implementation. */
  private squareInput(
    img: RgbImage,
    rect: IntRect,
    centred: boolean,
    size: number,
    mean: Rgb3,
    fallback: Float32Array,
    canvas?: Canvas,
  ): Float32Array {
    const r = this.resizers;
    if (!r) {
      squareResizeNormalize(img, rect, centred, size, mean, fallback, canvas);
      return fallback;
    }
    const resizer = size === DETECTOR_INPUT ? r.det : size === LANDMARK_INPUT ? r.lm : r.rec;
    return resizer.run(img, rect, centred, mean, canvas);
  }

  /**
   * Detector: boxes in source pixels, highest score first. The first pass is face-api's (picture
   * padded bottom/right to a square). The tiny detector misses faces that fill most of the frame
   * (close-ups, tight crops), so when it finds nothing and `paddedRetry` is on, it looks again with
   * the picture centred on a grey canvas 2x and then 3x its longer side.
   */
  async detect(img: RgbImage, paddedRetry = this.settings.paddedRetry): Promise<Detection[]> {
    checkImage(img);
    const whole = { x: 0, y: 0, width: img.width, height: img.height };
    for (const margin of paddedRetry ? [0, 0.5, 1] : [0]) {
      const t0 = performance.now();
      let canvas: Canvas | undefined;
      if (margin > 0) {
        const side = Math.round(Math.max(img.width, img.height) * (1 + 2 * margin));
        canvas = { side, offsetX: Math.round((side - img.width) / 2), offsetY: Math.round((side - img.height) / 2), fill: 128 };
      }
      const input = this.squareInput(img, whole, false, DETECTOR_INPUT, DETECTOR_MEAN, this.detIn, canvas);
      const t1 = performance.now();
      this.lastTimings.detectorInputMs += t1 - t0;
      const out = await this.detector.run(input);
      this.lastTimings.detectorMs += performance.now() - t1;
      if (!canvas) {
        const found = decodeDetections(out, DETECTOR_GRID, DETECTOR_INPUT, img.width, img.height, this.settings.scoreThreshold);
        if (found.length) return found;
        continue;
      }
      const c = canvas;
      const found = decodeDetections(out, DETECTOR_GRID, DETECTOR_INPUT, c.side, c.side, this.settings.scoreThreshold)
        .map((d) => ({ score: d.score, box: { ...d.box, x: d.box.x - c.offsetX, y: d.box.y - c.offsetY } }))
        .filter((d) => clipRect(d.box, img.width, img.height).width > 0 && clipRect(d.box, img.width, img.height).height > 0);
      if (found.length) return found;
    }
    return [];
  }

  /** Landmark net on an integer crop of the image (face-api: centred square padding, 112 px). */
  async landmarks(img: RgbImage, crop: IntRect): Promise<Pt[]> {
    const t0 = performance.now();
    const input = this.squareInput(img, crop, true, LANDMARK_INPUT, FACE_MEAN, this.lmIn);
    const t1 = performance.now();
    this.lastTimings.landmarksInputMs += t1 - t0;
    const out = await this.landmarkNet.run(input);
    this.lastTimings.landmarksMs += performance.now() - t1;
    // face-api FaceLandmark68NetBase.postProcess: undo the centred padding, relative to the crop.
    const scale = LANDMARK_INPUT / Math.max(crop.width, crop.height);
    const sw = crop.width * scale;
    const sh = crop.height * scale;
    const padX = sw < sh ? Math.abs(sw - sh) / 2 : 0;
    const padY = sh < sw ? Math.abs(sw - sh) / 2 : 0;
    const pts: Pt[] = [];
    for (let i = 0; i < 68; i++) {
      const rx = (out[2 * i]! * LANDMARK_INPUT - padX) / sw;
      const ry = (out[2 * i + 1]! * LANDMARK_INPUT - padY) / sh;
      pts.push([rx * crop.width + crop.x, ry * crop.height + crop.y]);
    }
    return pts;
  }

  /** Recognition net on a prepared, normalised 150x150 CHW tensor. */
  async embed(chw: Float32Array): Promise<Float32Array> {
    const t0 = performance.now();
    const out = await this.recognition.run(chw);
    this.lastTimings.recognitionMs += performance.now() - t0;
    return Float32Array.from(out);
  }

  /** face-api's descriptor input: an integer crop padded centred to a square and resized to 150. */
  prepareFaceApiCrop(img: RgbImage, crop: IntRect): Float32Array {
    return this.squareInput(img, crop, true, RECOGNITION_INPUT, FACE_MEAN, this.recIn);
  }

  /**
   * The similarity-aligned chip (dlib face chip geometry): float RGB with its validity mask, the
   * recognition net's input tensor, and the chip's sharpness and brightness (see cropStats()).
   * The arrays are reused by the next call.
   */
  alignChip(
    img: RgbImage,
    lm: readonly Pt[],
  ): { rgb: Float32Array; valid: Uint8Array; tensor: Float32Array; sharpness: number; brightness: number } {
    const { src, map } = chipSource(img, lm);
    if (this.chips) return this.chips.sample(src, map, FACE_MEAN);
    warpBilinear(src, map, CHIP_SIZE, this.chipRgb, this.chipValid);
    normalizeToChw(this.chipRgb, CHIP_SIZE, FACE_MEAN, this.recIn);
    return { rgb: this.chipRgb, valid: this.chipValid, tensor: this.recIn, ...cropStats(this.chipRgb, CHIP_SIZE, this.chipValid) };
  }

  async analyze(img: RgbImage, options: PipelineOptions): Promise<Face[]> {
    const faces = await this.analyzeDetailed(img, options);
    return faces.map(({ landmarkCrop: _l, descriptorCrop: _d, ...face }) => face);
  }

  /**
   * Like analyze(), with the crops each net saw. Calls are serialised: the pipeline reuses its
   * input buffers, so overlapping calls (a caller that does not wait) queue instead of mixing.
   */
  analyzeDetailed(img: RgbImage, options: PipelineOptions): Promise<FaceAnalysis[]> {
    const run = this.queue.then(() => this.analyzeNow(img, options));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async analyzeNow(img: RgbImage, options: PipelineOptions): Promise<FaceAnalysis[]> {
    this.lastTimings = noTimings();
    const detections = await this.detect(img);
    const area = (d: Detection) => d.box.width * d.box.height;
    let chosen = detections
      .map((d) => ({ d, crop: clipRect(d.box, img.width, img.height) }))
      .filter(({ crop }) => crop.width > 0 && crop.height > 0 && Math.min(crop.width, crop.height) >= options.minFaceSize)
      .sort((p, q) => area(q.d) - area(p.d));
    chosen = chosen.slice(0, options.largestOnly ? 1 : Math.max(0, options.maxFaces));
    const result: FaceAnalysis[] = [];
    for (const { d, crop } of chosen) {
      const landmarks = await this.landmarks(img, crop);
      let descriptorCrop: IntRect | undefined;
      const tChip = performance.now();
      let recIn: Float32Array;
      let stats: { sharpness: number; brightness: number };
      if (this.settings.alignment === 'face-api') {
        descriptorCrop = clipRect(faceApiAlignedRect(landmarks, crop.width, crop.height), img.width, img.height);
        if (descriptorCrop.width <= 0 || descriptorCrop.height <= 0) continue;
        recIn = this.prepareFaceApiCrop(img, descriptorCrop);
        chwToRgb(recIn, RECOGNITION_INPUT, FACE_MEAN, this.chipRgb);
        stats = cropStats(this.chipRgb, CHIP_SIZE);
      } else {
        const chip = this.alignChip(img, landmarks);
        recIn = chip.tensor;
        stats = chip;
      }
      this.lastTimings.chipMs += performance.now() - tChip;
      const pose = headPose(landmarks);
      const face: FaceAnalysis = {
        box: { x: crop.x, y: crop.y, width: crop.width, height: crop.height },
        score: d.score,
        landmarks: landmarks.map((p) => [p[0], p[1]] as [number, number]),
        quality: {
          faceSizePx: Math.min(crop.width, crop.height),
          sharpness: stats.sharpness,
          brightness: stats.brightness,
          yaw: pose.yaw,
          pitch: pose.pitch,
          roll: pose.roll,
          eyeOpenness: eyeOpenness(landmarks),
        },
        landmarkCrop: crop,
      };
      if (descriptorCrop) face.descriptorCrop = descriptorCrop;
      if (options.embeddings) face.embedding = Array.from(await this.embed(recIn));
      if (options.texture)
        face.texture = {
          size: TEXTURE_SIZE,
          data: Buffer.from(faceTexture(img.data, img.width, img.height, landmarks)).toString('base64'),
        };
      result.push(face);
    }
    return result;
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.release(), this.landmarkNet.release(), this.recognition.release()]);
  }
}

/**
 * The face at the resolution the picture was analysed in (the decoded frame, downscaled only
 * beyond VISION_MAX_SIDE), for signals that need its pixels rather than the 150 px chip (eye-region
 * appearance, a face texture): the landmarks' bounding box grown by `margin` of its size on every
 * side, clipped to the picture, as its own RGB image, with the 68 landmarks in its coordinates.
 * One copy of the region, no resampling. In analyzeNow() `img` and `landmarks` are exactly what
 * this needs, right after the landmark net.
 */
export function faceRegion(
  img: RgbImage,
  landmarks: readonly Pt[],
  margin = 0.25,
): { region: RgbImage; origin: { x: number; y: number }; landmarks: Pt[] } {
  const xs = landmarks.map((p) => p[0]);
  const ys = landmarks.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const mx = (maxX - minX) * margin;
  const my = (maxY - minY) * margin;
  const x0 = Math.max(0, Math.floor(minX - mx));
  const y0 = Math.max(0, Math.floor(minY - my));
  const x1 = Math.min(img.width, Math.ceil(maxX + mx) + 1);
  const y1 = Math.min(img.height, Math.ceil(maxY + my) + 1);
  const rect = { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
  return {
    region: cropImage(img, rect),
    origin: { x: x0, y: y0 },
    landmarks: landmarks.map((p) => [p[0] - x0, p[1] - y0] as Pt),
  };
}

/**
 * Where the chip is sampled from: the picture itself, or for a large face a box-filtered copy of
 * the region around it (so that the 150 px chip does not alias), with the map adjusted to it.
 */
export function chipSource(img: RgbImage, lm: readonly Pt[]): { src: RgbImage; map: Affine } {
  const { map, scale } = chipTransform(lm, CHIP_SIZE);
  const factor = Math.floor(1 / scale);
  if (factor < 2) return { src: img, map };
  const corners = [
    [0, 0],
    [CHIP_SIZE, 0],
    [0, CHIP_SIZE],
    [CHIP_SIZE, CHIP_SIZE],
  ].map(([u, v]) => [map.a * u! + map.b * v! + map.c, map.d * u! + map.e * v! + map.f]);
  const xs = corners.map((c) => c[0]!);
  const ys = corners.map((c) => c[1]!);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)) - factor);
  const y0 = Math.max(0, Math.floor(Math.min(...ys)) - factor);
  const x1 = Math.min(img.width, Math.ceil(Math.max(...xs)) + factor);
  const y1 = Math.min(img.height, Math.ceil(Math.max(...ys)) + factor);
  if (x1 - x0 < factor || y1 - y0 < factor) return { src: img, map };
  const src = boxDownsample(img, { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, factor);
  // Block (i, j) covers source pixels [x0 + i*f, x0 + (i+1)*f): its centre is x0 + i*f + (f-1)/2.
  const off = (factor - 1) / 2;
  return {
    src,
    map: {
      a: map.a / factor,
      b: map.b / factor,
      c: (map.c - x0 - off) / factor,
      d: map.d / factor,
      e: map.e / factor,
      f: (map.f - y0 - off) / factor,
    },
  };
}

function checkImage(img: RgbImage): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1)
    throw new RangeError(`invalid image size ${img.width}x${img.height}`);
  if (img.data.length !== img.width * img.height * 3)
    throw new RangeError(`RGB buffer has ${img.data.length} bytes, expected ${img.width * img.height * 3}`);
}

/** Builds the three graphs from face-api's weight files and opens one ONNX Runtime session per net. */
export async function createOnnxFacePipeline(settings: PipelineSettings): Promise<OnnxFacePipeline> {
  const full: Required<PipelineSettings> = {
    intraOpThreads: settings.intraOpThreads,
    alignment: settings.alignment ?? 'similarity',
    scoreThreshold: settings.scoreThreshold ?? 0.5,
    paddedRetry: settings.paddedRetry ?? true,
    modelDir: settings.modelDir ?? faceApiModelDir(),
    baseline: settings.baseline ?? false,
  };
  const [det, lm, rec] = await Promise.all([
    loadWeights('tiny_face_detector_model', full.modelDir),
    loadWeights('face_landmark_68_model', full.modelDir),
    loadWeights('face_recognition_model', full.modelDir),
  ]);
  const [d, l, r] = await Promise.all([
    OnnxNet.create(buildDetector(det), full),
    OnnxNet.create(buildLandmarkNet(lm), full),
    OnnxNet.create(buildRecognitionNet(rec), full),
  ]);
  return new OnnxFacePipeline(d, l, r, full);
}
