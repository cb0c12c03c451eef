/**
 * Brute-force limits with their state in the database (shared by replicas). Designed so that
 * guessing is slow and locking someone out is hard:
 *
 * - the "origin" of an attempt is the trusted device it came from, else the client address;
 * - per (account, origin) pair: after `pairBackoffAfter` consecutive failures an exponential
 *   back-off — one attacker slows down only their own attempts on that account;
 * - per account, from any origin: after `backoffAfter` consecutive failures a back-off, after
 *   `lockAfter` a lock. Both apply to untrusted origins only: at a kiosk an administrator
 *   trusts, the real person can still log in (with liveness), and that success lifts them;
 * - per origin: at most `ipMaxFailures` failed attempts in a window (kiosk guesses and
 *   user-name probes included).
 *
 * An attempt is counted when it begins (the first face of a flow), not when it ends, so that
 * cancelling, disconnecting or a dying replica cannot dodge it; a success gives it back.
 */
import { ErrorCode } from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { AttemptRepository, AttemptState } from '../repositories/attempt.repository.js';

export interface FailureOutcome {
  consecutive: number;
  backoffSeconds: number | null;
  locked: boolean;
}

/** Where an attempt comes from: a trusted device, else an address. */
export interface Origin {
  ip: string;
  deviceId: string | null;
}

export type LimitsConfig = Pick<
  AuthConfig,
  | 'backoffAfter'
  | 'lockAfter'
  | 'backoffBaseSeconds'
  | 'backoffMaxSeconds'
  | 'pairBackoffAfter'
  | 'ipMaxFailures'
  | 'ipWindowSeconds'
  | 'registrationsPerIp'
  | 'loginStartsPerWindow'
>;

export function backoffSecondsFor(
  consecutive: number,
  cfg: Pick<AuthConfig, 'backoffAfter' | 'backoffBaseSeconds' | 'backoffMaxSeconds'>,
): number | null {
  if (consecutive < cfg.backoffAfter) return null;
  const exponent = Math.min(consecutive - cfg.backoffAfter, 30);
  return Math.min(cfg.backoffBaseSeconds * 2 ** exponent, cfg.backoffMaxSeconds);
}

export function originKey(o: Origin): string {
  return o.deviceId ? `device:${o.deviceId}` : o.ip;
}

function pairKey(userId: string, o: Origin): string {
  return `${userId} ${originKey(o)}`;
}

