/**
 * Face login over a frame stream, 1:1 (verify: username + face) or 1:N (identify: kiosk).
 *
 * Identity: in verify mode every face frame is compared with the user's own templates
 * (MATCH_THRESHOLDS.verify). In identify mode the first good frontal frame is searched in the
 * 1:N index and must pass the stricter threshold and the best-vs-second margin; the candidate is
 * then re-checked exactly against their templates read from the database, and later frames
 * must stay within the verify threshold of that person.
 *
 * Liveness: the challenge tracker advances only on frames whose identity matched, so the
 * person doing the head turns is the person being recognised.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  FeedbackCode,
  MATCH_THRESHOLDS,
  descriptorDistance,
  type AnalyzeResponse,
  type ChallengeStep,
  type LoginFrameResult,
  type LoginMode,
  type LoginResult,
} from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import { AuthError } from '../errors.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { VisionClient } from '../repositories/vision.repository.js';
import type { Database } from '../db/database.js';
import type { AuditService } from './audit.service.js';
import type { BruteForceService } from './brute-force.service.js';
import { ChallengeTracker, makeChallenge } from './liveness.js';
import { assessFaces, faceLocation, isFrontal } from './quality.js';
import type { ClientInfo, SessionService } from './session.service.js';
import type { PlainTemplate, TemplateService } from './template.service.js';
import { toUser } from './user.service.js';

/**
 * Descriptors drift as the head turns. Once the person has been recognised, frames this much
 * beyond the verify threshold are treated as "unsure" (no progress, no failure) rather than as
 * another person; only frames within the threshold ever advance the challenge.
 */
const TURNED_FACE_SLACK = 0.1;

export interface LoginFlow {
  id: string;
  mode: LoginMode;
  /** known from the start in verify mode; found by the 1:N search in identify mode */
  userId: string | null;
  username: string | null;
  templates: PlainTemplate[];
  challenge: ChallengeStep[];
  tracker: ChallengeTracker;
  liveness: boolean;
  startedAt: number;
  expiresAt: number;
  frames: number;
  faceFrames: number;
  mismatches: number;
  identityMatched: boolean;
  bestDistance: number | null;
  ended: boolean;
}

export interface LoginFrameOutcome {
  result: LoginFrameResult;
  final?: LoginResult;
}

export type LoginOutcomeLabel = 'success' | 'mismatch' | 'unknown' | 'liveness_failed' | 'expired' | 'locked';

export class LoginService {
  constructor(
    private readonly cfg: AuthConfig,
    private readonly db: Database,
    private readonly users: UserRepository,
    private readonly vision: VisionClient,
    private readonly templates: TemplateService,
    private readonly bruteForce: BruteForceService,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly onOutcome: (mode: LoginMode, outcome: LoginOutcomeLabel, ms: number) => void = () => undefined,
  ) {}

  async start(req: { mode: LoginMode; username?: string }, client: ClientInfo): Promise<LoginFlow> {
    await this.bruteForce.assertIpMayTry(client.ip);
    let userId: string | null = null;
    let username: string | null = null;
    let templates: PlainTemplate[] = [];
    if (req.mode === 'verify') {
      if (!req.username) throw new AuthError(ErrorCode.VALIDATION_FAILED, 'username is required for a login with username and face', { field: 'username' });
      const user = await this.users.findByUsername(this.db, req.username.trim().toLowerCase());
      if (!user) throw new AuthError(ErrorCode.USER_NOT_FOUND, 'no account with this username');
      if (user.templateCount === 0) throw new AuthError(ErrorCode.NOT_ENROLLED, 'this account has no face enrolled yet');
      try {
        await this.bruteForce.assertUserMayTry(user.id);
      } catch (err) {
        // attempts on a locked or backed-off account are part of the record too
        await this.audit.record({
          type: 'login.failed', outcome: 'failure', userId: user.id, username: user.username, mode: 'verify',
          code: (err as AuthError).code, ip: client.ip, userAgent: client.userAgent,
        });
        throw err;
      }
      userId = user.id;
      username = user.username;
      templates = await this.templates.forUser(user.id);
    } else {
      if (!this.cfg.kiosk) throw new AuthError(ErrorCode.FORBIDDEN, 'face-only (kiosk) login is switched off');
      if (req.username) throw new AuthError(ErrorCode.VALIDATION_FAILED, 'kiosk login takes no username', { field: 'username' });
    }
    const challenge = this.cfg.liveness ? makeChallenge(this.cfg.challengeSteps, this.cfg.challengeSeed) : [];
    const now = Date.now();
    return {
      id: randomUUID(),
      mode: req.mode,
      userId,
      username,
      templates,
      challenge,
      tracker: new ChallengeTracker(challenge, this.cfg),
      liveness: this.cfg.liveness,
      startedAt: now,
      expiresAt: now + this.cfg.challengeTimeLimitMs,
      frames: 0,
      faceFrames: 0,
      mismatches: 0,
      identityMatched: false,
      bestDistance: null,
      ended: false,
    };
  }

