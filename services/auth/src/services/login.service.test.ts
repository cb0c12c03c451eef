import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ACR, ErrorCode, FeedbackCode, MATCH_THRESHOLDS, type LoginResult } from '@faceline/contracts';
import { AuthError } from '../errors.js';
import { LIVE_FLOW_RENEW_AFTER_MS } from '../repositories/live-flow.repository.js';
import type { UserRecord } from '../repositories/user.repository.js';
import { FRAME_INTERVAL_MS, openFlowHarness, playChallenge, type FlowHarness } from '../testing/flow-harness.js';
import { descriptorOf, type ScriptedFrame } from '../testing/scripted-vision.js';
import { SAME_SESSION_DISTANCE, TURNED_FACE_SLACK } from './identity.js';
import type { LoginFlow, LoginFrameOutcome, LoginOutcomeLabel, LoginService } from './login.service.js';
import type { ClientInfo } from './session.service.js';

/** Just inside or just outside a threshold; far above the float32 rounding of stored templates. */
const EPS = 1e-3;
const V = MATCH_THRESHOLDS.verify;
const I = MATCH_THRESHOLDS.identify;
const M = MATCH_THRESHOLDS.identifyMargin;
const IMAGE = new Uint8Array([0xff, 0xd8, 0xff]);

async function codeOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
}

function errorCode(final: LoginResult | undefined): string | null {
  assert.ok(final, 'the flow ended');
  return final.ok ? null : final.error.code;
}

let h: FlowHarness;
before(async () => {
  h = await openFlowHarness();
});
after(() => h.close());

