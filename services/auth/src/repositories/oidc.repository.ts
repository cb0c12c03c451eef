/**
 * The OpenID Connect provider's state: one row per (model, id) in `oidc_payloads`, the payload as
 * jsonb. Expired rows are invisible at once (every read checks expires_at) and deleted by
 * housekeeping later.
 */
import type { Queryable } from '../db/database.js';

type Row = { payload: unknown; consumed: unknown };

export interface StoredPayload {
  payload: Record<string, unknown>;
  /** when it was consumed (seconds since the epoch), as the provider's own models record it */
  consumed: number | undefined;
}

const map = (r: Row | undefined): StoredPayload | undefined =>
  r
    ? {
        payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
        consumed: r.consumed === null || r.consumed === undefined ? undefined : Number(r.consumed),
      }
    : undefined;

const LIVE = '(expires_at IS NULL OR expires_at > now())';
const COLUMNS = 'payload, floor(extract(epoch FROM consumed_at))::int AS consumed';

export class OidcRepository {
  async upsert(
    q: Queryable,
    row: {
      model: string;
      id: string;
      payload: Record<string, unknown>;
      grantId?: string;
      uid?: string;
      userCode?: string;
      expiresInSeconds?: number;
    },
  ): Promise<void> {
    await q.query(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, expires_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, CASE WHEN $7::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $7::float8) END)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
         user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
      [
        row.model,
        row.id,
        JSON.stringify(row.payload),
        row.grantId ?? null,
        row.uid ?? null,
        row.userCode ?? null,
        row.expiresInSeconds ?? null,
      ],
    );
  }

  async find(q: Queryable, model: string, id: string): Promise<StoredPayload | undefined> {
    const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM oidc_payloads WHERE model = $1 AND id = $2 AND ${LIVE}`, [model, id]);
    return map(rows[0]);
  }

  async findBy(q: Queryable, model: string, column: 'uid' | 'user_code', value: string): Promise<StoredPayload | undefined> {
    const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM oidc_payloads WHERE model = $1 AND ${column} = $2 AND ${LIVE} LIMIT 1`, [
      model,
      value,
    ]);
    return map(rows[0]);
  }

  /** Marks a code or token used; the provider sees `consumed` and treats a second use as a replay. */
  async consume(q: Queryable, model: string, id: string): Promise<void> {
    await q.query('UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL', [model, id]);
  }

  async destroy(q: Queryable, model: string, id: string): Promise<void> {
    await q.query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [model, id]);
  }

  async revokeByGrantId(q: Queryable, model: string, grantId: string): Promise<void> {
    await q.query('DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2', [model, grantId]);
  }

  /** Housekeeping: rows expired more than an hour ago (reads ignore them from the moment they expire). */
  async purgeExpired(q: Queryable): Promise<number> {
    const res = await q.query(`DELETE FROM oidc_payloads WHERE expires_at < now() - interval '1 hour'`);
    return res.rowCount;
  }
}
