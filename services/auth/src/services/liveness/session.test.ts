import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChallengeStep, FeedbackCode } from '@faceline/contracts';
import { makeChallenge } from './challenge.js';
import { descriptor, face } from './fixtures.js';
import { DEFAULT_LIVENESS_RULES as R, type LivenessRules } from './rules.js';
import { LivenessSession, type LivenessEvent, type ObservedFace } from './session.js';
import { eyeSimilarity, lidDrop } from './texture.js';
import { texture } from './fixtures.js';

const DT = 130; // a frame every 130 ms, as the browser sends them

/** A session whose holds last exactly `hold` ms, fed by `frames` from t = 0 at DT spacing. */
function run(steps: ChallengeStep[], frames: (ObservedFace | null)[], rules: Partial<LivenessRules> = {}, hold = 780) {
  const s = new LivenessSession(steps, { ...R, holdMinMs: hold, holdMaxMs: hold, ...rules }, () => 0);
  const events: LivenessEvent[] = [];
  let t = 0;
  for (const f of frames) {
    events.push(s.observe({ t, face: f }));
    t += DT;
    if (s.done || s.failed) break;
  }
  return { s, events, failure: events.find((e) => e.failure)?.failure, revealedAt: events.findIndex((e) => e.revealed) };
}

const still = (n: number, over: Partial<ObservedFace> = {}) => Array.from({ length: n }, (_, i) => face({ jitter: i, ...over }));
/** 7 frames of holding still: 780 ms of hold, so the step is shown on the 7th frame */
const HOLD = still(7);
const yaws = (...ys: number[]) => ys.map((yaw, i) => face({ yaw, jitter: 10 + i }));

describe('challenges', () => {
  it('hold exactly one blink; turns never repeat back to back; a seed fixes the sequence', () => {
    for (let i = 0; i < 300; i++) {
      const n = 1 + (i % 5);
      const c = makeChallenge(n);
      assert.equal(c.length, n);
      assert.equal(c.filter((s) => s === ChallengeStep.BLINK).length, 1);
      for (let j = 1; j < c.length; j++) assert.notEqual(c[j], c[j - 1]);
    }
    assert.deepEqual(makeChallenge(3, 'x'), makeChallenge(3, 'x'));
    assert.ok(new Set(Array.from({ length: 60 }, () => makeChallenge(2).join())).size >= 3, 'blink first or last, either turn');
  });
});

describe('the hold before each step', () => {
  it('shows the step only after the random hold time, never earlier', () => {
    const { events, revealedAt } = run([ChallengeStep.TURN_LEFT], still(12));
    assert.equal(revealedAt, 6, 'the 7th frame is 780 ms after the first');
    assert.deepEqual(events[0]!.feedback, [FeedbackCode.LOOK_STRAIGHT]);
    assert.deepEqual(events[3]!.feedback, [FeedbackCode.HOLD_STILL]);
    assert.deepEqual(events[6]!.revealed, { index: 0, step: ChallengeStep.TURN_LEFT });
  });

  it('draws the hold time between the bounds, so a script cannot know when the step comes', () => {
    const at = (u: number) => {
      const s = new LivenessSession([ChallengeStep.BLINK], R, () => u);
      let t = 0;
      for (;;) {
        if (s.observe({ t, face: face({ jitter: t }) }).revealed) return t;
        t += 10;
      }
    };
    assert.equal(at(0), R.holdMinMs);
    assert.ok(Math.abs(at(0.999) - R.holdMaxMs) <= 10);
    assert.ok(at(0.5) > R.holdMinMs && at(0.5) < R.holdMaxMs);
  });

  it('starts over when the head moves more than the tolerance, faces away, or leaves', () => {
    const moved = run([ChallengeStep.BLINK], [...still(4), face({ yaw: R.holdToleranceDegrees + 0.5 }), ...still(7)]);
    assert.equal(moved.revealedAt, 11, 'the hold restarted at the moved frame');
    const within = run([ChallengeStep.BLINK], [...still(4), face({ yaw: R.holdToleranceDegrees - 0.5 }), ...still(7)]);
    assert.equal(within.revealedAt, 6);
    const away = run([ChallengeStep.BLINK], [...still(3), face({ yaw: R.maxFrontalAngle + 1 }), ...still(8)]);
    assert.equal(away.revealedAt, 10);
    const gone = run([ChallengeStep.BLINK], [...still(3), null, ...still(8)]);
    assert.equal(gone.revealedAt, 10);
    // once at the moved frame, once when the head came back
    assert.equal(moved.s.notes.holdRestarts, 2);
  });
});

