/** Sessions, their rotating refresh-token hashes and the one-time login grants. */
import type { LoginMode, Role } from '@faceline/contracts';
import type { Queryable } from '../db/database.js';
import { toIso, toIsoOrNull, toDate } from '../lib/sql.js';
import { mapUser, type UserRecord } from './user.repository.js';

/** How a person proved who they are: RFC 8176 methods, a Faceline assurance level, when, where. */
export interface AuthContext {
  amr: string[];
  acr: string;
  /** when the face login happened (ISO) */
  authTime: string;
  /** the trusted device it happened at */
  deviceId: string | null;
}

export interface SessionRecord extends AuthContext {
  id: string;
  userId: string;
  mode: LoginMode;
  liveness: boolean;
  createdAt: string;
  expiresAt: Date;
  revokedAt: string | null;
}

export interface GrantRecord extends AuthContext {
  userId: string;
  mode: LoginMode;
  liveness: boolean;
}

type Row = Record<string, unknown>;
const mapContext = (r: Row): AuthContext => ({
  amr: Array.isArray(r.amr) ? r.amr.map(String) : ['face'],
  acr: String(r.acr ?? ''),
  authTime: toIso(r.auth_time),
  deviceId: r.device_id ? String(r.device_id) : null,
});

const mapSession = (r: Row): SessionRecord => ({
  ...mapContext(r),
  id: String(r.id),
  userId: String(r.user_id),
  mode: r.mode === 'identify' ? 'identify' : 'verify',
  liveness: Boolean(r.liveness),
  createdAt: toIso(r.created_at),
  expiresAt: toDate(r.expires_at),
  revokedAt: toIsoOrNull(r.revoked_at),
});

export class SessionRepository {
  async createGrant(
    q: Queryable,
    g: {
      hash: string;
      userId: string;
      mode: LoginMode;
      liveness: boolean;
      ip: string | null;
      userAgent: string | null;
      ttlSeconds: number;
      amr: string[];
      acr: string;
      deviceId: string | null;
    },
  ): Promise<Date> {
    const { rows } = await q.query<{ expires_at: unknown }>(
      `INSERT INTO login_grants (grant_hash, user_id, mode, liveness, ip, user_agent, expires_at, amr, acr, device_id)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7), $8, $9, $10) RETURNING expires_at`,
      [g.hash, g.userId, g.mode, g.liveness, g.ip, g.userAgent, g.ttlSeconds, g.amr, g.acr, g.deviceId],
    );
    return toDate(rows[0]?.expires_at);
  }

  /** Atomic: of two concurrent exchanges of one grant, exactly one wins. */
  async consumeGrant(q: Queryable, hash: string): Promise<GrantRecord | undefined> {
    const { rows } = await q.query<Row>(
      `UPDATE login_grants SET used_at = now()
       WHERE grant_hash = $1 AND used_at IS NULL AND expires_at > now()
       RETURNING user_id, mode, liveness, amr, acr, auth_time, device_id`,
      [hash],
    );
    const r = rows[0];
    return r
      ? { ...mapContext(r), userId: String(r.user_id), mode: r.mode === 'identify' ? 'identify' : 'verify', liveness: Boolean(r.liveness) }
      : undefined;
  }

  /** Reads a grant without using it (step-up needs to know who it is for first). */
  /** A usable grant without using it, with its owner's role (null: the account is gone). */
  async peekGrant(q: Queryable, hash: string): Promise<(GrantRecord & { role: Role | null }) | undefined> {
    const { rows } = await q.query<Row>(
      `SELECT g.user_id, g.mode, g.liveness, g.amr, g.acr, g.auth_time, g.device_id, u.role
       FROM login_grants g LEFT JOIN users u ON u.id = g.user_id
       WHERE g.grant_hash = $1 AND g.used_at IS NULL AND g.expires_at > now()`,
      [hash],
    );
    const r = rows[0];
    if (!r) return undefined;
    const role = r.role === 'admin' || r.role === 'user' ? r.role : null;
    return {
      ...mapContext(r),
      userId: String(r.user_id),
      mode: r.mode === 'identify' ? 'identify' : 'verify',
      liveness: Boolean(r.liveness),
      role,
    };
  }

