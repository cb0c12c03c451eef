import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { GraphBuilder, convOutSize, tfSamePads } from './onnx-graph.js';

test("TF 'SAME' padding puts the odd extra pixel after", () => {
  assert.deepEqual(tfSamePads(112, 3, 2), [0, 1]);
  assert.deepEqual(tfSamePads(7, 3, 2), [1, 1]);
  assert.deepEqual(tfSamePads(56, 3, 1), [1, 1]);
  assert.deepEqual(tfSamePads(207, 2, 2), [0, 1]);
  assert.deepEqual(tfSamePads(208, 2, 2), [0, 0]);
  assert.deepEqual(tfSamePads(13, 2, 1), [0, 1]);
  assert.equal(convOutSize(112, 3, 2, 0, 1), 56);
  assert.equal(convOutSize(150, 7, 2, 0, 0), 72);
});

test('a built graph with asymmetric padding runs on ONNX Runtime as computed by hand', async () => {
  // 1 channel 4x4 input, 3x3 all-ones kernel, stride 2, TF SAME pads (0 before, 1 after):
  // output (i, j) sums input rows 2i..2i+2 and columns 2j..2j+2 that exist.
  const g = new GraphBuilder('t');
  const out = g.conv('input', { data: new Float32Array(9).fill(1), dims: [1, 1, 3, 3] }, new Float32Array([0.5]), {
    stride: 2,
    pads: [0, 0, 1, 1],
  });
  g.markOutput(out, 'output');
  const bytes = g.encode({ name: 'input', dims: [1, 1, 4, 4] }, { name: 'output', dims: [1, 1, 2, 2] });
  const session = await ort.InferenceSession.create(bytes);
  const x = new Float32Array(16).map((_, k) => k);
  const res = (await session.run({ input: new ort.Tensor('float32', x, [1, 1, 4, 4]) })).output!.data as Float32Array;
  const expect: number[] = [];
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) {
      let s = 0.5;
      for (let y = 2 * i; y < Math.min(2 * i + 3, 4); y++) for (let xx = 2 * j; xx < Math.min(2 * j + 3, 4); xx++) s += x[y * 4 + xx]!;
      expect.push(s);
    }
  assert.deepEqual(Array.from(res), expect);
  await session.release();
});