describe('a turn', () => {
  // TURN_LEFT: yaw grows (positive = the person's own left)
  it('completes with a continuous turn that starts after the prompt', () => {
    const { s, failure } = run([ChallengeStep.TURN_LEFT], [...HOLD, face({ jitter: 40 }), ...yaws(3, 8, 13, 17)]);
    assert.equal(failure, undefined);
    assert.equal(s.done, true);
  });

  it('TURN_RIGHT is the other sign', () => {
    assert.equal(run([ChallengeStep.TURN_RIGHT], [...HOLD, face(), ...yaws(-4, -9, -14, -18)]).s.done, true);
    assert.equal(run([ChallengeStep.TURN_RIGHT], [...HOLD, face(), ...yaws(4, 9)]).failure, 'wrong-direction');
  });

  it('is judged at turnDegrees exactly: 14.9 is not enough, 15 is', () => {
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, face(), ...yaws(6, 10, 14.9)]).s.done, false);
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, face(), ...yaws(6, 10, 15)]).s.done, true);
  });

  it('fails when the motion comes before a person could have seen the prompt', () => {
    // the frame right after the prompt (130 ms) with the head already turned
    const fast = run([ChallengeStep.TURN_LEFT], [...HOLD, ...yaws(R.onsetDegrees + 1, 12, 17)], { minReactionMs: 150 });
    assert.equal(fast.failure, 'anticipated');
    const human = run([ChallengeStep.TURN_LEFT], [...HOLD, ...yaws(R.onsetDegrees + 1, 12, 17)], { minReactionMs: 120 });
    assert.equal(human.s.done, true, 'just after the minimum reaction time it counts');
  });

  it('fails when it starts too late, goes the wrong way, or cuts', () => {
    const waiting = Math.ceil(R.reactionMs / DT) + 1;
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, ...still(waiting), ...yaws(8, 16)]).failure, 'late');
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, face(), ...yaws(-R.wrongWayDegrees - 0.5)]).failure, 'wrong-direction');
    assert.equal(
      run([ChallengeStep.TURN_LEFT], [...HOLD, face(), ...yaws(-R.wrongWayDegrees + 0.5, 5, 10, 16)]).s.done,
      true,
      'a small wobble the wrong way is fine',
    );
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, face(), ...yaws(2, 2 + R.maxJumpDegrees + 0.5)]).failure, 'discontinuous');
    // from still to fully turned between two frames: no intermediate yaw
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, face(), ...yaws(0, 16)]).failure, 'discontinuous');
  });

  it('fails with a nod instead of a turn, too slow a turn, or frames that stop', () => {
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, face(), face({ pitch: R.blinkMaxPoseChange + 1 })]).failure, 'wrong-motion');
    const slow = Array.from({ length: Math.ceil(R.stepTimeMs / DT) + 2 }, (_, i) => face({ yaw: Math.min(14, 6 + i * 0.3) }));
    assert.equal(run([ChallengeStep.TURN_LEFT], [...HOLD, face(), ...slow]).failure, 'too-slow');
    const s = new LivenessSession([ChallengeStep.TURN_LEFT], { ...R, holdMinMs: 780, holdMaxMs: 780 }, () => 0);
    let t = 0;
    for (const f of HOLD) s.observe({ t: (t += DT), face: f });
    assert.equal(s.observe({ t: t + R.maxGapMs + 1, face: face() }).failure, 'gap');
  });

  it('a still photo never completes it, whatever the re-encoding noise', () => {
    assert.equal(run([ChallengeStep.TURN_LEFT], still(200, { yaw: 3 })).s.done, false);
  });
});

