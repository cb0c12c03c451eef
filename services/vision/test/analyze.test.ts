/**
 * System test: the real vision service (child process, real ONNX models, real worker threads)
 * analyses real photos from the shared face set over HTTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { AnalyzeResponse, MATCH_THRESHOLDS, descriptorDistance, type Face } from '@faceline/contracts';
import { loadCatalog, requireFaces, type CatalogEntry } from '@faceline/testkit';
import { analyzeRaw, startVision, type RunningService } from './support/service.js';

requireFaces();
const catalog = loadCatalog();
const entry = (p: string): CatalogEntry => {
  const e = catalog.find((c) => c.path === p);
  if (!e) throw new Error(`${p} is not in CATALOG.tsv`);
  return e;
};
const bytesOf = (p: string) => readFileSync(entry(p).file);

/** Portrait photos of four people, one face each (face_recognition's test set). */
const PEOPLE: Record<string, string[]> = {
  barack_obama: ['obama.jpg', 'obama1.jpg', 'obama2.jpg', 'obama3.jpg', 'obama_small.jpg'].map((f) => `face_recognition/barack_obama/${f}`),
  joe_biden: ['biden.jpg', 'biden2.jpg'].map((f) => `face_recognition/joe_biden/${f}`),
  kit_harington: ['john1.jpeg', 'john2.jpeg'].map((f) => `face_recognition/kit_harington/${f}`),
  rose_leslie: ['img1.jpg', 'img2.jpg'].map((f) => `face_recognition/rose_leslie/${f}`),
};

let svc: RunningService;
const cache = new Map<string, AnalyzeResponse>();

async function analyze(p: string, query = ''): Promise<AnalyzeResponse> {
  const key = `${p}?${query}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const e = entry(p);
  const type = e.path.endsWith('.png') ? 'image/png' : 'image/jpeg';
  const r = await analyzeRaw(svc, bytesOf(p), { contentType: type, query });
  assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 300)}`);
  assert.ok(Value.Check(AnalyzeResponse, r.json), `${p}: answer does not match AnalyzeResponse`);
  cache.set(key, r.json);
  return r.json;
}

const area = (f: Face) => f.box.width * f.box.height;
const largest = (faces: Face[]) => faces.reduce((a, b) => (area(b) > area(a) ? b : a));
function iou(a: Face['box'], b: Face['box']): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

before(async () => {
  svc = await startVision({ VISION_WORKERS: '2' });
});
after(async () => {
  const code = await svc?.stop();
  assert.equal(code, 0, 'graceful exit');
});

