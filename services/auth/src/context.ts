/**
 * Wires the service together: database (migrated), repositories, services, background sync.
 * `server.ts` and tests create one context per replica and hand it to `buildApp`.
 */
import type { Logger } from 'pino';
import type { AuthConfig } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { Sealer, deriveKey, keyFingerprint } from './lib/crypto.js';
import { resolveMasterKey } from './lib/master-key.js';
import { createMetrics, type Metrics } from './metrics.js';
import { AttemptRepository } from './repositories/attempt.repository.js';
import { DeviceRepository } from './repositories/device.repository.js';
import { EnrollTicketRepository } from './repositories/enroll-ticket.repository.js';
import { LiveFlowRepository } from './repositories/live-flow.repository.js';
import { PasskeyRepository } from './repositories/passkey.repository.js';
import { AuditRepository } from './repositories/audit.repository.js';
import { MetaRepository } from './repositories/meta.repository.js';
import { OidcRepository } from './repositories/oidc.repository.js';
import { OidcService } from './oidc/oidc.service.js';
import { SessionRepository } from './repositories/session.repository.js';
import { SetupTokenRepository } from './repositories/setup-token.repository.js';
import { SigningKeyRepository } from './repositories/signing-key.repository.js';
import { TemplateRepository } from './repositories/template.repository.js';
import { UserRepository } from './repositories/user.repository.js';
import { HttpVisionClient, type VisionClient } from './repositories/vision.repository.js';
import { HubDatabase } from './repositories/hub.repository.js';
import { ReplicationRepository } from './repositories/replication.repository.js';
import { AuditService } from './services/audit.service.js';
import { BootstrapService, type BootstrapState } from './services/bootstrap.service.js';
import { BruteForceService } from './services/brute-force.service.js';
import { DeviceService } from './services/device.service.js';
import { EnrollTicketService } from './services/enroll-ticket.service.js';
import { EnrollmentService } from './services/enrollment.service.js';
import { LoginService } from './services/login.service.js';
import { ReplicationSetup } from './services/replication.service.js';
import { SiteService } from './services/site.service.js';
import { PasskeyService } from './services/passkey.service.js';
import { SessionService } from './services/session.service.js';
import { TemplateService } from './services/template.service.js';
import { TokenService } from './services/token.service.js';
import { UserService } from './services/user.service.js';
import { refuseWhenStale } from './services/freshness.js';
import { VisionHealth } from './services/vision-health.service.js';

