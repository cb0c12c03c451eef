import { test } from 'node:test';
import assert from 'node:assert/strict';
import { descriptorDistance } from '@faceline/contracts';
import { DIMS, FaceIndex } from './face-index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const vec = (r: () => number, scale = 0.07) => Float32Array.from({ length: DIMS }, () => (r() - 0.5) * 2 * scale * 1.7);

/** Reference answer: per-user minimum distance by brute force, in float64. */
function reference(rows: { user: string; v: Float32Array }[], q: Float32Array, limit: number, exclude?: string) {
  const best = new Map<string, number>();
  for (const { user, v } of rows) {
    if (user === exclude) continue;
    const d = descriptorDistance(v, q);
    if (d <= limit && d < (best.get(user) ?? Infinity)) best.set(user, d);
  }
  return [...best.entries()].sort((a, b) => a[1] - b[1]);
}

for (const simd of [true, false]) test(`search returns the exact nearest and second-nearest distinct people (${simd ? 'WebAssembly SIMD' : 'JavaScript'})`, () => {
  const r = rng(7);
  const index = new FaceIndex(8, { simd });
  assert.equal(index.simd, simd, 'WebAssembly SIMD is available on Node 20');
  const rows: { user: string; v: Float32Array }[] = [];
  for (let i = 0; i < 3000; i++) {
    const user = `u${i % 1000}`;
    const v = vec(r);
    rows.push({ user, v });
    index.add(`t${i}`, user, v);
  }
  for (let k = 0; k < 30; k++) {
    // queries near a stored row, so that there is something within the limit
    const base = rows[Math.floor(r() * rows.length)]!.v;
    const q = Float32Array.from(base, (x) => x + (r() - 0.5) * 0.04);
    for (const limit of [0.5, 0.9, 1.3]) {
      const want = reference(rows, q, limit);
      const got = index.search(q, { maxDistance: limit });
      assert.equal(got.best?.userId ?? null, want[0]?.[0] ?? null);
      if (want[0]) assert.ok(Math.abs(got.best!.distance - want[0][1]) < 1e-4);
      assert.equal(got.second?.userId ?? null, want[1]?.[0] ?? null);
      if (want[1]) assert.ok(Math.abs(got.second!.distance - want[1][1]) < 1e-4);
    }
  }
});

for (const simd of [true, false]) test(`removing templates and users keeps the index consistent (swap-remove, ${simd ? 'SIMD' : 'JS'})`, () => {
  const r = rng(3);
  const index = new FaceIndex(4, { simd });
  const vs = Array.from({ length: 10 }, () => vec(r));
  vs.forEach((v, i) => index.add(`t${i}`, `u${i % 3}`, v));
  assert.equal(index.size, 10);
  assert.equal(index.users, 3);
  index.removeUser('u0'); // t0 t3 t6 t9
  assert.equal(index.size, 6);
  assert.equal(index.users, 2);
  for (let i = 0; i < 10; i++) {
    const hit = index.search(vs[i]!, { maxDistance: 1e-3 }).best;
    if (i % 3 === 0) assert.notEqual(hit?.userId, 'u0');
    else assert.equal(hit?.userId, `u${i % 3}`, `template ${i} still found after other rows moved`);
  }
  index.removeTemplate('t1');
  assert.equal(index.search(vs[1]!, { maxDistance: 1e-3 }).best, null);
  index.replaceUser('u2', [{ id: 'n1', embedding: vs[0]! }]);
  assert.equal(index.search(vs[0]!, { maxDistance: 1e-3 }).best?.userId, 'u2');
  assert.equal(index.search(vs[2]!, { maxDistance: 1e-3 }).best, null);
});

test('excludeUser skips that person and nothing beyond the limit is reported', () => {
  const r = rng(11);
  const index = new FaceIndex();
  const a = vec(r);
  index.add('a', 'alice', a);
  index.add('b', 'bob', Float32Array.from(a, (x) => x + 0.01));
  assert.equal(index.search(a, { maxDistance: 0.5 }).best?.userId, 'alice');
  assert.equal(index.search(a, { maxDistance: 0.5, excludeUser: 'alice' }).best?.userId, 'bob');
  const far = Float32Array.from(a, (x) => x + 1);
  assert.deepEqual(index.search(far, { maxDistance: 0.5 }), { best: null, second: null });
  assert.throws(() => index.add('x', 'y', new Float32Array(5)), RangeError);
});
