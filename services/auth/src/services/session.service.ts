/**
 * Sessions: one-time grants from the face login, access tokens, rotating refresh tokens,
 * revocation. Opaque tokens are stored only as hashes.
 */
import { randomUUID } from 'node:crypto';
import { ACR, ErrorCode, acrSatisfies, type AccessTokenClaims, type LoginMode, type Role } from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import { hashToken, randomToken } from '../lib/crypto.js';
import type { AuthContext, SessionRecord, SessionRepository } from '../repositories/session.repository.js';
import type { UserRecord, UserRepository } from '../repositories/user.repository.js';
import type { AuditService } from './audit.service.js';
import type { TokenService } from './token.service.js';

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
  /** the trusted device the request came from (its credential cookie checked), else null */
  deviceId: string | null;
}

/** What a face login proved, carried from the grant into the session and its tokens. */
export interface GrantContext {
  liveness: boolean;
  amr: string[];
  acr: string;
  deviceId: string | null;
}

/**
 * The WebAuthn relying party a request speaks to: the RP ID (a host name) and the page origin
 * the browser must report. From PUBLIC_URL, else from the host the browser addressed.
 */
export interface WebAuthnSite {
  rpId: string;
  origin: string;
}

/**
 * A second factor for the grant exchange (passkeys): the options to send the browser, and
 * the check of its answer. Absent when passkeys are not set up.
 */
export interface StepUpVerifier {
  /** WebAuthn request options for this user, or null when they have no passkey */
  options(userId: string, site: WebAuthnSite): Promise<Record<string, unknown> | null>;
  /** true when `response` is a valid assertion by one of the user's passkeys */
  verify(userId: string, response: unknown, site: WebAuthnSite): Promise<boolean>;
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

  /** Passkeys plug in here (a second factor for administrators). */
  stepUp: StepUpVerifier | null = null;

  async issueGrant(userId: string, mode: LoginMode, ctx: GrantContext, client: ClientInfo): Promise<{ grant: string; expiresAt: Date }> {
    const grant = randomToken();
    const expiresAt = await this.sessions.createGrant(this.db, {
      hash: hashToken(grant),
      userId,
      mode,
      liveness: ctx.liveness,
      amr: ctx.amr,
      acr: ctx.acr,
      deviceId: ctx.deviceId,
      ip: client.ip,
      userAgent: client.userAgent,
      ttlSeconds: this.cfg.grantTtlSeconds,
    });
    return { grant, expiresAt };
  }

  /**
   * The role a session may act with. With ADMIN_STEP_UP (the default) an administrator acts as
   * one only after a login at a trusted device or with a passkey; otherwise as a user.
   */
  effectiveRole(role: Role, session: Pick<SessionRecord, 'acr'>): Role {
    if (role !== 'admin' || !this.cfg.adminStepUp) return role;
    return acrSatisfies(session.acr, ACR.TRUSTED_DEVICE) ? 'admin' : 'user';
  }

  /**
   * Turns a login grant into a session. An administrator who is not at a trusted device and has
   * a passkey must confirm with it first: without `webauthn` the answer is STEP_UP_REQUIRED
   * with the options (the grant stays usable); with a valid assertion the session gets the MFA
   * level. An administrator without a passkey gets a session that acts as a user until they add
   * one (which needs a fresh face login) or log in at a trusted kiosk.
   */
  async exchangeGrant(grant: string, client: ClientInfo, opts: { webauthn?: unknown; site?: WebAuthnSite } = {}): Promise<IssuedSession> {
    const hash = hashToken(grant);
    // only an administrator's grant may need a step-up: any other is exchanged at once
    const stepUpPossible = this.cfg.adminStepUp && this.stepUp !== null && opts.site !== undefined;
    const refreshToken = randomToken();
    let extra: Partial<AuthContext> = {};
    let done = await this.consume(hash, refreshToken, client, extra, stepUpPossible);
    if (done.outcome === 'admin') {
      extra = await this.stepUpFor(hash, opts);
      done = await this.consume(hash, refreshToken, client, extra, false);
    }
    if (done.outcome === 'no-user') throw new AuthError(ErrorCode.USER_NOT_FOUND, 'account no longer exists');
    if (done.outcome !== 'ok') throw new AuthError(ErrorCode.TOKEN_INVALID, 'login grant unknown, used or expired; log in again');
    const { session, user } = done;
    if (extra.acr)
      await this.audit.record({
        type: 'session.stepped_up',
        outcome: 'success',
        userId: user.id,
        username: user.username,
        ip: client.ip,
        userAgent: client.userAgent,
        details: { method: 'passkey' },
      });
    const access = await this.tokens.signAccessToken({
      userId: user.id,
      sessionId: session.id,
      username: user.username,
      displayName: user.displayName,
      role: this.effectiveRole(user.role, session),
      amr: session.amr,
      acr: session.acr,
      authTime: session.authTime,
    });
    return {
      user,
      session,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      refreshTokenExpiresAt: session.expiresAt,
    };
  }

