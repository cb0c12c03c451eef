import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MATCH_THRESHOLDS } from '@faceline/contracts';
import {
  MAX_STEP_DISTANCE,
  SAME_SESSION_DISTANCE,
  TURNED_FACE_SLACK,
  identifyCandidate,
  judgeIdentity,
  type IndexSearch,
} from './identity.js';

/** A descriptor at distance `d` from the origin person along one axis (distances add up along it). */
const at = (d: number, axis = 0): number[] => {
  const e = new Array<number>(128).fill(0);
  e[axis] = d;
  return e;
};
const templates = [at(0)];
const V = MATCH_THRESHOLDS.verify;

describe('identity at the end of a login', () => {
  it('the hold frames decide at the verify threshold: just within passes, just beyond fails', () => {
    assert.equal(
      judgeIdentity(templates, { hold: [at(V - 0.01), at(V - 0.02), at(V + 0.2)], sequence: [at(V - 0.01)] }).ok,
      true,
      'the median counts',
    );
    const v = judgeIdentity(templates, { hold: [at(V + 0.01), at(V + 0.02), at(V - 0.2)], sequence: [at(V + 0.01)] });
    assert.deepEqual(v, { ok: false, reason: 'hold-mismatch', distance: V + 0.01 });
    assert.equal(judgeIdentity(templates, { hold: [], sequence: [] }).ok, false);
  });

  it('the kiosk uses its stricter threshold', () => {
    const ev = { hold: [at(MATCH_THRESHOLDS.identify + 0.01)], sequence: [at(MATCH_THRESHOLDS.identify + 0.01)] };
    assert.equal(judgeIdentity(templates, ev).ok, true);
    assert.equal(judgeIdentity(templates, ev, MATCH_THRESHOLDS.identify).ok, false);
  });

  it("turned frames may drift by the slack, or stay near the person's own hold frames", () => {
    const hold = [at(0.3)];
    const within = at(V + TURNED_FACE_SLACK - 0.01);
    assert.equal(judgeIdentity(templates, { hold, sequence: [at(0.3), at(0.45), within] }).ok, true);
    // beyond the slack from the templates, but close to the hold: the same session's person
    const nearHold = at(0.3 + SAME_SESSION_DISTANCE - 0.01);
    assert.equal(judgeIdentity(templates, { hold, sequence: [at(0.3), at(0.6), nearHold] }).ok, true);
    // beyond both
    const other = at(1.0, 5);
    const v = judgeIdentity(templates, { hold, sequence: [at(0.3), other] });
    assert.equal(v.ok, false);
  });

  it('a cut between consecutive frames (victim photo, then someone else) is a different person', () => {
    const hold = [at(0.2)];
    const jump = at(0.2 + MAX_STEP_DISTANCE + 0.01);
    assert.deepEqual(judgeIdentity(templates, { hold, sequence: [at(0.2), jump] }), { ok: false, reason: 'cut', distance: 0.2 });
    // the same distance travelled in small steps is a turning head
    const steps = [0.2, 0.35, 0.5, 0.62].map((d) => at(d));
    assert.equal(judgeIdentity(templates, { hold, sequence: steps }).ok, true);
  });
});

describe('kiosk candidate', () => {
  const index = (answers: Record<number, { best: [string, number] | null; second: [string, number] | null }>): IndexSearch => ({
    search: (q) => {
      const a = answers[q[0] as number]!;
      return {
        best: a.best && { userId: a.best[0], distance: a.best[1] },
        second: a.second && { userId: a.second[0], distance: a.second[1] },
      };
    },
  });
  const I = MATCH_THRESHOLDS.identify,
    M = MATCH_THRESHOLDS.identifyMargin;

  it('needs a majority of the hold frames to agree on one person with the margin', () => {
    const idx = index({
      1: { best: ['a', 0.3], second: ['b', 0.3 + M] },
      2: { best: ['a', 0.35], second: null },
      3: { best: ['b', 0.3], second: ['a', 0.31] },
    });
    assert.equal(identifyCandidate(idx, [at(1), at(2), at(3)]), 'a');
    assert.equal(identifyCandidate(idx, [at(1), at(3)]), null, 'one of two is no majority');
  });

  it('refuses a best match beyond the threshold or within the margin of the second', () => {
    assert.equal(identifyCandidate(index({ 1: { best: ['a', I + 0.001], second: null } }), [at(1)]), null);
    assert.equal(identifyCandidate(index({ 1: { best: ['a', 0.3], second: ['b', 0.3 + M - 0.001] } }), [at(1)]), null);
    assert.equal(
      identifyCandidate(index({ 1: { best: ['a', I], second: ['b', I + M + 1e-9] } }), [at(1)]),
      'a',
      'at the threshold and the margin',
    );
  });
});
