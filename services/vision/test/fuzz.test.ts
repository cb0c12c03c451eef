/**
 * System fuzz test: hundreds of mutated uploads (truncated, bit-flipped, header-swapped, random,
 * mislabelled, decompression bombs) against the real service. Every answer must be a well-formed
 * success or a well-formed client error; the service must never crash or restart a worker, and
 * must give the same answer for a real photo afterwards. Deterministic (seeded) so that a failure
 * names a case that can be replayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Value } from '@sinclair/typebox/value';
import { AnalyzeResponse, ErrorBody, ErrorCode, descriptorDistance } from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';
import { analyzeRaw, startVision, type RunningService } from './support/service.js';
import { jpegClaiming, pngClaiming, prng } from './support/images.js';

const SEED = 20261126;
const CASES = 400;
const CONCURRENCY = 4;

const PHOTO = readFileSync(path.join(requireFaces(), 'face_recognition/barack_obama/obama_small.jpg'));

/** the codes each status may carry */
const EXPECTED: Record<number, string[]> = {
  400: [ErrorCode.IMAGE_EMPTY, ErrorCode.INVALID_OPTIONS, ErrorCode.VALIDATION_FAILED, ErrorCode.BAD_REQUEST],
  413: [ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.IMAGE_TOO_MANY_PIXELS],
  415: [ErrorCode.IMAGE_UNSUPPORTED_TYPE],
  422: [ErrorCode.IMAGE_CORRUPT, ErrorCode.IMAGE_TOO_SMALL],
};

interface Case {
  label: string;
  body: Uint8Array;
  contentType: string | undefined;
  multipart?: boolean;
}

const MAGIC: Record<string, number[]> = {
  jpeg: [0xff, 0xd8, 0xff, 0xe0],
  png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  webp: [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50],
  gif: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61],
  tiff: [0x49, 0x49, 0x2a, 0x00],
};
const TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'application/octet-stream',
  'image/gif',
  'text/plain',
  'application/json',
  'image/svg+xml',
  'multipart/form-data',
  'application/x-www-form-urlencoded',
  'image/jpeg; charset=utf-8',
  'IMAGE/PNG',
  '',
  undefined,
];

function makeCases(seeds: Array<[string, Buffer, string]>): Case[] {
  const rand = prng(SEED);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
  const cases: Case[] = [];
  for (let i = 0; i < CASES; i++) {
    const [name, seed, type] = pick(seeds);
    const kind = int(9);
    let body: Uint8Array = seed;
    let contentType: string | undefined = type;
    let label: string;
    switch (kind) {
      case 0: {
        const n = int(seed.length);
        body = seed.subarray(0, n);
        label = `truncate ${name} to ${n}`;
        break;
      }
      case 1: {
        const b = Buffer.from(seed);
        const flips = 1 + int(32);
        for (let f = 0; f < flips; f++) {
          const at = int(b.length);
          b[at] = b[at]! ^ (1 << int(8));
        }
        body = b;
        label = `${flips} bit flips in ${name}`;
        break;
      }
      case 2: {
        const [other, magic] = pick(Object.entries(MAGIC));
        const b = Buffer.from(seed);
        b.set(magic, 0);
        body = b;
        contentType = pick(TYPES);
        label = `${name} with a ${other} header as ${contentType}`;
        break;
      }
      case 3: {
        const n = int(8192);
        body = Uint8Array.from({ length: n }, () => int(256));
        contentType = pick(TYPES);
        label = `${n} random bytes as ${contentType}`;
        break;
      }
      case 4: {
        contentType = pick(TYPES);
        label = `${name} as ${contentType}`;
        break;
      }
      case 5: {
        const w = 1 + int(200_000);
        const h = 1 + int(200_000);
        body = pngClaiming(w, h, int(3));
        contentType = 'image/png';
        label = `PNG claiming ${w}x${h}`;
        break;
      }
      case 6: {
        const w = 1 + int(65_535);
        const h = 1 + int(65_535);
        body = jpegClaiming(PHOTO, w, h);
        contentType = 'image/jpeg';
        label = `JPEG claiming ${w}x${h}`;
        break;
      }
      case 7: {
        const b = Buffer.from(seed);
        const at = int(b.length);
        b.fill(int(256), at, Math.min(b.length, at + 1 + int(256)));
        body = b;
        label = `${name} with a filled run at ${at}`;
        break;
      }
      default: {
        const b = Buffer.from(seed);
        const at = int(b.length);
        b[at] = int(256);
        body = b.subarray(0, b.length - int(64));
        contentType = pick(TYPES) ?? 'application/octet-stream';
        label = `multipart: slightly damaged ${name} as ${contentType}`;
        cases.push({ label, body, contentType, multipart: true });
        continue;
      }
    }
    cases.push({ label, body, contentType });
  }
  return cases;
}

async function send(svc: RunningService, c: Case) {
  if (!c.multipart) return analyzeRaw(svc, c.body, { contentType: c.contentType });
  const form = new FormData();
  form.append('image', new Blob([c.body], c.contentType ? { type: c.contentType } : {}), 'upload');
  const res = await fetch(`${svc.url}/v1/analyze`, { method: 'POST', body: form });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text), text };
}

test(`fuzz: ${CASES} mutated uploads get well-formed answers and the service survives`, async (t) => {
  const svc = await startVision({ VISION_WORKERS: '2' });
  t.after(() => svc.stop());

  const before = await analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' });
  assert.equal(before.status, 200);
  const small = sharp(PHOTO).resize(160);
  const seeds: Array<[string, Buffer, string]> = [
    ['jpeg', PHOTO, 'image/jpeg'],
    ['png', await small.clone().png().toBuffer(), 'image/png'],
    ['webp', await small.clone().webp().toBuffer(), 'image/webp'],
    ['progressive jpeg', await small.clone().jpeg({ progressive: true }).toBuffer(), 'image/jpeg'],
  ];
  const cases = makeCases(seeds);
  // decompression bombs under the pixel limit: a few KB that decode to 36 MP; slow but bounded
  for (const side of [6000, 4000]) {
    cases.push({ label: `zero-filled ${side}x${side} PNG bomb`, body: pngClaiming(side, side, side), contentType: 'image/png' });
  }

  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i]!;
      const r = await send(svc, c);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const what = `case ${i} (${c.label}) -> ${r.status} ${r.text.slice(0, 200)}`;
      if (r.status === 200) {
        assert.ok(Value.Check(AnalyzeResponse, r.json), what);
      } else {
        assert.ok(EXPECTED[r.status], what);
        assert.ok(Value.Check(ErrorBody, r.json), what);
        assert.ok(EXPECTED[r.status]!.includes(r.json.error.code), what);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(415) ?? 0) > 0 && (statuses.get(422) ?? 0) > 0 && (statuses.get(413) ?? 0) > 0);

  assert.equal(svc.proc.exitCode, null, 'the service is still running');
  const after = await analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' });
  assert.equal(after.status, 200);
  assert.equal(after.json.faces.length, 1);
  assert.ok(descriptorDistance(after.json.faces[0].embedding, before.json.faces[0].embedding) < 1e-6, 'same answer as before the fuzzing');
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  assert.doesNotMatch(metrics, /vision_worker_restarts_total\{/, 'no worker was replaced');
  assert.doesNotMatch(metrics, /vision_analyze_errors_total\{code="INTERNAL"\}/);
});
