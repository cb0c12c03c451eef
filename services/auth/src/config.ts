/**
 * The only module that reads process.env. Every variable is validated at start and all
 * problems are reported at once, so a misconfigured deployment fails with one clear message.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCESS_TOKEN_DEFAULTS, DEFAULT_PORTS } from '@faceline/contracts';
import { httpUrl, logLevel, readEnv, splitList, trustProxy, type Env, type LogLevel, type TrustProxy } from '@faceline/runtime';
import { mergeRegistrations, parseClientRegistrations, type OidcClientRegistration } from './oidc/clients.js';
import { DEFAULT_LIVENESS_RULES, type LivenessRules } from './services/liveness/rules.js';

export { ConfigError } from '@faceline/runtime';
export type { LogLevel } from '@faceline/runtime';

/**
 * single: one database (today's behaviour, PGlite allowed). hub: the identity authority; it
 * publishes identities and subscribes to every site's local tables. site: a replicated copy of
 * the identities at a production site; authority operations go to the hub (docs/sites.md).
 */
export type AuthMode = 'single' | 'hub' | 'site';

/** A site the hub subscribes to: its name and how the hub's PostgreSQL reaches the site's. */
export interface HubSite {
  name: string;
  url: string;
}

/** Site names become parts of replication slot names: lowercase letters, digits, single dashes. */
export const SITE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SITE_NAME_MAX = 40;

