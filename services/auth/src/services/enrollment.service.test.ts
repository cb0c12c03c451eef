import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FeedbackCode, MATCH_THRESHOLDS, type EnrollResult } from '@faceline/contracts';
import { AuthError } from '../errors.js';
import { LIVE_FLOW_RENEW_AFTER_MS } from '../repositories/live-flow.repository.js';
import { FRAME_INTERVAL_MS, openFlowHarness, playChallenge, type FlowHarness } from '../testing/flow-harness.js';
import { descriptorOf, type ScriptedFace, type ScriptedFrame } from '../testing/scripted-vision.js';
import { MAX_DISAGREEING_FRAMES, type EnrollFrameOutcome, type EnrollmentFlow, type EnrollmentService } from './enrollment.service.js';
import { TURNED_FACE_SLACK } from './identity.js';
import type { ClientInfo } from './session.service.js';

/** Just inside or just outside a threshold; far above the float32 rounding of stored templates. */
const EPS = 1e-3;
const V = MATCH_THRESHOLDS.verify;
const IMAGE = new Uint8Array([0xff, 0xd8, 0xff]);

function errorCode(final: EnrollResult | undefined): string | null {
  assert.ok(final, 'the enrollment ended');
  return final.ok ? null : final.error.code;
}

async function codeOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
}

let h: FlowHarness;
before(async () => {
  h = await openFlowHarness();
});
after(() => h.close());

const sender = (enrollment: EnrollmentService, flow: EnrollmentFlow, client: ClientInfo) => {
  let seq = 0;
  return (frame: ScriptedFrame): Promise<EnrollFrameOutcome> => {
    h.vision.push(frame);
    h.clock.advance(FRAME_INTERVAL_MS);
    return enrollment.frame(flow, ++seq, IMAGE, client);
  };
};

