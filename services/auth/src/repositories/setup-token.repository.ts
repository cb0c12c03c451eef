/** One-time setup tokens (hashes only) and the administrator check they depend on. */
import type { Queryable } from '../db/database.js';

/** Advisory lock that serialises issuing and spending setup tokens across replicas: "SETU". */
export const SETUP_LOCK_ID = 0x53455455;

export type SetupTokenSource = 'generated' | 'configured';

export class SetupTokenRepository {
  async adminExists(q: Queryable): Promise<boolean> {
    const { rows } = await q.query(`SELECT 1 FROM users WHERE role = 'admin' LIMIT 1`);
    return rows.length > 0;
  }

  /** Inserts a token hash; an existing one (a configured token seen before) keeps its state. Returns whether it is usable. */
  async issue(q: Queryable, t: { hash: string; source: SetupTokenSource; ttlSeconds: number | null }): Promise<boolean> {
    await q.query(
      `INSERT INTO setup_tokens (token_hash, source, expires_at)
       VALUES ($1, $2, CASE WHEN $3::int IS NULL THEN NULL ELSE now() + make_interval(secs => $3::int) END)
       ON CONFLICT (token_hash) DO NOTHING`,
      [t.hash, t.source, t.ttlSeconds],
    );
    const { rows } = await q.query(
      'SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
      [t.hash],
    );
    return rows.length > 0;
  }

  /**
   * Spends the token for `userId` in one statement: only an unused, unexpired token, and only
   * while no administrator exists. Call inside a transaction holding SETUP_LOCK_ID.
   */
  async consume(q: Queryable, hash: string, userId: string): Promise<boolean> {
    const { rows } = await q.query(
      `UPDATE setup_tokens SET used_at = now(), used_by = $2
       WHERE token_hash = $1 AND used_at IS NULL AND (expires_at IS NULL OR expires_at > now())
         AND NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')
       RETURNING token_hash`,
      [hash, userId],
    );
    return rows.length > 0;
  }

  /** Spends every outstanding token (an administrator exists now). */
  async spendAll(q: Queryable): Promise<number> {
    const res = await q.query('UPDATE setup_tokens SET used_at = now() WHERE used_at IS NULL');
    return res.rowCount;
  }
}
