/**
 * A fixed set of worker threads with a bounded queue in front of them.
 *
 * - A task goes to an idle worker, else waits in the queue, else is refused at once with
 *   OVERLOADED (the caller answers 503 + Retry-After): latency stays bounded under overload
 *   instead of growing with an unbounded backlog.
 * - A worker that dies (crash, out of memory, a native fault in a decoder) fails only its own
 *   task, with INTERNAL, and is replaced; a task that takes longer than taskTimeoutMs gets its
 *   worker terminated and replaced the same way. No request waits forever.
 * - A worker that dies before it is ready (models failed to load) is restarted with exponential
 *   back-off, so a broken deployment does not spin a core.
 */
import { performance } from 'node:perf_hooks';
import type { Transferable, Worker } from 'node:worker_threads';
import { ErrorCode } from '@faceline/contracts';
import { VisionError, notReady, overloaded } from '../errors.js';
import type { FromWorker, ToWorker } from './protocol.js';

export interface PoolLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TaskSettled {
  workerId: number;
  /** time the worker spent on the task */
  busyMs: number;
  outcome: 'ok' | 'error' | 'crashed' | 'timeout';
}

export interface PoolOptions {
  size: number;
  queueMax: number;
  /** from submission to answer; past it a queued task is dropped and a running one's worker is replaced */
  taskTimeoutMs: number;
  /** creates one worker that speaks the protocol in protocol.ts */
  spawn: (workerId: number) => Worker;
  logger?: PoolLogger;
  /** first restart delay after a worker failed to start; doubles up to maxRestartDelayMs */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/** Told about every finished task and every replaced worker (metrics). */
export interface PoolObserver {
  taskSettled?(e: TaskSettled): void;
  workerRestarted?(e: { workerId: number; reason: string }): void;
}

export interface PoolStats {
  size: number;
  /** workers that have loaded their models (idle + busy) */
  ready: number;
  idle: number;
  busy: number;
  starting: number;
  queued: number;
  queueMax: number;
  restarts: number;
}

export interface RunResult<R> {
  value: R;
  queueMs: number;
  runMs: number;
  workerId: number;
}

interface Pending<T, R> {
  id: number;
  task: T;
  transfer: readonly Transferable[];
  submittedAt: number;
  dispatchedAt?: number;
  timer: NodeJS.Timeout;
  timedOut?: boolean;
  resolve(r: RunResult<R>): void;
  reject(e: unknown): void;
}

type SlotState = 'starting' | 'idle' | 'busy' | 'dead';

interface Slot<T, R> {
  id: number;
  worker: Worker;
  state: SlotState;
  current?: Pending<T, R>;
  /** consecutive deaths before becoming ready */
  failedStarts: number;
}

const noopLogger: PoolLogger = { info() {}, warn() {}, error() {} };

export class WorkerPool<T, R, I = unknown> {
  private readonly slots: Array<Slot<T, R>> = [];
  private readonly queue: Array<Pending<T, R>> = [];
  private readonly log: PoolLogger;
  private nextId = 1;
  private started = false;
  private closed = false;
  private restarts = 0;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readyWaiters: Array<() => void> = [];
  private readonly observers: PoolObserver[] = [];
  /** what the first ready worker reported about itself (model info) */
  info: I | undefined;

  constructor(private readonly opts: PoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError('pool size must be at least 1');
    if (!Number.isInteger(opts.queueMax) || opts.queueMax < 0) throw new RangeError('queueMax must be 0 or more');
    this.log = opts.logger ?? noopLogger;
  }

  observe(o: PoolObserver): void {
    this.observers.push(o);
  }

  /** Spawns the workers; they become ready in the background (see ready / whenReady). */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (let id = 0; id < this.opts.size; id++) this.spawn(id, 0);
  }

  /** All workers have loaded their models. */
  get ready(): boolean {
    return !this.closed && this.slots.length === this.opts.size && this.slots.every((s) => s.state === 'idle' || s.state === 'busy');
  }

  /** Resolves once every worker is ready (for start-up logs, tests and benchmarks). */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  stats(): PoolStats {
    const count = (st: SlotState) => this.slots.filter((s) => s.state === st).length;
    const idle = count('idle');
    const busy = count('busy');
    return {
      size: this.opts.size,
      ready: idle + busy,
      idle,
      busy,
      starting: this.opts.size - idle - busy,
      queued: this.queue.length,
      queueMax: this.opts.queueMax,
      restarts: this.restarts,
    };
  }

  /** True when a task submitted now would be refused as OVERLOADED (lets callers refuse before reading a body). */
  saturated(): boolean {
    return !this.slots.some((s) => s.state === 'idle') && this.queue.length >= this.opts.queueMax;
  }

  run(task: T, transfer: readonly Transferable[] = []): Promise<RunResult<R>> {
    if (this.closed) return Promise.reject(notReady('the service is shutting down'));
    if (!this.slots.some((s) => s.state === 'idle' || s.state === 'busy')) return Promise.reject(notReady());
    const idle = this.slots.find((s) => s.state === 'idle');
    if (!idle && this.queue.length >= this.opts.queueMax) return Promise.reject(overloaded(this.queue.length));

    return new Promise<RunResult<R>>((resolve, reject) => {
      const p: Pending<T, R> = {
        id: this.nextId++,
        task,
        transfer,
        submittedAt: performance.now(),
        resolve,
        reject,
        timer: setTimeout(() => this.expire(p), this.opts.taskTimeoutMs),
      };
      p.timer.unref();
      if (idle) this.dispatch(idle, p);
      else this.queue.push(p);
    });
  }

