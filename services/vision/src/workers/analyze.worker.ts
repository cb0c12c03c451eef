/**
 * An analysis worker: loads the face models once, then decodes and analyses one image at a
 * time. Runs as a worker_threads entry point (compiled JS in production, TypeScript through
 * tsx in development; see spawn.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { ErrorCode } from '@faceline/contracts';
import { VisionError } from '../errors.js';
import { decodeImage } from '../image/decode.js';
import { facesToSource, minFaceSizeForAnalysis } from '../image/scale.js';
import { createOnnxPipeline } from '../pipeline/index.js';
import type { OnnxFacePipeline } from '../pipeline/onnx-pipeline.js';
import type { AnalyzeFromWorker, AnalyzeOutcome, AnalyzeTask, AnalyzeWorkerSettings, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('analyze.worker must run in a worker thread');
const settings = workerData as AnalyzeWorkerSettings;
const send = (m: AnalyzeFromWorker) => port.postMessage(m);

// libvips' operation cache only helps repeated identical operations; here it would hold on to
// decoded images. One libvips thread per decode: the pool already runs one decode per core.
sharp.cache(false);
sharp.concurrency(1);

async function analyze(pipeline: OnnxFacePipeline, task: AnalyzeTask): Promise<AnalyzeOutcome> {
  const t0 = performance.now();
  const decoded = await decodeImage(task.bytes, task.mediaType, settings, { twoPass: settings.baseline === true });
  const t1 = performance.now();
  const faces = await pipeline.analyze(decoded.rgb, {
    ...task.options,
    minFaceSize: minFaceSizeForAnalysis(task.options.minFaceSize, decoded.scaleX, decoded.scaleY),
  });
  const t2 = performance.now();
  return {
    image: { width: decoded.width, height: decoded.height },
    faces: facesToSource(faces, decoded.scaleX, decoded.scaleY),
    decodeMs: t1 - t0,
    inferenceMs: t2 - t1,
    stages: { ...pipeline.lastTimings },
  };
}

try {
  const pipeline = await createOnnxPipeline({ intraOpThreads: settings.intraOpThreads, baseline: settings.baseline === true });
  port.on('message', (m: ToWorker<AnalyzeTask>) => {
    analyze(pipeline, m.task).then(
      (value) => send({ type: 'result', id: m.id, ok: true, value }),
      (e: unknown) => {
        const err = e instanceof VisionError ? e : new VisionError(ErrorCode.INTERNAL, 'face analysis failed', undefined, { cause: e });
        // the stack helps operators (logged as JSON by the pool); it never contains pixel data
        const internal = err.code === ErrorCode.INTERNAL ? (e instanceof Error ? (e.stack ?? e.message) : String(e)) : undefined;
        send({ type: 'result', id: m.id, ok: false, error: err.toJSON(), ...(internal ? { internal } : {}) });
      },
    );
  });
  send({ type: 'ready', info: pipeline.info });
} catch (e) {
  send({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
