/** The ids of enrollment tickets, so that each completes one enrollment and never another. */
import type { Queryable } from '../db/database.js';

export type TicketPurpose = 'register' | 'reenroll' | 'admin';

export class EnrollTicketRepository {
  async create(q: Queryable, t: { jti: string; userId: string; purpose: TicketPurpose; expiresAt: Date }): Promise<void> {
    await q.query('INSERT INTO enroll_tickets (jti, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)', [
      t.jti,
      t.userId,
      t.purpose,
      t.expiresAt,
    ]);
  }

  /** The ticket's purpose while it is unused and in time, else undefined. */
  async usable(q: Queryable, jti: string, userId: string): Promise<TicketPurpose | undefined> {
    const { rows } = await q.query<{ purpose: TicketPurpose }>(
      'SELECT purpose FROM enroll_tickets WHERE jti = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > now()',
      [jti, userId],
    );
    return rows[0]?.purpose;
  }

  /** Atomic: of two enrollments finishing with one ticket, exactly one may store its face. */
  async consume(q: Queryable, jti: string, userId: string): Promise<boolean> {
    const { rows } = await q.query(
      'UPDATE enroll_tickets SET used_at = now() WHERE jti = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > now() RETURNING jti',
      [jti, userId],
    );
    return rows.length === 1;
  }

  async purgeExpired(q: Queryable): Promise<void> {
    await q.query(`DELETE FROM enroll_tickets WHERE expires_at < now() - interval '1 day'`);
  }
}