  /** Refuses queued tasks, then terminates every worker (in-flight tasks fail with NOT_READY). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    for (const p of this.queue.splice(0)) this.fail(p, notReady('the service is shutting down'));
    await Promise.all(this.slots.map((s) => (s.state === 'dead' ? undefined : s.worker.terminate())));
  }

  private spawn(id: number, failedStarts: number): void {
    const worker = this.opts.spawn(id);
    const slot: Slot<T, R> = { id, worker, state: 'starting', failedStarts };
    this.slots[id] = slot;
    worker.on('message', (m: FromWorker<R, I>) => this.onMessage(slot, m));
    worker.on('error', (e) => this.log.error({ workerId: id, err: e }, 'analysis worker failed'));
    worker.on('exit', (code) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot<T, R>, m: FromWorker<R, I>): void {
    if (slot.worker !== this.slots[slot.id]?.worker) return;
    switch (m.type) {
      case 'ready':
        slot.state = 'idle';
        slot.failedStarts = 0;
        this.info ??= m.info;
        this.log.info({ workerId: slot.id }, 'analysis worker ready');
        if (this.ready) for (const w of this.readyWaiters.splice(0)) w();
        this.pump();
        return;
      case 'fatal':
        this.log.error({ workerId: slot.id, reason: m.message }, 'analysis worker could not start');
        return;
      case 'result': {
        const p = slot.current;
        if (!p || p.id !== m.id) return;
        const busyMs = performance.now() - (p.dispatchedAt ?? p.submittedAt);
        slot.current = undefined;
        slot.state = 'idle';
        clearTimeout(p.timer);
        this.settled({ workerId: slot.id, busyMs, outcome: m.ok ? 'ok' : 'error' });
        if (m.ok) {
          p.resolve({
            value: m.value,
            queueMs: (p.dispatchedAt ?? p.submittedAt) - p.submittedAt,
            runMs: busyMs,
            workerId: slot.id,
          });
        } else {
          if (m.internal) this.log.error({ workerId: slot.id, stack: m.internal }, 'analysis failed in a worker');
          p.reject(VisionError.from(m.error));
        }
        this.pump();
        return;
      }
    }
  }

  private onExit(slot: Slot<T, R>, code: number): void {
    if (slot.worker !== this.slots[slot.id]?.worker) return;
    const wasReady = slot.state === 'idle' || slot.state === 'busy';
    slot.state = 'dead';
    const p = slot.current;
    slot.current = undefined;
    if (p) {
      clearTimeout(p.timer);
      const busyMs = performance.now() - (p.dispatchedAt ?? p.submittedAt);
      this.settled({ workerId: slot.id, busyMs, outcome: p.timedOut ? 'timeout' : 'crashed' });
      if (this.closed) this.fail(p, notReady('the service is shutting down'));
      else if (p.timedOut) {
        this.fail(
          p,
          new VisionError(ErrorCode.INTERNAL, `the analysis did not finish within ${this.opts.taskTimeoutMs} ms`, { reason: 'timeout' }),
        );
      } else {
        this.fail(p, new VisionError(ErrorCode.INTERNAL, 'the analysis worker stopped unexpectedly', { reason: 'worker_exited' }));
      }
    }
    if (this.closed) return;

    const failedStarts = wasReady ? 0 : slot.failedStarts + 1;
    const base = this.opts.restartDelayMs ?? 100;
    const delay = failedStarts === 0 ? 0 : Math.min(this.opts.maxRestartDelayMs ?? 30_000, base * 2 ** (failedStarts - 1));
    const reason = p?.timedOut ? 'timeout' : wasReady ? 'crashed' : 'failed_to_start';
    this.restarts++;
    for (const o of this.observers) o.workerRestarted?.({ workerId: slot.id, reason });
    this.log.warn({ workerId: slot.id, exitCode: code, reason, restartInMs: delay }, 'analysis worker exited; replacing it');
    const t = setTimeout(() => {
      this.restartTimers.delete(t);
      if (!this.closed) this.spawn(slot.id, failedStarts);
    }, delay);
    this.restartTimers.add(t);
  }

  private dispatch(slot: Slot<T, R>, p: Pending<T, R>): void {
    slot.state = 'busy';
    slot.current = p;
    p.dispatchedAt = performance.now();
    const msg: ToWorker<T> = { type: 'task', id: p.id, task: p.task };
    try {
      slot.worker.postMessage(msg, p.transfer);
    } catch (e) {
      // e.g. an already detached buffer: the task is unusable, the worker is fine
      slot.state = 'idle';
      slot.current = undefined;
      this.fail(p, new VisionError(ErrorCode.INTERNAL, 'the task could not be handed to a worker', undefined, { cause: e }));
      this.pump();
    }
  }

  private pump(): void {
    for (;;) {
      const idle = this.slots.find((s) => s.state === 'idle');
      const next = idle && this.queue.shift();
      if (!idle || !next) return;
      this.dispatch(idle, next);
    }
  }

  private expire(p: Pending<T, R>): void {
    const qi = this.queue.indexOf(p);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      this.fail(
        p,
        new VisionError(ErrorCode.OVERLOADED, `no worker became free within ${this.opts.taskTimeoutMs} ms`, { reason: 'queue_timeout' }),
      );
      return;
    }
    const slot = this.slots.find((s) => s.current === p);
    if (!slot) return;
    p.timedOut = true;
    this.log.warn({ workerId: slot.id, timeoutMs: this.opts.taskTimeoutMs }, 'analysis took too long; terminating its worker');
    void slot.worker.terminate();
  }

  private settled(e: TaskSettled): void {
    for (const o of this.observers) o.taskSettled?.(e);
  }

  private fail(p: Pending<T, R>, e: unknown): void {
    clearTimeout(p.timer);
    p.reject(e);
  }
}