export interface AuthConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  version: string;
  /** PostgreSQL connection string; unset = embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  /** PostgreSQL password (PGPASSWORD_FILE) for a DATABASE_URL without one; PGPASSWORD itself is read by the driver. */
  databasePassword: string | undefined;
  /** Connections per replica to PostgreSQL. */
  databasePoolSize: number;
  /** Folder for PGlite's data (and, unless keyDir says otherwise, the generated master key file). */
  dataDir: string;
  /** Folder of the generated master key file (FACELINE_KEY_DIR); defaults to dataDir. */
  keyDir: string;
  /** 32-byte key (base64 or hex) that encrypts face templates and signing keys; unset = key file in dataDir. */
  masterKey: Buffer | undefined;
  /** One or several vision base URLs; host names are resolved to all their addresses, calls go to the least busy one and move on after connection errors and 503. */
  visionUrls: string[];
  visionTimeoutMs: number;
  liveness: boolean;
  /** Fixed seed for the challenge generator: tests and demos only, logged as a warning. */
  challengeSeed: string | undefined;
  challengeSteps: number;
  challengeTimeLimitMs: number;
  /** how liveness is judged: thresholds and the server's timing (services/liveness/rules.ts) */
  livenessRules: LivenessRules;
  /** frames of another person (or not matching) after which a login fails */
  maxMismatchFrames: number;
  /** frames after which a login without success fails */
  loginMaxFrames: number;
  capturesRequired: number;
  enrollTimeLimitMs: number;
  minFaceSizePx: number;
  minSharpness: number;
  minBrightness: number;
  /** degrees of yaw/pitch still counted as frontal */
  maxFrontalAngle: number;
  maxFrameBytes: number;
  minFrameIntervalMs: number;
  /** client events per second per socket before events are refused */
  socketEventsPerSecond: number;
  kiosk: boolean;
  /** enrolled people the kiosk thresholds were chosen for; more is logged as a warning */
  kioskPopulation: number;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  grantTtlSeconds: number;
  enrollTicketTtlSeconds: number;
  signingKeyRotationSeconds: number;
  /** 'auto' = Secure when the request came over TLS (directly or per X-Forwarded-Proto with trustProxy) */
  cookieSecure: 'auto' | 'always' | 'never';
  cookieDomain: string | undefined;
  trustProxy: TrustProxy;
  /** the address people open (e.g. https://faceline.example.com); its origin may always use cookies */
  publicUrl: string | undefined;
  /** origins whose pages may open sockets and change state with cookies; unset = the request's own host (and publicUrl) */
  allowedOrigins: string[] | undefined;
  /** (account, origin) pair: consecutive failed face attempts before that pair backs off */
  pairBackoffAfter: number;
  /** account (from untrusted origins): consecutive failed face attempts before back-off / before lock */
  backoffAfter: number;
  lockAfter: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** per IP: failed attempts allowed in a window */
  ipMaxFailures: number;
  ipWindowSeconds: number;
  /** accounts that one address may create per IP window */
  registrationsPerIp: number;
  /**
   * Operator-chosen one-time token for the first administrator (FACELINE_SETUP_TOKEN[_FILE]);
   * unset = auth prints a generated setup link while no administrator exists.
   */
  setupToken: string | undefined;
  /** logins (challenge draws) one account may start per IP window */
  loginStartsPerWindow: number;
  /** administrators act as such only after a login at a trusted device or with a passkey */
  adminStepUp: boolean;
  /** a sensitive change (a new face, a passkey) needs a face login with liveness at most this old */
  reauthMaxAgeSeconds: number;
  /** full reload of the 1:N index, in case a notification was missed */
  indexResyncSeconds: number;
  shutdownGraceSeconds: number;
  /** the OpenID Connect provider ("Sign in with Faceline"); on when PUBLIC_URL (its issuer) is set, unless OIDC=false */
  oidc: boolean;
  /** clients registered by the operator (OIDC_CLIENTS_FILE, OIDC_CLIENTS) */
  oidcClients: OidcClientRegistration[];
  /** the web app's page that runs the face login for the provider */
  oidcLoginPath: string;
  oidcIdTokenTtlSeconds: number;
  oidcAccessTokenTtlSeconds: number;
  oidcRefreshTokenTtlSeconds: number;
  /** how long the provider remembers a signed-in person (its own session, single sign-on between clients) */
  oidcSessionTtlSeconds: number;
  /** time a person has for the face login (and consent) of one authorization request */
  oidcInteractionTtlSeconds: number;
  mode: AuthMode;
  /** site mode: this site's name (SITE_ID) */
  siteId: string | undefined;
  /** site mode: the hub's database, for authority writes (enrollment, deletion, roles, keys) */
  hubDatabaseUrl: string | undefined;
  /** site mode: the connection string this site's PostgreSQL server uses to subscribe to the hub */
  hubReplicationUrl: string | undefined;
  /** site mode: connect and query timeout towards the hub */
  hubTimeoutMs: number;
  /** site mode: older copies refuse logins with SITE_STALE; 0 = never */
  siteMaxStalenessSeconds: number;
  /** site mode: how long an authority write waits to see itself replicated back */
  siteWriteWaitMs: number;
  /** hub mode: the sites whose local tables the hub subscribes to */
  hubSites: HubSite[];
  /** hub mode: how often the hub stamps the replicated heartbeat sites measure staleness by */
  hubHeartbeatSeconds: number;
  /** hub and site mode: auth creates and updates publications and subscriptions itself ('auto') or leaves them to the operator ('off') */
  replicationSetup: 'auto' | 'off';
  /** hub and site mode: how often publications and subscriptions are checked again */
  replicationReconcileSeconds: number;
  /** time a client has to send its request headers; slower connections are closed (408) */
  headersTimeoutMs: number;
  /** time a client has to send its whole request (headers and body) */
  requestTimeoutMs: number;
  /** an idle kept-alive connection is closed after this */
  keepAliveTimeoutMs: number;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, '.data', 'auth');

