import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { descriptorDistance, MATCH_THRESHOLDS } from '@faceline/contracts';
import { loadCatalog, requireFaces } from '@faceline/testkit';
import { decodeImage } from '../src/image/decode.js';
import { createOnnxPipeline } from '../src/pipeline/index.js';
import type { FacePipeline, PipelineOptions, RgbImage } from '../src/pipeline/types.js';

let pipeline: FacePipeline;
let faces: string;
const all: PipelineOptions = { largestOnly: false, maxFaces: 20, embeddings: true, minFaceSize: 20 };
const one: PipelineOptions = { ...all, largestOnly: true };

async function load(rel: string, edit: (s: ReturnType<typeof sharp>) => ReturnType<typeof sharp> = (s) => s): Promise<RgbImage> {
  const { data, info } = await edit(sharp(path.join(faces, rel)).rotate())
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

before(async () => {
  faces = requireFaces();
  pipeline = await createOnnxPipeline({ intraOpThreads: 1 });
});
after(() => pipeline?.close());

test('analyze returns every face largest first and honours maxFaces, largestOnly, minFaceSize, embeddings', async () => {
  const img = await load('face-api.js/multi/bbt4.jpg');
  const found = await pipeline.analyze(img, all);
  assert.ok(found.length >= 5, `found ${found.length} faces`);
  const areas = found.map((f) => f.box.width * f.box.height);
  assert.deepEqual(
    areas,
    [...areas].sort((a, b) => b - a),
  );
  for (const f of found) {
    assert.equal(f.landmarks.length, 68);
    assert.equal(f.embedding?.length, 128);
    assert.ok(f.score > 0.5 && f.score <= 1);
    assert.ok(f.box.x >= 0 && f.box.y >= 0 && f.box.x + f.box.width <= img.width && f.box.y + f.box.height <= img.height);
    for (const v of Object.values(f.quality).flatMap((q) => (typeof q === 'number' ? [q] : Object.values(q))))
      assert.ok(Number.isFinite(v));
  }
  assert.equal((await pipeline.analyze(img, { ...all, maxFaces: 2 })).length, 2);
  const largest = await pipeline.analyze(img, one);
  assert.equal(largest.length, 1);
  assert.deepEqual(largest[0]!.box, found[0]!.box);
  const minSide = Math.min(found[1]!.box.width, found[1]!.box.height) + 1;
  assert.ok((await pipeline.analyze(img, { ...all, minFaceSize: minSide })).length < found.length);
  const noEmbeddings = await pipeline.analyze(img, { ...all, embeddings: false });
  assert.equal(noEmbeddings.length, found.length);
  assert.ok(noEmbeddings.every((f) => f.embedding === undefined));
});

test('no face in a picture of a room; a close-up that fills the frame is still found', async () => {
  assert.deepEqual(await pipeline.analyze(await load('human/noface/background.jpg'), all), []);
  const closeUp = await pipeline.analyze(await load('face-api.js/bbt_raj/raj1.png'), one);
  assert.equal(closeUp.length, 1);
});

test('yaw and roll change sign in the mirror image; yaw follows the turn of the head', async () => {
  // In obama1.jpg he turns to his own left (nose towards image right).
  const [face] = await pipeline.analyze(await load('face_recognition/barack_obama/obama1.jpg'), one);
  const [mirrored] = await pipeline.analyze(await load('face_recognition/barack_obama/obama1.jpg', (s) => s.flop()), one);
  assert.ok(face && mirrored);
  assert.ok(face.quality.yaw > 15, `yaw ${face.quality.yaw}`);
  assert.ok(mirrored.quality.yaw < -15, `mirrored yaw ${mirrored.quality.yaw}`);
  assert.ok(Math.abs(face.quality.roll + mirrored.quality.roll) < 3, `roll ${face.quality.roll} vs ${mirrored.quality.roll}`);
  assert.ok(face.quality.eyeOpenness.left > 0.2 && face.quality.eyeOpenness.right > 0.2);
});

test('a tilted head is levelled: roll follows the tilt and the descriptor barely moves', async () => {
  const rel = 'face_recognition/joe_biden/biden.jpg';
  const [upright] = await pipeline.analyze(await load(rel), one);
  assert.ok(upright?.embedding);
  for (const angle of [-30, 15, 30]) {
    // sharp rotates clockwise for positive angles: roll (clockwise positive) grows by the angle.
    const [tilted] = await pipeline.analyze(await load(rel, (s) => s.rotate(angle, { background: '#000' })), one);
    assert.ok(tilted?.embedding, `no face at ${angle}°`);
    const dRoll = tilted.quality.roll - upright.quality.roll;
    assert.ok(Math.abs(dRoll - angle) < 8, `roll changed by ${dRoll.toFixed(1)} for a ${angle}° tilt`);
    const d = descriptorDistance(upright.embedding, tilted.embedding);
    assert.ok(d < MATCH_THRESHOLDS.verify / 2, `descriptor moved ${d.toFixed(3)} at ${angle}°`);
  }
});

test('overlapping analyze() calls give the same results as one after the other', async () => {
  const a = await load('face_recognition/barack_obama/obama1.jpg');
  const b = await load('face-api.js/multi/bbt2.jpg');
  const [sa, sb] = [await pipeline.analyze(a, all), await pipeline.analyze(b, all)];
  const [ca, cb] = await Promise.all([pipeline.analyze(a, all), pipeline.analyze(b, all)]);
  assert.deepEqual(ca, sa);
  assert.deepEqual(cb, sb);
});

test('a buffer that does not match the size is refused', async () => {
  await assert.rejects(pipeline.analyze({ data: new Uint8Array(10), width: 4, height: 4 }, all), RangeError);
  await assert.rejects(pipeline.analyze({ data: new Uint8Array(0), width: 0, height: 0 }, all), RangeError);
});

test('the WebAssembly kernels and the baseline TypeScript code give identical analyses on every photo of the face set', async () => {
  const baseline = await createOnnxPipeline({ intraOpThreads: 1, baseline: true });
  try {
    const entries = loadCatalog(faces).filter((e) => e.kind === 'photo');
    assert.ok(entries.length >= 80, `only ${entries.length} photos`);
    let found = 0;
    for (const e of entries) {
      const img = await load(e.path);
      const now = await pipeline.analyze(img, all);
      const before = await baseline.analyze(img, all);
      // deepEqual on numbers is Object.is: every coordinate, quality figure and embedding value
      assert.deepEqual(now, before, `${e.path}: the analyses differ`);
      found += now.length;
    }
    assert.ok(found >= 80, `only ${found} faces compared`);
  } finally {
    await baseline.close();
  }
});

test('a JPEG frame decodes to the same pixels with the one-pass shortcut and with the separate header pass', async () => {
  const limits = { maxPixels: 40_000_000, maxSide: 1920 };
  for (const rel of ['face_recognition/barack_obama/obama.jpg', 'silent-face-anti-spoofing/anon_silentface_red/image_T1.jpg']) {
    const bytes = await sharp(path.join(faces, rel)).rotate().resize(640, 480, { fit: 'inside' }).jpeg().toBuffer();
    const withExif = await sharp(path.join(faces, rel)).jpeg().withMetadata().toBuffer();
    for (const b of [bytes, withExif]) {
      const one = await decodeImage(b, 'image/jpeg', limits);
      const two = await decodeImage(b, 'image/jpeg', limits, { twoPass: true });
      assert.deepEqual(
        [one.width, one.height, one.rgb.width, one.rgb.height, one.scaleX],
        [two.width, two.height, two.rgb.width, two.rgb.height, two.scaleX],
      );
      assert.ok(Buffer.from(one.rgb.data).equals(Buffer.from(two.rgb.data)), `${rel}: pixels differ`);
    }
  }
});
