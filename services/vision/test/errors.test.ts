/**
 * System test: every kind of bad input gets its stable error code and status from the real
 * service, nothing crashes, and the service still analyses a real photo afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Value } from '@sinclair/typebox/value';
import { ErrorBody, ErrorCode } from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';
import { analyzeRaw, startVision, type RunningService } from './support/service.js';
import { jpegClaiming, pngClaiming } from './support/images.js';

const faces = requireFaces();
const PHOTO = readFileSync(path.join(faces, 'face_recognition/barack_obama/obama_small.jpg'));
const MB = 1024 * 1024;

let svc: RunningService;
before(async () => {
  svc = await startVision({ VISION_WORKERS: '1' });
});
after(async () => {
  assert.equal(await svc?.stop(), 0);
});

async function expectError(res: Awaited<ReturnType<typeof analyzeRaw>>, status: number, code: string, what: string) {
  assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  assert.ok(Value.Check(ErrorBody, res.json), `${what}: error body shape`);
  assert.equal(res.json.error.code, code, `${what}: ${res.json.error.message}`);
  assert.equal(res.json.error.retryable, false, what);
}

describe('bad images', () => {
  test('empty bodies: 400 IMAGE_EMPTY', async () => {
    await expectError(await analyzeRaw(svc, new Uint8Array(0), { contentType: 'image/jpeg' }), 400, ErrorCode.IMAGE_EMPTY, 'empty jpeg');
    await expectError(await analyzeRaw(svc, new Uint8Array(0)), 400, ErrorCode.IMAGE_EMPTY, 'no body, no type');
  });

  test('unsupported formats and non-images: 415 IMAGE_UNSUPPORTED_TYPE, whatever the label', async () => {
    const gif = await sharp(PHOTO).gif().toBuffer();
    const tiff = await sharp(PHOTO).tiff().toBuffer();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><circle r="9"/></svg>');
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF');
    const cases: Array<[Uint8Array, string | undefined, string]> = [
      [gif, 'image/gif', 'gif as image/gif'],
      [gif, 'image/jpeg', 'gif labelled jpeg'],
      [tiff, 'image/jpeg', 'tiff labelled jpeg'],
      [tiff, 'image/tiff', 'tiff as image/tiff'],
      [svg, 'application/octet-stream', 'svg as octet-stream'],
      [svg, 'image/svg+xml', 'svg as image/svg+xml'],
      [pdf, 'application/pdf', 'pdf'],
      [Buffer.from('hello, this is text'), 'text/plain', 'text'],
      [Buffer.from('{"image":"base64..."}'), 'application/json', 'json'],
      [PHOTO, 'text/plain', 'a real photo labelled text/plain'],
      [Buffer.from('random words, no image'), 'application/octet-stream', 'octet-stream text'],
      [PHOTO, undefined, 'a body without Content-Type'],
    ];
    for (const [body, type, what] of cases) {
      await expectError(await analyzeRaw(svc, body, { contentType: type }), 415, ErrorCode.IMAGE_UNSUPPORTED_TYPE, what);
    }
  });

  test('truncated and corrupt images: 422 IMAGE_CORRUPT', async () => {
    const png = await sharp(PHOTO).png().toBuffer();
    const webp = await sharp(PHOTO).webp().toBuffer();
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x5a)]);
    const cases: Array<[Uint8Array, string, string]> = [
      [PHOTO.subarray(0, PHOTO.length >> 1), 'image/jpeg', 'half a JPEG'],
      [PHOTO.subarray(0, 200), 'image/jpeg', 'JPEG header only'],
      [png.subarray(0, png.length - 5000), 'image/png', 'truncated PNG'],
      [webp.subarray(0, webp.length >> 1), 'image/webp', 'truncated WebP'],
      [garbage, 'image/jpeg', 'JPEG magic then garbage'],
      [pngClaiming(640, 480), 'image/png', 'PNG header without pixel data'],
      // libpng refuses sides over 1,000,000 px as a corrupt header before any size check
      [pngClaiming(2 ** 31 - 1, 1000), 'image/png', 'PNG header claiming 2^31 wide'],
    ];
    for (const [body, type, what] of cases) {
      await expectError(await analyzeRaw(svc, body, { contentType: type }), 422, ErrorCode.IMAGE_CORRUPT, what);
    }
  });

  test('images smaller than 16 px on a side: 422 IMAGE_TOO_SMALL', async () => {
    const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } })
      .png()
      .toBuffer();
    await expectError(await analyzeRaw(svc, tiny, { contentType: 'image/png' }), 422, ErrorCode.IMAGE_TOO_SMALL, '8x8');
  });

  test('more pixels than VISION_MAX_PIXELS (40 MP), real or claimed by a lying header: 413 IMAGE_TOO_MANY_PIXELS', async () => {
    const big = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#888' } })
      .jpeg()
      .toBuffer();
    assert.ok(big.length < MB, 'a small file with many pixels');
    const cases: Array<[Uint8Array, string, string]> = [
      [big, 'image/jpeg', 'a real 48 MP JPEG'],
      [pngClaiming(100_000, 100_000, 4), 'image/png', 'PNG header claiming 10 GP'],
      [jpegClaiming(PHOTO, 65_000, 65_000), 'image/jpeg', 'JPEG frame header claiming 4 GP'],
    ];
    for (const [body, type, what] of cases) {
      await expectError(await analyzeRaw(svc, body, { contentType: type }), 413, ErrorCode.IMAGE_TOO_MANY_PIXELS, what);
    }
  });

  test('bodies over VISION_BODY_LIMIT_BYTES (8 MB): 413 PAYLOAD_TOO_LARGE, raw and multipart', async () => {
    const huge = Buffer.concat([PHOTO, Buffer.alloc(9 * MB)]);
    const tooLargeCount = async () => {
      const m = await (await fetch(`${svc.url}/metrics`)).text();
      return Number(/vision_analyze_errors_total\{code="PAYLOAD_TOO_LARGE"\} (\d+)/.exec(m)?.[1] ?? 0);
    };
    // The service answers as soon as it knows (from Content-Length or while reading) and closes the
    // connection; a client still writing the body may see that as a reset instead of the answer.
    // Either way the request must have been refused with 413, which the metrics record.
    const attempt = async (what: string, send: () => Promise<Response>) => {
      const before = await tooLargeCount();
      try {
        const res = await send();
        const text = await res.text();
        await expectError(
          { status: res.status, headers: res.headers, json: JSON.parse(text), text },
          413,
          ErrorCode.PAYLOAD_TOO_LARGE,
          what,
        );
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.match(String((e as Error).cause ?? e), /EPIPE|ECONNRESET|other side closed|socket/i, `${what}: ${String(e)}`);
      }
      assert.equal(await tooLargeCount(), before + 1, `${what}: refused with PAYLOAD_TOO_LARGE`);
    };
    await attempt('raw 9 MB', () =>
      fetch(`${svc.url}/v1/analyze`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: huge }),
    );
    await attempt('multipart 9 MB', () => {
      const form = new FormData();
      form.append('image', new Blob([huge], { type: 'image/jpeg' }), 'big.jpg');
      return fetch(`${svc.url}/v1/analyze`, { method: 'POST', body: form });
    });
  });

  test('multipart bodies without a file field "image": 400 VALIDATION_FAILED; a non-image file: 415; malformed: 400 BAD_REQUEST', async () => {
    const post = async (form: FormData) => {
      const res = await fetch(`${svc.url}/v1/analyze`, { method: 'POST', body: form });
      const text = await res.text();
      return { status: res.status, headers: res.headers, json: JSON.parse(text), text };
    };
    const noImage = new FormData();
    noImage.append('photo', new Blob([PHOTO], { type: 'image/jpeg' }), 'a.jpg');
    await expectError(await post(noImage), 400, ErrorCode.VALIDATION_FAILED, 'file under another name');
    const textField = new FormData();
    textField.append('image', 'not a file');
    await expectError(await post(textField), 400, ErrorCode.VALIDATION_FAILED, 'image as a text field');
    const notImage = new FormData();
    notImage.append('image', new Blob(['plain text'], { type: 'text/plain' }), 'a.txt');
    await expectError(await post(notImage), 415, ErrorCode.IMAGE_UNSUPPORTED_TYPE, 'text file');
    const cut = 'x\r\n--abc\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n\xff\xd8';
    for (const type of ['multipart/form-data', 'multipart/form-data; boundary=abc']) {
      await expectError(await analyzeRaw(svc, Buffer.from(cut), { contentType: type }), 400, ErrorCode.BAD_REQUEST, `malformed ${type}`);
    }
  });
});

describe('bad options', () => {
  test('absurd or unknown query options: 400 INVALID_OPTIONS', async () => {
    for (const q of [
      'maxFaces=0',
      'maxFaces=101',
      'maxFaces=abc',
      'maxFaces=2.5',
      'minFaceSize=8',
      'minFaceSize=5000',
      'largestOnly=maybe',
      'embeddings=2',
      'colour=blue',
    ]) {
      await expectError(await analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg', query: q }), 400, ErrorCode.INVALID_OPTIONS, q);
    }
  });

  test('unknown routes and methods: 404 NOT_FOUND', async () => {
    for (const [method, url] of [
      ['GET', '/v1/analyze'],
      ['POST', '/v2/analyze'],
      ['GET', '/../../etc/passwd'],
    ]) {
      const res = await fetch(`${svc.url}${url}`, { method });
      const json = await res.json();
      assert.equal(res.status, 404, `${method} ${url}`);
      assert.equal((json as ErrorBody).error.code, ErrorCode.NOT_FOUND);
    }
  });

  test('after all that, a real photo is still analysed and the worker never restarted', async () => {
    const r = await analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' });
    assert.equal(r.status, 200);
    assert.equal(r.json.faces.length, 1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /vision_worker_restarts_total\{/);
    assert.match(metrics, /vision_analyze_errors_total\{code="IMAGE_CORRUPT"\} [1-9]/);
  });
});

test('a bad configuration stops the service at start with every bad variable listed', async () => {
  await assert.rejects(
    startVision({ VISION_WORKERS: '0', VISION_QUEUE_MAX: 'many', LOG_LEVEL: 'loud' }),
    (e: Error) =>
      /exited with 2/.test(e.message) &&
      /VISION_WORKERS/.test(e.message) &&
      /VISION_QUEUE_MAX/.test(e.message) &&
      /LOG_LEVEL/.test(e.message),
  );
});
