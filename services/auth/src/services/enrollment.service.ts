/**
 * Enrollment: frames stream in, each is checked by the quality gates; good frames of the same
 * person become captures; after `capturesRequired` captures the face is checked against every
 * other enrolled person and, if it is new, stored as encrypted templates.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode, FeedbackCode, MATCH_THRESHOLDS, descriptorDistance, type AnalyzeResponse, type EnrollFrameResult, type EnrollResult,
} from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import { AuthError } from '../errors.js';
import type { TemplateQuality } from '../repositories/template.repository.js';
import type { VisionClient } from '../repositories/vision.repository.js';
import type { AuditService } from './audit.service.js';
import { ALWAYS_AUTHORITY, type AuthorityGuard } from './site.service.js';
import { assessFaces, faceLocation } from './quality.js';
import type { ClientInfo } from './session.service.js';
import type { TemplateService } from './template.service.js';
import { toUser, type UserService } from './user.service.js';

/** Consecutive good frames of a different face after which enrollment starts over. */
const MAX_DISAGREEING_FRAMES = 3;

export interface EnrollmentFlow {
  id: string;
  userId: string;
  username: string;
  expiresAt: number;
  captures: { embedding: number[]; quality: TemplateQuality }[];
  disagreeing: number;
}

export interface EnrollFrameOutcome {
  result: EnrollFrameResult;
  /** set when the flow ended (success or refusal) */
  final?: EnrollResult;
}

export class EnrollmentService {
  constructor(
    private readonly cfg: AuthConfig,
    private readonly users: UserService,
    private readonly vision: VisionClient,
    private readonly templates: TemplateService,
    private readonly audit: AuditService,
    private readonly onOutcome: (outcome: 'completed' | 'refused') => void = () => undefined,
    /** enrollment writes templates at the authority: at a site, refuse before any frame when the hub is out of reach */
    private readonly authority: AuthorityGuard = ALWAYS_AUTHORITY,
  ) {}

  async start(userId: string): Promise<EnrollmentFlow> {
    await this.authority.assertAuthority();
    const user = await this.users.get(userId);
    return {
      id: randomUUID(),
      userId: user.id,
      username: user.username,
      expiresAt: Date.now() + this.cfg.enrollTimeLimitMs,
      captures: [],
      disagreeing: 0,
    };
  }

  /** Ends an enrollment whose time is up (the socket layer calls it on a timer). */
  expire(flow: EnrollmentFlow, seq: number, client: ClientInfo): Promise<EnrollFrameOutcome> {
    return this.refuse(flow, new AuthError(ErrorCode.CHALLENGE_EXPIRED, 'enrollment took too long; start again'), { seq, capturesRequired: this.cfg.capturesRequired }, client);
  }

  async frame(flow: EnrollmentFlow, seq: number, image: Uint8Array, client: ClientInfo): Promise<EnrollFrameOutcome> {
    const base = { seq, capturesRequired: this.cfg.capturesRequired };
    if (Date.now() > flow.expiresAt) return this.expire(flow, seq, client);
    const report = await this.vision.analyze(image, { maxFaces: 5, minFaceSize: 40 });
    const out = await this.judge(flow, report, base, client);
    return { ...out, result: { ...out.result, ...faceLocation(report) } };
  }

  private async judge(flow: EnrollmentFlow, report: AnalyzeResponse, base: { seq: number; capturesRequired: number }, client: ClientInfo): Promise<EnrollFrameOutcome> {
    const { face, problems } = assessFaces(report.faces, this.cfg, { requireFrontal: true });
    const pending = (feedback: FeedbackCode[], accepted = false): EnrollFrameOutcome => ({
      result: { ...base, accepted, feedback, capturesAccepted: flow.captures.length, completed: false },
    });
    if (!face || problems.length || !face.embedding) return pending(problems);

    const embedding = face.embedding;
    const disagrees = flow.captures.some((c) => descriptorDistance(c.embedding, embedding) > MATCH_THRESHOLDS.verify);
    if (disagrees) {
      flow.disagreeing++;
      if (flow.disagreeing >= MAX_DISAGREEING_FRAMES) {
        return this.refuse(flow, new AuthError(ErrorCode.CAPTURES_DISAGREE, 'the captures do not show the same face; start again with only your face in view'), base, client);
      }
      return pending([FeedbackCode.FACE_CHANGED]);
    }
    flow.disagreeing = 0;
    const q = face.quality;
    flow.captures.push({
      embedding,
      quality: { faceSizePx: q.faceSizePx, sharpness: q.sharpness, brightness: q.brightness, yaw: q.yaw, pitch: q.pitch },
    });
    if (flow.captures.length < this.cfg.capturesRequired) return pending([FeedbackCode.CAPTURED], true);

    // a face may belong to one account only: compare every capture with everyone else
    let nearest = Infinity;
    for (const c of flow.captures) {
      const hit = this.templates.index.search(c.embedding, { maxDistance: MATCH_THRESHOLDS.verify, excludeUser: flow.userId }).best;
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
    await this.templates.replaceForUser(flow.userId, flow.captures);
    const user = await this.users.get(flow.userId);
    await this.audit.record({
      type: 'enroll.completed', outcome: 'success', userId: flow.userId, username: flow.username, mode: 'enroll',
      ip: client.ip, userAgent: client.userAgent, details: { templates: flow.captures.length },
    });
    this.onOutcome('completed');
    return {
      result: { ...base, accepted: true, feedback: [FeedbackCode.CAPTURED], capturesAccepted: flow.captures.length, completed: true },
      final: { ok: true, enrollmentId: flow.id, user: toUser(user), templateCount: user.templateCount },
    };
  }

  private async refuse(flow: EnrollmentFlow, err: AuthError, base: { seq: number; capturesRequired: number }, client: ClientInfo, distance?: number): Promise<EnrollFrameOutcome> {
    await this.audit.record({
      type: 'enroll.refused', outcome: 'failure', userId: flow.userId, username: flow.username, mode: 'enroll',
      code: err.code, distance: distance ?? null, ip: client.ip, userAgent: client.userAgent,
    });
    this.onOutcome('refused');
    return {
      result: { ...base, accepted: false, feedback: [], capturesAccepted: flow.captures.length, completed: false },
      final: { ok: false, enrollmentId: flow.id, error: err.toAck() },
    };
  }
}
