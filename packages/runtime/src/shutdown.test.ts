import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { onShutdown, type ShutdownLog } from './shutdown.js';

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited!: () => void;
  const done = new Promise<void>((resolve) => (exited = resolve));
  return Object.assign(emitter, { exits, done, exit: (code: number) => (exits.push(code), exited()) });
}

function memoryLog() {
  const lines: string[] = [];
  const log: ShutdownLog = {
    info: (_o, m) => lines.push(`info ${m}`),
    warn: (_o, m) => lines.push(`warn ${m}`),
    error: (_o, m) => lines.push(`error ${m}`),
  };
  return { log, lines };
}

test('SIGTERM runs the closers in order once and exits 0', async () => {
  const proc = fakeProcess();
  const { log, lines } = memoryLog();
  const order: string[] = [];
  onShutdown({
    log,
    proc,
    graceMs: 60_000,
    onSignal: () => order.push('signal'),
    closers: [
      ['server', async () => order.push('server')],
      ['pool', () => order.push('pool')],
    ],
  });
  proc.emit('SIGTERM');
  proc.emit('SIGINT');
  await proc.done;
  assert.deepEqual(order, ['signal', 'server', 'pool']);
  assert.deepEqual(proc.exits, [0]);
  assert.deepEqual(lines, ['info shutting down', 'info stopped']);
});

test('a failing closer stops the shutdown with exit 1', async () => {
  const proc = fakeProcess();
  const { log, lines } = memoryLog();
  let later = false;
  onShutdown({
    log,
    proc,
    graceMs: 60_000,
    closers: [
      ['server', () => Promise.reject(new Error('boom'))],
      ['pool', () => (later = true)],
    ],
  });
  proc.emit('SIGINT');
  await proc.done;
  assert.deepEqual(proc.exits, [1]);
  assert.equal(later, false);
  assert.ok(lines.includes('error shutdown failed'));
});

test('a closer that hangs past the grace period ends in exit 1', async () => {
  const proc = fakeProcess();
  const { log, lines } = memoryLog();
  // the grace timer is unref'd (it must not keep a stopped service alive), so the hanging
  // closer holds the event loop open the way a real server with open connections would
  const openConnection = setInterval(() => {}, 1000);
  const shutdown = onShutdown({ log, proc, graceMs: 20, closers: [['server', () => new Promise(() => {})]] });
  void shutdown('test');
  await proc.done;
  clearInterval(openConnection);
  assert.deepEqual(proc.exits, [1]);
  assert.ok(lines.includes('error shutdown grace period over; exiting anyway'));
});
