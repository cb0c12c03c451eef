/**
 * The ONNX graphs against face-api itself (TensorFlow.js, WASM backend) on real photos of the
 * shared face set: the same faces found, the same landmarks, and — given identical input crops —
 * the same descriptors to 1e-4 per element.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { loadCatalog, requireFaces } from '@faceline/testkit';
import { createOnnxFacePipeline, type OnnxFacePipeline } from '../src/pipeline/index.js';
import { clipRect, cropImage } from '../src/pipeline/image.js';
import { iou, type Detection } from '../src/pipeline/detect.js';
import type { RgbImage } from '../src/pipeline/types.js';
import {
  initReference,
  referenceAnalyze,
  referenceDescriptor,
  referenceLandmarks,
  type ReferenceFace,
} from '../src/reference/face-api-reference.js';

const DESCRIPTOR_TOLERANCE = 1e-4;
/** the landmark net on the same crop, in pixels */
const LANDMARK_NET_TOLERANCE = 0.05;
/** end to end, where the two detectors' boxes may floor to crops a pixel apart */
const LANDMARK_CHAIN_TOLERANCE = 1.5;

interface PhotoResult {
  path: string;
  ours: Detection[];
  ref: ReferenceFace[];
  width: number;
  height: number;
}
interface FaceResult {
  path: string;
  descriptorDiff: number;
  descriptorMeanDiff: number;
  landmarkNetDiff: number;
  landmarkChainDiff: number | null;
}
const photos: PhotoResult[] = [];
const faces: FaceResult[] = [];
let pipeline: OnnxFacePipeline | undefined;

async function decode(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

const maxDistance = (a: readonly (readonly number[])[], b: readonly (readonly number[])[], dx = 0, dy = 0) =>
  Math.max(...a.map((p, i) => Math.hypot(p[0]! + dx - b[i]![0]!, p[1]! + dy - b[i]![1]!)));

before(async () => {
  const dir = requireFaces();
  const entries = loadCatalog(dir).filter((e) => e.kind === 'photo');
  // The reference has neither the padded retry nor the similarity alignment: compare like with like.
  pipeline = await createOnnxFacePipeline({ intraOpThreads: 1, alignment: 'face-api', paddedRetry: false });
  await initReference();
  for (const e of entries) {
    const img = await decode(e.file);
    const ours = await pipeline.detect(img, false);
    const ref = await referenceAnalyze(img);
    photos.push({ path: e.path, ours, ref, width: img.width, height: img.height });
    const analysed = await pipeline.analyzeDetailed(img, { largestOnly: false, maxFaces: 20, embeddings: true, minFaceSize: 1 });
    for (const f of analysed) {
      // each net alone, on the very crop the pipeline used
      const lmRef = await referenceLandmarks(cropImage(img, f.landmarkCrop));
      const descRef = await referenceDescriptor(cropImage(img, f.descriptorCrop!));
      assert.equal(f.embedding?.length, 128);
      const diffs = f.embedding!.map((v, i) => Math.abs(v - descRef[i]!));
      const match = ref.find((r) => iou(clipRect(r.box, img.width, img.height), f.box) > 0.9);
      faces.push({
        path: e.path,
        descriptorDiff: Math.max(...diffs),
        descriptorMeanDiff: diffs.reduce((a, b) => a + b, 0) / diffs.length,
        landmarkNetDiff: maxDistance(lmRef, f.landmarks, f.landmarkCrop.x, f.landmarkCrop.y),
        // face-api adds the detection box's corner to crop-relative landmarks even where the box
        // starts outside the picture and the crop was clipped; the pipeline adds the crop's corner.
        // Compare both relative to the corner each one used.
        landmarkChainDiff: match
          ? maxDistance(match.landmarks, f.landmarks, f.landmarkCrop.x - match.box.x, f.landmarkCrop.y - match.box.y)
          : null,
      });
    }
  }
});

after(async () => {
  await pipeline?.close();
});

test('the detector finds the same faces as face-api, with the same scores and boxes', (t) => {
  assert.ok(photos.length >= 80, `only ${photos.length} photos`);
  let matched = 0,
    maxScoreDiff = 0,
    minIou = 1;
  for (const { path, ours, ref } of photos) {
    const unmatched = new Set(ref.map((_, i) => i));
    for (const d of ours) {
      let best = -1,
        bestIou = 0;
      for (const i of unmatched) {
        const v = iou(d.box, ref[i]!.box);
        if (v > bestIou) [best, bestIou] = [i, v];
      }
      assert.ok(best >= 0 && bestIou > 0.9, `${path}: ONNX found a face (score ${d.score.toFixed(3)}) that face-api did not`);
      unmatched.delete(best);
      minIou = Math.min(minIou, bestIou);
      maxScoreDiff = Math.max(maxScoreDiff, Math.abs(d.score - ref[best]!.score));
      matched++;
    }
    assert.equal(unmatched.size, 0, `${path}: face-api found ${unmatched.size} face(s) that ONNX did not`);
  }
  t.diagnostic(
    `${photos.length} photos, ${matched} faces; min IoU ${minIou.toFixed(4)}, max score difference ${maxScoreDiff.toExponential(2)}`,
  );
  assert.ok(matched >= 50, `only ${matched} faces compared`);
  assert.ok(maxScoreDiff < 1e-3, `score difference ${maxScoreDiff}`);
});

test('descriptors equal face-api to 1e-4 per element given identical crops', (t) => {
  assert.ok(faces.length >= 50, `only ${faces.length} faces compared`);
  const worst = faces.reduce((w, f) => (f.descriptorDiff > w.descriptorDiff ? f : w));
  const mean = faces.reduce((a, f) => a + f.descriptorMeanDiff, 0) / faces.length;
  t.diagnostic(
    `${faces.length} faces: max |diff| ${worst.descriptorDiff.toExponential(2)} (${worst.path}), mean |diff| ${mean.toExponential(2)}`,
  );
  assert.ok(worst.descriptorDiff <= DESCRIPTOR_TOLERANCE, `${worst.path}: descriptor differs by ${worst.descriptorDiff}`);
});

test('landmarks equal face-api: the net on the same crop, and the whole chain', (t) => {
  const worstNet = faces.reduce((w, f) => (f.landmarkNetDiff > w.landmarkNetDiff ? f : w));
  const missing = faces.filter((f) => f.landmarkChainDiff === null);
  assert.equal(missing.length, 0, `no face-api face for: ${missing.map((f) => f.path).join(', ')}`);
  const worstChain = faces.reduce((w, f) => (f.landmarkChainDiff! > w.landmarkChainDiff! ? f : w));
  t.diagnostic(
    `landmark net max ${worstNet.landmarkNetDiff.toFixed(4)} px; whole chain max ${worstChain.landmarkChainDiff!.toFixed(3)} px (${worstChain.path})`,
  );
  assert.ok(worstNet.landmarkNetDiff <= LANDMARK_NET_TOLERANCE, `${worstNet.path}: landmark net differs by ${worstNet.landmarkNetDiff} px`);
  assert.ok(
    worstChain.landmarkChainDiff! <= LANDMARK_CHAIN_TOLERANCE,
    `${worstChain.path}: landmarks differ by ${worstChain.landmarkChainDiff} px`,
  );
});
