/**
 * @vladmandic/human on the TensorFlow.js WASM backend, offline: the WASM binaries come from the
 * installed @tensorflow/tfjs-backend-wasm, the models from human's own npm `models/` folder, read
 * from disk by a file:// load router (Node's fetch cannot read files). Nothing is downloaded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as HumanLib from '@vladmandic/human';

const require = createRequire(import.meta.url);

export type Human = HumanLib.Human;
export type HumanConfig = HumanLib.Config;
export type HumanFace = HumanLib.FaceResult;
export type Tf = Human['tf'];
export type Tensor = HumanLib.Tensor;
export type GraphModel = HumanLib.GraphModel;

/** human's package folder (its `exports` map has no "./package.json", so go through the main entry). */
export function humanPackageDir(): string {
  return path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
}

export function humanVersion(): string {
  return (JSON.parse(readFileSync(path.join(humanPackageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

interface WeightGroup {
  paths: string[];
  weights: unknown[];
}

/** A tfjs load router for file:// model URLs: model.json plus its weight shards, from disk. */
function fileRouter(tf: Tf) {
  return (url: string | string[]) => {
    if (typeof url !== 'string' || !url.startsWith('file://')) return null;
    const file = url.slice('file://'.length);
    return {
      load: async () => {
        const json = JSON.parse(readFileSync(file, 'utf8'));
        return tf.io.getModelArtifactsForJSON(json, async (manifest: WeightGroup[]) => {
          const specs = manifest.flatMap((g) => g.weights);
          const all = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(path.dirname(file), p)))));
          return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.length)] as never;
        });
      },
    };
  };
}

/**
 * Face pipeline with every face model this evaluation reads: BlazeFace → 468-point mesh → iris
 * (10 more points), plus the `antispoof` and `liveness` classifiers; nothing else. Caching between
 * frames is off (cacheSensitivity 0, skipFrames 0), so every frame is analysed from scratch.
 */
export async function createHuman(): Promise<Human> {
  const dist = path.join(humanPackageDir(), 'dist');
  // The node-wasm bundle imports @tensorflow/tfjs-core, -converter and -backend-wasm; no tfjs-node.
  const { Human } = require(path.join(dist, 'human.node-wasm.js')) as typeof HumanLib;
  const wasmDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  const noSkip = { skipFrames: 0, skipTime: 0 };
  const human = new Human({
    backend: 'wasm',
    wasmPath: wasmDist,
    modelBasePath: `file://${path.join(humanPackageDir(), 'models')}/`,
    cacheModels: false,
    cacheSensitivity: 0,
    debug: false,
    async: false,
    warmup: 'none',
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: { maxDetected: 1, rotation: true, return: true, ...noSkip },
      mesh: { enabled: true },
      iris: { enabled: true, ...noSkip },
      attention: { enabled: false },
      description: { enabled: false },
      emotion: { enabled: false },
      antispoof: { enabled: true, ...noSkip },
      liveness: { enabled: true, ...noSkip },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  } as Partial<HumanConfig>);
  human.tf.io.registerLoadRouter(fileRouter(human.tf) as never);
  await human.load();
  const missing = ['blazeface', 'facemesh', 'iris', 'antispoof', 'liveness'].filter((m) => !human.models.models[m]);
  if (missing.length) throw new Error(`human did not load ${missing.join(', ')} from ${humanPackageDir()}/models`);
  if (human.tf.getBackend() !== 'wasm') throw new Error(`human runs on ${human.tf.getBackend()}, not wasm`);
  return human;
}