export class BruteForceService {
  constructor(
    private readonly db: Database,
    private readonly repo: AttemptRepository,
    private readonly cfg: LimitsConfig,
    /** the clock back-off ends are compared with (tests); the database stamps them */
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws RATE_LIMITED when this origin failed too often recently. */
  async assertOriginMayTry(o: Origin): Promise<void> {
    const s = await this.repo.get(this.db, 'ip', originKey(o));
    this.checkOrigin(s);
  }

  /**
   * Throws BACKOFF / ACCOUNT_LOCKED / RATE_LIMITED when this account may not be tried from this
   * origin now. One round trip: the caller may do this on every frame.
   */
  async assertMayTry(userId: string, o: Origin): Promise<void> {
    const states = await this.repo.getMany(this.db, [
      ['user', userId],
      ['pair', pairKey(userId, o)],
      ['ip', originKey(o)],
    ]);
    const [user, pair, origin] = states as [AttemptState, AttemptState, AttemptState];
    this.checkOrigin(origin);
    if (!o.deviceId) {
      if (user.locked)
        throw new AuthError(
          ErrorCode.ACCOUNT_LOCKED,
          'this account is locked after too many failed attempts; log in at a trusted kiosk or ask an administrator',
        );
      throwIfBackoff(user, 'too many failed attempts on this account', this.now());
    }
    throwIfBackoff(pair, 'too many failed attempts from here', this.now());
  }

  private checkOrigin(s: AttemptState): void {
    if (s.windowFailures >= this.cfg.ipMaxFailures) {
      throw new AuthError(ErrorCode.RATE_LIMITED, 'too many failed attempts from this address; try again later', {
        retryAfterMs: this.cfg.ipWindowSeconds * 1000,
      });
    }
  }

  /** A user-name probe (no such account, or no face) counts against the origin like a failure. */
  async recordProbe(o: Origin): Promise<void> {
    await this.repo.recordFailure(this.db, 'ip', originKey(o), this.cfg.ipWindowSeconds);
  }

  /**
   * Each login start draws a new challenge; one origin gets only so many per account and
   * window. Per origin, not per account: otherwise anyone could use up an account's draws and
   * lock its owner out without ever showing a face.
   */
  async recordStart(userId: string, o: Origin): Promise<void> {
    const s = await this.repo.recordFailure(this.db, 'start', pairKey(userId, o), this.cfg.ipWindowSeconds);
    if (s.windowFailures > this.cfg.loginStartsPerWindow) {
      throw new AuthError(ErrorCode.RATE_LIMITED, 'too many logins started for this account from here; try again later', {
        retryAfterMs: this.cfg.ipWindowSeconds * 1000,
      });
    }
  }

  /** Registrations per address per window, so that nobody reserves usernames by the thousand. */
  async assertMayRegister(ip: string): Promise<void> {
    const s = await this.repo.get(this.db, 'register', ip);
    if (s.windowFailures >= this.cfg.registrationsPerIp) {
      throw new AuthError(ErrorCode.RATE_LIMITED, 'too many accounts created from this address; try again later', {
        retryAfterMs: this.cfg.ipWindowSeconds * 1000,
      });
    }
  }

  async recordRegistration(ip: string): Promise<void> {
    await this.repo.recordFailure(this.db, 'register', ip, this.cfg.ipWindowSeconds);
  }

  /**
   * An attempt begins: counted as a failure now against the origin and, when the account is
   * known, against the account and the (account, origin) pair. recordSuccess() gives it back.
   * Returns the account's outcome so that the caller can audit back-off and lock.
   */
  async recordAttempt(userId: string | null, o: Origin): Promise<FailureOutcome | null> {
    if (!userId) {
      await this.repo.recordFailure(this.db, 'ip', originKey(o), this.cfg.ipWindowSeconds);
      return null;
    }
    const [, pair, s] = (await this.repo.recordFailures(
      this.db,
      [
        ['ip', originKey(o)],
        ['pair', pairKey(userId, o)],
        ['user', userId],
      ],
      this.cfg.ipWindowSeconds,
    )) as [AttemptState, AttemptState, AttemptState];
    return this.penalise(userId, o, pair, s);
  }

  /** Kiosk: the account became known after the origin was already counted. */
  async recordAccountAttempt(userId: string, o: Origin): Promise<FailureOutcome> {
    const [pair, s] = (await this.repo.recordFailures(
      this.db,
      [
        ['pair', pairKey(userId, o)],
        ['user', userId],
      ],
      this.cfg.ipWindowSeconds,
    )) as [AttemptState, AttemptState];
    return this.penalise(userId, o, pair, s);
  }

  /** Back-off and lock from the counts just recorded for the pair and the account. */
  private async penalise(userId: string, o: Origin, pair: AttemptState, s: AttemptState): Promise<FailureOutcome> {
    const pairBackoff = backoffSecondsFor(pair.consecutive, { ...this.cfg, backoffAfter: this.cfg.pairBackoffAfter });
    if (pairBackoff !== null) await this.repo.setPenalty(this.db, 'pair', pairKey(userId, o), { backoffSeconds: pairBackoff, lock: false });
    const locked = s.consecutive >= this.cfg.lockAfter;
    const backoffSeconds = locked ? null : backoffSecondsFor(s.consecutive, this.cfg);
    if (locked || backoffSeconds !== null) await this.repo.setPenalty(this.db, 'user', userId, { backoffSeconds, lock: locked });
    return { consecutive: s.consecutive, backoffSeconds, locked };
  }

  /**
   * The attempt succeeded: the account and pair start over, the origin gets its count back. A
   * success at a trusted device also lifts an account lock (the real person was there).
   */
  async recordSuccess(userId: string, o: Origin): Promise<void> {
    await this.repo.settleSuccess(this.db, {
      refund: ['ip', originKey(o)],
      clear: o.deviceId
        ? [['pair', pairKey(userId, o)]]
        : [
            ['pair', pairKey(userId, o)],
            ['user', userId],
          ],
      remove: o.deviceId ? [['user', userId]] : [],
    });
  }

  async unlock(userId: string): Promise<void> {
    await this.repo.unlock(this.db, 'user', userId);
    await this.repo.unlockPrefix(this.db, 'pair', `${userId} `);
    await this.repo.unlockPrefix(this.db, 'start', `${userId} `);
  }
}

function throwIfBackoff(s: AttemptState, what: string, now: number): void {
  if (s.backoffUntil && s.backoffUntil.getTime() > now) {
    const retryAfterMs = s.backoffUntil.getTime() - now;
    throw new AuthError(ErrorCode.BACKOFF, `${what}; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
}
