import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, QUEUE_PER_WORKER, defaultWorkers, loadConfig, threadWarning } from './config.js';

test('defaults: port 8082, one worker per core, one intra-op thread, queue of 4 per worker', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8082);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.workers, defaultWorkers());
  assert.equal(c.intraOpThreads, 1);
  assert.equal(c.queueMax, QUEUE_PER_WORKER * c.workers);
  assert.equal(c.bodyLimitBytes, 8 * 1024 * 1024);
  assert.equal(c.maxPixels, 40_000_000);
  assert.equal(c.logLevel, 'info');
});

test('every variable is read', () => {
  const c = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    VISION_WORKERS: '3',
    VISION_INTRA_OP_THREADS: '2',
    VISION_BODY_LIMIT_BYTES: '2048',
    VISION_MAX_PIXELS: '1000000',
    VISION_MAX_SIDE: '0',
    VISION_TASK_TIMEOUT_MS: '5000',
    VISION_RETRY_AFTER_SECONDS: '2',
    SHUTDOWN_GRACE_SECONDS: '3',
    LOG_LEVEL: 'warn',
  });
  assert.deepEqual(
    [
      c.port,
      c.host,
      c.workers,
      c.intraOpThreads,
      c.queueMax,
      c.bodyLimitBytes,
      c.maxPixels,
      c.maxSide,
      c.taskTimeoutMs,
      c.retryAfterSeconds,
      c.shutdownGraceSeconds,
      c.logLevel,
    ],
    [0, '127.0.0.1', 3, 2, 12, 2048, 1_000_000, 0, 5000, 2, 3, 'warn'],
  );
  assert.equal(loadConfig({ VISION_WORKERS: '2', VISION_QUEUE_MAX: '0' }).queueMax, 0);
});

test('all bad variables are listed in one error', () => {
  try {
    loadConfig({
      PORT: '99999',
      VISION_WORKERS: '0',
      VISION_INTRA_OP_THREADS: 'two',
      VISION_QUEUE_MAX: '-1',
      VISION_BODY_LIMIT_BYTES: '1.5',
      VISION_MAX_PIXELS: '1e9x',
      VISION_MAX_SIDE: '100',
      LOG_LEVEL: 'loud',
    });
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const vars = [
      'PORT',
      'VISION_WORKERS',
      'VISION_INTRA_OP_THREADS',
      'VISION_QUEUE_MAX',
      'VISION_BODY_LIMIT_BYTES',
      'VISION_MAX_PIXELS',
      'VISION_MAX_SIDE',
      'LOG_LEVEL',
    ];
    assert.equal(e.problems.length, vars.length, e.message);
    for (const v of vars) assert.match(e.message, new RegExp(`\\b${v}\\b`));
  }
});

test('oversubscribed threads produce a warning, not an error', () => {
  const c = loadConfig({ VISION_WORKERS: '2', VISION_INTRA_OP_THREADS: '2' });
  assert.match(threadWarning(c, 2) ?? '', /= 4 threads on 2 cores/);
  assert.equal(threadWarning(loadConfig({ VISION_WORKERS: '2' }), 2), undefined);
});

test('integers are read as in every service: 1e3 is 1000, an empty value is the default', () => {
  const c = loadConfig({ VISION_TASK_TIMEOUT_MS: '1e3', VISION_MAX_SIDE: '', LOG_LEVEL: ' ' });
  assert.deepEqual([c.taskTimeoutMs, c.maxSide, c.logLevel], [1000, 1920, 'info']);
  assert.throws(() => loadConfig({ VISION_WORKERS: '0x2' }), /VISION_WORKERS must be an integer between 1 and 256, got "0x2"/);
});
