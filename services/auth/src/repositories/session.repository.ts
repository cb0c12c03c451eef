/** Sessions, their rotating refresh-token hashes and the one-time login grants. */
import type { LoginMode } from '@faceline/contracts';
import type { Queryable } from '../db/database.js';
import { toIso, toIsoOrNull, toDate } from '../lib/sql.js';

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
    g: { hash: string; userId: string; mode: LoginMode; liveness: boolean; ip: string | null; userAgent: string | null; ttlSeconds: number; amr: string[]; acr: string; deviceId: string | null },
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
    return r ? { ...mapContext(r), userId: String(r.user_id), mode: r.mode === 'identify' ? 'identify' : 'verify', liveness: Boolean(r.liveness) } : undefined;
  }

  /** Reads a grant without using it (step-up needs to know who it is for first). */
  async peekGrant(q: Queryable, hash: string): Promise<GrantRecord | undefined> {
    const { rows } = await q.query<Row>(
      'SELECT user_id, mode, liveness, amr, acr, auth_time, device_id FROM login_grants WHERE grant_hash = $1 AND used_at IS NULL AND expires_at > now()',
      [hash],
    );
    const r = rows[0];
    return r ? { ...mapContext(r), userId: String(r.user_id), mode: r.mode === 'identify' ? 'identify' : 'verify', liveness: Boolean(r.liveness) } : undefined;
  }

  async create(
    q: Queryable,
    s: {
      id: string; userId: string; mode: LoginMode; liveness: boolean; ip: string | null; userAgent: string | null; ttlSeconds: number; refreshHash: string;
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
    const res = await q.query(
      'UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL',
      [sessionId, reason],
    );
    return res.rowCount > 0;
  }

  async revokeAllForUser(q: Queryable, userId: string, reason: string): Promise<number> {
    const res = await q.query(
      'UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL',
      [userId, reason],
    );
    return res.rowCount;
  }

  /** Housekeeping: expired grants and sessions long past their end. */
  async purgeExpired(q: Queryable): Promise<void> {
    await q.query(`DELETE FROM login_grants WHERE expires_at < now() - interval '1 hour'`);
    await q.query(`DELETE FROM sessions WHERE expires_at < now() - interval '7 days'`);
  }
}