describe('login decisions (liveness on, scripted vision, PGlite in memory)', () => {
  /** Sends one frame a frame interval after the last one. */
  const sender =
    (flow: LoginFlow, client: ClientInfo) =>
    (frame: ScriptedFrame): Promise<LoginFrameOutcome> => {
      h.vision.push(frame);
      h.clock.advance(FRAME_INTERVAL_MS);
      return h.login.frame(flow, flow.frames + 1, IMAGE, client);
    };
  const verify = (user: UserRecord, client: ClientInfo) => h.login.start({ mode: 'verify', username: user.username }, client);
  const kiosk = (client: ClientInfo) => h.login.start({ mode: 'identify' }, client);
  /** A whole live challenge by the face `embedding`; the flow's final result. */
  const live = async (flow: LoginFlow, client: ClientInfo, embedding: number[], afterReveal?: ScriptedFrame[]) =>
    (await playChallenge(sender(flow, client), embedding, { afterReveal })).final;
  /** Starts a flow, shows one face (the attempt is counted) and leaves it running. */
  const oneFace = async (user: UserRecord, client: ClientInfo) => {
    const flow = await verify(user, client);
    const out = await sender(flow, client)([{ embedding: descriptorOf(0) }]);
    assert.equal(out.final, undefined);
    assert.equal(flow.counted, true);
    return flow;
  };

  describe('1:1 (user name and face): the verify threshold over the hold frames', () => {
    it('a face just within the threshold logs in; the attempt is given back', async () => {
      const p = h.newPerson();
      const user = await h.addUser([descriptorOf(p)]);
      const client = h.client();
      const final = await live(await verify(user, client), client, descriptorOf(p, V - EPS));
      assert.equal(errorCode(final), null);
      assert.equal(final?.ok && final.user.id, user.id);
      assert.equal(h.loginOutcomes.at(-1), 'success');
      assert.equal((await h.counter('user', user.id)).consecutive, 0);
      assert.equal((await h.counter('ip', client.ip)).windowFailures, 0);
    });

    it('a face just beyond it is refused as a mismatch, and the attempt stays counted', async () => {
      const p = h.newPerson();
      const user = await h.addUser([descriptorOf(p)]);
      const client = h.client();
      const final = await live(await verify(user, client), client, descriptorOf(p, V + EPS));
      assert.equal(errorCode(final), ErrorCode.FACE_MISMATCH);
      assert.equal(h.loginOutcomes.at(-1), 'mismatch');
      assert.equal((await h.lastAudit('login.failed'))?.details.identity, 'hold-mismatch');
      assert.equal((await h.counter('user', user.id)).consecutive, 1);
    });

    it('frames outside the holds may drift by TURNED_FACE_SLACK from the templates, not further', async () => {
      const p = h.newPerson();
      const user = await h.addUser([descriptorOf(p)]);
      // the drifted frame is too far from the hold frames to pass as "the same session" on its own
      assert.ok(V + TURNED_FACE_SLACK - EPS > SAME_SESSION_DISTANCE);
      const drift = (d: number): ScriptedFrame[] => [
        [{ embedding: descriptorOf(p, d / 2) }],
        [{ embedding: descriptorOf(p, d) }],
        [{ embedding: descriptorOf(p, d / 2) }],
      ];
      const a = h.client();
      assert.equal(errorCode(await live(await verify(user, a), a, descriptorOf(p), drift(V + TURNED_FACE_SLACK - EPS))), null);
      const b = h.client();
      assert.equal(
        errorCode(await live(await verify(user, b), b, descriptorOf(p), drift(V + TURNED_FACE_SLACK + EPS))),
        ErrorCode.FACE_MISMATCH,
      );
      assert.equal((await h.lastAudit('login.failed'))?.details.identity, 'frame-mismatch');
    });

    it('the client hears only what to do, never whether the face matched', async () => {
      const p = h.newPerson();
      const user = await h.addUser([descriptorOf(p)]);
      const feedback = async (embedding: number[]) => {
        const client = h.client();
        const flow = await verify(user, client);
        const out = await sender(flow, client)([{ embedding }]);
        await h.login.abandon(flow, 'cancelled', client);
        return out.result;
      };
      assert.deepEqual(await feedback(descriptorOf(p, V + EPS)), await feedback(descriptorOf(p)));
    });
  });

  describe('1:N (kiosk): the identify threshold, the margin and the re-check', () => {
    it('the best match just within the identify threshold logs in; just beyond it is unknown', async () => {
      const p = h.newPerson();
      const user = await h.addUser([descriptorOf(p)]);
      const a = h.client();
      const final = await live(await kiosk(a), a, descriptorOf(p, I - EPS));
      assert.equal(errorCode(final), null);
      assert.equal(final?.ok && final.user.id, user.id);
      const b = h.client();
      // stricter than 1:1: this face would pass a login with the user name
      assert.ok(I + EPS < V);
      assert.equal(errorCode(await live(await kiosk(b), b, descriptorOf(p, I + EPS))), ErrorCode.FACE_UNKNOWN);
      assert.equal(h.loginOutcomes.at(-1), 'unknown');
    });

    it('the second-best person must be at least the margin further away', async () => {
      const best = 0.3;
      // the other person's template is `second` from the face and `best`-orthogonal to the first person's
      const kioskWithSecondAt = async (second: number) => {
        const p = h.newPerson();
        const user = await h.addUser([descriptorOf(p)]);
        await h.addUser([descriptorOf(p, 0, Math.sqrt(second ** 2 - best ** 2))]);
        const client = h.client();
        return { user, final: await live(await kiosk(client), client, descriptorOf(p, best)) };
      };
      const clear = await kioskWithSecondAt(best + M + EPS);
      assert.equal(clear.final?.ok && clear.final.user.id, clear.user.id);
      assert.equal(errorCode((await kioskWithSecondAt(best + M - EPS)).final), ErrorCode.FACE_UNKNOWN);
    });

    it("the candidate is re-checked against their templates as stored now, not the index's copy", async () => {
      const p = h.newPerson();
      const user = await h.addUser([descriptorOf(p)]);
      // the index still finds the person at distance 0; the stored templates moved
      await h.storeBehindIndex(user.id, [descriptorOf(p, I + EPS)]);
      const a = h.client();
      assert.equal(errorCode(await live(await kiosk(a), a, descriptorOf(p))), ErrorCode.FACE_UNKNOWN);
      assert.equal((await h.lastAudit('login.failed'))?.details.identity, 'hold-mismatch');
      assert.equal((await h.counter('user', user.id)).consecutive, 1, 'the account known at the end pays for the attempt');
      await h.storeBehindIndex(user.id, [descriptorOf(p, I - EPS)]);
      const b = h.client();
      assert.equal(errorCode(await live(await kiosk(b), b, descriptorOf(p))), null);
    });

    it('a kiosk at a trusted device logs a locked account in and lifts the lock', async () => {
      const p = h.newPerson();
      const user = await h.addUser([descriptorOf(p)]);
      for (let i = 0; i < h.config.lockAfter; i++) await h.bruteForce.recordAttempt(user.id, h.client());
      assert.equal(await codeOf(verify(user, h.client())), ErrorCode.ACCOUNT_LOCKED);
      const device = h.client(randomUUID());
      const final = await live(await kiosk(device), device, descriptorOf(p));
      assert.equal(errorCode(final), null);
      assert.equal(h.loginOutcomes.at(-1), 'success');
      assert.equal((await h.lastAudit('login.succeeded'))?.details.acr, ACR.TRUSTED_DEVICE);
      assert.equal((await h.counter('user', user.id)).locked, false);
      const elsewhere = h.client();
      await h.login.abandon(await verify(user, elsewhere), 'cancelled', elsewhere);
    });
  });

  describe('attempts and limits', () => {
    it('an attempt counts at its first face however the flow ends (cancel, disconnect, timeout); the pair backs off at the limit', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      const client = h.client();
      // flows without a face cost nothing
      for (const how of ['cancelled', 'abandoned'] as const) {
        const flow = await verify(user, client);
        await sender(flow, client)([]);
        await h.login.abandon(flow, how, client);
      }
      assert.equal((await h.counter('pair', `${user.id} ${client.ip}`)).consecutive, 0);
      const ends: [LoginOutcomeLabel, (f: LoginFlow) => Promise<unknown>][] = [
        ['cancelled', (f) => h.login.abandon(f, 'cancelled', client)],
        ['abandoned', (f) => h.login.abandon(f, 'abandoned', client)],
        [
          'liveness_failed',
          async (f) => {
            h.clock.t = f.expiresAt + 1;
            assert.equal(errorCode((await h.login.frame(f, f.frames + 1, IMAGE, client)).final), ErrorCode.LIVENESS_FAILED);
          },
        ],
      ];
      const labels: LoginOutcomeLabel[] = [];
      for (let i = 0; i < h.config.pairBackoffAfter; i++) {
        assert.equal((await h.counter('pair', `${user.id} ${client.ip}`)).consecutive, i, `${i} attempts so far`);
        const [label, end] = ends[i % ends.length] as (typeof ends)[number];
        await end(await oneFace(user, client));
        labels.push(label);
      }
      assert.equal(await codeOf(verify(user, client)), ErrorCode.BACKOFF);
      assert.deepEqual(h.loginOutcomes.slice(-labels.length), labels);
      // the owner elsewhere is not held back by this address
      const home = h.client();
      await h.login.abandon(await verify(user, home), 'cancelled', home);
    });

    it('the time limit: a frame at the limit is still judged, one a millisecond later ends the flow', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      const client = h.client();
      const flow = await oneFace(user, client);
      h.clock.t = flow.expiresAt;
      h.vision.push([{ embedding: descriptorOf(0) }]);
      assert.equal((await h.login.frame(flow, 2, IMAGE, client)).final, undefined);
      h.clock.t = flow.expiresAt + 1;
      assert.equal(errorCode((await h.login.frame(flow, 3, IMAGE, client)).final), ErrorCode.LIVENESS_FAILED);
      assert.equal(h.vision.pending, 0);
      // without a face the flow simply expired and cost nothing
      const empty = await verify(user, client);
      await sender(empty, client)([]);
      h.clock.t = empty.expiresAt + 1;
      assert.equal(errorCode((await h.login.frame(empty, 2, IMAGE, client)).final), ErrorCode.CHALLENGE_EXPIRED);
      assert.equal(h.loginOutcomes.at(-1), 'expired');
      assert.equal((await h.counter('user', user.id)).consecutive, 1);
    });

    it('the account backs off after backoffAfter failures from any addresses, not one before', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      for (let i = 0; i < h.config.backoffAfter - 1; i++) {
        const c = h.client();
        await h.login.abandon(await oneFace(user, c), 'cancelled', c);
      }
      const owner = h.client();
      await h.login.abandon(await verify(user, owner), 'cancelled', owner);
      const last = h.client();
      await h.login.abandon(await oneFace(user, last), 'abandoned', last);
      assert.equal(await codeOf(verify(user, owner)), ErrorCode.BACKOFF);
      assert.equal((await h.lastAudit('account.backoff'))?.details.consecutive, h.config.backoffAfter);
    });

    it('a back-off that begins mid-flow ends the flow at its next frame', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      const client = h.client();
      const flow = await oneFace(user, client);
      for (let i = 0; i < h.config.backoffAfter; i++) await h.bruteForce.recordAttempt(user.id, h.client());
      const asked = h.vision.calls.length;
      // no frame is scripted: vision would throw if it were asked
      assert.equal(errorCode((await h.login.frame(flow, 2, IMAGE, client)).final), ErrorCode.BACKOFF);
      assert.equal(h.vision.calls.length, asked, 'refused before vision was asked');
      assert.equal(h.loginOutcomes.at(-1), 'locked');
    });

    it('unknown user names cost the address like failures, up to the window limit', async () => {
      const client = h.client();
      for (let i = 0; i < h.config.ipMaxFailures - 1; i++) {
        assert.equal(await codeOf(h.login.start({ mode: 'verify', username: `nobody-${i}` }, client)), ErrorCode.USER_NOT_FOUND);
      }
      await h.login.abandon(await kiosk(client), 'cancelled', client);
      assert.equal(await codeOf(h.login.start({ mode: 'verify', username: 'nobody-last' }, client)), ErrorCode.USER_NOT_FOUND);
      assert.equal(await codeOf(kiosk(client)), ErrorCode.RATE_LIMITED);
      const other = h.client();
      await h.login.abandon(await kiosk(other), 'cancelled', other);
    });

    it('an address may start loginStartsPerWindow logins per account, not one more', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      const client = h.client();
      for (let i = 0; i < h.config.loginStartsPerWindow; i++) await h.login.abandon(await verify(user, client), 'cancelled', client);
      assert.equal(await codeOf(verify(user, client)), ErrorCode.RATE_LIMITED);
      const owner = h.client();
      await h.login.abandon(await verify(user, owner), 'cancelled', owner);
    });
  });

  describe('one live login per account', () => {
    it('a second login waits for the first to end', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      const a = h.client(),
        b = h.client();
      const first = await verify(user, a);
      assert.equal(await codeOf(verify(user, b)), ErrorCode.FLOW_ALREADY_RUNNING);
      assert.equal((await h.counter('ip', b.ip)).windowFailures, 1, 'the refused start costs its address like a probe');
      await h.login.abandon(first, 'cancelled', a);
      await h.login.abandon(await verify(user, b), 'cancelled', b);
    });

    it('a stalled login loses its slot to a new one and ends at its next renewal', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      const a = h.client(),
        b = h.client();
      const stalled = await verify(user, a);
      await h.db.query("UPDATE live_flows SET expires_at = now() - interval '1 millisecond' WHERE user_id = $1", [user.id]);
      const taker = await verify(user, b);
      // before the renewal is due the stalled flow does not notice
      h.clock.t = stalled.leaseAt + LIVE_FLOW_RENEW_AFTER_MS - 1;
      h.vision.push([{ embedding: descriptorOf(0) }]);
      assert.equal((await h.login.frame(stalled, 1, IMAGE, a)).final, undefined);
      h.clock.t = stalled.leaseAt + LIVE_FLOW_RENEW_AFTER_MS;
      assert.equal(errorCode((await h.login.frame(stalled, 2, IMAGE, a)).final), ErrorCode.FLOW_ALREADY_RUNNING);
      // the taker's slot survived the stalled flow's end
      assert.equal(await codeOf(verify(user, h.client())), ErrorCode.FLOW_ALREADY_RUNNING);
      await h.login.abandon(taker, 'cancelled', b);
    });
  });

  describe('quality gates on login frames', () => {
    it('a face just below a gate is not evidence and says why; at the gate it is', async () => {
      const user = await h.addUser([descriptorOf(h.newPerson())]);
      const client = h.client();
      const flow = await verify(user, client);
      const send = sender(flow, client);
      const c = h.config;
      const cases: [ScriptedFrame, FeedbackCode][] = [
        [[{ faceSizePx: c.minFaceSizePx - 1 }], FeedbackCode.MOVE_CLOSER],
        [[{ sharpness: c.minSharpness - EPS }], FeedbackCode.BLURRY],
        [[{ brightness: c.minBrightness - EPS }], FeedbackCode.TOO_DARK],
        [[{}, {}], FeedbackCode.MULTIPLE_FACES],
        [[], FeedbackCode.NO_FACE],
      ];
      for (const [frame, code] of cases) assert.ok((await send(frame)).result.feedback.includes(code), code);
      assert.equal(flow.faceFrames, 0);
      await send([{ faceSizePx: c.minFaceSizePx, sharpness: c.minSharpness, brightness: c.minBrightness }]);
      assert.equal(flow.faceFrames, 1);
      await h.login.abandon(flow, 'cancelled', client);
    });
  });
});

