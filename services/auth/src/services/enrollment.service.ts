/**
 * Enrollment: frames stream in; frontal, sharp, well-lit frames of one face become captures
 * while the person holds still, and the same liveness challenge as a login runs over the
 * stream, so that a face is enrolled only from a live person in front of the camera. At the
 * end every frame must show the same person as the captures, the face may not belong to
 * another account, and the enrollment ticket (if one authorised the flow) is used up in the
 * same transaction that stores the encrypted templates: a ticket completes one enrollment.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  FeedbackCode,
  MATCH_THRESHOLDS,
  descriptorDistance,
  type AnalyzeResponse,
  type ChallengeStep,
  type EnrollFrameResult,
  type EnrollResult,
} from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import type { Database, Queryable } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { EnrollTicketRepository } from '../repositories/enroll-ticket.repository.js';
import { LIVE_FLOW_LEASE_MS, LIVE_FLOW_RENEW_AFTER_MS, type LiveFlowRepository } from '../repositories/live-flow.repository.js';
import type { TemplateQuality } from '../repositories/template.repository.js';
import type { VisionClient } from '../repositories/vision.repository.js';
import type { AuditService } from './audit.service.js';
import { ALWAYS_AUTHORITY, type AuthorityGuard } from './site.service.js';
import { TURNED_FACE_SLACK, judgeIdentity, type Embedding } from './identity.js';
import { makeChallenge } from './liveness/challenge.js';
import { LivenessSession } from './liveness/session.js';
import { decodeTexture, meanEar } from './liveness/texture.js';
import { assessFaces, faceLocation, isFrontal } from './quality.js';
import type { ClientInfo } from './session.service.js';
import type { TemplateService } from './template.service.js';
import { toUser, type UserService } from './user.service.js';

/** Consecutive good frames of a different face after which enrollment starts over. */
export const MAX_DISAGREEING_FRAMES = 3;

export interface EnrollmentFlow {
  id: string;
  userId: string;
  username: string;
  expiresAt: number;
  /** the ticket that authorised this enrollment, used up when it completes */
  ticketJti: string | null;
  captures: { embedding: number[]; quality: TemplateQuality }[];
  liveness: LivenessSession | null;
  sequence: Embedding[];
  disagreeing: number;
  holdsSlot: boolean;
  /** when the slot's lease was last taken or renewed */
  leaseAt: number;
  ended: boolean;
}

export interface EnrollFrameOutcome {
  result: EnrollFrameResult;
  /** set when the flow ended (success or refusal) */
  final?: EnrollResult;
  revealed?: { index: number; step: ChallengeStep };
}

export interface EnrollmentServiceDeps {
  config: AuthConfig;
  db: Database;
  users: UserService;
  vision: VisionClient;
  templates: TemplateService;
  tickets: EnrollTicketRepository;
  liveFlows: LiveFlowRepository;
  audit: AuditService;
  onOutcome?: (outcome: 'completed' | 'refused') => void;
  /** at a site, the hub's reachability (enrollment writes templates there); default: always the authority */
  authority?: AuthorityGuard;
  random?: () => number;
  /** for tests: the clock of time limits, leases and liveness timing */
  now?: () => number;
}

export class EnrollmentService {
  private readonly cfg: AuthConfig;
  private readonly now: () => number;
  constructor(private readonly d: EnrollmentServiceDeps) {
    this.cfg = d.config;
    this.now = d.now ?? Date.now;
  }