  /** The proof an administrator's grant needs before it is exchanged (none when it needs none). */
  private async stepUpFor(hash: string, opts: { webauthn?: unknown; site?: WebAuthnSite }): Promise<Partial<AuthContext>> {
    const peek = await this.sessions.peekGrant(this.db, hash);
    if (!peek) throw new AuthError(ErrorCode.TOKEN_INVALID, 'login grant unknown, used or expired; log in again');
    const extra: Partial<AuthContext> = {};
    if (peek.role === 'admin' && this.cfg.adminStepUp && !acrSatisfies(peek.acr, ACR.TRUSTED_DEVICE) && this.stepUp && opts.site) {
      if (opts.webauthn !== undefined) {
        if (!(await this.stepUp.verify(peek.userId, opts.webauthn, opts.site)))
          throw new AuthError(ErrorCode.UNAUTHENTICATED, 'the passkey could not be verified');
        extra.amr = [...new Set([...peek.amr, 'hwk', 'mfa'])];
        extra.acr = ACR.MFA;
      } else {
        const options = await this.stepUp.options(peek.userId, opts.site);
        if (options)
          throw new AuthError(ErrorCode.STEP_UP_REQUIRED, 'confirm with your passkey to continue as an administrator', {
            webauthn: options,
          });
      }
    }
    return extra;
  }

  private consume(hash: string, refreshToken: string, client: ClientInfo, extra: Partial<AuthContext>, holdAdmin: boolean) {
    return this.sessions.exchangeGrant(this.db, {
      grantHash: hash,
      sessionId: randomUUID(),
      ip: client.ip,
      userAgent: client.userAgent,
      ttlSeconds: this.cfg.refreshTokenTtlSeconds,
      refreshHash: hashToken(refreshToken),
      amr: extra.amr,
      acr: extra.acr,
      holdAdmin,
    });
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
      if (session.expiresAt.getTime() <= Date.now())
        return { error: new AuthError(ErrorCode.TOKEN_EXPIRED, 'session expired; log in again') } as const;
      const user = await this.users.findById(q, session.userId);
      if (!user) return { error: new AuthError(ErrorCode.USER_NOT_FOUND, 'account no longer exists') } as const;
      await this.sessions.rotateRefresh(q, session.id, oldHash, hashToken(next));
      return { session, user } as const;
    });
    if ('error' in outcome) {
      if ('reuse' in outcome && outcome.reuse) {
        await this.audit.record({
          type: 'session.reuse_detected',
          outcome: 'failure',
          userId: outcome.reuse.userId,
          ip: client.ip,
          userAgent: client.userAgent,
          code: ErrorCode.SESSION_REVOKED,
        });
      }
      throw outcome.error;
    }
    const { session, user } = outcome;
    const access = await this.tokens.signAccessToken({
      userId: user.id,
      sessionId: session.id,
      username: user.username,
      displayName: user.displayName,
      role: this.effectiveRole(user.role, session),
      amr: session.amr,
      acr: session.acr,
      authTime: session.authTime,
    });
    return {
      user,
      session,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: next,
      refreshTokenExpiresAt: session.expiresAt,
    };
  }

  /**
   * Sensitive changes (a new face, a passkey) need the person themselves, just now: a face
   * login with liveness at most reauthMaxAgeSeconds old in this session.
   */
  assertFresh(session: SessionRecord): void {
    const age = (Date.now() - new Date(session.authTime).getTime()) / 1000;
    const live = acrSatisfies(session.acr, ACR.FACE_LIVENESS) || !this.cfg.liveness;
    if (!live || age > this.cfg.reauthMaxAgeSeconds) {
      throw new AuthError(ErrorCode.REAUTH_REQUIRED, 'log in with your face again to confirm this change', {
        maxAgeSeconds: this.cfg.reauthMaxAgeSeconds,
      });
    }
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
