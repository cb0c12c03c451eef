/**
 * Reads face-api's TensorFlow.js weight files (a JSON manifest plus one or more .bin shards)
 * into plain Float32Arrays, and reorders convolution filters from TensorFlow's layout to ONNX's.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';

export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export type WeightMap = Map<string, WeightTensor>;

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16'; scale: number; min: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

/** The folder of weight files shipped inside the installed @vladmandic/face-api package. */
export function faceApiModelDir(): string {
  const require = createRequire(import.meta.url);
  // The package has no "exports" map, so resolving its package.json is stable across versions.
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Decodes one manifest group's concatenated shards. Entries are stored back to back, either as raw
 * float32 or quantised (value = q * scale + min): face-api's files mix both within one model.
 */
export function decodeWeights(entries: ManifestEntry[], buffer: Uint8Array): WeightMap {
  const map: WeightMap = new Map();
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let offset = 0;
  for (const e of entries) {
    const n = product(e.shape);
    const data = new Float32Array(n);
    const q = e.quantization;
    if (q) {
      const bytes = q.dtype === 'uint16' ? 2 : 1;
      if (offset + n * bytes > buffer.byteLength) throw new Error(`weights truncated at ${e.name}`);
      for (let i = 0; i < n; i++) {
        const v = bytes === 1 ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true);
        data[i] = v * q.scale + q.min;
      }
      offset += n * bytes;
    } else {
      if (e.dtype !== 'float32') throw new Error(`unsupported weight dtype ${e.dtype} for ${e.name}`);
      if (offset + n * 4 > buffer.byteLength) throw new Error(`weights truncated at ${e.name}`);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      offset += n * 4;
    }
    map.set(e.name, { name: e.name, shape: e.shape, data });
  }
  if (offset !== buffer.byteLength) throw new Error(`weights file has ${buffer.byteLength - offset} unread bytes`);
  return map;
}

/** Loads `<dir>/<name>-weights_manifest.json` and its shards. */
export async function loadWeights(name: string, dir = faceApiModelDir()): Promise<WeightMap> {
  const manifest = JSON.parse(await readFile(path.join(dir, `${name}-weights_manifest.json`), 'utf8')) as ManifestGroup[];
  const map: WeightMap = new Map();
  for (const group of manifest) {
    const shards = await Promise.all(group.paths.map((p) => readFile(path.join(dir, p))));
    const total = shards.reduce((a, s) => a + s.byteLength, 0);
    const buf = new Uint8Array(total);
    let o = 0;
    for (const s of shards) {
      buf.set(s, o);
      o += s.byteLength;
    }
    for (const [k, v] of decodeWeights(group.weights, buf)) map.set(k, v);
  }
  return map;
}

export function getWeight(map: WeightMap, name: string, rank?: number): WeightTensor {
  const w = map.get(name);
  if (!w) throw new Error(`weight ${name} missing from the model files`);
  if (rank !== undefined && w.shape.length !== rank) throw new Error(`weight ${name} has rank ${w.shape.length}, expected ${rank}`);
  return w;
}

/** TensorFlow conv filter [H, W, I, O] → ONNX [O, I, H, W]. */
export function hwioToOihw(w: WeightTensor): { data: Float32Array; dims: number[] } {
  const [h, wd, i, o] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < wd; x++)
      for (let c = 0; c < i; c++) for (let k = 0; k < o; k++) out[((k * i + c) * h + y) * wd + x] = w.data[((y * wd + x) * i + c) * o + k]!;
  return { data: out, dims: [o, i, h, wd] };
}

/** TensorFlow depthwise filter [H, W, C, 1] → ONNX grouped conv weight [C, 1, H, W] (group = C). */
export function depthwiseToOnnx(w: WeightTensor): { data: Float32Array; dims: number[] } {
  const [h, wd, c, m] = w.shape as [number, number, number, number];
  if (m !== 1) throw new Error(`depthwise multiplier ${m} not supported`);
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < wd; x++) for (let k = 0; k < c; k++) out[(k * h + y) * wd + x] = w.data[(y * wd + x) * c + k]!;
  return { data: out, dims: [c, 1, h, wd] };
}
