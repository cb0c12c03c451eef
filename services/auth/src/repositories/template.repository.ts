/** Encrypted face templates, and the notification that keeps every replica's 1:N index in sync. */
import type { Queryable } from '../db/database.js';
import { toBytes } from '../lib/sql.js';

export const TEMPLATE_CHANNEL = 'faceline_templates';

export interface StoredTemplate {
  id: string;
  userId: string;
  keyVersion: number;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

export interface TemplateQuality {
  faceSizePx: number;
  sharpness: number;
  brightness: number;
  yaw: number;
  pitch: number;
}

type Row = Record<string, unknown>;
const map = (r: Row): StoredTemplate => ({
  id: String(r.id),
  userId: String(r.user_id),
  keyVersion: Number(r.key_version),
  nonce: toBytes(r.nonce),
  ciphertext: toBytes(r.ciphertext),
});

export class TemplateRepository {
  async insert(q: Queryable, t: StoredTemplate & { quality: TemplateQuality }): Promise<void> {
    await q.query(
      'INSERT INTO face_templates (id, user_id, key_version, nonce, ciphertext, quality) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
      [t.id, t.userId, t.keyVersion, t.nonce, t.ciphertext, JSON.stringify(t.quality)],
    );
  }

  async listByUser(q: Queryable, userId: string): Promise<StoredTemplate[]> {
    const { rows } = await q.query<Row>(
      'SELECT id, user_id, key_version, nonce, ciphertext FROM face_templates WHERE user_id = $1 ORDER BY created_at, id',
      [userId],
    );
    return rows.map(map);
  }

  async listAll(q: Queryable): Promise<StoredTemplate[]> {
    const { rows } = await q.query<Row>('SELECT id, user_id, key_version, nonce, ciphertext FROM face_templates ORDER BY user_id, id');
    return rows.map(map);
  }

  async deleteByUser(q: Queryable, userId: string): Promise<number> {
    return (await q.query('DELETE FROM face_templates WHERE user_id = $1', [userId])).rowCount;
  }

  async count(q: Queryable): Promise<number> {
    const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM face_templates');
    return Number(rows[0]?.n ?? 0);
  }

  /** Sent inside the writing transaction: PostgreSQL delivers it only if that commits. */
  async notifyChanged(q: Queryable, userId: string): Promise<void> {
    await q.query('SELECT pg_notify($1, $2)', [TEMPLATE_CHANNEL, JSON.stringify({ userId })]);
  }
}