  /**
   * A login grant becomes a session in one statement (one round trip instead of a transaction of
   * six): the grant is consumed only if its user still exists, the session and its first refresh
   * token are inserted, and the user comes back with them. Atomic like the transaction it
   * replaces: of two concurrent exchanges of one grant exactly one wins, and nothing is consumed
   * for a user who no longer exists (nor, with `holdAdmin`, for an administrator).
   */
  async exchangeGrant(
    q: Queryable,
    e: {
      grantHash: string;
      sessionId: string;
      ip: string | null;
      userAgent: string | null;
      ttlSeconds: number;
      refreshHash: string;
      /** a stronger proof added while exchanging (a passkey step-up); default: the grant's own */
      amr?: string[];
      acr?: string;
      /** leave an administrator's grant unused ('admin'): the caller decides on a step-up first */
      holdAdmin?: boolean;
    },
  ): Promise<{ outcome: 'ok'; session: SessionRecord; user: UserRecord } | { outcome: 'invalid' | 'no-user' | 'admin' }> {
    const { rows } = await q.query<Row>(
      `WITH g AS (
         UPDATE login_grants lg SET used_at = now()
         WHERE lg.grant_hash = $1 AND lg.used_at IS NULL AND lg.expires_at > now()
           AND EXISTS (SELECT 1 FROM users WHERE id = lg.user_id AND NOT ($9::boolean AND role = 'admin'))
         RETURNING lg.user_id, lg.mode, lg.liveness, lg.amr, lg.acr, lg.auth_time, lg.device_id
       ), s AS (
         INSERT INTO sessions (id, user_id, mode, liveness, ip, user_agent, expires_at, amr, acr, auth_time, device_id)
         SELECT $2, g.user_id, g.mode, g.liveness, $3, $4, now() + make_interval(secs => $5),
                COALESCE($7::text[], g.amr), COALESCE($8::text, g.acr), g.auth_time, g.device_id FROM g
         RETURNING id, user_id, mode, liveness, created_at, expires_at, revoked_at, amr, acr, auth_time, device_id
       ), r AS (
         INSERT INTO refresh_tokens (token_hash, session_id) SELECT $6, s.id FROM s
       )
       SELECT s.id AS s_id, s.user_id AS s_user_id, s.mode AS s_mode, s.liveness AS s_liveness,
              s.created_at AS s_created_at, s.expires_at AS s_expires_at, s.revoked_at AS s_revoked_at,
              s.amr AS s_amr, s.acr AS s_acr, s.auth_time AS s_auth_time, s.device_id AS s_device_id,
              u.id, u.username, u.display_name, u.role, u.profile, u.created_at, u.last_login_at,
              (SELECT count(*)::int FROM face_templates t WHERE t.user_id = u.id) AS template_count,
              EXISTS (SELECT 1 FROM login_grants lg
                      WHERE lg.grant_hash = $1 AND lg.used_at IS NULL AND lg.expires_at > now()
                        AND NOT EXISTS (SELECT 1 FROM users WHERE id = lg.user_id)) AS orphan,
              $9::boolean AND EXISTS (SELECT 1 FROM login_grants lg JOIN users a ON a.id = lg.user_id
                      WHERE lg.grant_hash = $1 AND lg.used_at IS NULL AND lg.expires_at > now() AND a.role = 'admin') AS held
       FROM (SELECT 1) AS one LEFT JOIN s ON true LEFT JOIN users u ON u.id = s.user_id`,
      [e.grantHash, e.sessionId, e.ip, e.userAgent, e.ttlSeconds, e.refreshHash, e.amr ?? null, e.acr ?? null, e.holdAdmin ?? false],
    );
    const r = rows[0] as Row;
    if (r.s_id === null || r.s_id === undefined) return { outcome: r.orphan ? 'no-user' : r.held ? 'admin' : 'invalid' };
    const session = mapSession({
      id: r.s_id,
      user_id: r.s_user_id,
      mode: r.s_mode,
      liveness: r.s_liveness,
      created_at: r.s_created_at,
      expires_at: r.s_expires_at,
      revoked_at: r.s_revoked_at,
      amr: r.s_amr,
      acr: r.s_acr,
      auth_time: r.s_auth_time,
      device_id: r.s_device_id,
    });
    return { outcome: 'ok', session, user: mapUser(r) };
  }

  async create(
    q: Queryable,
    s: {
      id: string;
      userId: string;
      mode: LoginMode;
      liveness: boolean;
      ip: string | null;
      userAgent: string | null;
      ttlSeconds: number;
      refreshHash: string;
    } & AuthContext,
  ): Promise<SessionRecord> {
    const { rows } = await q.query<Row>(
      `INSERT INTO sessions (id, user_id, mode, liveness, ip, user_agent, expires_at, amr, acr, auth_time, device_id)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7), $8, $9, $10, $11) RETURNING *`,
      [s.id, s.userId, s.mode, s.liveness, s.ip, s.userAgent, s.ttlSeconds, s.amr, s.acr, s.authTime, s.deviceId],
    );
    await q.query('INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)', [s.refreshHash, s.id]);
    return mapSession(rows[0] as Row);
  }

  async findById(q: Queryable, id: string): Promise<SessionRecord | undefined> {
    const { rows } = await q.query<Row>('SELECT * FROM sessions WHERE id = $1', [id]);
    return rows[0] ? mapSession(rows[0]) : undefined;
  }

  /** Locks the token row so that two concurrent refreshes with one token cannot both rotate it. */
  async findRefreshForUpdate(q: Queryable, hash: string): Promise<{ session: SessionRecord; usedAt: string | null } | undefined> {
    const { rows } = await q.query<Row>(
      `SELECT s.*, r.used_at AS token_used_at FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
       WHERE r.token_hash = $1 FOR UPDATE OF r`,
      [hash],
    );
    const r = rows[0];
    return r ? { session: mapSession(r), usedAt: toIsoOrNull(r.token_used_at) } : undefined;
  }

  async rotateRefresh(q: Queryable, sessionId: string, oldHash: string, newHash: string): Promise<void> {
    await q.query('UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1', [oldHash]);
    await q.query('INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)', [newHash, sessionId]);
    await q.query('UPDATE sessions SET last_used_at = now() WHERE id = $1', [sessionId]);
  }

  async revoke(q: Queryable, sessionId: string, reason: string): Promise<boolean> {
    const res = await q.query('UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [
      sessionId,
      reason,
    ]);
    return res.rowCount > 0;
  }

  async revokeAllForUser(q: Queryable, userId: string, reason: string): Promise<number> {
    const res = await q.query('UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
      reason,
    ]);
    return res.rowCount;
  }

  /** Housekeeping: expired grants and sessions long past their end. */
  async purgeExpired(q: Queryable): Promise<void> {
    await q.query(`DELETE FROM login_grants WHERE expires_at < now() - interval '1 hour'`);
    await q.query(`DELETE FROM sessions WHERE expires_at < now() - interval '7 days'`);
  }
}
