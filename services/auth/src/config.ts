/**
 * The only module that reads process.env. Every variable is validated at start and all
 * problems are reported at once, so a misconfigured deployment fails with one clear message.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCESS_TOKEN_DEFAULTS, DEFAULT_PORTS } from '@faceline/contracts';
import { DEFAULT_LIVENESS_RULES, type LivenessRules } from './services/liveness/rules.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

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
  /** Folder for PGlite's data and the generated master key file. */
  dataDir: string;
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
  trustProxy: boolean | number | string;
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
  /** logins (challenge draws) one account may start per IP window */
  loginStartsPerWindow: number;
  /** administrators act as such only after a login at a trusted device or with a passkey */
  adminStepUp: boolean;
  /** a sensitive change (a new face, a passkey) needs a face login with liveness at most this old */
  reauthMaxAgeSeconds: number;
  firstUserIsAdmin: boolean;
  adminUsernames: string[];
  /** full reload of the 1:N index, in case a notification was missed */
  indexResyncSeconds: number;
  shutdownGraceSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, '.data', 'auth');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const num = (name: string, fallback: number, min: number, max: number, integer = true): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };

  /**
   * A secret from VAR or from the file named by VAR_FILE (Kubernetes and compose mount secrets
   * as files so they stay out of the environment, process listings and crash dumps).
   */
  const secret = (name: string): string | undefined => {
    const file = str(`${name}_FILE`);
    if (file === undefined) return str(name);
    if (str(name) !== undefined) problems.push(`set either ${name} or ${name}_FILE, not both`);
    try {
      const value = readFileSync(file, 'utf8').trim();
      if (value === '') problems.push(`${name}_FILE names an empty file (${file})`);
      return value === '' ? undefined : value;
    } catch (err) {
      problems.push(`${name}_FILE names a file that cannot be read (${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };

  const logLevel = (str('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const databaseUrl = secret('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must start with postgres:// or postgresql://');

  let masterKey: Buffer | undefined;
  const rawKey = secret('FACELINE_MASTER_KEY');
  if (rawKey) {
    masterKey = /^[0-9a-fA-F]{64}$/.test(rawKey) ? Buffer.from(rawKey, 'hex') : Buffer.from(rawKey, 'base64');
    if (masterKey.length !== 32) {
      problems.push('FACELINE_MASTER_KEY must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
      masterKey = undefined;
    }
  }

  const visionUrls = (str('VISION_URL') ?? `http://127.0.0.1:${DEFAULT_PORTS.vision}`)
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => {
      try {
        const url = new URL(u);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
        return url.href.replace(/\/$/, '');
      } catch {
        problems.push(`VISION_URL entries must be http(s) URLs, got "${u}"`);
        return u;
      }
    });
  if (visionUrls.length === 0) problems.push('VISION_URL must name at least one address');

  const cookieSecure = (str('COOKIE_SECURE') ?? 'auto') as AuthConfig['cookieSecure'];
  if (!['auto', 'always', 'never'].includes(cookieSecure)) problems.push('COOKIE_SECURE must be auto, always or never');

  let trustProxy: AuthConfig['trustProxy'] = false;
  const rawProxy = str('TRUST_PROXY');
  if (rawProxy !== undefined) {
    if (/^(true|false)$/i.test(rawProxy)) trustProxy = rawProxy.toLowerCase() === 'true';
    else if (/^\d+$/.test(rawProxy)) trustProxy = Number(rawProxy);
    else trustProxy = rawProxy; // comma-separated addresses/CIDRs, as Fastify accepts
  }

  let publicUrl = str('PUBLIC_URL');
  if (publicUrl) {
    try {
      const u = new URL(publicUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      publicUrl = u.href.replace(/\/$/, '');
    } catch {
      problems.push(`PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
      publicUrl = undefined;
    }
  }
  let allowedOrigins: string[] | undefined;
  const rawOrigins = str('ALLOWED_ORIGINS');
  if (rawOrigins) {
    allowedOrigins = [];
    for (const o of rawOrigins.split(',').map((x) => x.trim()).filter(Boolean)) {
      try {
        const u = new URL(o);
        if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o.replace(/\/$/, '')) throw new Error('not an origin');
        allowedOrigins.push(u.origin);
      } catch {
        problems.push(`ALLOWED_ORIGINS entries must be origins like https://faceline.example.com (scheme, host, optional port), got "${o}"`);
      }
    }
  }

  const accessTokenTtlSeconds = num('ACCESS_TOKEN_TTL_SECONDS', 300, 30, 86_400);
  const backoffAfter = num('BACKOFF_AFTER_FAILURES', 10, 1, 1000);
  const lockAfter = num('LOCK_AFTER_FAILURES', 50, 2, 100_000);
  if (lockAfter <= backoffAfter) problems.push('LOCK_AFTER_FAILURES must be larger than BACKOFF_AFTER_FAILURES');
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
  if (livenessRules.holdMaxMs < livenessRules.holdMinMs) problems.push('LIVENESS_HOLD_MAX_MS must be at least LIVENESS_HOLD_MIN_MS');
  if (livenessRules.stepTimeMs < livenessRules.reactionMs) problems.push('LIVENESS_STEP_MS must be at least LIVENESS_REACTION_MS');

  const config: AuthConfig = {
    host: str('HOST') ?? '0.0.0.0',
    port: num('PORT', DEFAULT_PORTS.auth, 0, 65535),
    logLevel,
    version: str('FACELINE_VERSION') ?? str('npm_package_version') ?? '0.1.0',
    databaseUrl,
    databasePassword: env.PGPASSWORD_FILE?.trim() ? secret('PGPASSWORD') : undefined,
    databasePoolSize: num('DATABASE_POOL_SIZE', 10, 1, 200),
    dataDir: path.resolve(str('FACELINE_DATA_DIR') ?? DEFAULT_DATA_DIR),
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
    trustProxy,
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
    loginStartsPerWindow: num('LOGIN_STARTS_PER_WINDOW', 30, 1, 1_000_000),
    adminStepUp: bool('ADMIN_STEP_UP', true),
    reauthMaxAgeSeconds: num('REAUTH_MAX_AGE_SECONDS', 300, 30, 86_400),
    firstUserIsAdmin: bool('FIRST_USER_IS_ADMIN', true),
    adminUsernames: (str('ADMIN_USERNAMES') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    indexResyncSeconds: num('INDEX_RESYNC_SECONDS', 300, 0, 86_400),
    shutdownGraceSeconds: num('SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
  };
  config.livenessRules.maxFrontalAngle = config.maxFrontalAngle;
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** A config for tests and tools: defaults plus overrides, without reading the real environment. */
export function testConfig(overrides: Partial<AuthConfig> = {}, env: NodeJS.ProcessEnv = {}): AuthConfig {
  return { ...loadConfig({ LOG_LEVEL: 'silent', ...env }), ...overrides };
}
