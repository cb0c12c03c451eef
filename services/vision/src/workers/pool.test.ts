/**
 * The pool's own behaviour (queue bound, crash and timeout replacement, shutdown) with small
 * evaluated workers that speak the worker protocol; the real analysis worker is exercised by the
 * system tests in services/vision/test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ErrorCode } from '@faceline/contracts';
import { VisionError } from '../errors.js';
import { WorkerPool, type PoolOptions, type TaskSettled } from './pool.js';

interface Task {
  v?: number;
  ms?: number;
  crash?: boolean;
  hang?: boolean;
  fail?: boolean;
  bug?: boolean;
}
interface Result {
  echo: number | undefined;
  thread: number;
}

// a protocol-speaking worker whose behaviour each task chooses
const WORKER = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
setTimeout(() => {
  if (workerData.failStart) process.exit(3);
  parentPort.postMessage({ type: 'ready', info: { model: 'test' } });
}, workerData.startMs || 0);
parentPort.on('message', (m) => {
  const t = m.task;
  if (t.crash) process.exit(7);
  if (t.hang) { for (;;) {} }
  if (t.bug) return parentPort.postMessage({ type: 'result', id: m.id, ok: false, error: { code: 'INTERNAL', message: 'face analysis failed' }, internal: 'TypeError: x is undefined\\n    at analyze' });
  if (t.fail) return parentPort.postMessage({ type: 'result', id: m.id, ok: false, error: { code: 'IMAGE_CORRUPT', message: 'bad image' } });
  setTimeout(() => parentPort.postMessage({ type: 'result', id: m.id, ok: true, value: { echo: t.v, thread: threadId } }), t.ms || 0);
});
`;

function makePool(opts: Partial<PoolOptions> & { workerData?: object } = {}) {
  const pool = new WorkerPool<Task, Result, { model: string }>({
    size: 1,
    queueMax: 2,
    taskTimeoutMs: 10_000,
    restartDelayMs: 20,
    spawn: () => new Worker(WORKER, { eval: true, workerData: opts.workerData ?? {} }),
    ...opts,
  });
  const settled: TaskSettled[] = [];
  const restarts: string[] = [];
  pool.observe({ taskSettled: (e) => settled.push(e), workerRestarted: (e) => restarts.push(e.reason) });
  return { pool, settled, restarts };
}

const isCode = (code: string) => (e: unknown) => e instanceof VisionError && e.code === code;

test('the queue holds at most queueMax tasks; the next one is refused with OVERLOADED at once', async (t) => {
  const { pool } = makePool({ size: 1, queueMax: 2 });
  t.after(() => pool.close());
  pool.start();
  await pool.whenReady();
  assert.equal(pool.info?.model, 'test');

  const admitted = [pool.run({ v: 1, ms: 150 }), pool.run({ v: 2 }), pool.run({ v: 3 })];
  assert.deepEqual({ busy: pool.stats().busy, queued: pool.stats().queued }, { busy: 1, queued: 2 });
  assert.equal(pool.saturated(), true);
  const refused = pool.run({ v: 4 });
  await assert.rejects(refused, (e) => isCode(ErrorCode.OVERLOADED)(e) && (e as VisionError).statusCode === 503);

  const results = await Promise.all(admitted);
  assert.deepEqual(
    results.map((r) => r.value.echo),
    [1, 2, 3],
  );
  assert.ok(results[2]!.queueMs > 0, 'a queued task reports its wait');
  assert.equal(pool.stats().queued, 0);
  assert.equal(pool.saturated(), false);
});

test('queueMax 0 admits only as many tasks as there are idle workers', async (t) => {
  const { pool } = makePool({ size: 2, queueMax: 0 });
  t.after(() => pool.close());
  pool.start();
  await pool.whenReady();
  const a = pool.run({ v: 1, ms: 100 });
  const b = pool.run({ v: 2, ms: 100 });
  await assert.rejects(pool.run({ v: 3 }), isCode(ErrorCode.OVERLOADED));
  const [ra, rb] = await Promise.all([a, b]);
  assert.notEqual(ra.workerId, rb.workerId, 'both workers were used');
});

test('before any worker is ready, tasks are refused with NOT_READY', async (t) => {
  const { pool } = makePool({ workerData: { startMs: 300 } });
  t.after(() => pool.close());
  pool.start();
  assert.equal(pool.ready, false);
  await assert.rejects(pool.run({ v: 1 }), isCode(ErrorCode.NOT_READY));
  await pool.whenReady();
  assert.equal((await pool.run({ v: 1 })).value.echo, 1);
});

test('a worker that crashes fails only its own task and is replaced; queued tasks still run', async (t) => {
  const { pool, restarts, settled } = makePool({ size: 1, queueMax: 2 });
  t.after(() => pool.close());
  pool.start();
  await pool.whenReady();
  const first = (await pool.run({ v: 0 })).value.thread;

  const crashing = pool.run({ crash: true });
  const queued = pool.run({ v: 5 });
  await assert.rejects(crashing, (e) => isCode(ErrorCode.INTERNAL)(e) && (e as VisionError).statusCode === 500);
  const after = await queued;
  assert.equal(after.value.echo, 5);
  assert.notEqual(after.value.thread, first, 'answered by a new thread');
  assert.deepEqual(restarts, ['crashed']);
  assert.equal(pool.stats().restarts, 1);
  assert.ok(settled.some((s) => s.outcome === 'crashed'));
  await pool.whenReady();
  assert.equal(pool.ready, true);
});

test('a task that runs past the timeout gets its worker terminated and replaced', async (t) => {
  const { pool, restarts } = makePool({ taskTimeoutMs: 300 });
  t.after(() => pool.close());
  pool.start();
  await pool.whenReady();
  await assert.rejects(pool.run({ hang: true }), (e) => isCode(ErrorCode.INTERNAL)(e) && /300 ms/.test((e as Error).message));
  assert.deepEqual(restarts, ['timeout']);
  await pool.whenReady();
  assert.equal((await pool.run({ v: 9 })).value.echo, 9);
});

test('an error answer from a worker becomes a VisionError with its code; the worker stays', async (t) => {
  const { pool, restarts } = makePool();
  t.after(() => pool.close());
  pool.start();
  await pool.whenReady();
  await assert.rejects(pool.run({ fail: true }), (e) => isCode(ErrorCode.IMAGE_CORRUPT)(e) && (e as VisionError).statusCode === 422);
  assert.equal((await pool.run({ v: 2 })).value.echo, 2);
  assert.deepEqual(restarts, []);
});

test('workers that cannot start are retried with back-off and the pool never becomes ready', { timeout: 30_000 }, async (t) => {
  const delays: number[] = [];
  const logger = { info() {}, error() {}, warn: (obj: object) => delays.push((obj as { restartInMs: number }).restartInMs) };
  const { pool, restarts } = makePool({ workerData: { failStart: true }, restartDelayMs: 10, maxRestartDelayMs: 40, logger });
  t.after(() => pool.close());
  const fiveRestarts = new Promise<void>((resolve) => pool.observe({ workerRestarted: () => restarts.length >= 5 && resolve() }));
  pool.start();
  await fiveRestarts;
  assert.equal(pool.ready, false);
  assert.ok(
    restarts.every((r) => r === 'failed_to_start'),
    `restarts: ${restarts.join(',')}`,
  );
  // back-off: each failed start waits twice as long as the one before, up to maxRestartDelayMs
  assert.deepEqual(delays.slice(0, 5), [10, 20, 40, 40, 40]);
  await assert.rejects(pool.run({ v: 1 }), isCode(ErrorCode.NOT_READY));
});

test('close() refuses queued and in-flight tasks and further submissions', async () => {
  const { pool } = makePool({ size: 1, queueMax: 1 });
  pool.start();
  await pool.whenReady();
  const running = pool.run({ ms: 5_000 });
  const queued = pool.run({ v: 1 });
  const refused = [assert.rejects(running, isCode(ErrorCode.NOT_READY)), assert.rejects(queued, isCode(ErrorCode.NOT_READY))];
  await pool.close();
  await Promise.all(refused);
  await assert.rejects(pool.run({ v: 2 }), isCode(ErrorCode.NOT_READY));
  assert.equal(pool.ready, false);
});

test('a queued task that waits past the timeout is dropped with OVERLOADED', async (t) => {
  const { pool } = makePool({ size: 1, queueMax: 1, taskTimeoutMs: 250 });
  t.after(() => pool.close());
  pool.start();
  await pool.whenReady();
  const running = pool.run({ hang: true });
  const queued = pool.run({ v: 1 });
  await assert.rejects(queued, isCode(ErrorCode.OVERLOADED));
  await assert.rejects(running, isCode(ErrorCode.INTERNAL));
});

test('an unexpected failure in a worker is logged by the pool with its stack and answered INTERNAL', async (t) => {
  const logged: Array<{ obj: object; msg: string }> = [];
  const logger = { info() {}, warn() {}, error: (obj: object, msg: string) => logged.push({ obj, msg }) };
  const { pool } = makePool({ logger });
  t.after(() => pool.close());
  pool.start();
  await pool.whenReady();
  await assert.rejects(pool.run({ bug: true }), isCode(ErrorCode.INTERNAL));
  assert.equal(logged.length, 1);
  assert.match(JSON.stringify(logged[0]!.obj), /TypeError: x is undefined/);
  await assert.rejects(pool.run({ fail: true }), isCode(ErrorCode.IMAGE_CORRUPT));
  assert.equal(logged.length, 1, 'refused images are not logged as errors');
});
