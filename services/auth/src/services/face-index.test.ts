import { test } from 'node:test';
import assert from 'node:assert/strict';
import { descriptorDistance, MATCH_THRESHOLDS } from '@faceline/contracts';
import { DIMS, FaceIndex } from './face-index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
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

for (const simd of [true, false])
  test(`search returns the exact nearest and second-nearest distinct people (${simd ? 'WebAssembly SIMD' : 'JavaScript'})`, () => {
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

for (const simd of [true, false])
  test(`removing templates and users keeps the index consistent (swap-remove, ${simd ? 'SIMD' : 'JS'})`, () => {
    const r = rng(3);
    const index = new FaceIndex(4, { simd });
    const vs = Array.from({ length: 10 }, () => vec(r));
    for (const [i, v] of vs.entries()) index.add(`t${i}`, `u${i % 3}`, v);
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
  index.add(
    'b',
    'bob',
    Float32Array.from(a, (x) => x + 0.01),
  );
  assert.equal(index.search(a, { maxDistance: 0.5 }).best?.userId, 'alice');
  assert.equal(index.search(a, { maxDistance: 0.5, excludeUser: 'alice' }).best?.userId, 'bob');
  const far = Float32Array.from(a, (x) => x + 1);
  assert.deepEqual(index.search(far, { maxDistance: 0.5 }), { best: null, second: null });
  assert.throws(() => index.add('x', 'y', new Float32Array(5)), RangeError);
});

/** People as clusters: a centre per person (per-dimension sd `spread`) and templates near it. */
function gallery(r: () => number, people: number, spread: number) {
  const gauss = () => {
    let u = 0;
    while (u === 0) u = r();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
  const centres = Array.from({ length: people }, () => Float32Array.from({ length: DIMS }, () => gauss() * spread));
  const near = (c: Float32Array, sd: number) => Float32Array.from(c, (x) => x + gauss() * sd);
  return { centres, near, fresh: () => Float32Array.from({ length: DIMS }, () => gauss() * spread) };
}

/** The kiosk rule of the login flow, applied to a search result. */
function decide(res: ReturnType<FaceIndex['search']>): string | null {
  const { best, second } = res;
  const ok =
    best !== null &&
    best.distance <= MATCH_THRESHOLDS.identify &&
    (second === null || second.distance - best.distance >= MATCH_THRESHOLDS.identifyMargin);
  return ok ? best.userId : null;
}

for (const spread of [0.07, 0.045])
  test(`the int8 filter with exact re-check answers exactly like the exhaustive scan (per-dimension spread ${spread})`, () => {
    const r = rng(spread === 0.07 ? 21 : 22);
    const g = gallery(r, 1500, spread);
    const index = new FaceIndex(16); // grows several times while filling
    g.centres.forEach((c, p) => {
      for (let t = 0; t < 3; t++) index.add(`t${p}-${t}`, `u${p}`, g.near(c, 0.02));
    });
    // churn: people removed, re-enrolled, single templates dropped (swap-remove moves rows)
    for (let p = 0; p < 1500; p += 7) index.removeUser(`u${p}`);
    for (let p = 3; p < 1500; p += 11) index.replaceUser(`u${p}`, [{ id: `n${p}`, embedding: g.near(g.centres[p]!, 0.02) }]);
    for (let p = 5; p < 1500; p += 13) index.removeTemplate(`t${p}-1`);
    const limit = MATCH_THRESHOLDS.identify + MATCH_THRESHOLDS.identifyMargin;
    let accepted = 0,
      rejected = 0,
      genuine = 0,
      impostor = 0,
      exactRows = 0,
      borderline = 0;
    for (let k = 0; k < 600; k++) {
      const p = Math.floor(r() * 1500);
      let q: Float32Array;
      if (k % 3 === 0) {
        q = g.fresh(); // impostor: nobody enrolled
        impostor++;
      } else if (k % 3 === 1) {
        q = g.near(g.centres[p]!, 0.01 + r() * 0.04); // genuine, near or far from their templates
        genuine++;
      } else {
        // on the way from a template to a stranger: distances around the thresholds
        const a = g.near(g.centres[p]!, 0.02);
        const b = g.fresh();
        const w = 0.25 + r() * 0.3;
        q = Float32Array.from(a, (x, i) => x * (1 - w) + b[i]! * w);
        borderline++;
      }
      for (const opts of [{ maxDistance: limit }, { maxDistance: MATCH_THRESHOLDS.verify, excludeUser: `u${p}` }]) {
        const fast = index.search(q, opts);
        exactRows += index.lastExactRows;
        const exact = index.search(q, { ...opts, scan: 'exact' });
        assert.deepEqual(fast, exact, `probe ${k}: the quantized search differs from the exact scan`);
        assert.equal(decide(fast), decide(exact));
      }
      if (decide(index.search(q, { maxDistance: limit }))) accepted++;
      else rejected++;
    }
    // the probes exercise both outcomes, and the filter really filters
    assert.ok(accepted > 50 && rejected > 50, `accepted ${accepted}, rejected ${rejected}`);
    assert.ok(genuine + impostor + borderline === 600);
    const rows = index.size;
    assert.ok(exactRows / 1200 < rows / 20, `${(exactRows / 1200).toFixed(1)} of ${rows} rows computed exactly per search`);
  });

test('rows far outside the int8 range and huge limits still get the exact answer', () => {
  const r = rng(5);
  const index = new FaceIndex(8);
  const rows: { user: string; v: Float32Array }[] = [];
  for (let i = 0; i < 400; i++) {
    // every tenth row has values beyond +-0.5 (clamped in int8, with a large residual)
    const v = vec(r, i % 10 === 0 ? 0.6 : 0.07);
    rows.push({ user: `u${i % 150}`, v });
    index.add(`t${i}`, `u${i % 150}`, v);
  }
  for (let k = 0; k < 60; k++) {
    const base = rows[Math.floor(r() * rows.length)]!.v;
    const q = Float32Array.from(base, (x) => x + (r() - 0.5) * 0.05);
    for (const limit of [0.3, 0.6, 3]) {
      assert.deepEqual(index.search(q, { maxDistance: limit }), index.search(q, { maxDistance: limit, scan: 'exact' }));
      const want = reference(rows, q, limit);
      assert.equal(index.search(q, { maxDistance: limit }).best?.userId ?? null, want[0]?.[0] ?? null);
    }
  }
});
