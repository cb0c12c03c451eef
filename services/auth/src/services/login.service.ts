/**
 * Face login over a frame stream, 1:1 (verify: username + face) or 1:N (identify: kiosk).
 *
 * Order of things in a flow:
 *  1. start: the origin's limits, the account (verify), the account's limits, the per-account
 *     start rate (each start draws a new challenge), and the account's single live-login slot;
 *  2. every frame: the limits again (another flow may have used them up meanwhile), then
 *     vision, then the quality gates; the first frame with a face counts as an attempt on the
 *     origin and the account at once, so that a cancel, a disconnect or a crash cannot dodge it;
 *  3. liveness (liveness/session.ts) runs on every good frame whoever's face it is; the
 *     client hears only what to do (look straight, turn, blink) and never whether the face
 *     matched;
 *  4. when the challenge is complete, identity is decided once over all frames (identity.ts):
 *     success gives the attempt back, failure keeps it.
 *
 * Without liveness (an operator switched it off for tests or demos) the first good frontal
 * frame decides, as a plain face match would.
 */
import { randomUUID } from 'node:crypto';
import {
  ACR,
  ErrorCode,
  FeedbackCode,
  MATCH_THRESHOLDS,
  type AnalyzeResponse,
  type ChallengeStep,
  type LoginFrameResult,
  type LoginMode,
  type LoginResult,
} from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import { LIVE_FLOW_LEASE_MS, LIVE_FLOW_RENEW_AFTER_MS, type LiveFlowRepository } from '../repositories/live-flow.repository.js';
import type { UserRecord, UserRepository } from '../repositories/user.repository.js';
import type { VisionClient } from '../repositories/vision.repository.js';
import type { AuditService } from './audit.service.js';
import type { BruteForceService, FailureOutcome, Origin } from './brute-force.service.js';
import { identifyCandidate, judgeIdentity, minDistance, type Embedding } from './identity.js';
import { makeChallenge } from './liveness/challenge.js';
import { LivenessSession, type LivenessFailure } from './liveness/session.js';
import { decodeTexture, meanEar } from './liveness/texture.js';
import { assessFaces, faceLocation, isFrontal } from './quality.js';
import type { ClientInfo, SessionService } from './session.service.js';
import type { PlainTemplate, TemplateService } from './template.service.js';
import { toUser } from './user.service.js';

export interface LoginFlow {
  id: string;
  mode: LoginMode;
  /** known from the start in verify mode; found at the end in identify mode */
  userId: string | null;
  username: string | null;
  templates: PlainTemplate[];
  liveness: LivenessSession | null;
  origin: Origin;
  startedAt: number;
  expiresAt: number;
  frames: number;
  faceFrames: number;
  /** the attempt was counted (a face was seen) */
  counted: boolean;
  /** every good face frame's descriptor, in order */
  sequence: Embedding[];
  /** without liveness: frames of another person so far */
  mismatches: number;
  /** the live-login slot of this account is ours (released when the flow ends) */
  holdsSlot: boolean;
  /** when the slot's lease was last taken or renewed */
  leaseAt: number;
  ended: boolean;
}

export interface LoginFrameOutcome {
  result: LoginFrameResult;
  final?: LoginResult;
  /** a challenge step to show now */
  revealed?: { index: number; step: ChallengeStep };
}

export type LoginOutcomeLabel = 'success' | 'mismatch' | 'unknown' | 'liveness_failed' | 'expired' | 'locked' | 'cancelled' | 'abandoned';

export interface LoginServiceDeps {
  config: AuthConfig;
  db: Database;
  users: UserRepository;
  liveFlows: LiveFlowRepository;
  vision: VisionClient;
  templates: TemplateService;
  bruteForce: BruteForceService;
  sessions: SessionService;
  audit: AuditService;
  onOutcome?: (mode: LoginMode, outcome: LoginOutcomeLabel, ms: number) => void;
  /** for tests: the hold durations */
  random?: () => number;
  now?: () => number;
}

const NOT_FOUND_MESSAGE = 'no account with this user name has a face enrolled';

export class LoginService {
  private readonly cfg: AuthConfig;
  private readonly now: () => number;

  constructor(private readonly d: LoginServiceDeps) {
    this.cfg = d.config;
    this.now = d.now ?? Date.now;
  }

