/**
 * Vision benchmark (npm run bench:vision), about a minute on a 2-core machine. Prints:
 *  - latency p50/p95 of one 640x480 JPEG frame with one face, decode included, on one worker
 *    (through the worker pool, and end to end over HTTP through the real service in this process);
 *  - throughput in images/s through the pool with 1 worker and with all workers, and the ratio;
 *  - peak RSS of the process (main thread + workers);
 *  - the face-api reference (tfjs WASM, one thread) p50 for the same frame, decode included.
 * Bars: p50 <= 30 ms on one worker; all workers (2 here) >= 1.7x one worker.
 *
 * Options: --workers N (default: cores), --seconds S per throughput run (default 8),
 *          --no-reference (skip the slow tfjs run).
 */
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { requireFaces } from '@faceline/testkit';
import type { ModelInfo } from '@faceline/contracts';
import { buildApp, type AnalyzePool } from '../src/app.js';
import { WorkerPool } from '../src/workers/pool.js';
import { spawnAnalyzeWorker } from '../src/workers/spawn.js';
import type { AnalyzeOutcome, AnalyzeTask } from '../src/workers/protocol.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: String(os.availableParallelism()) },
    seconds: { type: 'string', default: '8' },
    'no-reference': { type: 'boolean', default: false },
  },
});
const ALL = Math.max(1, Number(args.workers));
const SECONDS = Number(args.seconds);
const SETTINGS = { intraOpThreads: 1, maxPixels: 40_000_000, maxSide: 1920 };
const OPTIONS = { largestOnly: false, maxFaces: 20, embeddings: true, minFaceSize: 40 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function makeFrame(): Promise<Buffer> {
  const src = path.join(requireFaces(), 'face_recognition/barack_obama/obama.jpg');
  // the whole portrait letterboxed into a webcam-sized frame: one face of about 170 px
  return sharp(readFileSync(src))
    .resize(640, 480, { fit: 'contain', background: { r: 90, g: 90, b: 90 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function newPool(size: number): WorkerPool<AnalyzeTask, AnalyzeOutcome, ModelInfo> {
  return new WorkerPool({
    size,
    queueMax: 64,
    taskTimeoutMs: 60_000,
    spawn: (id) => spawnAnalyzeWorker(SETTINGS, id),
  });
}

function task(frame: Buffer): [AnalyzeTask, ArrayBuffer[]] {
  const bytes = new Uint8Array(frame);
  return [{ bytes, mediaType: 'image/jpeg', options: OPTIONS }, [bytes.buffer]];
}

async function latency(pool: WorkerPool<AnalyzeTask, AnalyzeOutcome, ModelInfo>, frame: Buffer, n: number) {
  const total: number[] = [];
  const decode: number[] = [];
  const inference: number[] = [];
  let faces = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await pool.run(...task(frame));
    total.push(performance.now() - t0);
    decode.push(r.value.decodeMs);
    inference.push(r.value.inferenceMs);
    faces = r.value.faces.length;
  }
  return { total, decode, inference, faces };
}

/** Keeps every worker busy (two tasks in flight per worker) for `seconds`; returns images/s. */
async function throughput(pool: WorkerPool<AnalyzeTask, AnalyzeOutcome, ModelInfo>, size: number, frame: Buffer, seconds: number) {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const lane = async () => {
    while (performance.now() < end) {
      await pool.run(...task(frame));
      done++;
    }
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: size * 2 }, lane));
  const cpu = process.cpuUsage(cpu0);
  // CPU time of the whole process (all threads) per image: independent of other load on the machine
  return { perSecond: done / ((performance.now() - t0) / 1000), cpuMsPerImage: (cpu.user + cpu.system) / 1000 / done };
}

async function httpLatency(frame: Buffer, n: number) {
  const pool: AnalyzePool = newPool(1);
  const app = await buildApp({ config: { bodyLimitBytes: 8 * 1024 * 1024, retryAfterSeconds: 1, version: 'bench', logLevel: 'silent' }, pool });
  pool.start();
  await pool.whenReady();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const times: number[] = [];
  for (let i = 0; i < n + 5; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/analyze`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: frame });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    if (i >= 5) times.push(performance.now() - t0);
  }
  await app.close();
  await pool.close();
  return times;
}

async function main() {
  const frame = await makeFrame();
  console.log(`vision benchmark: 640x480 JPEG frame (${(frame.length / 1024).toFixed(0)} KB) from face_recognition/barack_obama/obama.jpg`);
  console.log(`machine: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'cpu'}; node ${process.version}; ONNX intra-op threads per worker: 1`);
  const loadBefore = os.loadavg()[0]!;
  console.log(`load average before: ${loadBefore.toFixed(2)}${loadBefore > 0.5 ? '  (other work is running: figures below will be pessimistic)' : ''}\n`);

  // 1 worker: latency, then throughput
  const one = newPool(1);
  let t0 = performance.now();
  one.start();
  await one.whenReady();
  console.log(`model load, 1 worker: ${ms(performance.now() - t0)} (${one.info?.runtime})`);
  await latency(one, frame, 20); // warm-up
  const lat = await latency(one, frame, 150);
  if (lat.faces !== 1) throw new Error(`the frame should have one face, found ${lat.faces}`);
  const tput1 = await throughput(one, 1, frame, SECONDS);
  await one.close();

  const http = await httpLatency(frame, 100);

  // all workers
  let tputAll = tput1;
  if (ALL > 1) {
    const all = newPool(ALL);
    t0 = performance.now();
    all.start();
    await all.whenReady();
    console.log(`model load, ${ALL} workers: ${ms(performance.now() - t0)}`);
    await throughput(all, ALL, frame, 1); // warm-up
    tputAll = await throughput(all, ALL, frame, SECONDS);
    await all.close();
  }

  let refP50: number | undefined;
  if (!args['no-reference']) {
    const { initReference, referenceAnalyze } = await import('../src/reference/face-api-reference.js');
    await initReference();
    const decode = async () => {
      const { data, info } = await sharp(frame).rotate().raw().toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data), width: info.width, height: info.height };
    };
    const times: number[] = [];
    for (let i = 0; i < 18; i++) {
      const s = performance.now();
      const faces = await referenceAnalyze(await decode());
      if (i >= 3) times.push(performance.now() - s);
      if (faces.length !== 1) throw new Error(`reference found ${faces.length} faces`);
    }
    refP50 = pct(times, 50);
  }

  const p50 = pct(lat.total, 50);
  const ratio = tputAll.perSecond / tput1.perSecond;
  console.log('\nlatency, one 640x480 frame, 1 worker, decode included (150 runs after 20 warm-up)');
  console.log(`  pool (decode + inference + thread hand-off): p50 ${ms(p50)}  p95 ${ms(pct(lat.total, 95))}`);
  console.log(`    of which decode p50 ${ms(pct(lat.decode, 50))}, inference p50 ${ms(pct(lat.inference, 50))}`);
  console.log(`  HTTP end to end (POST /v1/analyze over loopback): p50 ${ms(pct(http, 50))}  p95 ${ms(pct(http, 95))}`);
  if (refP50 !== undefined) {
    console.log(`  face-api reference (tfjs WASM, 1 thread, decode included): p50 ${ms(refP50)}  -> ONNX pipeline ${(refP50 / p50).toFixed(1)}x faster`);
  }
  console.log(`\nthroughput through the pool (${SECONDS} s each, 2 tasks in flight per worker)`);
  console.log(`  1 worker:  ${tput1.perSecond.toFixed(1)} images/s  (CPU ${ms(tput1.cpuMsPerImage)} per image, all threads)`);
  console.log(`  ${ALL} workers: ${tputAll.perSecond.toFixed(1)} images/s  (${ratio.toFixed(2)}x; CPU ${ms(tputAll.cpuMsPerImage)} per image)`);
  if (ALL > 1) {
    const ideal = Math.min(ALL, os.availableParallelism()) * (tput1.cpuMsPerImage / tputAll.cpuMsPerImage);
    console.log(`  scaling expected on an otherwise idle machine, from CPU per image: ${ideal.toFixed(2)}x`);
  }
  console.log(`\nload average after: ${os.loadavg()[0]!.toFixed(2)} (includes this benchmark)`);
  console.log(`peak RSS (process incl. workers): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  console.log('\nbars');
  console.log(`  p50 <= 30 ms on one worker: ${p50 <= 30 ? 'met' : 'NOT met'} (${ms(p50)})`);
  if (ALL > 1) console.log(`  ${ALL} workers >= 1.7x one: ${ratio >= 1.7 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x)`);
}

await main();