  async start(userId: string, ticketJti: string | null): Promise<EnrollmentFlow> {
    // enrollment writes templates at the authority: at a site, refuse before any frame when the hub is out of reach
    await (this.d.authority ?? ALWAYS_AUTHORITY).assertAuthority();
    const user = await this.d.users.get(userId);
    const id = randomUUID();
    if (!(await this.d.liveFlows.acquire(this.d.db, user.id, 'enroll', id, LIVE_FLOW_LEASE_MS))) {
      throw new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'another enrollment for this account is in progress');
    }
    return {
      id,
      userId: user.id,
      username: user.username,
      expiresAt: this.now() + this.cfg.enrollTimeLimitMs,
      ticketJti,
      captures: [],
      liveness: this.cfg.liveness
        ? new LivenessSession(makeChallenge(this.cfg.challengeSteps, this.cfg.challengeSeed), this.cfg.livenessRules, this.d.random)
        : null,
      sequence: [],
      disagreeing: 0,
      holdsSlot: true,
      leaseAt: this.now(),
      ended: false,
    };
  }

  /** Ends an enrollment whose time is up (the socket layer calls it on a timer). */
  expire(flow: EnrollmentFlow, seq: number, client: ClientInfo): Promise<EnrollFrameOutcome> {
    return this.refuse(
      flow,
      new AuthError(ErrorCode.CHALLENGE_EXPIRED, 'enrollment took too long; start again'),
      { seq, capturesRequired: this.cfg.capturesRequired },
      client,
    );
  }

  /** The client cancelled or went away. */
  async abandon(flow: EnrollmentFlow): Promise<void> {
    if (flow.ended) return;
    flow.ended = true;
    await this.releaseSlot(flow);
  }

  async frame(flow: EnrollmentFlow, seq: number, image: Uint8Array, client: ClientInfo): Promise<EnrollFrameOutcome> {
    if (flow.ended) throw new AuthError(ErrorCode.FLOW_NOT_STARTED, 'this enrollment has ended; start a new one');
    const base = { seq, capturesRequired: this.cfg.capturesRequired };
    if (this.now() > flow.expiresAt) return this.expire(flow, seq, client);
    if (flow.holdsSlot && this.now() - flow.leaseAt >= LIVE_FLOW_RENEW_AFTER_MS) {
      if (!(await this.d.liveFlows.renew(this.d.db, flow.userId, 'enroll', flow.id, LIVE_FLOW_LEASE_MS))) {
        flow.holdsSlot = false;
        return this.refuse(
          flow,
          new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'this enrollment stalled and another one for this account took over'),
          base,
          client,
        );
      }
      flow.leaseAt = this.now();
    }
    const report = await this.d.vision.analyze(image, { maxFaces: 5, minFaceSize: 40, texture: flow.liveness !== null });
    const out = await this.judge(flow, report, base, client);
    return { ...out, result: { ...out.result, ...faceLocation(report) } };
  }

  private async judge(
    flow: EnrollmentFlow,
    report: AnalyzeResponse,
    base: { seq: number; capturesRequired: number },
    client: ClientInfo,
  ): Promise<EnrollFrameOutcome> {
    const { face, problems } = assessFaces(report.faces, this.cfg, { requireFrontal: false });
    const pending = (feedback: FeedbackCode[], accepted = false, revealed?: EnrollFrameOutcome['revealed']): EnrollFrameOutcome => ({
      result: {
        ...base,
        accepted,
        feedback: feedback.length ? feedback : [FeedbackCode.GOOD],
        capturesAccepted: flow.captures.length,
        completed: false,
      },
      revealed,
    });
    const good = face && problems.length === 0 && face.embedding ? face : undefined;
    if (!good) return pending(flow.liveness ? [...problems, ...flow.liveness.prompt()] : problems);
    const embedding = good.embedding as number[];

    const disagrees = flow.captures.some((c) => descriptorDistance(c.embedding, embedding) > MATCH_THRESHOLDS.verify + TURNED_FACE_SLACK);
    if (disagrees) {
      flow.disagreeing++;
      if (flow.disagreeing >= MAX_DISAGREEING_FRAMES) {
        return this.refuse(
          flow,
          new AuthError(ErrorCode.CAPTURES_DISAGREE, 'the captures do not show the same face; start again with only your face in view'),
          base,
          client,
        );
      }
      return pending([FeedbackCode.FACE_CHANGED]);
    }
    flow.disagreeing = 0;
    flow.sequence.push(embedding);

    let feedback: FeedbackCode[] = [];
    let revealed: EnrollFrameOutcome['revealed'];
    // captures are frontal frames taken while the person holds still (never during a motion)
    const holding = !flow.liveness || flow.liveness.current === null;
    let accepted = false;
    if (holding && flow.captures.length < this.cfg.capturesRequired && isFrontal(good, this.cfg.maxFrontalAngle)) {
      const q = good.quality;
      flow.captures.push({
        embedding,
        quality: { faceSizePx: q.faceSizePx, sharpness: q.sharpness, brightness: q.brightness, yaw: q.yaw, pitch: q.pitch },
      });
      accepted = true;
      feedback.push(FeedbackCode.CAPTURED);
    }
    if (flow.liveness && !flow.liveness.done) {
      const ev = flow.liveness.observe({
        t: this.now(),
        face: {
          yaw: good.quality.yaw,
          pitch: good.quality.pitch,
          ear: meanEar(good.quality),
          embedding,
          texture: decodeTexture(good.texture),
        },
      });
      if (ev.failure) {
        return this.refuse(
          flow,
          new AuthError(ErrorCode.LIVENESS_FAILED, 'the liveness check failed; start again', { reason: ev.failure }),
          base,
          client,
        );
      }
      feedback = [...feedback, ...ev.feedback];
      revealed = ev.revealed;
    } else if (!isFrontal(good, this.cfg.maxFrontalAngle)) feedback.push(FeedbackCode.LOOK_STRAIGHT);
    const livenessDone = !flow.liveness || flow.liveness.done;
    if (flow.captures.length < this.cfg.capturesRequired || !livenessDone) return pending(feedback, accepted, revealed);
    return this.complete(flow, base, client);
  }

  private async complete(
    flow: EnrollmentFlow,
    base: { seq: number; capturesRequired: number },
    client: ClientInfo,
  ): Promise<EnrollFrameOutcome> {
    // every frame of the flow must be the person of the captures
    const hold = flow.liveness ? flow.liveness.holdEmbeddings : flow.captures.map((c) => c.embedding);
    const verdict = judgeIdentity(
      flow.captures.map((c) => c.embedding),
      { hold, sequence: flow.sequence, continuous: flow.liveness !== null },
    );
    if (!verdict.ok) {
      return this.refuse(
        flow,
        new AuthError(ErrorCode.CAPTURES_DISAGREE, 'the frames do not show the same face throughout; start again'),
        base,
        client,
      );
    }
    // a face may belong to one account only: compare every capture with everyone else
    let nearest = Infinity;
    for (const c of flow.captures) {
      const hit = this.d.templates.index.search(c.embedding, { maxDistance: MATCH_THRESHOLDS.verify, excludeUser: flow.userId }).best;
      if (hit && hit.distance < nearest) nearest = hit.distance;
    }
    if (nearest <= MATCH_THRESHOLDS.verify) {
      return this.refuse(
        flow,
        new AuthError(ErrorCode.FACE_ALREADY_ENROLLED, 'this face is already enrolled under another account'),
        base,
        client,
        nearest,
      );
    }
    const jti = flow.ticketJti;
    try {
      await this.d.templates.replaceForUser(
        flow.userId,
        flow.captures,
        jti ? (q: Queryable) => this.useTicket(q, jti, flow.userId) : undefined,
      );
    } catch (err) {
      if (err instanceof AuthError) return this.refuse(flow, err, base, client);
      throw err;
    }
    flow.ended = true;
    await this.releaseSlot(flow);
    const user = await this.d.users.get(flow.userId);
    await this.d.audit.record({
      type: 'enroll.completed',
      outcome: 'success',
      userId: flow.userId,
      username: flow.username,
      mode: 'enroll',
      liveness: flow.liveness ? 'passed' : 'off',
      ip: client.ip,
      userAgent: client.userAgent,
      details: { templates: flow.captures.length, ticket: jti !== null },
    });
    this.d.onOutcome?.('completed');
    return {
      result: { ...base, accepted: true, feedback: [FeedbackCode.CAPTURED], capturesAccepted: flow.captures.length, completed: true },
      final: { ok: true, enrollmentId: flow.id, user: toUser(user), templateCount: user.templateCount },
    };
  }

  private async useTicket(q: Queryable, jti: string, userId: string): Promise<void> {
    if (!(await this.d.tickets.consume(q, jti, userId))) {
      throw new AuthError(ErrorCode.TOKEN_INVALID, 'this enrollment ticket was already used or has expired');
    }
  }

  private async refuse(
    flow: EnrollmentFlow,
    err: AuthError,
    base: { seq: number; capturesRequired: number },
    client: ClientInfo,
    distance?: number,
  ): Promise<EnrollFrameOutcome> {
    flow.ended = true;
    await this.releaseSlot(flow);
    await this.d.audit.record({
      type: 'enroll.refused',
      outcome: 'failure',
      userId: flow.userId,
      username: flow.username,
      mode: 'enroll',
      code: err.code,
      distance: distance ?? null,
      liveness: flow.liveness ? (err.code === ErrorCode.LIVENESS_FAILED ? 'failed' : null) : 'off',
      ip: client.ip,
      userAgent: client.userAgent,
      details: { notes: flow.liveness?.notes },
    });
    this.d.onOutcome?.('refused');
    return {
      result: { ...base, accepted: false, feedback: [], capturesAccepted: flow.captures.length, completed: false },
      final: { ok: false, enrollmentId: flow.id, error: err.toAck() },
    };
  }

  private async releaseSlot(flow: EnrollmentFlow): Promise<void> {
    if (!flow.holdsSlot) return;
    flow.holdsSlot = false;
    await this.d.liveFlows.release(this.d.db, flow.userId, 'enroll', flow.id);
  }
}