  async start(req: { mode: LoginMode; username?: string }, client: ClientInfo): Promise<LoginFlow> {
    const origin: Origin = { ip: client.ip, deviceId: client.deviceId };
    await this.d.bruteForce.assertOriginMayTry(origin);
    const id = randomUUID();
    let user: UserRecord | undefined;
    if (req.mode === 'verify') {
      if (!req.username)
        throw new AuthError(ErrorCode.VALIDATION_FAILED, 'username is required for a login with username and face', { field: 'username' });
      user = await this.d.users.findByUsername(this.d.db, req.username.trim().toLowerCase());
      // one answer for "no such account" and "no face yet", and each costs the origin like a failure
      if (!user || user.templateCount === 0) {
        await this.d.bruteForce.recordProbe(origin);
        throw new AuthError(ErrorCode.USER_NOT_FOUND, NOT_FOUND_MESSAGE);
      }
      try {
        await this.d.bruteForce.assertMayTry(user.id, origin);
        await this.d.bruteForce.recordStart(user.id, origin);
      } catch (err) {
        await this.auditFailure(user.id, user.username, 'verify', (err as AuthError).code, client, { at: 'start' });
        throw err;
      }
      if (!(await this.d.liveFlows.acquire(this.d.db, user.id, 'login', id, LIVE_FLOW_LEASE_MS))) {
        await this.d.bruteForce.recordProbe(origin);
        throw new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'another login for this account is in progress; finish or cancel it first');
      }
    } else {
      if (!this.cfg.kiosk) throw new AuthError(ErrorCode.FORBIDDEN, 'face-only (kiosk) login is switched off');
      if (req.username) throw new AuthError(ErrorCode.VALIDATION_FAILED, 'kiosk login takes no username', { field: 'username' });
    }
    const now = this.now();
    const liveness = this.cfg.liveness
      ? new LivenessSession(makeChallenge(this.cfg.challengeSteps, this.cfg.challengeSeed), this.cfg.livenessRules, this.d.random)
      : null;
    return {
      id,
      mode: req.mode,
      userId: user?.id ?? null,
      username: user?.username ?? null,
      templates: user ? await this.d.templates.forUser(user.id) : [],
      liveness,
      origin,
      startedAt: now,
      expiresAt: now + this.cfg.challengeTimeLimitMs,
      frames: 0,
      faceFrames: 0,
      counted: false,
      sequence: [],
      mismatches: 0,
      holdsSlot: user !== undefined,
      leaseAt: this.now(),
      ended: false,
    };
  }

  /** Frames are processed one at a time per flow (the socket layer guarantees it). */
  async frame(flow: LoginFlow, seq: number, image: Uint8Array, client: ClientInfo): Promise<LoginFrameOutcome> {
    if (flow.ended) throw new AuthError(ErrorCode.FLOW_NOT_STARTED, 'this login has ended; start a new one');
    if (this.now() > flow.expiresAt) return this.timeUp(flow, seq, client);
    try {
      if (flow.userId) await this.d.bruteForce.assertMayTry(flow.userId, flow.origin);
      else await this.d.bruteForce.assertOriginMayTry(flow.origin);
    } catch (err) {
      if (err instanceof AuthError) return this.fail(flow, seq, err, 'locked', client);
      throw err;
    }
    if (!(await this.keepLease(flow))) {
      return this.fail(
        flow,
        seq,
        new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'this login stalled and another one for this account took over'),
        'locked',
        client,
      );
    }
    flow.frames++;
    const report = await this.d.vision.analyze(image, { maxFaces: 5, minFaceSize: 40, texture: flow.liveness !== null });
    const out = await this.judge(flow, seq, report, client);
    return { ...out, result: { ...out.result, ...faceLocation(report) } };
  }

  private async judge(flow: LoginFlow, seq: number, report: AnalyzeResponse, client: ClientInfo): Promise<LoginFrameOutcome> {
    const { face, problems } = assessFaces(report.faces, this.cfg, { requireFrontal: false });
    const good = face && problems.length === 0 && face.embedding ? face : undefined;
    if (report.faces.length > 0 && !flow.counted) await this.countAttempt(flow, client);
    if (good) {
      flow.faceFrames++;
      flow.sequence.push(good.embedding as number[]);
    }
    if (!flow.liveness) return this.judgeWithoutLiveness(flow, seq, good, problems, client);

    const t = this.now();
    const ev = flow.liveness.observe({
      t,
      face: good
        ? {
            yaw: good.quality.yaw,
            pitch: good.quality.pitch,
            ear: meanEar(good.quality),
            embedding: good.embedding as number[],
            texture: decodeTexture(good.texture),
          }
        : null,
    });
    if (ev.failure) return this.fail(flow, seq, livenessError(ev.failure), 'liveness_failed', client, { liveness: ev.failure });
    if (flow.liveness.done) return this.decide(flow, seq, client);
    if (flow.frames >= this.cfg.loginMaxFrames) return this.timeUp(flow, seq, client);
    const feedback = good ? ev.feedback : [...problems, ...flow.liveness.prompt()];
    return { result: this.progress(flow, seq, feedback, 'continue'), revealed: ev.revealed };
  }

  /** The origin (and the account, when known) pay for this attempt now; success gives it back. */
  private async countAttempt(flow: LoginFlow, client: ClientInfo): Promise<void> {
    flow.counted = true;
    const penalty = await this.d.bruteForce.recordAttempt(flow.userId, flow.origin);
    await this.auditPenalty(flow.userId, flow.username, penalty, client);
  }

  private async auditPenalty(
    userId: string | null,
    username: string | null,
    penalty: FailureOutcome | null,
    client: ClientInfo,
  ): Promise<void> {
    if (!penalty || !userId) return;
    if (penalty.locked && penalty.consecutive === this.cfg.lockAfter) {
      await this.d.audit.record({
        type: 'account.locked',
        outcome: 'failure',
        userId,
        username,
        ip: client.ip,
        details: { consecutive: penalty.consecutive },
      });
    } else if (penalty.backoffSeconds) {
      await this.d.audit.record({
        type: 'account.backoff',
        outcome: 'failure',
        userId,
        username,
        ip: client.ip,
        details: { consecutive: penalty.consecutive, seconds: penalty.backoffSeconds },
      });
    }
  }

  /** The challenge is complete: whose face was it, on every frame? */
  private async decide(flow: LoginFlow, seq: number, client: ClientInfo): Promise<LoginFrameOutcome> {
    const hold = (flow.liveness as LivenessSession).holdEmbeddings;
    const evidence = { hold, sequence: flow.sequence };
    if (flow.mode === 'identify') {
      const candidate = identifyCandidate(this.d.templates.index, hold);
      if (!candidate) return this.fail(flow, seq, new AuthError(ErrorCode.FACE_UNKNOWN, 'this face is not recognised'), 'unknown', client);
      // the index is a cache: decide on the templates as stored now
      const user = await this.d.users.findById(this.d.db, candidate);
      if (!user) return this.fail(flow, seq, new AuthError(ErrorCode.FACE_UNKNOWN, 'this face is not recognised'), 'unknown', client);
      flow.userId = user.id;
      flow.username = user.username;
      flow.templates = await this.d.templates.forUser(user.id);
      const penalty = await this.d.bruteForce.recordAccountAttempt(user.id, flow.origin);
      await this.auditPenalty(user.id, user.username, penalty, client);
      const verdict = judgeIdentity(
        flow.templates.map((t) => t.embedding),
        evidence,
        MATCH_THRESHOLDS.identify,
      );
      if (!verdict.ok)
        return this.fail(
          flow,
          seq,
          new AuthError(ErrorCode.FACE_UNKNOWN, 'this face is not recognised'),
          'unknown',
          client,
          { identity: verdict.reason },
          verdict.distance,
        );
      try {
        await this.d.bruteForce.assertMayTry(user.id, flow.origin);
      } catch (err) {
        return this.fail(flow, seq, err as AuthError, 'locked', client);
      }
      if (!(await this.d.liveFlows.acquire(this.d.db, user.id, 'login', flow.id, LIVE_FLOW_LEASE_MS))) {
        return this.fail(
          flow,
          seq,
          new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'another login for this account is in progress'),
          'locked',
          client,
        );
      }
      flow.holdsSlot = true;
      return this.succeed(flow, seq, client, verdict.distance);
    }
    const verdict = judgeIdentity(
      flow.templates.map((t) => t.embedding),
      evidence,
    );
    if (!verdict.ok) {
      return this.fail(
        flow,
        seq,
        new AuthError(ErrorCode.FACE_MISMATCH, 'the face does not match this account'),
        'mismatch',
        client,
        { identity: verdict.reason },
        verdict.distance,
      );
    }
    return this.succeed(flow, seq, client, verdict.distance);
  }

  /** Liveness switched off: one good frontal frame of the person decides, as before. */
  private async judgeWithoutLiveness(
    flow: LoginFlow,
    seq: number,
    face: NonNullable<ReturnType<typeof assessFaces>['face']> | undefined,
    problems: FeedbackCode[],
    client: ClientInfo,
  ): Promise<LoginFrameOutcome> {
    if (!face || !isFrontal(face, this.cfg.maxFrontalAngle)) {
      if (flow.frames >= this.cfg.loginMaxFrames) return this.timeUp(flow, seq, client);
      return { result: this.progress(flow, seq, face ? [FeedbackCode.LOOK_STRAIGHT] : problems, 'continue') };
    }
    const embedding = face.embedding as number[];
    const evidence = { hold: [embedding], sequence: [embedding] };
    if (flow.mode === 'identify') {
      const candidate = identifyCandidate(this.d.templates.index, [embedding]);
      const user = candidate ? await this.d.users.findById(this.d.db, candidate) : undefined;
      if (user) {
        const templates = await this.d.templates.forUser(user.id);
        const verdict = judgeIdentity(
          templates.map((t) => t.embedding),
          evidence,
          MATCH_THRESHOLDS.identify,
        );
        if (verdict.ok) {
          flow.userId = user.id;
          flow.username = user.username;
          flow.templates = templates;
          const penalty = await this.d.bruteForce.recordAccountAttempt(user.id, flow.origin);
          await this.auditPenalty(user.id, user.username, penalty, client);
          try {
            await this.d.bruteForce.assertMayTry(user.id, flow.origin);
          } catch (err) {
            return this.fail(flow, seq, err as AuthError, 'locked', client);
          }
          return this.succeed(flow, seq, client, verdict.distance);
        }
      }
    } else {
      const verdict = judgeIdentity(
        flow.templates.map((t) => t.embedding),
        evidence,
      );
      if (verdict.ok) return this.succeed(flow, seq, client, verdict.distance);
    }
    flow.mismatches++;
    if (flow.mismatches >= this.cfg.maxMismatchFrames) {
      const distance = flow.templates.length
        ? minDistance(
            flow.templates.map((t) => t.embedding),
            embedding,
          )
        : undefined;
      return flow.mode === 'verify'
        ? this.fail(
            flow,
            seq,
            new AuthError(ErrorCode.FACE_MISMATCH, 'the face does not match this account'),
            'mismatch',
            client,
            {},
            distance,
          )
        : this.fail(flow, seq, new AuthError(ErrorCode.FACE_UNKNOWN, 'this face is not recognised'), 'unknown', client);
    }
    if (flow.frames >= this.cfg.loginMaxFrames) return this.timeUp(flow, seq, client);
    return { result: this.progress(flow, seq, [FeedbackCode.GOOD], 'continue') };
  }

  private progress(flow: LoginFlow, seq: number, feedback: FeedbackCode[], status: LoginFrameResult['status']): LoginFrameResult {
    const completed = flow.liveness?.completed ?? 0;
    return {
      seq,
      feedback: feedback.length ? feedback : [FeedbackCode.GOOD],
      step: completed,
      stepsCompleted: completed,
      status,
    };
  }

  /** Ends a login whose time (or frame budget) is up. */
  async timeUp(flow: LoginFlow, seq: number, client: ClientInfo): Promise<LoginFrameOutcome> {
    if (flow.liveness && flow.counted) {
      return this.fail(
        flow,
        seq,
        new AuthError(ErrorCode.LIVENESS_FAILED, 'the liveness challenge was not completed in time'),
        'liveness_failed',
        client,
        { liveness: 'timeout' },
      );
    }
    return this.fail(flow, seq, new AuthError(ErrorCode.CHALLENGE_EXPIRED, 'no face in time; try again'), 'expired', client);
  }

  /**
   * The client cancelled or went away. The attempt was already counted if a face was seen; the
   * audit log and the metrics say how it ended.
   */
  async abandon(flow: LoginFlow, how: 'cancelled' | 'abandoned', client: ClientInfo): Promise<void> {
    if (flow.ended) return;
    flow.ended = true;
    await this.releaseSlot(flow);
    if (flow.counted) {
      await this.d.audit.record({
        type: how === 'cancelled' ? 'login.cancelled' : 'login.abandoned',
        outcome: 'failure',
        userId: flow.userId,
        username: flow.username,
        mode: flow.mode,
        ip: client.ip,
        userAgent: client.userAgent,
        liveness: flow.liveness ? null : 'off',
        details: { loginId: flow.id, frames: flow.frames, stepsCompleted: flow.liveness?.completed ?? 0 },
      });
    }
    this.d.onOutcome?.(flow.mode, how, this.now() - flow.startedAt);
  }

  /** Ends the flow as a failure. The attempt was counted when its first face was seen. */
  async fail(
    flow: LoginFlow,
    seq: number,
    err: AuthError,
    label: LoginOutcomeLabel,
    client: ClientInfo,
    why: Record<string, unknown> = {},
    distance?: number | null,
  ): Promise<LoginFrameOutcome> {
    flow.ended = true;
    await this.releaseSlot(flow);
    await this.d.audit.record({
      type: 'login.failed',
      outcome: 'failure',
      userId: flow.userId,
      username: flow.username,
      mode: flow.mode,
      code: err.code,
      distance: distance !== undefined && distance !== null && Number.isFinite(distance) ? distance : null,
      liveness: flow.liveness ? (label === 'liveness_failed' ? 'failed' : null) : 'off',
      ip: client.ip,
      userAgent: client.userAgent,
      details: {
        ...why,
        loginId: flow.id,
        frames: flow.frames,
        counted: flow.counted,
        stepsCompleted: flow.liveness?.completed ?? 0,
        steps: flow.liveness?.steps.length ?? 0,
        notes: flow.liveness?.notes,
      },
    });
    this.d.onOutcome?.(flow.mode, label, this.now() - flow.startedAt);
    return {
      result: this.progress(flow, seq, [], 'failed'),
      final: { ok: false, loginId: flow.id, mode: flow.mode, error: err.toAck() },
    };
  }

  private async succeed(flow: LoginFlow, seq: number, client: ClientInfo, distance: number): Promise<LoginFrameOutcome> {
    const userId = flow.userId as string;
    const user = await this.d.users.findAndTouchLogin(this.d.db, userId);
    if (!user) return this.fail(flow, seq, new AuthError(ErrorCode.FACE_UNKNOWN, 'this face is not recognised'), 'unknown', client);
    flow.ended = true;
    await this.releaseSlot(flow);
    await this.d.bruteForce.recordSuccess(userId, flow.origin);
    const live = flow.liveness !== null;
    const acr = !live ? ACR.FACE : flow.origin.deviceId ? ACR.TRUSTED_DEVICE : ACR.FACE_LIVENESS;
    const amr = flow.origin.deviceId ? ['face', 'kiosk'] : ['face'];
    const grant = await this.d.sessions.issueGrant(userId, flow.mode, { liveness: live, amr, acr, deviceId: flow.origin.deviceId }, client);
    await this.d.audit.record({
      type: 'login.succeeded',
      outcome: 'success',
      userId,
      username: user.username,
      mode: flow.mode,
      distance,
      liveness: live ? 'passed' : 'off',
      ip: client.ip,
      userAgent: client.userAgent,
      details: { loginId: flow.id, frames: flow.frames, steps: flow.liveness?.steps.length ?? 0, acr, notes: flow.liveness?.notes },
    });
    this.d.onOutcome?.(flow.mode, 'success', this.now() - flow.startedAt);
    const steps = flow.liveness?.steps.length ?? 0;
    return {
      result: { ...this.progress(flow, seq, [], 'succeeded'), stepsCompleted: steps, step: steps },
      final: {
        ok: true,
        loginId: flow.id,
        mode: flow.mode,
        user: toUser(user),
        profile: user.profile,
        grant: grant.grant,
        grantExpiresAt: grant.expiresAt.toISOString(),
        liveness: live,
      },
    };
  }

  /** Renews the live-login lease every few seconds of frames; false when another flow took the slot. */
  private async keepLease(flow: LoginFlow): Promise<boolean> {
    if (!flow.holdsSlot || !flow.userId || this.now() - flow.leaseAt < LIVE_FLOW_RENEW_AFTER_MS) return true;
    if (!(await this.d.liveFlows.renew(this.d.db, flow.userId, 'login', flow.id, LIVE_FLOW_LEASE_MS))) {
      flow.holdsSlot = false;
      return false;
    }
    flow.leaseAt = this.now();
    return true;
  }

  private async releaseSlot(flow: LoginFlow): Promise<void> {
    if (!flow.holdsSlot || !flow.userId) return;
    flow.holdsSlot = false;
    await this.d.liveFlows.release(this.d.db, flow.userId, 'login', flow.id);
  }

  private async auditFailure(
    userId: string,
    username: string,
    mode: LoginMode,
    code: string,
    client: ClientInfo,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.d.audit.record({
      type: 'login.failed',
      outcome: 'failure',
      userId,
      username,
      mode,
      code,
      ip: client.ip,
      userAgent: client.userAgent,
      details,
    });
  }
}

function livenessError(f: LivenessFailure): AuthError {
  const why: Record<LivenessFailure, string> = {
    anticipated: 'the motion started before the prompt could be seen',
    'wrong-direction': 'the head turned the other way',
    'wrong-motion': 'another motion than the one asked for',
    late: 'the motion did not start in time',
    'too-slow': 'the step was not completed in time',
    discontinuous: 'the motion was not continuous',
    gap: 'the camera stopped sending frames',
    'no-evidence': 'the eyes could not be seen',
  };
  return new AuthError(ErrorCode.LIVENESS_FAILED, `liveness check failed: ${why[f]}`, { reason: f });
}
