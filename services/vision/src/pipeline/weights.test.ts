import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWeights, depthwiseToOnnx, hwioToOihw } from './weights.js';

test('decodeWeights reads quantised and float32 tensors stored back to back', () => {
  const buf = new Uint8Array(2 + 8);
  buf[0] = 0;
  buf[1] = 200;
  new DataView(buf.buffer).setFloat32(2, 1.5, true);
  new DataView(buf.buffer).setFloat32(6, -2.25, true);
  const map = decodeWeights(
    [
      { name: 'q', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'f', shape: [2], dtype: 'float32' },
    ],
    buf,
  );
  assert.deepEqual(Array.from(map.get('q')!.data), [-1, 99]);
  assert.deepEqual(Array.from(map.get('f')!.data), [1.5, -2.25]);
});

test('decodeWeights refuses a truncated or oversized file', () => {
  const entries = [{ name: 'f', shape: [2], dtype: 'float32' }];
  assert.throws(() => decodeWeights(entries, new Uint8Array(7)), /truncated/);
  assert.throws(() => decodeWeights(entries, new Uint8Array(9)), /unread/);
});

test('hwioToOihw moves every element to [o][i][h][w]', () => {
  const [H, W, I, O] = [2, 3, 4, 5];
  const data = new Float32Array(H * W * I * O).map((_, k) => k);
  const { data: out, dims } = hwioToOihw({ name: 'w', shape: [H, W, I, O], data });
  assert.deepEqual(dims, [O, I, H, W]);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let i = 0; i < I; i++)
        for (let o = 0; o < O; o++) assert.equal(out[((o * I + i) * H + h) * W + w], data[((h * W + w) * I + i) * O + o]);
});

test('depthwiseToOnnx turns [H,W,C,1] into [C,1,H,W]', () => {
  const data = new Float32Array(3 * 3 * 2).map((_, k) => k);
  const { data: out, dims } = depthwiseToOnnx({ name: 'd', shape: [3, 3, 2, 1], data });
  assert.deepEqual(dims, [2, 1, 3, 3]);
  assert.equal(out[0 * 9 + 1 * 3 + 2], data[(1 * 3 + 2) * 2 + 0]);
  assert.equal(out[1 * 9 + 2 * 3 + 0], data[(2 * 3 + 0) * 2 + 1]);
});