describe('a blink', () => {
  it('the texture helpers see a closed lid as unlike the open eyes and lower; a squashed eye as unlike but not lower', () => {
    const refs = [texture('open', 1), texture('open', 2), texture('open', 3)];
    assert.ok(eyeSimilarity(texture('open', 9), refs) > R.blinkOpenAbove);
    assert.ok(eyeSimilarity(texture('closed', 9), refs) < R.blinkClosedBelow);
    assert.ok(lidDrop(texture('closed', 9), refs) >= R.blinkLidDrop);
    assert.ok(lidDrop(texture('squashed', 9), refs) < R.blinkLidDrop);
  });

  it('completes when the eyes close after the prompt and open again', () => {
    const { s, failure } = run(
      [ChallengeStep.BLINK],
      [...HOLD, face({ jitter: 50 }), face({ eyes: 'closed', jitter: 51 }), face({ eyes: 'closed', jitter: 52 }), face({ jitter: 53 })],
    );
    assert.equal(failure, undefined);
    assert.equal(s.done, true);
  });

  it('an eye band squashed flat (a warped photo) is not a closed eye', () => {
    const { s } = run(
      [ChallengeStep.BLINK],
      [...HOLD, face(), ...Array.from({ length: 10 }, (_, i) => face({ eyes: i % 3 === 2 ? 'open' : 'squashed', jitter: 60 + i }))],
    );
    assert.equal(s.done, false);
  });

  it('does not count closed eyes of a face that is not the person of the hold, nor eyes that never reopen', () => {
    const other = descriptor(R.blinkIdentityMax + 0.05);
    const { s } = run(
      [ChallengeStep.BLINK],
      [...HOLD, face(), face({ eyes: 'closed', embedding: other }), face({ jitter: 3 }), ...still(3)],
    );
    assert.equal(s.done, false);
    assert.equal(s.notes.closedFramesRefused, 1);
    const same = descriptor(R.blinkIdentityMax - 0.05);
    assert.equal(
      run([ChallengeStep.BLINK], [...HOLD, face(), face({ eyes: 'closed', embedding: same }), face({ jitter: 3 })]).s.done,
      true,
    );
    const shut = run(
      [ChallengeStep.BLINK],
      [...HOLD, face(), ...Array.from({ length: 40 }, (_, i) => face({ eyes: 'closed', jitter: i }))],
    );
    assert.equal(shut.s.done, false);
    assert.equal(shut.failure, 'too-slow');
  });

  it('fails on a head turn instead of a blink, and without textures', () => {
    assert.equal(run([ChallengeStep.BLINK], [...HOLD, face(), face({ yaw: R.blinkMaxPoseChange + 1 })]).failure, 'wrong-motion');
    assert.equal(run([ChallengeStep.BLINK], [...HOLD, face({ texture: null })]).failure, 'no-evidence');
  });

  it('a blink during the hold is left out of the open-eyed references', () => {
    const hold = [...still(3), face({ eyes: 'closed', jitter: 70 }), ...still(3)];
    const { s } = run([ChallengeStep.BLINK], [...hold, face(), face({ eyes: 'closed', jitter: 71 }), face({ jitter: 72 })]);
    assert.equal(s.done, true);
  });
});

describe('a whole challenge', () => {
  it('runs hold → step → hold → step, and reports the steps', () => {
    const frames = [...HOLD, face(), face({ eyes: 'closed', jitter: 80 }), face({ jitter: 81 }), ...still(7), face(), ...yaws(6, 11, 16)];
    const { s, events } = run(
      [ChallengeStep.BLINK, ChallengeStep.TURN_RIGHT],
      frames.map((f) => (f && f.yaw > 0 ? { ...f, yaw: -f.yaw } : f)),
    );
    assert.equal(s.done, true);
    assert.deepEqual(
      events.filter((e) => e.revealed).map((e) => e.revealed!.step),
      [ChallengeStep.BLINK, ChallengeStep.TURN_RIGHT],
    );
    assert.equal(s.holdEmbeddings.length, 14);
  });
});