export function loadConfig(source: Env = process.env): AuthConfig {
  const env = readEnv(source);
  const str = (name: string) => env.str(name);
  const num = (name: string, fallback: number, min: number, max: number, integer = true): number =>
    integer ? env.int(name, fallback, { min, max }) : env.number(name, fallback, { min, max });
  const bool = (name: string, fallback: boolean) => env.bool(name, fallback);
  // Kubernetes and compose mount secrets as files: every secret may also come from VAR_FILE
  const secret = (name: string) => env.secret(name);

  const level = logLevel(env);

  const databaseUrl = secret('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) env.problem('DATABASE_URL must start with postgres:// or postgresql://');

  let masterKey: Buffer | undefined;
  const rawKey = secret('FACELINE_MASTER_KEY');
  if (rawKey) {
    masterKey = /^[0-9a-fA-F]{64}$/.test(rawKey) ? Buffer.from(rawKey, 'hex') : Buffer.from(rawKey, 'base64');
    if (masterKey.length !== 32) {
      env.problem('FACELINE_MASTER_KEY must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
      masterKey = undefined;
    }
  }

  const visionUrls = splitList(str('VISION_URL') ?? `http://127.0.0.1:${DEFAULT_PORTS.vision}`).map((u) => {
    const url = httpUrl(u);
    if (url === undefined) env.problem(`VISION_URL entries must be http(s) URLs, got "${u}"`);
    return url ?? u;
  });
  if (visionUrls.length === 0) env.problem('VISION_URL must name at least one address');

  const cookieSecure = env.enum('COOKIE_SECURE', ['auto', 'always', 'never'], 'auto');

  const trust = trustProxy(env);

  const publicUrl = env.url('PUBLIC_URL', { example: 'https://faceline.example.com' });
  let allowedOrigins: string[] | undefined;
  const rawOrigins = str('ALLOWED_ORIGINS');
  if (rawOrigins) {
    allowedOrigins = [];
    for (const o of rawOrigins
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      try {
        const u = new URL(o);
        if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o.replace(/\/$/, '')) throw new Error('not an origin');
        allowedOrigins.push(u.origin);
      } catch {
        env.problem(`ALLOWED_ORIGINS entries must be origins like https://faceline.example.com (scheme, host, optional port), got "${o}"`);
      }
    }
  }

  // "Sign in with Faceline": the issuer is PUBLIC_URL, so the provider is on only when it is set
  const oidcSwitch = str('OIDC') === undefined ? undefined : bool('OIDC', true);
  if (oidcSwitch === true && !publicUrl) env.problem('OIDC=true needs PUBLIC_URL: it is the issuer of the OpenID Connect provider');
  if (publicUrl && new URL(publicUrl).pathname !== '/' && oidcSwitch !== false) {
    env.problem(
      'PUBLIC_URL must be an origin without a path (e.g. https://faceline.example.com) for the OpenID Connect provider, or set OIDC=false',
    );
  }
  const oidc = oidcSwitch ?? Boolean(publicUrl);
  const clientSources: { clients: OidcClientRegistration[]; problems: string[] }[] = [];
  const clientsFile = str('OIDC_CLIENTS_FILE');
  if (clientsFile) {
    try {
      clientSources.push(parseClientRegistrations(readFileSync(clientsFile, 'utf8'), `OIDC_CLIENTS_FILE (${clientsFile})`));
    } catch (err) {
      env.problem(`OIDC_CLIENTS_FILE names a file that cannot be read (${clientsFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const inlineClients = str('OIDC_CLIENTS');
  if (inlineClients) clientSources.push(parseClientRegistrations(inlineClients, 'OIDC_CLIENTS'));
  const oidcClients = mergeRegistrations(clientSources);
  for (const p of oidcClients.problems) env.problem(p);
  const oidcLoginPath = str('OIDC_LOGIN_PATH') ?? '/authorize';
  if (!/^\/[A-Za-z0-9/_-]*$/.test(oidcLoginPath))
    env.problem(`OIDC_LOGIN_PATH must be a path on the web app such as /authorize, got "${oidcLoginPath}"`);
  const mode = env.enum<AuthMode>('AUTH_MODE', ['single', 'hub', 'site'], 'single');
  const siteId = str('SITE_ID');
  const hubDatabaseUrl = secret('HUB_DATABASE_URL');
  const hubReplicationUrl = secret('HUB_REPLICATION_URL') ?? hubDatabaseUrl;
  const validSite = (name: string, what: string) => {
    if (!SITE_NAME.test(name) || name.length > SITE_NAME_MAX)
      env.problem(`${what} must be lowercase letters and digits with single dashes, at most ${SITE_NAME_MAX} characters, got "${name}"`);
  };
  if (mode === 'hub' || mode === 'site') {
    if (!databaseUrl) env.problem(`AUTH_MODE=${mode} needs DATABASE_URL: PostgreSQL, because PGlite cannot take part in replication`);
  }
  if (mode === 'site') {
    if (!siteId) env.problem('AUTH_MODE=site needs SITE_ID, the name of this site (e.g. line-7)');
    else validSite(siteId, 'SITE_ID');
    if (!hubDatabaseUrl)
      env.problem(
        'AUTH_MODE=site needs HUB_DATABASE_URL (or HUB_DATABASE_URL_FILE), the hub database for enrollment, deletion, roles and keys',
      );
  } else {
    if (siteId) env.problem('SITE_ID is only used with AUTH_MODE=site');
    if (hubDatabaseUrl) env.problem('HUB_DATABASE_URL is only used with AUTH_MODE=site');
  }
  for (const [name, value] of [
    ['HUB_DATABASE_URL', hubDatabaseUrl],
    ['HUB_REPLICATION_URL', hubReplicationUrl],
  ] as const) {
    if (value && !/^postgres(ql)?:\/\//.test(value)) env.problem(`${name} must start with postgres:// or postgresql://`);
  }
  const hubSites: HubSite[] = [];
  const rawSites = secret('HUB_SITES');
  if (rawSites) {
    if (mode !== 'hub') env.problem('HUB_SITES is only used with AUTH_MODE=hub');
    // one site per line (or comma): name=postgres://…; a comma inside a password must be percent-encoded
    for (const entry of rawSites
      .split(/[\n,]/)
      .map((e) => e.trim())
      .filter(Boolean)) {
      const at = entry.indexOf('=');
      const name = at > 0 ? entry.slice(0, at).trim() : '';
      const url = at > 0 ? entry.slice(at + 1).trim() : '';
      if (!name || !/^postgres(ql)?:\/\//.test(url)) {
        env.problem(`HUB_SITES entries must look like line-7=postgres://user@host:5432/db, got "${entry.replace(/:[^:@/]*@/, ':***@')}"`);
        continue;
      }
      validSite(name, 'a HUB_SITES name');
      if (hubSites.some((x) => x.name === name)) env.problem(`HUB_SITES names site "${name}" twice`);
      hubSites.push({ name, url });
    }
  }
  const replicationSetup = env.enum('REPLICATION_SETUP', ['auto', 'off'], 'auto');
  // The first administrator comes only from a one-time setup token (see bootstrap.service.ts).
  // The old switches made whoever registered first, or first took a listed name, an admin.
  if (str('FIRST_USER_IS_ADMIN') !== undefined && bool('FIRST_USER_IS_ADMIN', false)) {
    env.problem(
      'FIRST_USER_IS_ADMIN was removed (anyone could race to be first): the first administrator registers with the setup link auth logs at start, or with FACELINE_SETUP_TOKEN',
    );
  }
  if (str('ADMIN_USERNAMES') !== undefined) {
    env.problem(
      'ADMIN_USERNAMES was removed (anyone could register a listed name first): the first administrator registers with the setup link auth logs at start, or with FACELINE_SETUP_TOKEN',
    );
  }
  const setupToken = secret('FACELINE_SETUP_TOKEN');
  if (setupToken !== undefined && !/^[A-Za-z0-9._~-]{16,200}$/.test(setupToken)) {
    env.problem(
      'FACELINE_SETUP_TOKEN must be 16 to 200 characters of A-Z, a-z, 0-9, ".", "_", "~" or "-" (it goes into a link), e.g. `openssl rand -hex 24`',
    );
  }

  const headersTimeoutMs = num('HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = num('REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) env.problem('HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS');

  const dataDir = path.resolve(str('FACELINE_DATA_DIR') ?? DEFAULT_DATA_DIR);
  if (str('FACELINE_KEY_DIR') !== undefined && (masterKey || env.has('FACELINE_MASTER_KEY_FILE'))) {
    env.problem(
      'FACELINE_KEY_DIR is the folder of the generated key file; with FACELINE_MASTER_KEY or FACELINE_MASTER_KEY_FILE set it would be ignored: set only one',
    );
  }

  const accessTokenTtlSeconds = num('ACCESS_TOKEN_TTL_SECONDS', 300, 30, 86_400);
  const backoffAfter = num('BACKOFF_AFTER_FAILURES', 10, 1, 1000);
  const lockAfter = num('LOCK_AFTER_FAILURES', 50, 2, 100_000);
  if (lockAfter <= backoffAfter) env.problem('LOCK_AFTER_FAILURES must be larger than BACKOFF_AFTER_FAILURES');
  const d = DEFAULT_LIVENESS_RULES;
  const livenessRules: LivenessRules = {
    ...d,
    turnDegrees: num('LIVENESS_TURN_DEGREES', d.turnDegrees, 5, 60, false),
    holdMinMs: num('LIVENESS_HOLD_MIN_MS', d.holdMinMs, 200, 10_000),
    holdMaxMs: num('LIVENESS_HOLD_MAX_MS', d.holdMaxMs, 200, 10_000),
    reactionMs: num('LIVENESS_REACTION_MS', d.reactionMs, 500, 30_000),
    stepTimeMs: num('LIVENESS_STEP_MS', d.stepTimeMs, 1000, 60_000),
    maxGapMs: num('LIVENESS_MAX_FRAME_GAP_MS', d.maxGapMs, 200, 30_000),
  };
  if (livenessRules.holdMaxMs < livenessRules.holdMinMs) env.problem('LIVENESS_HOLD_MAX_MS must be at least LIVENESS_HOLD_MIN_MS');
  if (livenessRules.stepTimeMs < livenessRules.reactionMs) env.problem('LIVENESS_STEP_MS must be at least LIVENESS_REACTION_MS');

  const config: AuthConfig = {
    host: str('HOST') ?? '0.0.0.0',
    port: num('PORT', DEFAULT_PORTS.auth, 0, 65535),
    logLevel: level,
    version: str('FACELINE_VERSION') ?? str('npm_package_version') ?? '0.1.0',
    databaseUrl,
    databasePassword: env.has('PGPASSWORD_FILE') ? secret('PGPASSWORD') : undefined,
    databasePoolSize: num('DATABASE_POOL_SIZE', 10, 1, 200),
    dataDir,
    keyDir: path.resolve(str('FACELINE_KEY_DIR') ?? dataDir),
    masterKey,
    visionUrls,
    visionTimeoutMs: num('VISION_TIMEOUT_MS', 5000, 100, 120_000),
    liveness: bool('LIVENESS', true),
    challengeSeed: str('LIVENESS_CHALLENGE_SEED'),
    challengeSteps: num('LIVENESS_CHALLENGE_STEPS', 2, 1, 6),
    challengeTimeLimitMs: num('LIVENESS_TIME_LIMIT_MS', 20_000, 1000, 300_000),
    livenessRules,
    maxMismatchFrames: num('LOGIN_MAX_MISMATCH_FRAMES', 3, 1, 100),
    loginMaxFrames: num('LOGIN_MAX_FRAMES', 300, 1, 10_000),
    capturesRequired: num('ENROLL_CAPTURES', 3, 3, 20),
    enrollTimeLimitMs: num('ENROLL_TIME_LIMIT_MS', 120_000, 1000, 3_600_000),
    minFaceSizePx: num('QUALITY_MIN_FACE_PX', 112, 40, 4096),
    minSharpness: num('QUALITY_MIN_SHARPNESS', 20, 0, 100_000, false),
    minBrightness: num('QUALITY_MIN_BRIGHTNESS', 40, 0, 255, false),
    maxFrontalAngle: num('QUALITY_MAX_ANGLE', 25, 1, 90, false),
    maxFrameBytes: num('MAX_FRAME_BYTES', 1_048_576, 1024, 16 * 1_048_576),
    minFrameIntervalMs: num('MIN_FRAME_INTERVAL_MS', 0, 0, 10_000),
    socketEventsPerSecond: num('SOCKET_EVENTS_PER_SECOND', 40, 1, 10_000),
    kiosk: bool('KIOSK', true),
    kioskPopulation: num('KIOSK_POPULATION', 1000, 1, 10_000_000),
    issuer: str('AUTH_ISSUER') ?? ACCESS_TOKEN_DEFAULTS.issuer,
    audience: str('AUTH_AUDIENCE') ?? ACCESS_TOKEN_DEFAULTS.audience,
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds: num('REFRESH_TOKEN_TTL_SECONDS', 12 * 3600, 60, 90 * 86_400),
    grantTtlSeconds: num('LOGIN_GRANT_TTL_SECONDS', 60, 5, 3600),
    enrollTicketTtlSeconds: num('ENROLL_TICKET_TTL_SECONDS', 900, 30, 86_400),
    signingKeyRotationSeconds: num('SIGNING_KEY_ROTATION_SECONDS', 30 * 86_400, 60, 3650 * 86_400),
    cookieSecure,
    cookieDomain: str('COOKIE_DOMAIN'),
    trustProxy: trust,
    publicUrl,
    allowedOrigins,
    pairBackoffAfter: num('PAIR_BACKOFF_AFTER_FAILURES', 3, 1, 1000),
    backoffAfter,
    lockAfter,
    backoffBaseSeconds: num('BACKOFF_BASE_SECONDS', 30, 1, 86_400),
    backoffMaxSeconds: num('BACKOFF_MAX_SECONDS', 3600, 1, 7 * 86_400),
    ipMaxFailures: num('IP_MAX_FAILURES', 30, 1, 1_000_000),
    ipWindowSeconds: num('IP_WINDOW_SECONDS', 900, 1, 86_400),
    registrationsPerIp: num('REGISTRATIONS_PER_IP', 200, 1, 1_000_000),
    setupToken,
    loginStartsPerWindow: num('LOGIN_STARTS_PER_WINDOW', 30, 1, 1_000_000),
    adminStepUp: bool('ADMIN_STEP_UP', true),
    reauthMaxAgeSeconds: num('REAUTH_MAX_AGE_SECONDS', 300, 30, 86_400),
    indexResyncSeconds: num('INDEX_RESYNC_SECONDS', 300, 0, 86_400),
    shutdownGraceSeconds: num('SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    oidc,
    oidcClients: oidcClients.clients,
    oidcLoginPath,
    oidcIdTokenTtlSeconds: num('OIDC_ID_TOKEN_TTL_SECONDS', 3600, 60, 86_400),
    oidcAccessTokenTtlSeconds: num('OIDC_ACCESS_TOKEN_TTL_SECONDS', 600, 60, 86_400),
    oidcRefreshTokenTtlSeconds: num('OIDC_REFRESH_TOKEN_TTL_SECONDS', 14 * 86_400, 300, 365 * 86_400),
    oidcSessionTtlSeconds: num('OIDC_SESSION_TTL_SECONDS', 12 * 3600, 60, 90 * 86_400),
    oidcInteractionTtlSeconds: num('OIDC_INTERACTION_TTL_SECONDS', 600, 60, 3600),
    mode,
    siteId: mode === 'site' ? siteId : undefined,
    hubDatabaseUrl: mode === 'site' ? hubDatabaseUrl : undefined,
    hubReplicationUrl: mode === 'site' ? hubReplicationUrl : undefined,
    hubTimeoutMs: num('HUB_TIMEOUT_MS', 5000, 100, 120_000),
    siteMaxStalenessSeconds: num('SITE_MAX_STALENESS_SECONDS', 86_400, 0, 365 * 86_400),
    siteWriteWaitMs: num('SITE_WRITE_WAIT_MS', 5000, 0, 120_000),
    hubSites,
    hubHeartbeatSeconds: num('HUB_HEARTBEAT_SECONDS', 5, 1, 3600),
    replicationSetup,
    replicationReconcileSeconds: num('REPLICATION_RECONCILE_SECONDS', 30, 1, 86_400),
    headersTimeoutMs,
    requestTimeoutMs,
    // longer than the 60 s idle timeout of common load balancers, so that they close first
    keepAliveTimeoutMs: num('KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 600_000),
  };
  config.livenessRules.maxFrontalAngle = config.maxFrontalAngle;
  env.done();
  return config;
}

/** A config for tests and tools: defaults plus overrides, without reading the real environment. */
export function testConfig(overrides: Partial<AuthConfig> = {}, env: NodeJS.ProcessEnv = {}): AuthConfig {
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...env }), ...overrides };
  // the key file follows a data folder given here, as FACELINE_KEY_DIR follows FACELINE_DATA_DIR
  if (overrides.dataDir && !overrides.keyDir && !env.FACELINE_KEY_DIR) config.keyDir = overrides.dataDir;
  return config;
}
