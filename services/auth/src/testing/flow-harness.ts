/**
 * The login and enrollment services on an in-memory PGlite database, a scripted vision client
 * and a clock the test moves: the face decisions in unit tests, in seconds. The rest of the
 * service (sessions, tokens, accounts) is the real one from createContext.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ChallengeStep } from '@faceline/contracts';
import { pino } from 'pino';
import { testConfig, type AuthConfig } from '../config.js';
import { createContext, type AppContext } from '../context.js';
import type { Database } from '../db/database.js';
import { Sealer } from '../lib/crypto.js';
import { AttemptRepository, type AttemptScope, type AttemptState } from '../repositories/attempt.repository.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { EnrollTicketRepository } from '../repositories/enroll-ticket.repository.js';
import { LiveFlowRepository } from '../repositories/live-flow.repository.js';
import { TemplateRepository } from '../repositories/template.repository.js';
import { UserRepository, type UserRecord } from '../repositories/user.repository.js';
import { AuditService } from '../services/audit.service.js';
import { BruteForceService } from '../services/brute-force.service.js';
import { EnrollmentService } from '../services/enrollment.service.js';
import { LoginService, type LoginOutcomeLabel } from '../services/login.service.js';
import type { ClientInfo } from '../services/session.service.js';
import { TemplateService } from '../services/template.service.js';
import { GOOD_QUALITY, ScriptedVision, type ScriptedFrame } from './scripted-vision.js';

/** The browser sends a frame about every 130 ms. */
export const FRAME_INTERVAL_MS = 130;

