/**
 * Accounts: registration, the user's own data, and administration. Accounts, faces and roles are
 * identities: they are written at the `authority` (this database, or the hub from a site, which
 * answers HUB_UNAVAILABLE while it cannot be reached) and read from this database.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  SIGN_IN_EVENT_TYPES,
  type MyAuditEvent,
  type MyAuditResponse,
  type Profile,
  type Role,
  type UpdateMeRequest,
  type User,
} from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import { isUniqueViolation } from '../lib/sql.js';
import type { AuditRepository } from '../repositories/audit.repository.js';
import type { AdminUserRecord, UserRecord, UserRepository } from '../repositories/user.repository.js';
import type { AuditService } from './audit.service.js';
import type { BootstrapService } from './bootstrap.service.js';
import type { BruteForceService } from './brute-force.service.js';
import type { ClientInfo } from './session.service.js';
import type { EnrollTicketService } from './enroll-ticket.service.js';
import type { SessionService } from './session.service.js';
import type { TemplateService } from './template.service.js';
import type { SessionRecord } from '../repositories/session.repository.js';

export function toUser(u: UserRecord): User {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    createdAt: u.createdAt,
    enrolled: u.templateCount > 0,
    templateCount: u.templateCount,
  };
}

export function toAdminUser(u: AdminUserRecord) {
  return { ...toUser(u), lastLoginAt: u.lastLoginAt, failedAttempts: u.failedAttempts, backoffUntil: u.backoffUntil, locked: u.locked };
}

export class UserService {
  constructor(
    private readonly db: Database,
    private readonly users: UserRepository,
    private readonly auditRepo: AuditRepository,
    private readonly templates: TemplateService,
    private readonly tickets: EnrollTicketService,
    private readonly sessions: SessionService,
    private readonly bruteForce: BruteForceService,
    private readonly audit: AuditService,
    private readonly cfg: AuthConfig,
    private readonly bootstrap: BootstrapService,
    private readonly log: Logger,
    /** where accounts are written: this database, or the hub from a site */
    private readonly authority: Database = db,
  ) {}

  async register(input: { username: string; displayName: string; setupToken?: string }, client: ClientInfo) {
    const username = input.username.toLowerCase();
    await this.bruteForce.assertMayRegister(client.ip);
    const id = randomUUID();
    const role = input.setupToken ? 'admin' : 'user';
    let user: UserRecord;
    try {
      user = await this.authority.tx(async (q) => {
        if (input.setupToken) await this.bootstrap.consumeIn(q, input.setupToken, id);
        return this.users.create(q, { id, username, displayName: input.displayName.trim() || username, role });
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AuthError(ErrorCode.USERNAME_TAKEN, 'this username is taken; choose another one');
      if (err instanceof AuthError && err.code === ErrorCode.SETUP_TOKEN_INVALID) {
        await this.audit.record({
          type: 'user.registered',
          outcome: 'failure',
          username,
          code: err.code,
          ip: client.ip,
          userAgent: client.userAgent,
          details: { setupToken: 'refused' },
        });
      }
      throw err;
    }
    await this.bruteForce.recordRegistration(client.ip);
    await this.audit.record({
      type: 'user.registered',
      outcome: 'success',
      userId: user.id,
      username,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { role: user.role, ...(input.setupToken ? { setupToken: 'used' } : {}) },
    });
    if (role === 'admin') this.log.warn({ userId: user.id, username }, 'the setup token was used: this account is the first administrator');
    const t = await this.tickets.issue(user.id, 'register');
    return { user: toUser(user), enrollmentTicket: t.ticket, enrollmentTicketExpiresAt: t.expiresAt.toISOString() };
  }

  async get(userId: string): Promise<UserRecord> {
    const u = await this.users.findById(this.db, userId);
    if (!u) throw new AuthError(ErrorCode.USER_NOT_FOUND, 'no such user');
    return u;
  }

  /** A ticket for a new face: only right after a face login with liveness in this session. */
  async enrollmentTicket(userId: string, session: SessionRecord) {
    this.sessions.assertFresh(session);
    const t = await this.tickets.issue(userId, 'reenroll');
    return { enrollmentTicket: t.ticket, enrollmentTicketExpiresAt: t.expiresAt.toISOString() };
  }

  /** Profile fields are merged; null removes one. */
  async update(user: UserRecord, patch: UpdateMeRequest, client: ClientInfo): Promise<UserRecord> {
    let profile: Profile | undefined;
    if (patch.profile) {
      const merged: Record<string, unknown> = { ...user.profile };
      for (const [k, v] of Object.entries(patch.profile)) {
        if (v === null) delete merged[k];
        else if (v !== undefined) merged[k] = v;
      }
      profile = merged as Profile;
    }
    await this.users.update(this.authority, user.id, { displayName: patch.displayName?.trim() || undefined, profile });
    await this.audit.record({
      type: 'profile.updated',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { fields: Object.keys(patch) },
    });
    return this.get(user.id);
  }

  async deleteFace(user: UserRecord, client: ClientInfo, actorId?: string): Promise<number> {
    const n = await this.authority.tx((q) => this.templates.deleteForUserIn(q, user.id));
    this.templates.forgetLocally(user.id);
    await this.audit.record({
      type: 'face.deleted',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      actorId: actorId ?? null,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { templates: n },
    });
    return n;
  }

  /** Templates, sessions, grants and profile go with the account (cascades); the audit trail stays. */
  async deleteAccount(user: UserRecord, client: ClientInfo, actorId?: string): Promise<void> {
    await this.authority.tx(async (q) => {
      await this.templates.deleteForUserIn(q, user.id);
      await this.users.delete(q, user.id);
    });
    this.templates.forgetLocally(user.id);
    await this.bruteForce.unlock(user.id);
    await this.audit.record({
      type: 'user.deleted',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      actorId: actorId ?? null,
      ip: client.ip,
      userAgent: client.userAgent,
    });
  }

  async list(opts: { q?: string; limit: number; cursor?: string }) {
    const users = await this.users.list(this.db, { search: opts.q, limit: opts.limit + 1, after: opts.cursor });
    const page = users.slice(0, opts.limit);
    return { users: page.map(toAdminUser), nextCursor: users.length > opts.limit ? (page[page.length - 1]?.username ?? null) : null };
  }

  async adminView(userId: string) {
    const u = await this.users.findAdminView(this.db, userId);
    if (!u) throw new AuthError(ErrorCode.USER_NOT_FOUND, 'no such user');
    return toAdminUser(u);
  }

  /**
   * Clears the lock this database counted. At the hub the unlock is also published, and every
   * site clears its own lock when it arrives (trigger in migration 0005); a site's unlock stays at
   * that site.
   */
  async unlock(userId: string, actorId: string, client: ClientInfo) {
    const u = await this.get(userId);
    await this.bruteForce.unlock(userId);
    if (this.cfg.mode === 'hub') {
      await this.db.query(
        'INSERT INTO account_unlocks (user_id, unlocked_at) VALUES ($1, now()) ON CONFLICT (user_id) DO UPDATE SET unlocked_at = excluded.unlocked_at',
        [userId],
      );
    }
    await this.audit.record({
      type: 'account.unlocked',
      outcome: 'success',
      userId,
      username: u.username,
      actorId,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    return this.adminView(userId);
  }

  /** An authority operation: at a site it is done at the hub, or refused with HUB_UNAVAILABLE. */
  async setRole(userId: string, role: Role, actorId: string, client: ClientInfo) {
    const u = await this.get(userId);
    if (userId === actorId && role !== 'admin')
      throw new AuthError(ErrorCode.FORBIDDEN, 'administrators cannot take their own admin role; ask another administrator');
    if (u.role !== role) {
      if (!(await this.users.setRole(this.authority, userId, role))) throw new AuthError(ErrorCode.USER_NOT_FOUND, 'no such user');
      await this.audit.record({
        type: 'role.changed',
        outcome: 'success',
        userId,
        username: u.username,
        actorId,
        ip: client.ip,
        userAgent: client.userAgent,
        details: { from: u.role, to: role },
      });
    }
    return this.adminView(userId);
  }

  /** The person's own sign-ins, newest first: no match distances, nothing about anyone else. */
  async ownSignIns(userId: string, opts: { limit: number; cursor?: string }): Promise<MyAuditResponse> {
    const before = opts.cursor !== undefined && /^\d+$/.test(opts.cursor) ? Number(opts.cursor) : undefined;
    if (opts.cursor !== undefined && before === undefined) throw new AuthError(ErrorCode.VALIDATION_FAILED, 'cursor is not valid');
    const events = await this.auditRepo.list(this.db, { limit: opts.limit + 1, before, userId, types: SIGN_IN_EVENT_TYPES });
    const page = events.slice(0, opts.limit).map(
      (e): MyAuditEvent => ({
        id: e.id,
        at: e.at,
        type: e.type as MyAuditEvent['type'],
        outcome: e.outcome,
        mode: e.mode === 'verify' || e.mode === 'identify' ? e.mode : null,
        code: e.code,
        liveness: e.liveness,
        ip: e.ip,
        userAgent: e.userAgent,
      }),
    );
    return { events: page, nextCursor: events.length > opts.limit ? (page[page.length - 1]?.id ?? null) : null };
  }

  async auditLog(opts: { limit: number; cursor?: string; userId?: string; type?: string }) {
    const before = opts.cursor !== undefined && /^\d+$/.test(opts.cursor) ? Number(opts.cursor) : undefined;
    if (opts.cursor !== undefined && before === undefined) throw new AuthError(ErrorCode.VALIDATION_FAILED, 'cursor is not valid');
    const events = await this.auditRepo.list(this.db, { limit: opts.limit + 1, before, userId: opts.userId, type: opts.type });
    const page = events.slice(0, opts.limit);
    return { events: page, nextCursor: events.length > opts.limit ? (page[page.length - 1]?.id ?? null) : null };
  }
}
