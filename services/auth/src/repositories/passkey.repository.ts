/** Passkeys (WebAuthn credentials) and the single-use challenges of their ceremonies. */
import type { Queryable } from '../db/database.js';
import { toBytes, toIso, toIsoOrNull } from '../lib/sql.js';

export interface PasskeyRecord {
  id: string;
  userId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export type ChallengeKind = 'register' | 'authenticate';

type Row = Record<string, unknown>;
const map = (r: Row): PasskeyRecord => ({
  id: String(r.id),
  userId: String(r.user_id),
  publicKey: toBytes(r.public_key),
  counter: Number(r.counter),
  transports: Array.isArray(r.transports) ? r.transports.map(String) : [],
  name: String(r.name),
  createdAt: toIso(r.created_at),
  lastUsedAt: toIsoOrNull(r.last_used_at),
});

export class PasskeyRepository {
  async create(
    q: Queryable,
    p: { id: string; userId: string; publicKey: Uint8Array; counter: number; transports: string[]; name: string },
  ): Promise<PasskeyRecord> {
    const { rows } = await q.query<Row>(
      'INSERT INTO passkeys (id, user_id, public_key, counter, transports, name) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [p.id, p.userId, p.publicKey, p.counter, p.transports, p.name],
    );
    return map(rows[0] as Row);
  }

  async listForUser(q: Queryable, userId: string): Promise<PasskeyRecord[]> {
    const { rows } = await q.query<Row>('SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id', [userId]);
    return rows.map(map);
  }

  async find(q: Queryable, id: string, userId: string): Promise<PasskeyRecord | undefined> {
    const { rows } = await q.query<Row>('SELECT * FROM passkeys WHERE id = $1 AND user_id = $2', [id, userId]);
    return rows[0] ? map(rows[0]) : undefined;
  }

  /**
   * Records a use. The counter only moves forward (compare-and-set), so of two assertions
   * replayed in parallel with the same counter only one is accepted.
   */
  async recordUse(q: Queryable, id: string, oldCounter: number, newCounter: number): Promise<boolean> {
    const res = await q.query('UPDATE passkeys SET counter = $3, last_used_at = now() WHERE id = $1 AND counter = $2', [
      id,
      oldCounter,
      newCounter,
    ]);
    return res.rowCount === 1;
  }

  async delete(q: Queryable, id: string, userId: string): Promise<boolean> {
    const res = await q.query('DELETE FROM passkeys WHERE id = $1 AND user_id = $2', [id, userId]);
    return res.rowCount === 1;
  }

  /** Stores a challenge; the same user's expired ones go at the same time. */
  async saveChallenge(
    q: Queryable,
    c: { id: string; userId: string; kind: ChallengeKind; challenge: string; ttlSeconds: number },
  ): Promise<void> {
    await q.query('DELETE FROM webauthn_challenges WHERE user_id = $1 AND expires_at < now()', [c.userId]);
    await q.query(
      'INSERT INTO webauthn_challenges (id, user_id, kind, challenge, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))',
      [c.id, c.userId, c.kind, c.challenge, c.ttlSeconds],
    );
  }

  /** Atomic: a challenge answers one ceremony, in time, for its user and kind, and never another. */
  async consumeChallenge(q: Queryable, userId: string, kind: ChallengeKind, challenge: string): Promise<boolean> {
    const { rows } = await q.query(
      'DELETE FROM webauthn_challenges WHERE user_id = $1 AND kind = $2 AND challenge = $3 AND expires_at > now() RETURNING id',
      [userId, kind, challenge],
    );
    return rows.length > 0;
  }

  async purgeExpiredChallenges(q: Queryable): Promise<void> {
    await q.query('DELETE FROM webauthn_challenges WHERE expires_at < now()');
  }
}