describe('login decisions without liveness: one frontal frame decides', () => {
  let login: LoginService;
  before(() => {
    login = h.flows({ liveness: false }).login;
  });

  const frame = (flow: LoginFlow, client: ClientInfo, f: ScriptedFrame) => {
    h.vision.push(f);
    h.clock.advance(FRAME_INTERVAL_MS);
    return login.frame(flow, flow.frames + 1, IMAGE, client);
  };

  it('fails at maxMismatchFrames frames of someone else, not one before', async () => {
    const p = h.newPerson();
    const user = await h.addUser([descriptorOf(p)]);
    const client = h.client();
    const flow = await login.start({ mode: 'verify', username: user.username }, client);
    for (let i = 0; i < h.config.maxMismatchFrames - 1; i++) {
      const out = await frame(flow, client, [{ embedding: descriptorOf(p, V + EPS) }]);
      assert.equal(out.final, undefined);
      assert.equal(out.result.status, 'continue');
    }
    const out = await frame(flow, client, [{ embedding: descriptorOf(p, V - EPS) }]);
    assert.equal(errorCode(out.final), null, 'the person still gets in after maxMismatchFrames - 1 misses');
    assert.equal(out.final?.ok && out.final.liveness, false);

    const again = await login.start({ mode: 'verify', username: user.username }, client);
    let last: LoginFrameOutcome | undefined;
    for (let i = 0; i < h.config.maxMismatchFrames; i++) last = await frame(again, client, [{ embedding: descriptorOf(p, V + EPS) }]);
    assert.equal(errorCode(last?.final), ErrorCode.FACE_MISMATCH);
  });

  it('a face turned just beyond maxFrontalAngle is asked to look straight and decides nothing', async () => {
    const p = h.newPerson();
    const user = await h.addUser([descriptorOf(p)]);
    const client = h.client();
    const flow = await login.start({ mode: 'verify', username: user.username }, client);
    const turned = await frame(flow, client, [{ embedding: descriptorOf(p), yaw: h.config.maxFrontalAngle + EPS }]);
    assert.deepEqual(turned.result.feedback, [FeedbackCode.LOOK_STRAIGHT]);
    assert.equal(flow.mismatches, 0);
    const frontal = await frame(flow, client, [
      { embedding: descriptorOf(p), yaw: h.config.maxFrontalAngle, pitch: -h.config.maxFrontalAngle },
    ]);
    assert.equal(errorCode(frontal.final), null);
    assert.equal(frontal.final?.ok && frontal.final.liveness, false);
  });

  it('a kiosk frame within the identify threshold of one person logs them in; a stranger is unknown after maxMismatchFrames', async () => {
    const p = h.newPerson();
    const user = await h.addUser([descriptorOf(p)]);
    const client = h.client();
    const flow = await login.start({ mode: 'identify' }, client);
    const out = await frame(flow, client, [{ embedding: descriptorOf(p, I - EPS) }]);
    assert.equal(out.final?.ok && out.final.user.id, user.id);
    const stranger = await login.start({ mode: 'identify' }, client);
    let last: LoginFrameOutcome | undefined;
    for (let i = 0; i < h.config.maxMismatchFrames; i++) {
      assert.equal(last?.final, undefined);
      last = await frame(stranger, client, [{ embedding: descriptorOf(p, I + EPS) }]);
    }
    assert.equal(errorCode(last?.final), ErrorCode.FACE_UNKNOWN);
  });
});