  /** Frames are processed one at a time per flow (the socket layer guarantees it). */
  async frame(flow: LoginFlow, seq: number, image: Uint8Array, client: ClientInfo): Promise<LoginFrameOutcome> {
    if (flow.ended) throw new AuthError(ErrorCode.FLOW_NOT_STARTED, 'this login has ended; start a new one');
    if (Date.now() > flow.expiresAt) return this.timeUp(flow, seq, client);
    flow.frames++;

    const report = await this.vision.analyze(image, { maxFaces: 5, minFaceSize: 40 });
    const out = await this.judge(flow, seq, report, client);
    return { ...out, result: { ...out.result, ...faceLocation(report) } };
  }

  private async judge(flow: LoginFlow, seq: number, report: AnalyzeResponse, client: ClientInfo): Promise<LoginFrameOutcome> {
    // the baseline of the challenge (or the only frame without liveness) must be frontal
    const needFrontal = !flow.identityMatched || !flow.tracker.hasBaseline;
    const { face, problems } = assessFaces(report.faces, this.cfg, { requireFrontal: false });
    let feedback: FeedbackCode[] = [...problems];

    if (face && problems.length === 0 && face.embedding) {
      flow.faceFrames++;
      const distance = await this.identity(flow, face.embedding, needFrontal && isFrontal(face, this.cfg.maxFrontalAngle));
      if (distance === null) {
        // identify mode and not yet decided: the frame was not frontal enough to search with
        feedback = [FeedbackCode.LOOK_STRAIGHT];
      } else if (distance <= MATCH_THRESHOLDS.verify) {
        flow.identityMatched = true;
        flow.mismatches = 0;
        flow.bestDistance = flow.bestDistance === null ? distance : Math.min(flow.bestDistance, distance);
        if (flow.liveness) feedback = flow.tracker.observe(face.quality).feedback;
        else if (isFrontal(face, this.cfg.maxFrontalAngle)) return this.succeed(flow, seq, client);
        else feedback = [FeedbackCode.LOOK_STRAIGHT];
        if (flow.liveness && flow.tracker.done) return this.succeed(flow, seq, client);
      } else if (flow.identityMatched && distance <= MATCH_THRESHOLDS.verify + TURNED_FACE_SLACK) {
        // the recognised person with the head turned far: such frames do not advance the
        // challenge, but they are not counted as someone else either
        feedback = flow.liveness ? flow.tracker.prompt() : [FeedbackCode.LOOK_STRAIGHT];
      } else {
        flow.mismatches++;
        feedback = [FeedbackCode.FACE_CHANGED];
        if (flow.mismatches >= this.cfg.maxMismatchFrames) {
          return this.fail(
            flow,
            seq,
            flow.mode === 'verify'
              ? new AuthError(ErrorCode.FACE_MISMATCH, 'the face does not match this account')
              : new AuthError(ErrorCode.FACE_UNKNOWN, 'this face is not recognised'),
            flow.mode === 'verify' ? 'mismatch' : 'unknown',
            client,
            distance,
          );
        }
      }
    } else if (flow.liveness && flow.identityMatched) {
      feedback = [...problems, ...flow.tracker.prompt()];
    }
    if (flow.frames >= this.cfg.loginMaxFrames) return this.timeUp(flow, seq, client);
    return { result: this.progress(flow, seq, feedback, 'continue') };
  }

  /**
   * Distance of this face to the flow's person; in identify mode the person is chosen on the
   * first frontal frame. Returns null when identify mode cannot decide on this frame.
   */
  private async identity(flow: LoginFlow, embedding: number[], frontal: boolean): Promise<number | null> {
    if (flow.userId === null) {
      if (!frontal) return null;
      const { best, second } = this.templates.index.search(embedding, {
        maxDistance: MATCH_THRESHOLDS.identify + MATCH_THRESHOLDS.identifyMargin,
      });
      const accepted =
        best !== null &&
        best.distance <= MATCH_THRESHOLDS.identify &&
        (second === null || second.distance - best.distance >= MATCH_THRESHOLDS.identifyMargin);
      if (!accepted || !best) return best ? Math.max(best.distance, MATCH_THRESHOLDS.verify + 1e-6) : Infinity;
      // the index is a cache: decide on the templates as stored now
      const templates = await this.templates.forUser(best.userId);
      const exact = minDistance(templates, embedding);
      if (exact > MATCH_THRESHOLDS.identify) return Infinity;
      const user = await this.users.findById(this.db, best.userId);
      if (!user) return Infinity;
      await this.bruteForce.assertUserMayTry(user.id);
      flow.userId = user.id;
      flow.username = user.username;
      flow.templates = templates;
      return exact;
    }
    return minDistance(flow.templates, embedding);
  }

