/** Users and their profile. */
import type { Profile, Role } from '@faceline/contracts';
import type { Queryable } from '../db/database.js';
import { toIso, toIsoOrNull, toDate } from '../lib/sql.js';

export interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  profile: Profile;
  createdAt: string;
  lastLoginAt: string | null;
  templateCount: number;
}

export interface AdminUserRecord extends UserRecord {
  failedAttempts: number;
  backoffUntil: string | null;
  locked: boolean;
}

// The last sign-in anywhere: the hub's own (users.last_login_at) or any site's (last_logins).
const LAST_LOGIN = `GREATEST(u.last_login_at, (SELECT max(l.at) FROM last_logins l WHERE l.user_id = u.id)) AS last_login_at`;

const SELECT_USER = `
  SELECT u.id, u.username, u.display_name, u.role, u.profile, u.created_at, ${LAST_LOGIN},
         (SELECT count(*)::int FROM face_templates t WHERE t.user_id = u.id) AS template_count
  FROM users u`;

// Attempt state per site: the hub holds every site's rows and shows the worst of them.
const SELECT_ADMIN_USER = `
  SELECT u.id, u.username, u.display_name, u.role, u.profile, u.created_at, ${LAST_LOGIN},
         (SELECT count(*)::int FROM face_templates t WHERE t.user_id = u.id) AS template_count,
         COALESCE(a.consecutive, 0) AS consecutive, a.backoff_until, a.locked_at
  FROM users u LEFT JOIN LATERAL (
    SELECT max(c.consecutive) AS consecutive, max(c.backoff_until) AS backoff_until, max(c.locked_at) AS locked_at
    FROM attempt_counters c WHERE c.scope = 'user' AND c.key = u.id::text
  ) a ON true`;

type Row = Record<string, unknown>;

/** A user row as SELECT_USER returns it (also used by queries that join users into other answers). */
export function mapUser(r: Row): UserRecord {
  return {
    id: String(r.id),
    username: String(r.username),
    displayName: String(r.display_name),
    role: r.role === 'admin' ? 'admin' : 'user',
    profile: (typeof r.profile === 'string' ? JSON.parse(r.profile) : (r.profile ?? {})) as Profile,
    createdAt: toIso(r.created_at),
    lastLoginAt: toIsoOrNull(r.last_login_at),
    templateCount: Number(r.template_count ?? 0),
  };
}

function mapAdminUser(r: Row): AdminUserRecord {
  const backoff = r.backoff_until ? toDate(r.backoff_until) : null;
  return {
    ...mapUser(r),
    failedAttempts: Number(r.consecutive ?? 0),
    backoffUntil: backoff && backoff.getTime() > Date.now() ? backoff.toISOString() : null,
    locked: r.locked_at !== null && r.locked_at !== undefined,
  };
}

export class UserRepository {
  /** `site`: this database is a site's copy; its sign-ins go to last_logins, never into users. */
  constructor(private readonly site = '') {}

  /** Roles come from the caller: only a spent setup token makes an admin (see BootstrapService). */
  async create(q: Queryable, u: { id: string; username: string; displayName: string; role: Role }): Promise<UserRecord> {
    await q.query('INSERT INTO users (id, username, display_name, role) VALUES ($1, $2, $3, $4)', [
      u.id,
      u.username,
      u.displayName,
      u.role,
    ]);
    return (await this.findById(q, u.id)) as UserRecord;
  }

  async findById(q: Queryable, id: string): Promise<UserRecord | undefined> {
    const { rows } = await q.query<Row>(`${SELECT_USER} WHERE u.id = $1`, [id]);
    return rows[0] ? mapUser(rows[0]) : undefined;
  }

  async findByUsername(q: Queryable, username: string): Promise<UserRecord | undefined> {
    const { rows } = await q.query<Row>(`${SELECT_USER} WHERE u.username = $1`, [username]);
    return rows[0] ? mapUser(rows[0]) : undefined;
  }

  async findAdminView(q: Queryable, id: string): Promise<AdminUserRecord | undefined> {
    const { rows } = await q.query<Row>(`${SELECT_ADMIN_USER} WHERE u.id = $1`, [id]);
    return rows[0] ? mapAdminUser(rows[0]) : undefined;
  }

  /** Keyset pagination on username: stable while users are added or removed. */
  async list(q: Queryable, opts: { search?: string; limit: number; after?: string }): Promise<AdminUserRecord[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (opts.search) {
      params.push(`%${opts.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(u.username LIKE $${params.length} OR lower(u.display_name) LIKE $${params.length})`);
    }
    if (opts.after) {
      params.push(opts.after);
      where.push(`u.username > $${params.length}`);
    }
    params.push(opts.limit);
    const { rows } = await q.query<Row>(
      `${SELECT_ADMIN_USER} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY u.username LIMIT $${params.length}`,
      params,
    );
    return rows.map(mapAdminUser);
  }

  async update(q: Queryable, id: string, patch: { displayName?: string; profile?: Profile }): Promise<void> {
    await q.query(
      `UPDATE users SET display_name = COALESCE($2, display_name), profile = COALESCE($3::jsonb, profile), updated_at = now()
       WHERE id = $1`,
      [id, patch.displayName ?? null, patch.profile ? JSON.stringify(patch.profile) : null],
    );
  }

  /**
   * The account as it was before this sign-in (undefined when it is gone), stamped with the
   * sign-in in the same statement: in `users` at the hub or in a single installation, in the
   * site's own `last_logins` at a site.
   */
  async findAndTouchLogin(q: Queryable, id: string): Promise<UserRecord | undefined> {
    const touch = this.site
      ? `INSERT INTO last_logins (site, user_id, at) SELECT $2, id, now() FROM found
         ON CONFLICT (site, user_id) DO UPDATE SET at = excluded.at`
      : 'UPDATE users SET last_login_at = now() WHERE id IN (SELECT id FROM found)';
    // every part of one statement reads the same snapshot: `found` is the row before the stamp
    const { rows } = await q.query<Row>(
      `WITH found AS (${SELECT_USER} WHERE u.id = $1), touched AS (${touch}) SELECT * FROM found`,
      this.site ? [id, this.site] : [id],
    );
    return rows[0] ? mapUser(rows[0]) : undefined;
  }

  async setRole(q: Queryable, id: string, role: Role): Promise<boolean> {
    const res = await q.query('UPDATE users SET role = $2, updated_at = now() WHERE id = $1', [id, role]);
    return res.rowCount > 0;
  }

  async delete(q: Queryable, id: string): Promise<boolean> {
    const res = await q.query('DELETE FROM users WHERE id = $1', [id]);
    return res.rowCount > 0;
  }
}
