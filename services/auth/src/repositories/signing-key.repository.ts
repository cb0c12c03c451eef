/** Signing keys shared by all replicas. Private halves are stored encrypted. */
import type { Queryable } from '../db/database.js';
import { toBytes, toDate } from '../lib/sql.js';

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateNonce: Uint8Array;
  privateCiphertext: Uint8Array;
  createdAt: Date;
  retireAt: Date;
  expiresAt: Date;
}

type Row = Record<string, unknown>;
const map = (r: Row): SigningKeyRecord => ({
  kid: String(r.kid),
  alg: String(r.alg),
  publicJwk: (typeof r.public_jwk === 'string' ? JSON.parse(r.public_jwk) : r.public_jwk) as Record<string, unknown>,
  privateNonce: toBytes(r.private_nonce),
  privateCiphertext: toBytes(r.private_ciphertext),
  createdAt: toDate(r.created_at),
  retireAt: toDate(r.retire_at),
  expiresAt: toDate(r.expires_at),
});

export const SIGNING_KEY_LOCK_ID = 0x4b455953; // "KEYS"

export class SigningKeyRepository {
  /** Keys still published (not expired), newest first. */
  async listPublished(q: Queryable): Promise<SigningKeyRecord[]> {
    const { rows } = await q.query<Row>('SELECT * FROM signing_keys WHERE expires_at > now() ORDER BY created_at DESC');
    return rows.map(map);
  }

  async insert(
    q: Queryable,
    k: Omit<SigningKeyRecord, 'createdAt' | 'retireAt' | 'expiresAt'> & { retireInSeconds: number; expireInSeconds: number },
  ): Promise<void> {
    await q.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_nonce, private_ciphertext, retire_at, expires_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, now() + make_interval(secs => $6), now() + make_interval(secs => $7))`,
      [k.kid, k.alg, JSON.stringify(k.publicJwk), k.privateNonce, k.privateCiphertext, k.retireInSeconds, k.expireInSeconds],
    );
  }

  async deleteExpired(q: Queryable): Promise<void> {
    await q.query(`DELETE FROM signing_keys WHERE expires_at < now() - interval '1 day'`);
  }
}
