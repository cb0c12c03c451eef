/**
 * Wires the service together: database (migrated), repositories, services, background sync.
 * `server.ts` and tests create one context per replica and hand it to `buildApp`.
 */
import type { Logger } from 'pino';
import type { AuthConfig } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { Sealer, keyFingerprint } from './lib/crypto.js';
import { resolveMasterKey } from './lib/master-key.js';
import { createMetrics, type Metrics } from './metrics.js';
import { AttemptRepository } from './repositories/attempt.repository.js';
import { DeviceRepository } from './repositories/device.repository.js';
import { EnrollTicketRepository } from './repositories/enroll-ticket.repository.js';
import { LiveFlowRepository } from './repositories/live-flow.repository.js';
import { PasskeyRepository } from './repositories/passkey.repository.js';
import { AuditRepository } from './repositories/audit.repository.js';
import { MetaRepository } from './repositories/meta.repository.js';
import { SessionRepository } from './repositories/session.repository.js';
import { SigningKeyRepository } from './repositories/signing-key.repository.js';
import { TemplateRepository } from './repositories/template.repository.js';
import { UserRepository } from './repositories/user.repository.js';
import { HttpVisionClient, type VisionClient } from './repositories/vision.repository.js';
import { AuditService } from './services/audit.service.js';
import { BruteForceService } from './services/brute-force.service.js';
import { DeviceService } from './services/device.service.js';
import { EnrollTicketService } from './services/enroll-ticket.service.js';
import { EnrollmentService } from './services/enrollment.service.js';
import { LoginService } from './services/login.service.js';
import { PasskeyService } from './services/passkey.service.js';
import { SessionService } from './services/session.service.js';
import { TemplateService } from './services/template.service.js';
import { TokenService } from './services/token.service.js';
import { UserService } from './services/user.service.js';

export interface AppContext {
  config: AuthConfig;
  log: Logger;
  metrics: Metrics;
  db: Database;
  vision: VisionClient;
  templates: TemplateService;
  tokens: TokenService;
  sessions: SessionService;
  tickets: EnrollTicketService;
  devices: DeviceService;
  bruteForce: BruteForceService;
  passkeys: PasskeyService;
  users: UserService;
  enrollment: EnrollmentService;
  login: LoginService;
  close(): Promise<void>;
}

export class MasterKeyMismatchError extends Error {
  constructor() {
    super('FACELINE_MASTER_KEY does not match the key this database was created with; stored templates and signing keys cannot be read');
    this.name = 'MasterKeyMismatchError';
  }
}

export async function createContext(config: AuthConfig, log: Logger, opts: { vision?: VisionClient } = {}): Promise<AppContext> {
  const metrics = createMetrics();
  if (!config.liveness) log.warn('LIVENESS is off: a photo of an enrolled person can log in. Use only for testing.');
  if (config.challengeSeed) log.warn('LIVENESS_CHALLENGE_SEED is set: every challenge is the same fixed sequence. Use only for tests and demos.');

  const db = await openDatabase({ databaseUrl: config.databaseUrl, databasePassword: config.databasePassword, dataDir: config.dataDir, poolSize: config.databasePoolSize, log });
  try {
    await migrate(db, log);
    const masterKey = resolveMasterKey({ configured: config.masterKey, dataDir: config.dataDir, sharedDatabase: Boolean(config.databaseUrl), log });
    const meta = new MetaRepository();
    const fingerprint = keyFingerprint(masterKey);
    if ((await meta.setIfAbsent(db, 'master_key_fingerprint', fingerprint)) !== fingerprint) throw new MasterKeyMismatchError();

    const users = new UserRepository();
    const audit = new AuditService(db, new AuditRepository(), log);
    const vision =
      opts.vision ??
      new HttpVisionClient(config.visionUrls, config.visionTimeoutMs, (o) =>
        metrics.vision.observe({ url: o.url, ok: String(o.ok) }, o.ms / 1000),
      );
    // the kiosk thresholds hold their false-accept promise only up to the population they were
    // evaluated for; beyond it, say so once (and again each time it is crossed anew)
    let overPopulation = false;
    const templates: TemplateService = new TemplateService(db, new TemplateRepository(), new Sealer(masterKey, 'templates'), log, (n) => {
      metrics.indexSize.set(n);
      const people = templates.index.users;
      metrics.enrolledPeople.set(people);
      if (config.kiosk && people > config.kioskPopulation && !overPopulation) {
        log.warn({ people, kioskPopulation: config.kioskPopulation }, 'more people enrolled than KIOSK_POPULATION: re-evaluate the kiosk thresholds (npm run eval:faces) or split kiosks by line');
      }
      overPopulation = people > config.kioskPopulation;
    });
    const tokens = new TokenService(db, new SigningKeyRepository(), new Sealer(masterKey, 'signing-keys'), config, log);
    const bruteForce = new BruteForceService(db, new AttemptRepository(), config);
    const sessionRepo = new SessionRepository();
    const sessions = new SessionService(db, sessionRepo, users, tokens, audit, config);
    const ticketRepo = new EnrollTicketRepository();
    const tickets = new EnrollTicketService(db, tokens, ticketRepo);
    const devices = new DeviceService(db, new DeviceRepository(), audit);
    const passkeyRepo = new PasskeyRepository();
    const passkeys = new PasskeyService(db, passkeyRepo, sessions, audit, config.grantTtlSeconds);
    // administrators away from a trusted kiosk confirm their face login with a passkey
    sessions.stepUp = passkeys;
    const liveFlows = new LiveFlowRepository();
    const userService = new UserService(db, users, new AuditRepository(), templates, tickets, sessions, bruteForce, audit, config);
    const enrollment = new EnrollmentService({
      config, db, users: userService, vision, templates, tickets: ticketRepo, liveFlows, audit,
      onOutcome: (o) => metrics.enrollments.inc({ outcome: o }),
    });
    const login = new LoginService({
      config, db, users, liveFlows, vision, templates, bruteForce, sessions, audit,
      onOutcome: (mode, outcome, ms) => {
        metrics.logins.inc({ mode, outcome });
        metrics.loginDuration.observe({ mode, outcome }, ms / 1000);
      },
    });

    await tokens.start();
    await templates.loadAll();
    await templates.startSync(config.indexResyncSeconds);
    const housekeeping = setInterval(() => {
      void sessionRepo.purgeExpired(db).catch(() => undefined);
      void ticketRepo.purgeExpired(db).catch(() => undefined);
      void passkeyRepo.purgeExpiredChallenges(db).catch(() => undefined);
    }, 3_600_000);
    housekeeping.unref();

    return {
      config, log, metrics, db, vision, templates, tokens, sessions, tickets, devices, passkeys, bruteForce, users: userService, enrollment, login,
      async close() {
        clearInterval(housekeeping);
        tokens.stop();
        // a client handed in by the caller is the caller's to close
        if (!opts.vision) vision.close?.();
        await templates.stop();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