describe('enrollment without liveness: the quality and consistency checks', () => {
  let enrollment: EnrollmentService;
  before(() => {
    enrollment = h.flows({ liveness: false }).enrollment;
  });

  /** A new account with no face yet, its enrollment started, and a way to send it frames of person `p`. */
  const begin = async (p: number) => {
    const user = await h.addUser();
    const client = h.client();
    const flow = await enrollment.start(user.id, null);
    const send = sender(enrollment, flow, client);
    return { user, flow, client, send, face: (over: ScriptedFace = {}) => send([{ embedding: descriptorOf(p), ...over }]) };
  };

  it('a frame just below any gate is not captured and says why; frames at the gates complete the enrollment', async () => {
    const c = h.config;
    const { face, send } = await begin(h.newPerson());
    const refused: [() => Promise<EnrollFrameOutcome>, FeedbackCode][] = [
      [() => face({ faceSizePx: c.minFaceSizePx - 1 }), FeedbackCode.MOVE_CLOSER],
      [() => face({ sharpness: c.minSharpness - EPS }), FeedbackCode.BLURRY],
      [() => face({ brightness: c.minBrightness - EPS }), FeedbackCode.TOO_DARK],
      [() => face({ embedding: null }), FeedbackCode.NO_FACE],
      [() => face({ yaw: c.maxFrontalAngle + EPS }), FeedbackCode.LOOK_STRAIGHT],
      [() => face({ pitch: -(c.maxFrontalAngle + EPS) }), FeedbackCode.LOOK_STRAIGHT],
      [() => send([{}, {}]), FeedbackCode.MULTIPLE_FACES],
      [() => send([]), FeedbackCode.NO_FACE],
    ];
    for (const [frame, code] of refused) {
      const out = await frame();
      assert.equal(out.result.accepted, false, code);
      assert.ok(out.result.feedback.includes(code), `${code}: ${out.result.feedback.join()}`);
      assert.equal(out.result.capturesAccepted, 0);
    }
    const atTheGates: ScriptedFace[] = [
      { faceSizePx: c.minFaceSizePx, sharpness: c.minSharpness, brightness: c.minBrightness },
      { yaw: c.maxFrontalAngle, pitch: -c.maxFrontalAngle },
      { yaw: -c.maxFrontalAngle, pitch: c.maxFrontalAngle },
    ];
    assert.ok(c.capturesRequired >= atTheGates.length);
    let out: EnrollFrameOutcome | undefined;
    for (let i = 0; i < c.capturesRequired; i++) {
      out = await face(atTheGates[i % atTheGates.length]);
      assert.equal(out.result.accepted, true);
      assert.equal(out.result.capturesAccepted, i + 1);
    }
    assert.equal(errorCode(out?.final), null);
    assert.equal(out?.final?.ok && out.final.templateCount, c.capturesRequired);
    assert.equal(out?.result.completed, true);
  });

  it('a frame within TURNED_FACE_SLACK of the captures is taken; beyond it is another face', async () => {
    const p = h.newPerson();
    const near = await begin(p);
    await near.face();
    assert.equal((await near.face({ embedding: descriptorOf(p, V + TURNED_FACE_SLACK - EPS) })).result.accepted, true);
    let out: EnrollFrameOutcome | undefined;
    for (let i = 2; i < h.config.capturesRequired; i++) out = await near.face();
    assert.equal(errorCode(out?.final), null);

    const q = h.newPerson();
    const far = await begin(q);
    await far.face();
    const changed = await far.face({ embedding: descriptorOf(q, V + TURNED_FACE_SLACK + EPS) });
    assert.equal(changed.result.accepted, false);
    assert.deepEqual(changed.result.feedback, [FeedbackCode.FACE_CHANGED]);
    assert.equal(changed.result.capturesAccepted, 1);
    await enrollment.abandon(far.flow);
  });

  it(`starts over at ${MAX_DISAGREEING_FRAMES} consecutive frames of another face, not one before`, async () => {
    const p = h.newPerson();
    const { face, flow } = await begin(p);
    const stranger = descriptorOf(p, V + TURNED_FACE_SLACK + EPS);
    await face();
    for (let i = 0; i < MAX_DISAGREEING_FRAMES - 1; i++) assert.equal((await face({ embedding: stranger })).final, undefined);
    // one frame of the person resets the count
    assert.equal((await face()).result.accepted, true);
    let out: EnrollFrameOutcome | undefined;
    for (let i = 0; i < MAX_DISAGREEING_FRAMES; i++) {
      assert.equal(out?.final, undefined);
      out = await face({ embedding: stranger });
    }
    assert.equal(errorCode(out?.final), ErrorCode.CAPTURES_DISAGREE);
    assert.equal(h.enrollOutcomes.at(-1), 'refused');
    assert.equal(flow.ended, true);
  });

  it('a face within the verify threshold of another account is refused; just beyond it is enrolled', async () => {
    const p = h.newPerson();
    await h.addUser([descriptorOf(p)]);
    const enrollAt = async (d: number) => {
      const { face, user } = await begin(p);
      let out: EnrollFrameOutcome | undefined;
      for (let i = 0; i < h.config.capturesRequired; i++) out = await face({ embedding: descriptorOf(p, d) });
      return { final: out?.final, user };
    };
    const taken = await enrollAt(-(V - EPS));
    assert.equal(errorCode(taken.final), ErrorCode.FACE_ALREADY_ENROLLED);
    assert.equal((await h.templates.forUser(taken.user.id)).length, 0, 'nothing stored');
    const refusal = await h.lastAudit('enroll.refused');
    assert.equal(refusal?.code, ErrorCode.FACE_ALREADY_ENROLLED);
    const own = await enrollAt(V + EPS);
    assert.equal(errorCode(own.final), null);
    assert.equal((await h.templates.forUser(own.user.id)).length, h.config.capturesRequired);
  });

  it('the time limit: a frame at the limit is still taken, one a millisecond later ends the enrollment', async () => {
    const { face, flow, client } = await begin(h.newPerson());
    h.clock.t = flow.expiresAt - FRAME_INTERVAL_MS;
    assert.equal((await face()).result.accepted, true);
    h.clock.t = flow.expiresAt + 1;
    const asked = h.vision.calls.length;
    // no frame is scripted: vision would throw if it were asked
    const late = await enrollment.frame(flow, 9, IMAGE, client);
    assert.equal(errorCode(late.final), ErrorCode.CHALLENGE_EXPIRED);
    assert.equal(h.vision.calls.length, asked);
  });

  it('one live enrollment per account; a stalled one loses its slot at its next renewal', async () => {
    const { user, flow, face, client } = await begin(h.newPerson());
    assert.equal(await codeOf(enrollment.start(user.id, null)), ErrorCode.FLOW_ALREADY_RUNNING);
    await h.db.query("UPDATE live_flows SET expires_at = now() - interval '1 millisecond' WHERE user_id = $1 AND kind = 'enroll'", [
      user.id,
    ]);
    const taker = await enrollment.start(user.id, null);
    h.clock.t = flow.leaseAt + LIVE_FLOW_RENEW_AFTER_MS - 1 - FRAME_INTERVAL_MS;
    assert.equal((await face()).final, undefined, 'before the renewal is due');
    h.clock.t = flow.leaseAt + LIVE_FLOW_RENEW_AFTER_MS;
    const asked = h.vision.calls.length;
    const out = await enrollment.frame(flow, 9, IMAGE, client);
    assert.equal(errorCode(out.final), ErrorCode.FLOW_ALREADY_RUNNING);
    assert.equal(h.vision.calls.length, asked);
    // the taker keeps the slot
    assert.equal(await codeOf(enrollment.start(user.id, null)), ErrorCode.FLOW_ALREADY_RUNNING);
    await enrollment.abandon(taker);
    await enrollment.abandon(await enrollment.start(user.id, null));
  });
});

describe('enrollment with liveness', () => {
  it('a live enrollment takes its captures from the holds and completes with the challenge', async () => {
    const p = h.newPerson();
    const user = await h.addUser();
    const client = h.client();
    const flow = await h.enrollment.start(user.id, null);
    const out = await playChallenge(sender(h.enrollment, flow, client), descriptorOf(p));
    assert.equal(errorCode(out.final), null);
    assert.equal(out.final?.ok && out.final.templateCount, h.config.capturesRequired);
    assert.equal(flow.liveness?.done, true);
    assert.equal((await h.lastAudit('enroll.completed'))?.details.templates, h.config.capturesRequired);
  });

  it('a turned face is never captured, even during a hold', async () => {
    const p = h.newPerson();
    const user = await h.addUser();
    const flow = await h.enrollment.start(user.id, null);
    const send = sender(h.enrollment, flow, h.client());
    const turned = await send([{ embedding: descriptorOf(p), yaw: h.config.maxFrontalAngle + EPS }]);
    assert.equal(turned.result.accepted, false);
    const frontal = await send([{ embedding: descriptorOf(p), yaw: h.config.maxFrontalAngle }]);
    assert.equal(frontal.result.accepted, true);
    await h.enrollment.abandon(flow);
  });
});
