import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseIdentifySettings, equalErrorRate, identify, summarize, tarAtFar } from './evaluation.js';

test('summarize gives order statistics', () => {
  const s = summarize([5, 1, 3, 2, 4]);
  assert.equal(s.min, 1);
  assert.equal(s.max, 5);
  assert.equal(s.median, 3);
  assert.equal(s.mean, 3);
});

test('equalErrorRate is zero for separable sets and finds the crossing otherwise', () => {
  const sep = equalErrorRate([0.1, 0.2, 0.3], [0.6, 0.7, 0.8]);
  assert.equal(sep.eer, 0);
  assert.ok(sep.threshold >= 0.3 && sep.threshold < 0.6);
  const overlap = equalErrorRate([0.1, 0.2, 0.3, 0.65], [0.25, 0.7, 0.8, 0.9]);
  assert.equal(overlap.eer, 0.25);
});

test('tarAtFar keeps the false accept rate within the target', () => {
  const impostor = Array.from({ length: 1000 }, (_, i) => 0.5 + i / 1000);
  const genuine = [0.3, 0.4, 0.5005, 0.6];
  const r = tarAtFar(genuine, impostor, 1e-3);
  assert.equal(r.far, 1e-3);
  assert.ok(r.threshold > 0.5 && r.threshold < 0.501);
  assert.equal(r.tar, 0.75);
  assert.equal(tarAtFar(genuine, impostor, 0).far, 0);
});

test('identify applies threshold and best-versus-second margin', () => {
  const d = new Map([
    ['a', 0.3],
    ['b', 0.36],
    ['c', 0.7],
  ]);
  assert.equal(identify(d, 0.4, 0.05), 'a');
  assert.equal(identify(d, 0.4, 0.1), null);
  assert.equal(identify(d, 0.25, 0), null);
});

test('chooseIdentifySettings never accepts settings that misidentify or exceed the FAR', () => {
  const cases = [
    {
      distances: new Map([
        ['a', 0.3],
        ['b', 0.6],
      ]),
      truth: 'a',
    },
    {
      distances: new Map([
        ['a', 0.45],
        ['b', 0.7],
      ]),
      truth: null,
    },
    {
      distances: new Map([
        ['a', 0.5],
        ['b', 0.52],
      ]),
      truth: 'b',
    },
  ];
  const { best } = chooseIdentifySettings(cases, 0.01, [0.35, 0.4, 0.5, 0.6], [0, 0.05]);
  assert.ok(best);
  assert.equal(best.nonEnrolledFar, 0);
  assert.equal(best.misidentified, 0);
  assert.equal(best.correct, 0.5);
  assert.equal(best.threshold, 0.35);
});
