/**
 * Sessions: one-time grants from the face login, access tokens, rotating refresh tokens,
 * revocation. Opaque tokens are stored only as hashes.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, type AccessTokenClaims, type LoginMode } from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import { hashToken, randomToken } from '../lib/crypto.js';
import type { SessionRecord, SessionRepository } from '../repositories/session.repository.js';
import type { UserRecord, UserRepository } from '../repositories/user.repository.js';
import type { AuditService } from './audit.service.js';
import type { TokenService } from './token.service.js';

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

export interface IssuedSession {
  user: UserRecord;
  session: SessionRecord;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

export interface Authenticated {
  claims: AccessTokenClaims;
  session: SessionRecord;
  user: UserRecord;
}

export class SessionService {
  constructor(
    private readonly db: Database,
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly cfg: AuthConfig,
  ) {}

  async issueGrant(userId: string, mode: LoginMode, liveness: boolean, client: ClientInfo): Promise<{ grant: string; expiresAt: Date }> {
    const grant = randomToken();
    const expiresAt = await this.sessions.createGrant(this.db, {
      hash: hashToken(grant),
      userId,
      mode,
      liveness,
      ip: client.ip,
      userAgent: client.userAgent,
      ttlSeconds: this.cfg.grantTtlSeconds,
    });
    return { grant, expiresAt };
  }

  async exchangeGrant(grant: string, client: ClientInfo): Promise<IssuedSession> {
    const refreshToken = randomToken();
    const done = await this.sessions.exchangeGrant(this.db, {
      grantHash: hashToken(grant),
      sessionId: randomUUID(),
      ip: client.ip,
      userAgent: client.userAgent,
      ttlSeconds: this.cfg.refreshTokenTtlSeconds,
      refreshHash: hashToken(refreshToken),
    });
    if (done.outcome === 'no-user') throw new AuthError(ErrorCode.USER_NOT_FOUND, 'account no longer exists');
    if (done.outcome !== 'ok') throw new AuthError(ErrorCode.TOKEN_INVALID, 'login grant unknown, used or expired; log in again');
    const { session, user } = done;
    const access = await this.tokens.signAccessToken({
      userId: user.id,
      sessionId: session.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      liveness: session.liveness,
    });
    return { user, session, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt: session.expiresAt };
  }

  /**
   * Rotation: each refresh token works once. Presenting a used one means two parties hold it,
   * so the whole session is revoked and both must log in again.
   */
  async refresh(refreshToken: string, client: ClientInfo): Promise<IssuedSession> {
    const next = randomToken();
    const oldHash = hashToken(refreshToken);
    const outcome = await this.db.tx(async (q) => {
      const found = await this.sessions.findRefreshForUpdate(q, oldHash);
      if (!found) return { error: new AuthError(ErrorCode.TOKEN_INVALID, 'refresh token unknown') } as const;
      const { session } = found;
      if (session.revokedAt) return { error: new AuthError(ErrorCode.SESSION_REVOKED, 'session has ended; log in again') } as const;
      if (found.usedAt) {
        await this.sessions.revoke(q, session.id, 'refresh token reused');
        return { error: new AuthError(ErrorCode.SESSION_REVOKED, 'session has ended; log in again'), reuse: session } as const;
      }
      if (session.expiresAt.getTime() <= Date.now()) return { error: new AuthError(ErrorCode.TOKEN_EXPIRED, 'session expired; log in again') } as const;
      const user = await this.users.findById(q, session.userId);
      if (!user) return { error: new AuthError(ErrorCode.USER_NOT_FOUND, 'account no longer exists') } as const;
      await this.sessions.rotateRefresh(q, session.id, oldHash, hashToken(next));
      return { session, user } as const;
    });
    if ('error' in outcome) {
      if ('reuse' in outcome && outcome.reuse) {
        await this.audit.record({ type: 'session.reuse_detected', outcome: 'failure', userId: outcome.reuse.userId, ip: client.ip, userAgent: client.userAgent, code: ErrorCode.SESSION_REVOKED });
      }
      throw outcome.error;
    }
    const { session, user } = outcome;
    const access = await this.tokens.signAccessToken({
      userId: user.id,
      sessionId: session.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      liveness: session.liveness,
    });
    return { user, session, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: next, refreshTokenExpiresAt: session.expiresAt };
  }

  /** The user id an enrollment ticket was issued for. */
  verifyEnrollTicketOrThrow(ticket: string): Promise<string> {
    return this.tokens.verifyEnrollTicket(ticket);
  }

  /** Verifies an access token and that its session is still alive (logout takes effect at once here). */
  async authenticate(accessToken: string): Promise<Authenticated> {
    const claims = await this.tokens.verifyAccessToken(accessToken);
    const session = await this.sessions.findById(this.db, claims.sid);
    if (!session || session.revokedAt) throw new AuthError(ErrorCode.SESSION_REVOKED, 'session has ended; log in again');
    const user = await this.users.findById(this.db, claims.sub);
    if (!user) throw new AuthError(ErrorCode.UNAUTHENTICATED, 'account no longer exists');
    return { claims, session, user };
  }

  async logoutSession(sessionId: string, userId: string, client: ClientInfo): Promise<void> {
    if (await this.sessions.revoke(this.db, sessionId, 'logout')) {
      await this.audit.record({ type: 'session.revoked', outcome: 'success', userId, ip: client.ip, userAgent: client.userAgent });
    }
  }

  /** Logout with only the refresh token (e.g. the access token already expired). */
  async logoutByRefresh(refreshToken: string, client: ClientInfo): Promise<void> {
    const found = await this.db.tx((q) => this.sessions.findRefreshForUpdate(q, hashToken(refreshToken)));
    if (found) await this.logoutSession(found.session.id, found.session.userId, client);
  }
}