  private progress(flow: LoginFlow, seq: number, feedback: FeedbackCode[], status: LoginFrameResult['status']): LoginFrameResult {
    return {
      seq,
      feedback: feedback.length ? feedback : [FeedbackCode.GOOD],
      step: flow.tracker.step,
      stepsCompleted: flow.tracker.step,
      identityMatched: flow.identityMatched,
      status,
    };
  }

  /** Ends a login whose time (or frame budget) is up, with the code its progress deserves. */
  async timeUp(flow: LoginFlow, seq: number, client: ClientInfo): Promise<LoginFrameOutcome> {
    if (flow.identityMatched && flow.liveness) {
      return this.fail(flow, seq, new AuthError(ErrorCode.LIVENESS_FAILED, 'the liveness challenge was not completed in time'), 'liveness_failed', client);
    }
    return this.fail(flow, seq, new AuthError(ErrorCode.CHALLENGE_EXPIRED, 'no matching face in time; try again'), 'expired', client);
  }

  /** Ends the flow as a failure: counts against the account (if known) and the address, audits. */
  async fail(flow: LoginFlow, seq: number, err: AuthError, label: LoginOutcomeLabel, client: ClientInfo, distance?: number): Promise<LoginFrameOutcome> {
    flow.ended = true;
    // a login that never saw a face is not a guess at anyone's face
    const counts = flow.faceFrames > 0;
    const penalty = counts ? await this.bruteForce.recordFailure(flow.userId, client.ip) : null;
    await this.audit.record({
      type: 'login.failed', outcome: 'failure', userId: flow.userId, username: flow.username, mode: flow.mode,
      code: err.code, distance: distance !== undefined && Number.isFinite(distance) ? distance : flow.bestDistance,
      liveness: flow.liveness ? (label === 'liveness_failed' ? 'failed' : null) : 'off',
      ip: client.ip, userAgent: client.userAgent,
      details: { frames: flow.frames, stepsCompleted: flow.tracker.step, steps: flow.challenge.length },
    });
    if (penalty?.locked && penalty.consecutive === this.cfg.lockAfter) {
      await this.audit.record({ type: 'account.locked', outcome: 'failure', userId: flow.userId, username: flow.username, ip: client.ip, details: { consecutive: penalty.consecutive } });
    } else if (penalty?.backoffSeconds) {
      await this.audit.record({ type: 'account.backoff', outcome: 'failure', userId: flow.userId, username: flow.username, ip: client.ip, details: { consecutive: penalty.consecutive, seconds: penalty.backoffSeconds } });
    }
    this.onOutcome(flow.mode, label, Date.now() - flow.startedAt);
    return {
      result: this.progress(flow, seq, [], 'failed'),
      final: { ok: false, loginId: flow.id, mode: flow.mode, error: err.toAck() },
    };
  }

  private async succeed(flow: LoginFlow, seq: number, client: ClientInfo): Promise<LoginFrameOutcome> {
    const userId = flow.userId as string;
    // another replica may have counted failures (or an admin locked) since this login started
    try {
      await this.bruteForce.assertUserMayTry(userId);
    } catch (err) {
      return this.fail(flow, seq, err as AuthError, 'locked', client);
    }
    flow.ended = true;
    const user = await this.users.findById(this.db, userId);
    if (!user) return this.fail(flow, seq, new AuthError(ErrorCode.USER_NOT_FOUND, 'account no longer exists'), 'unknown', client);
    await this.bruteForce.recordSuccess(userId);
    await this.users.touchLogin(this.db, userId);
    const grant = await this.sessions.issueGrant(userId, flow.mode, flow.liveness, client);
    await this.audit.record({
      type: 'login.succeeded', outcome: 'success', userId, username: user.username, mode: flow.mode,
      distance: flow.bestDistance, liveness: flow.liveness ? 'passed' : 'off', ip: client.ip, userAgent: client.userAgent,
      details: { frames: flow.frames, steps: flow.challenge.length },
    });
    this.onOutcome(flow.mode, 'success', Date.now() - flow.startedAt);
    return {
      result: { ...this.progress(flow, seq, [], 'succeeded'), stepsCompleted: flow.challenge.length, step: flow.challenge.length },
      final: {
        ok: true,
        loginId: flow.id,
        mode: flow.mode,
        user: toUser(user),
        profile: user.profile,
        grant: grant.grant,
        grantExpiresAt: grant.expiresAt.toISOString(),
        liveness: flow.liveness,
      },
    };
  }
}

function minDistance(templates: PlainTemplate[], embedding: ArrayLike<number>): number {
  let best = Infinity;
  for (const t of templates) best = Math.min(best, descriptorDistance(t.embedding, embedding));
  return best;
}