describe('recognition on real photos', () => {
  test('one face per portrait, with landmarks, quality and a raw 128-D embedding', async () => {
    for (const paths of Object.values(PEOPLE)) {
      for (const p of paths) {
        const r = await analyze(p);
        assert.equal(r.faces.length, 1, `${p}: ${r.faces.length} faces`);
        const [f] = r.faces;
        const e = entry(p);
        assert.deepEqual([r.image.width, r.image.height, r.image.type], [e.width, e.height, 'image/jpeg']);
        assert.equal(f!.embedding?.length, 128);
        assert.equal(f!.landmarks.length, 68);
        // coordinates are source pixels, inside the image, even when it was downscaled for detection
        assert.ok(f!.box.x >= -f!.box.width * 0.2 && f!.box.x + f!.box.width <= e.width * 1.05, `${p}: box ${JSON.stringify(f!.box)}`);
        assert.ok(f!.box.y >= -f!.box.height * 0.2 && f!.box.y + f!.box.height <= e.height * 1.05, `${p}: box ${JSON.stringify(f!.box)}`);
        assert.ok(f!.quality.faceSizePx >= 40);
      }
    }
    const r = await analyze(PEOPLE.barack_obama![0]!);
    assert.equal(r.model.embeddingNormalized, false);
    assert.equal(r.model.embeddingDimensions, 128);
    const norm = Math.hypot(...r.faces[0]!.embedding!);
    assert.ok(Math.abs(norm - 1) > 0.01, `raw (not unit-length) descriptor, norm ${norm}`);
    assert.ok(r.timings.totalMs >= r.timings.inferenceMs && r.timings.inferenceMs > 0 && r.timings.decodeMs > 0);
  });

  test(`the same person matches (distance < ${MATCH_THRESHOLDS.verify}); different people do not`, async () => {
    const all: Array<{ who: string; p: string; e: number[] }> = [];
    for (const [who, paths] of Object.entries(PEOPLE)) {
      for (const p of paths) all.push({ who, p, e: (await analyze(p)).faces[0]!.embedding! });
    }
    let same = 0;
    let different = 0;
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const a = all[i]!;
        const b = all[j]!;
        const d = descriptorDistance(a.e, b.e);
        if (a.who === b.who) {
          same++;
          assert.ok(d < MATCH_THRESHOLDS.verify, `${a.p} vs ${b.p}: same person at distance ${d.toFixed(3)}`);
        } else {
          different++;
          assert.ok(d >= MATCH_THRESHOLDS.verify, `${a.p} vs ${b.p}: different people at distance ${d.toFixed(3)}`);
        }
      }
    }
    assert.equal(same, 10 + 1 + 1 + 1);
    assert.ok(different > 40);
  });

  test('a printed photo and a screen replay still yield a face (spoofing is judged by the login flow, not here)', async () => {
    const spoofs = catalog.filter((e) => e.kind === 'spoof_print' || e.kind === 'spoof_screen');
    assert.ok(spoofs.length >= 2);
    for (const s of spoofs) {
      const r = await analyze(s.path);
      assert.equal(r.faces.length, 1, s.path);
      assert.equal(r.faces[0]!.embedding?.length, 128);
    }
  });

  test('pictures without a human face yield an empty list', async () => {
    // (liveportrait/noface/s22.jpg, a monkey, is found as a face by the tiny detector: a model matter, not this service's)
    for (const p of [
      'face-api.js/noface/white.png',
      'human/noface/background.jpg',
      'liveportrait/noface/s25.jpg',
      'liveportrait/noface/s40.jpg',
    ]) {
      assert.equal(entry(p).kind, 'noface');
      const r = await analyze(p);
      assert.deepEqual(r.faces, [], p);
    }
    // s25.jpg is a PNG under a .jpg name, sent here as image/jpeg: the bytes decide
    assert.equal((await analyze('liveportrait/noface/s25.jpg')).image.type, 'image/png');
  });

  test('group photos yield several faces, largest first; largestOnly and maxFaces limit them', async () => {
    for (const [p, atLeast] of [
      ['face_recognition/multi/two_people.jpg', 2],
      ['face_recognition/multi/kit_with_rose.jpg', 2],
      ['face-api.js/multi/bbt4.jpg', 4],
    ] as const) {
      const all = await analyze(p);
      assert.ok(all.faces.length >= atLeast, `${p}: ${all.faces.length} faces`);
      const areas = all.faces.map(area);
      assert.deepEqual(
        areas,
        [...areas].sort((a, b) => b - a),
        `${p}: largest first`,
      );

      const one = await analyze(p, 'largestOnly=true');
      assert.equal(one.faces.length, 1, p);
      assert.ok(iou(one.faces[0]!.box, largest(all.faces).box) > 0.95, `${p}: largestOnly returns the largest face`);

      const two = await analyze(p, 'maxFaces=2&embeddings=false');
      assert.equal(two.faces.length, 2);
      assert.ok(
        two.faces.every((f) => f.embedding === undefined),
        'embeddings=false leaves them out',
      );
    }
  });

  test('minFaceSize (source pixels) drops smaller faces', async () => {
    const p = 'face-api.js/multi/bbt4.jpg';
    const all = await analyze(p, 'minFaceSize=16');
    const sizes = all.faces.map((f) => f.quality.faceSizePx).sort((a, b) => a - b);
    const cut = Math.ceil(sizes[Math.floor(sizes.length / 2)]! + 1);
    const big = await analyze(p, `minFaceSize=${cut}`);
    assert.ok(big.faces.length < all.faces.length, `${big.faces.length} of ${all.faces.length} at ${cut}`);
    assert.ok(big.faces.every((f) => f.quality.faceSizePx >= cut - 1));
  });

  test('EXIF-rotated originals give the same faces as their upright copies', async () => {
    const pairs = catalog.filter((e) => e.path.startsWith('silent-face-anti-spoofing/') && /\/image_\w+\d\.jpg$/.test(e.path));
    assert.ok(pairs.length >= 3);
    for (const o of pairs) {
      const u = entry(o.path.replace(/\.jpg$/, '_upright.jpg'));
      const [ro, ru] = [await analyze(o.path), await analyze(u.path)];
      assert.deepEqual([ro.image.width, ro.image.height], [ru.image.width, ru.image.height], `${o.path}: upright size`);
      assert.deepEqual([ro.image.width, ro.image.height], [480, 640]);
      assert.equal(ro.faces.length, ru.faces.length, o.path);
      assert.ok(ro.faces.length >= 1);
      assert.ok(iou(ro.faces[0]!.box, ru.faces[0]!.box) > 0.9, `${o.path}: boxes ${JSON.stringify([ro.faces[0]!.box, ru.faces[0]!.box])}`);
      const d = descriptorDistance(ro.faces[0]!.embedding!, ru.faces[0]!.embedding!);
      assert.ok(d < 0.15, `${o.path}: descriptor distance to upright copy ${d.toFixed(3)}`);
    }
  });

  test('the same image as multipart/form-data, as octet-stream, as PNG and as WebP gives the same face', async () => {
    const p = 'face_recognition/barack_obama/obama_small.jpg';
    const raw = await analyze(p);
    const form = new FormData();
    form.append('note', 'ignored text field');
    form.append('image', new Blob([bytesOf(p)], { type: 'image/jpeg' }), 'obama_small.jpg');
    const res = await fetch(`${svc.url}/v1/analyze`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    const viaForm = (await res.json()) as AnalyzeResponse;
    assert.ok(descriptorDistance(viaForm.faces[0]!.embedding!, raw.faces[0]!.embedding!) < 1e-6);

    const octet = await analyzeRaw(svc, bytesOf(p), { contentType: 'application/octet-stream' });
    assert.equal(octet.json.image.type, 'image/jpeg');
    assert.ok(descriptorDistance(octet.json.faces[0].embedding, raw.faces[0]!.embedding!) < 1e-6);

    const sharp = (await import('sharp')).default;
    for (const [type, buf] of [
      ['image/png', await sharp(bytesOf(p)).png().toBuffer()],
      ['image/webp', await sharp(bytesOf(p)).webp({ lossless: true }).toBuffer()],
    ] as const) {
      const r = await analyzeRaw(svc, buf, { contentType: type });
      assert.equal(r.status, 200, type);
      assert.equal(r.json.image.type, type);
      // the same pixels (JPEG decoded once, then stored losslessly) give the same descriptor
      assert.ok(descriptorDistance(r.json.faces[0].embedding, raw.faces[0]!.embedding!) < 0.01, type);
    }
  });

  test('health, readiness, metrics and the OpenAPI document', async () => {
    const h = await fetch(`${svc.url}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { status: string }).status, 'ok');
    const ready = (await (await fetch(`${svc.url}/readyz`)).json()) as { status: string; checks: Record<string, string> };
    assert.deepEqual([ready.status, ready.checks.workers], ['ok', '2/2 ready']);

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const okCount = Number(/vision_http_requests_total\{method="POST",route="\/v1\/analyze",status_code="200"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(okCount >= cache.size, `${okCount} analyses counted`);
    for (const name of [
      'vision_inference_duration_seconds_count',
      'vision_queue_depth',
      'vision_workers{state="idle"}',
      'vision_worker_busy_seconds_total',
      'vision_http_request_duration_seconds_bucket',
    ]) {
      assert.ok(metrics.includes(name), `metrics include ${name}`);
    }

    const served = await (await fetch(`${svc.url}/openapi.json`)).json();
    const checkedIn = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
    assert.deepEqual(served, checkedIn, 'served OpenAPI equals services/vision/openapi.json');
  });
});