/** Everything one replica runs; `buildApp` hands each route plugin only its share (routes/index.ts). */
export interface AppContext {
  config: AuthConfig;
  log: Logger;
  metrics: Metrics;
  db: Database;
  vision: VisionClient;
  /** vision's reachability, probed in the background (a metric and a /readyz field, not a readiness condition) */
  visionHealth: VisionHealth;
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
  /** the OpenID Connect provider; undefined when it is off (no PUBLIC_URL, or OIDC=false) */
  oidc: OidcService | undefined;
  /** the auth mode at run time: authority, freshness, replication upkeep (single: no-ops) */
  site: SiteService;
  /** what the start did about the first administrator (a printed setup link, …) */
  setup: BootstrapState;
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
  if (config.challengeSeed)
    log.warn('LIVENESS_CHALLENGE_SEED is set: every challenge is the same fixed sequence. Use only for tests and demos.');

  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    databasePassword: config.databasePassword,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    log,
  });
  // a site writes identities at the hub, across its uplink (docs/sites.md)
  const hub =
    config.mode === 'site'
      ? new HubDatabase(db, { url: config.hubDatabaseUrl as string, timeoutMs: config.hubTimeoutMs, waitMs: config.siteWriteWaitMs, log })
      : undefined;
  let site: SiteService | undefined;
  try {
    await migrate(db, log);
    const masterKey = resolveMasterKey({
      configured: config.masterKey,
      keyDir: config.keyDir,
      dataDir: config.dataDir,
      sharedDatabase: Boolean(config.databaseUrl),
      log,
    });
    const meta = new MetaRepository();
    const fingerprint = keyFingerprint(masterKey);
    if ((await meta.setIfAbsent(db, 'master_key_fingerprint', fingerprint)) !== fingerprint) throw new MasterKeyMismatchError();

    // rows a site writes carry its name; '' is the hub or a single installation
    const siteName = config.mode === 'site' ? (config.siteId as string) : '';
    const replication = new ReplicationRepository();
    site = new SiteService({
      cfg: config,
      log,
      db,
      repo: replication,
      hub,
      setup: config.mode === 'single' ? undefined : new ReplicationSetup(config, db, replication, meta, log, hub),
      onStatus: (s) => {
        if (s.stalenessSeconds !== null) metrics.siteStaleness.set(s.stalenessSeconds);
        if (s.hub === 'ok' || s.hub === 'unavailable') metrics.hubReachable.set(s.hub === 'ok' ? 1 : 0);
      },
    });
    await site.start();
    const authority = site.authority;
    const users = new UserRepository(siteName);
    const audit = new AuditService(db, new AuditRepository(siteName), log);
    const vision =
      opts.vision ??
      new HttpVisionClient(config.visionUrls, config.visionTimeoutMs, (o) =>
        metrics.vision.observe({ url: o.url, ok: String(o.ok) }, o.ms / 1000),
      );
    // the kiosk thresholds hold their false-accept promise only up to the population they were
    // evaluated for; beyond it, say so once (and again each time it is crossed anew)
    let overPopulation = false;
    const templates: TemplateService = new TemplateService(
      db,
      new TemplateRepository(),
      new Sealer(masterKey, 'templates'),
      log,
      (n) => {
        metrics.indexSize.set(n);
        const people = templates.index.users;
        metrics.enrolledPeople.set(people);
        if (config.kiosk && people > config.kioskPopulation && !overPopulation) {
          log.warn(
            { people, kioskPopulation: config.kioskPopulation },
            'more people enrolled than KIOSK_POPULATION: re-evaluate the kiosk thresholds (npm run eval:faces) or split kiosks by line',
          );
        }
        overPopulation = people > config.kioskPopulation;
      },
      site.authority,
    );
    const tokens = new TokenService(db, new SigningKeyRepository(), new Sealer(masterKey, 'signing-keys'), config, log, site.authority);
    const bruteForce = new BruteForceService(db, new AttemptRepository(siteName), config);
    const sessionRepo = new SessionRepository();
    const sessions = new SessionService(db, sessionRepo, users, tokens, audit, config);
    const bootstrap = new BootstrapService(site.authority, new SetupTokenRepository(), config, log);
    const ticketRepo = new EnrollTicketRepository();
    // tickets are used where templates are written: at the authority (the hub, from a site)
    const tickets = new EnrollTicketService(site.authority, tokens, ticketRepo);
    const devices = new DeviceService(db, new DeviceRepository(), audit, site.authority);
    const passkeyRepo = new PasskeyRepository();
    const passkeys = new PasskeyService(db, passkeyRepo, sessions, audit, config.grantTtlSeconds, site.authority);
    // administrators away from a trusted kiosk confirm their face login with a passkey
    sessions.stepUp = passkeys;
    const liveFlows = new LiveFlowRepository();
    const userService = new UserService(
      db,
      users,
      new AuditRepository(siteName),
      templates,
      tickets,
      sessions,
      bruteForce,
      audit,
      config,
      bootstrap,
      log,
      site.authority,
    );
    const enrollment = new EnrollmentService({
      config,
      db,
      users: userService,
      vision,
      templates,
      tickets: ticketRepo,
      liveFlows,
      audit,
      onOutcome: (o) => metrics.enrollments.inc({ outcome: o }),
      authority: site,
    });
    const login = new LoginService({
      config,
      db,
      users,
      liveFlows,
      vision,
      templates,
      bruteForce,
      sessions,
      audit,
      onOutcome: (mode, outcome, ms) => {
        metrics.logins.inc({ mode, outcome });
        metrics.loginDuration.observe({ mode, outcome }, ms / 1000);
      },
    });
    // the one hook into the login flow: a site whose copy is too old refuses new logins (SITE_STALE)
    refuseWhenStale(login, sessions, site);

    await tokens.start();
    // a site makes no administrators of its own (and must start while its uplink is down):
    // the hub issues the setup link; a registration with it at a site is written at the hub
    const setup: BootstrapState = config.mode === 'site' ? { state: 'at-hub' } : await bootstrap.start();
    await templates.loadAll();
    await templates.startSync(config.indexResyncSeconds);
    const oidc = config.oidc
      ? new OidcService({
          config,
          log,
          db,
          repo: new OidcRepository(),
          users,
          tokens,
          sessions,
          audit,
          // the provider's cookies are signed with a key every replica derives alike
          cookieKey: deriveKey(masterKey, 'oidc-cookies').toString('base64url'),
        })
      : undefined;
    if (oidc) log.info({ issuer: oidc.issuer, clients: [...oidc.clients.keys()] }, 'OpenID Connect provider on');
    const visionHealth = new VisionHealth(vision, metrics.visionReady);
    visionHealth.start();
    const housekeeping = setInterval(() => {
      void sessionRepo.purgeExpired(db).catch(() => undefined);
      void oidc?.purgeExpired().catch(() => undefined);
      void ticketRepo.purgeExpired(authority).catch(() => undefined);
      void passkeyRepo.purgeExpiredChallenges(db).catch(() => undefined);
    }, 3_600_000);
    housekeeping.unref();

    const running = site;
    return {
      config,
      log,
      metrics,
      db,
      vision,
      visionHealth,
      templates,
      tokens,
      sessions,
      tickets,
      devices,
      passkeys,
      bruteForce,
      users: userService,
      enrollment,
      login,
      oidc,
      site: running,
      setup,
      async close() {
        clearInterval(housekeeping);
        visionHealth.stop();
        running.stop();
        tokens.stop();
        // a client handed in by the caller is the caller's to close
        if (!opts.vision) vision.close?.();
        await templates.stop();
        await hub?.close();
        await db.close();
      },
    };
  } catch (err) {
    site?.stop();
    await hub?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
