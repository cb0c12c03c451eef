/**
 * Brute-force limits with their state in the database (shared by replicas):
 * - per account: after `backoffAfter` consecutive failed face attempts an exponential back-off
 *   (base, 2x base, 4x base... capped), after `lockAfter` a lock only an admin lifts;
 * - per client address: at most `ipMaxFailures` failures in a sliding-start window.
 */
import { ErrorCode } from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { AttemptRepository } from '../repositories/attempt.repository.js';

export interface FailureOutcome {
  consecutive: number;
  backoffSeconds: number | null;
  locked: boolean;
}

export function backoffSecondsFor(consecutive: number, cfg: Pick<AuthConfig, 'backoffAfter' | 'backoffBaseSeconds' | 'backoffMaxSeconds'>): number | null {
  if (consecutive < cfg.backoffAfter) return null;
  const exponent = Math.min(consecutive - cfg.backoffAfter, 30);
  return Math.min(cfg.backoffBaseSeconds * 2 ** exponent, cfg.backoffMaxSeconds);
}

export class BruteForceService {
  constructor(
    private readonly db: Database,
    private readonly repo: AttemptRepository,
    private readonly cfg: AuthConfig,
  ) {}

  /** Throws ACCOUNT_LOCKED / BACKOFF when this account may not try now. */
  async assertUserMayTry(userId: string): Promise<void> {
    const s = await this.repo.get(this.db, 'user', userId);
    if (s.locked) throw new AuthError(ErrorCode.ACCOUNT_LOCKED, 'this account is locked after too many failed attempts; ask an administrator to unlock it');
    if (s.backoffUntil && s.backoffUntil.getTime() > Date.now()) {
      const retryAfterMs = s.backoffUntil.getTime() - Date.now();
      throw new AuthError(ErrorCode.BACKOFF, `too many failed attempts; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
  }

  /** Throws RATE_LIMITED when this address failed too often recently. */
  async assertIpMayTry(ip: string): Promise<void> {
    const s = await this.repo.get(this.db, 'ip', ip);
    if (s.windowFailures >= this.cfg.ipMaxFailures) {
      throw new AuthError(ErrorCode.RATE_LIMITED, 'too many failed attempts from this address; try again later', {
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

  async recordFailure(userId: string | null, ip: string): Promise<FailureOutcome | null> {
    await this.repo.recordFailure(this.db, 'ip', ip, this.cfg.ipWindowSeconds);
    if (!userId) return null;
    const s = await this.repo.recordFailure(this.db, 'user', userId, this.cfg.ipWindowSeconds);
    const locked = s.consecutive >= this.cfg.lockAfter;
    const backoffSeconds = locked ? null : backoffSecondsFor(s.consecutive, this.cfg);
    if (locked || backoffSeconds !== null) await this.repo.setPenalty(this.db, 'user', userId, { backoffSeconds, lock: locked });
    return { consecutive: s.consecutive, backoffSeconds, locked };
  }

  async recordSuccess(userId: string): Promise<void> {
    await this.repo.recordSuccess(this.db, 'user', userId);
  }

  async unlock(userId: string): Promise<void> {
    await this.repo.unlock(this.db, 'user', userId);
  }
}
