/**
 * The first administrator, without a race. While no administrator exists, each start issues a
 * one-time setup token and logs the link `/register?setup=<token>` (or takes the operator's
 * FACELINE_SETUP_TOKEN and logs where to use it). The registration that presents a valid token
 * becomes an admin; spending it is one atomic UPDATE inside the registration's transaction,
 * under an advisory lock, and spends every other outstanding token too. Nothing else makes an
 * admin: not being first, not a user name, not an empty database after everyone was deleted.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import type { Database, Queryable } from '../db/database.js';
import { AuthError } from '../errors.js';
import { hashToken } from '../lib/crypto.js';
import { SETUP_LOCK_ID, type SetupTokenRepository } from '../repositories/setup-token.repository.js';

/** How long a generated setup link stays valid; a restart while no admin exists prints a new one. */
export const SETUP_TOKEN_TTL_SECONDS = 24 * 3600;

/** Where the web app takes a setup token: its registration page. */
export const SETUP_PATH = '/register?setup=';

export type BootstrapState =
  | { state: 'admin-exists' }
  | { state: 'link-issued'; setupPath: string; token: string }
  | { state: 'configured-token' }
  | { state: 'configured-token-spent' }
  /** a site: administrators are made at the hub, which prints its own link (docs/sites.md) */
  | { state: 'at-hub' };

export class BootstrapService {
  constructor(
    private readonly db: Database,
    private readonly repo: SetupTokenRepository,
    private readonly cfg: Pick<AuthConfig, 'setupToken' | 'publicUrl'>,
    private readonly log: Logger,
  ) {}

  /** Called once at start: issues (and logs) a setup link while no administrator exists. */
  async start(): Promise<BootstrapState> {
    const result = await this.db.withLock(SETUP_LOCK_ID, async (q): Promise<BootstrapState> => {
      if (await this.repo.adminExists(q)) {
        await this.repo.spendAll(q);
        return { state: 'admin-exists' };
      }
      if (this.cfg.setupToken) {
        const usable = await this.repo.issue(q, { hash: hashToken(this.cfg.setupToken), source: 'configured', ttlSeconds: null });
        return { state: usable ? 'configured-token' : 'configured-token-spent' };
      }
      const token = randomBytes(24).toString('base64url');
      await this.repo.issue(q, { hash: hashToken(token), source: 'generated', ttlSeconds: SETUP_TOKEN_TTL_SECONDS });
      return { state: 'link-issued', token, setupPath: `${SETUP_PATH}${token}` };
    });
    const base = this.cfg.publicUrl ?? '';
    if (result.state === 'link-issued') {
      // Printed on purpose, as Jupyter and Portainer do: whoever reads this log is the operator.
      this.log.warn(
        {
          setupPath: result.setupPath,
          ...(base ? { setupUrl: `${base}${result.setupPath}` } : {}),
          validHours: SETUP_TOKEN_TTL_SECONDS / 3600,
        },
        'no administrator yet: open the setup link in the web app to create the first administrator account (works once)',
      );
    } else if (result.state === 'configured-token') {
      this.log.warn(
        { setupPath: `${SETUP_PATH}<FACELINE_SETUP_TOKEN>`, ...(base ? { setupUrl: `${base}${SETUP_PATH}<FACELINE_SETUP_TOKEN>` } : {}) },
        'no administrator yet: register with the setup token from FACELINE_SETUP_TOKEN to create the first administrator account (works once)',
      );
    } else if (result.state === 'configured-token-spent') {
      this.log.error(
        'no administrator exists and FACELINE_SETUP_TOKEN was used already: set a new value (or unset it to get a printed setup link) and restart',
      );
    }
    return result;
  }

  /**
   * Spends `token` for the account `userId` being created in the caller's transaction, or
   * refuses the registration. Afterwards no other setup token works.
   */
  async consumeIn(q: Queryable, token: string, userId: string): Promise<void> {
    await q.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK_ID]);
    if (!(await this.repo.consume(q, hashToken(token), userId))) {
      throw new AuthError(
        ErrorCode.SETUP_TOKEN_INVALID,
        'this setup link is not valid: it was used already, it has expired, or an administrator exists. Register without it, or ask the operator for a new link',
      );
    }
    await this.repo.spendAll(q);
  }
}
