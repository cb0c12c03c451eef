/**
 * Encryption at rest (AES-256-GCM) and token hashing. Sub-keys are derived from the master key
 * with HKDF so that templates and signing keys never share a key.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export const EMBEDDING_DIMS = 128;

/** A 32-byte sub-key of the master key for one purpose (HKDF-SHA256); every replica derives the same. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  if (masterKey.length !== 32) throw new RangeError('master key must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `faceline ${purpose} v1`, 32));
}

export class Sealer {
  private readonly key: Buffer;
  constructor(masterKey: Buffer, purpose: string) {
    this.key = deriveKey(masterKey, purpose);
  }

  /** `aad` binds the ciphertext to its row: moved elsewhere it no longer opens. */
  seal(plain: Uint8Array, aad: string): { nonce: Buffer; ciphertext: Buffer } {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
  }

  open(nonce: Uint8Array, ciphertext: Uint8Array, aad: string): Buffer {
    const data = Buffer.from(ciphertext);
    if (data.length < 16) throw new Error('ciphertext too short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
  }
}

/** Little-endian float32 bytes of an embedding (what gets encrypted). */
export function embeddingToBytes(v: ArrayLike<number>): Buffer {
  if (v.length !== EMBEDDING_DIMS) throw new RangeError(`embedding must have ${EMBEDDING_DIMS} values`);
  const buf = Buffer.alloc(EMBEDDING_DIMS * 4);
  for (let i = 0; i < EMBEDDING_DIMS; i++) buf.writeFloatLE(v[i] as number, i * 4);
  return buf;
}

export function bytesToEmbedding(b: Uint8Array): Float32Array {
  if (b.length !== EMBEDDING_DIMS * 4) throw new RangeError('embedding bytes have the wrong length');
  const out = new Float32Array(EMBEDDING_DIMS);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < EMBEDDING_DIMS; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** An opaque random token (refresh tokens, login grants): 256 bits, base64url. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Stored form of an opaque token: only its SHA-256 is kept, so a database leak yields no usable token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** A fingerprint of the master key stored in the database: a wrong key fails at start, not on the first login. */
export function keyFingerprint(masterKey: Buffer): string {
  return createHash('sha256').update('faceline key check v1').update(masterKey).digest('hex').slice(0, 32);
}
