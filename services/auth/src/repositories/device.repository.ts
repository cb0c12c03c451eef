/** Trusted kiosk devices: id, name, and the hash of the secret their browser holds. */
import type { Queryable } from '../db/database.js';
import { toIso, toIsoOrNull } from '../lib/sql.js';

export interface DeviceRecord {
  id: string;
  name: string;
  createdBy: string | null;
  createdAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
}

type Row = Record<string, unknown>;
const map = (r: Row): DeviceRecord => ({
  id: String(r.id),
  name: String(r.name),
  createdBy: r.created_by ? String(r.created_by) : null,
  createdAt: toIso(r.created_at),
  lastSeenAt: toIsoOrNull(r.last_seen_at),
  revokedAt: toIsoOrNull(r.revoked_at),
});

export class DeviceRepository {
  async create(q: Queryable, d: { id: string; name: string; secretHash: string; createdBy: string }): Promise<DeviceRecord> {
    const { rows } = await q.query<Row>(
      'INSERT INTO trusted_devices (id, name, secret_hash, created_by) VALUES ($1, $2, $3, $4) RETURNING *',
      [d.id, d.name, d.secretHash, d.createdBy],
    );
    return map(rows[0] as Row);
  }

  /** The device when the secret matches and it is not revoked; touches last_seen_at. */
  async verify(q: Queryable, id: string, secretHash: string): Promise<DeviceRecord | undefined> {
    const { rows } = await q.query<Row>('SELECT * FROM trusted_devices WHERE id = $1 AND secret_hash = $2 AND revoked_at IS NULL', [
      id,
      secretHash,
    ]);
    return rows[0] ? map(rows[0]) : undefined;
  }

  async touch(q: Queryable, id: string): Promise<void> {
    await q.query('UPDATE trusted_devices SET last_seen_at = now() WHERE id = $1', [id]);
  }

  async list(q: Queryable): Promise<DeviceRecord[]> {
    const { rows } = await q.query<Row>('SELECT * FROM trusted_devices ORDER BY created_at DESC');
    return rows.map(map);
  }

  async revoke(q: Queryable, id: string): Promise<boolean> {
    const { rows } = await q.query('UPDATE trusted_devices SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
    return rows.length === 1;
  }
}