export class ManualClock {
  constructor(public t = Date.now()) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

/** What a login or enrollment frame answers, as far as the challenge driver cares. */
export interface FrameAnswer {
  final?: unknown;
  revealed?: { index: number; step: ChallengeStep };
}

/** The frames of one motion as a live person makes it once the step is shown. */
export function motionFrames(step: ChallengeStep, embedding: number[]): ScriptedFrame[] {
  if (step === ChallengeStep.BLINK) {
    return [
      [{ embedding, jitter: 50 }],
      [{ embedding, eyes: 'closed', jitter: 51 }],
      [{ embedding, eyes: 'closed', jitter: 52 }],
      [{ embedding, jitter: 53 }],
    ];
  }
  const sign = step === ChallengeStep.TURN_LEFT ? 1 : -1;
  // a frontal frame first (nobody reacts within one frame), then a continuous turn
  return [0, 3, 8, 13, 17].map((yaw, i) => [{ embedding, yaw: sign * yaw, jitter: 60 + i }]);
}

/**
 * Plays a whole liveness challenge as the live person with descriptor `embedding`: holds still
 * until each step is shown, then makes its motion, until the flow ends. `afterReveal` frames go
 * out right after the first step is shown, before the motion starts. Returns the last answer.
 */
export async function playChallenge<T extends FrameAnswer>(
  send: (frame: ScriptedFrame) => Promise<T>,
  embedding: number[],
  opts: { afterReveal?: ScriptedFrame[] } = {},
): Promise<T> {
  let extra = opts.afterReveal ?? [];
  for (let i = 0; i < 300; i++) {
    let out = await send([{ embedding, jitter: i }]);
    if (out.final) return out;
    if (!out.revealed) continue;
    for (const frame of [...extra, ...motionFrames(out.revealed.step, embedding)]) {
      out = await send(frame);
      if (out.final) return out;
    }
    extra = [];
  }
  throw new Error('the flow did not end within 300 frames');
}

/** The face flows on one configuration. */
export interface FlowServices {
  config: AuthConfig;
  login: LoginService;
  enrollment: EnrollmentService;
}

export interface FlowHarness {
  config: AuthConfig;
  ctx: AppContext;
  db: Database;
  vision: ScriptedVision;
  clock: ManualClock;
  login: LoginService;
  enrollment: EnrollmentService;
  /** Flows on the same database and clock with other settings (one database per file keeps files fast). */
  flows(overrides?: Partial<AuthConfig>): FlowServices;
  bruteForce: BruteForceService;
  /** the templates and the 1:N index the flows use */
  templates: TemplateService;
  /** how each flow ended, in order (the metrics hook) */
  loginOutcomes: LoginOutcomeLabel[];
  enrollOutcomes: ('completed' | 'refused')[];
  /** A person no other call returned (for `descriptorOf`). */
  newPerson(): number;
  /** A new account, with these descriptors as its enrolled templates. */
  addUser(embeddings?: number[][]): Promise<UserRecord>;
  /** Rewrites an account's stored templates without telling the flows' 1:N index (a stale cache). */
  storeBehindIndex(userId: string, embeddings: number[][]): Promise<void>;
  /** A client from an address no other call returned. */
  client(deviceId?: string | null): ClientInfo;
  counter(scope: AttemptScope, key: string): Promise<AttemptState>;
  /** The details of the latest audit event of this type. */
  lastAudit(type: string): Promise<{ code: string | null; details: Record<string, unknown> } | undefined>;
  close(): Promise<void>;
}

export async function openFlowHarness(overrides: Partial<AuthConfig> = {}): Promise<FlowHarness> {
  const masterKey = randomBytes(32);
  const config = testConfig({ dataDir: 'memory://', masterKey, indexResyncSeconds: 0, ...overrides });
  const log = pino({ level: 'silent' });
  const vision = new ScriptedVision();
  const ctx = await createContext(config, log, { vision });
  const db = ctx.db;
  const clock = new ManualClock();
  const users = new UserRepository();
  const liveFlows = new LiveFlowRepository();
  const audit = new AuditService(db, new AuditRepository(), log);
  // not synchronised by notifications: the index changes only through this service
  const templates = new TemplateService(db, new TemplateRepository(), new Sealer(masterKey, 'templates'), log);
  const behind = new TemplateService(db, new TemplateRepository(), new Sealer(masterKey, 'templates'), log);
  // back-off ends are stamped by the database clock, which the test clock does not move
  const bruteForce = new BruteForceService(db, new AttemptRepository(), config);
  const attempts = new AttemptRepository();
  const loginOutcomes: LoginOutcomeLabel[] = [];
  const enrollOutcomes: ('completed' | 'refused')[] = [];
  // the shortest hold every time: the frame on which a step is shown is known
  const random = () => 0;
  const flows = (over: Partial<AuthConfig> = {}): FlowServices => {
    const cfg: AuthConfig = { ...config, ...over };
    return {
      config: cfg,
      login: new LoginService({
        config: cfg,
        db,
        users,
        liveFlows,
        vision,
        templates,
        bruteForce,
        sessions: ctx.sessions,
        audit,
        random,
        now: clock.now,
        onOutcome: (_mode, outcome) => loginOutcomes.push(outcome),
      }),
      enrollment: new EnrollmentService({
        config: cfg,
        db,
        users: ctx.users,
        vision,
        templates,
        tickets: new EnrollTicketRepository(),
        liveFlows,
        audit,
        random,
        now: clock.now,
        onOutcome: (o) => enrollOutcomes.push(o),
      }),
    };
  };
  const { login, enrollment } = flows();
  let n = 0;
  let people = 0;
  const quality = { ...GOOD_QUALITY, yaw: 0, pitch: 0 };
  return {
    config,
    ctx,
    db,
    vision,
    clock,
    login,
    enrollment,
    flows,
    bruteForce,
    templates,
    loginOutcomes,
    enrollOutcomes,
    newPerson() {
      // person 0 is the scripted default face
      return ++people;
    },
    async addUser(embeddings = []) {
      const id = randomUUID();
      const user = await users.create(db, { id, username: `person${++n}-${id.slice(0, 6)}`, displayName: 'Person', role: 'user' });
      if (embeddings.length === 0) return user;
      await templates.replaceForUser(
        id,
        embeddings.map((embedding) => ({ embedding, quality })),
      );
      return (await users.findById(db, id)) as UserRecord;
    },
    async storeBehindIndex(userId, embeddings) {
      await behind.replaceForUser(
        userId,
        embeddings.map((embedding) => ({ embedding, quality })),
      );
    },
    client(deviceId = null) {
      n++;
      return { ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, userAgent: 'unit-test', deviceId };
    },
    counter: (scope, key) => attempts.get(db, scope, key),
    async lastAudit(type) {
      const { rows } = await db.query<{ code: string | null; details: Record<string, unknown> }>(
        'SELECT code, details FROM audit_events WHERE type = $1 ORDER BY id DESC LIMIT 1',
        [type],
      );
      return rows[0];
    },
    close: () => ctx.close(),
  };
}
