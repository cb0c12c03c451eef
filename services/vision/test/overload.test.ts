/**
 * System test: with one worker and a queue of one, a burst gets some 503 OVERLOADED answers
 * with Retry-After instead of an ever-growing wait, and the service recovers afterwards.
 * Assertions are about behaviour (who got what), never about how long anything took.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';
import { analyzeRaw, startVision } from './support/service.js';

const PHOTO = readFileSync(path.join(requireFaces(), 'face_recognition/barack_obama/obama.jpg'));

test('queue full: 503 OVERLOADED with Retry-After; admitted requests succeed; the service recovers', async (t) => {
  const svc = await startVision({ VISION_WORKERS: '1', VISION_QUEUE_MAX: '1', VISION_RETRY_AFTER_SECONDS: '2' });
  t.after(() => svc.stop());

  let overloaded = 0;
  let ok = 0;
  // a burst of 12 cannot all be admitted by 1 worker + 1 queue slot; a few rounds rule out a burst that
  // happened to arrive one by one
  for (let round = 0; round < 5 && overloaded === 0; round++) {
    const answers = await Promise.all(Array.from({ length: 12 }, () => analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' })));
    for (const a of answers) {
      if (a.status === 200) {
        ok++;
        assert.equal(a.json.faces.length, 1);
      } else {
        assert.equal(a.status, 503, a.text);
        assert.equal(a.json.error.code, ErrorCode.OVERLOADED);
        assert.equal(a.json.error.retryable, true);
        assert.equal(a.headers.get('retry-after'), '2');
        overloaded++;
      }
    }
  }
  assert.ok(overloaded > 0, 'some requests were refused');
  assert.ok(ok > 0, 'some requests were served');

  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  assert.match(metrics, new RegExp(`vision_analyze_errors_total\\{code="OVERLOADED"\\} ${overloaded}\\b`));
  assert.match(metrics, /vision_queue_capacity 1\b/);

  const after = await analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' });
  assert.equal(after.status, 200);
});

test('SIGTERM: requests already received are answered, then the process exits 0', async () => {
  const svc = await startVision({ VISION_WORKERS: '1', VISION_QUEUE_MAX: '8' });
  const received = () =>
    svc
      .output()
      .split('\n')
      .filter((l) => l.includes('"url":"/v1/analyze"') && l.includes('incoming request')).length;
  const inflight = Array.from({ length: 4 }, () => analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' }));
  while (received() < 4) await new Promise((r) => setTimeout(r, 5));
  svc.proc.kill('SIGTERM');
  const answers = await Promise.all(inflight);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200],
  );
  assert.equal(await svc.exited, 0);
  assert.match(svc.output(), /shutting down/);
  await assert.rejects(fetch(`${svc.url}/healthz`), 'no longer listening');
});

test('before the models are loaded: /healthz 200, /readyz and /v1/analyze 503 NOT_READY with Retry-After', async (t) => {
  // the service listens at once and loads the models in the background (~1 s or more)
  const svc = await startVision({ VISION_WORKERS: '1' }, { waitReady: false });
  t.after(() => svc.stop());
  const [health, ready, analyze] = await Promise.all([
    fetch(`${svc.url}/healthz`),
    fetch(`${svc.url}/readyz`),
    analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' }),
  ]);
  assert.equal(health.status, 200);
  assert.equal(ready.status, 503);
  assert.equal(((await ready.json()) as { checks: { workers: string } }).checks.workers, '0/1 ready');
  assert.equal(analyze.status, 503);
  assert.equal(analyze.json.error.code, ErrorCode.NOT_READY);
  assert.equal(analyze.json.error.retryable, true);
  assert.ok(analyze.headers.get('retry-after'));

  for (let i = 0; (await fetch(`${svc.url}/readyz`)).status !== 200; i++) {
    assert.ok(i < 1200, 'ready within two minutes');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await analyzeRaw(svc, PHOTO, { contentType: 'image/jpeg' })).status, 200);
});
