/**
 * Signing keys and JWTs. Keys are ES256 pairs created by whichever replica first finds no
 * current key (under an advisory lock, so replicas never race to create two), stored in the
 * database with the private half encrypted, rotated after `signingKeyRotationSeconds` and kept
 * in the JWKS until every token they signed has expired.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, errors as joseErrors, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { ErrorCode, type AccessTokenClaims, type Jwk, type Role } from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { Sealer } from '../lib/crypto.js';
import { SIGNING_KEY_LOCK_ID, type SigningKeyRecord, type SigningKeyRepository } from '../repositories/signing-key.repository.js';

const ALG = 'ES256';
const ENROLL_AUDIENCE_SUFFIX = ':enroll';

interface LoadedKey {
  kid: string;
  publicJwk: Jwk;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  retireAt: number;
  expiresAt: number;
}

export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  username: string;
  displayName: string;
  /** the role this session may act with (admin only after step-up where that is required) */
  role: Role;
  amr: string[];
  acr: string;
  /** ISO time of the face login */
  authTime: string;
}

export class TokenService {
  private keys = new Map<string, LoadedKey>();
  private lastRefresh = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: SigningKeyRepository,
    private readonly sealer: Sealer,
    private readonly cfg: AuthConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.ensureCurrentKey();
    const every = Math.max(10, Math.min(this.cfg.signingKeyRotationSeconds / 10, 600));
    this.timer = setInterval(() => {
      void this.ensureCurrentKey().catch((err) => this.log.error({ err: (err as Error).message }, 'signing key check failed'));
    }, every * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Longest lifetime of anything signed, so keys stay published until it has expired. */
  private get longestTokenSeconds(): number {
    return Math.max(this.cfg.accessTokenTtlSeconds, this.cfg.enrollTicketTtlSeconds);
  }

  private async load(): Promise<void> {
    const rows = await this.repo.listPublished(this.db);
    const next = new Map<string, LoadedKey>();
    for (const r of rows) {
      const known = this.keys.get(r.kid);
      // key material never changes, its schedule may (rotation by another replica or an operator)
      next.set(r.kid, known ? { ...known, retireAt: r.retireAt.getTime(), expiresAt: r.expiresAt.getTime() } : await this.unseal(r));
    }
    this.keys = next;
    this.lastRefresh = Date.now();
  }

  private async unseal(r: SigningKeyRecord): Promise<LoadedKey> {
    const privateJwk = JSON.parse(this.sealer.open(r.privateNonce, r.privateCiphertext, `signing-key:${r.kid}`).toString('utf8')) as JWK;
    return {
      kid: r.kid,
      publicJwk: r.publicJwk as Jwk,
      publicKey: (await importJWK(r.publicJwk as JWK, r.alg)) as CryptoKey,
      privateKey: (await importJWK(privateJwk, r.alg)) as CryptoKey,
      retireAt: r.retireAt.getTime(),
      expiresAt: r.expiresAt.getTime(),
    };
  }

  private current(): LoadedKey | undefined {
    let best: LoadedKey | undefined;
    for (const k of this.keys.values()) if (k.retireAt > Date.now() && (!best || k.retireAt > best.retireAt)) best = k;
    return best;
  }

  /** Creates a key when none will still be current a little while from now (so rotation overlaps). */
  async ensureCurrentKey(): Promise<void> {
    await this.load();
    const margin = Math.min(this.cfg.signingKeyRotationSeconds * 100, 3_600_000);
    const cur = this.current();
    if (cur && cur.retireAt - Date.now() > margin) return;
    await this.db.withLock(SIGNING_KEY_LOCK_ID, async (q) => {
      const again = await this.repo.listPublished(q);
      if (again.some((k) => k.retireAt.getTime() - Date.now() > margin)) return;
      const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
      const kid = randomUUID();
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
      const sealed = this.sealer.seal(Buffer.from(JSON.stringify(await exportJWK(privateKey)), 'utf8'), `signing-key:${kid}`);
      await this.repo.insert(q, {
        kid,
        alg: ALG,
        publicJwk,
        privateNonce: sealed.nonce,
        privateCiphertext: sealed.ciphertext,
        retireInSeconds: this.cfg.signingKeyRotationSeconds,
        expireInSeconds: this.cfg.signingKeyRotationSeconds + this.longestTokenSeconds + 60,
      });
      await this.repo.deleteExpired(q);
      this.log.info({ kid }, 'created a new signing key');
    });
    await this.load();
  }

  jwks(): { keys: Jwk[] } {
    return { keys: [...this.keys.values()].filter((k) => k.expiresAt > Date.now()).map((k) => k.publicJwk) };
  }

  private async signingKey(): Promise<LoadedKey> {
    let k = this.current();
    if (!k) {
      await this.ensureCurrentKey();
      k = this.current();
    }
    if (!k) throw new AuthError(ErrorCode.INTERNAL, 'no signing key');
    return k;
  }

  /** Another replica may have rotated: reload when a token names a key we have not seen (at most once a second). */
  private async keyFor(kid: string | undefined): Promise<CryptoKey> {
    if (!kid) throw new AuthError(ErrorCode.TOKEN_INVALID, 'token has no key id');
    let k = this.keys.get(kid);
    if (!k && Date.now() - this.lastRefresh > 1000) {
      await this.load();
      k = this.keys.get(kid);
    }
    if (!k) throw new AuthError(ErrorCode.TOKEN_INVALID, 'token signed with an unknown key');
    return k.publicKey;
  }

  async signAccessToken(t: AccessTokenInput): Promise<{ token: string; expiresAt: Date }> {
    const key = await this.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.cfg.accessTokenTtlSeconds;
    const token = await new SignJWT({
      sid: t.sessionId,
      username: t.username,
      name: t.displayName,
      role: t.role,
      amr: t.amr,
      acr: t.acr,
      auth_time: Math.floor(new Date(t.authTime).getTime() / 1000),
    })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.cfg.issuer)
      .setAudience(this.cfg.audience)
      .setSubject(t.userId)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    const payload = await this.verify(token, this.cfg.audience);
    if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string') throw new AuthError(ErrorCode.TOKEN_INVALID, 'token is not an access token');
    return payload as unknown as AccessTokenClaims;
  }

  /** A short-lived ticket that lets an account enroll a face (its id is recorded so it works once). */
  async signEnrollTicket(userId: string, jti: string): Promise<{ ticket: string; expiresAt: Date }> {
    const key = await this.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.cfg.enrollTicketTtlSeconds;
    const ticket = await new SignJWT({ purpose: 'enroll' })
      .setJti(jti)
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.cfg.issuer)
      .setAudience(this.cfg.audience + ENROLL_AUDIENCE_SUFFIX)
      .setSubject(userId)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { ticket, expiresAt: new Date(exp * 1000) };
  }

  async verifyEnrollTicket(ticket: string): Promise<{ userId: string; jti: string }> {
    const payload = await this.verify(ticket, this.cfg.audience + ENROLL_AUDIENCE_SUFFIX);
    if (payload.purpose !== 'enroll' || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
      throw new AuthError(ErrorCode.TOKEN_INVALID, 'not an enrollment ticket');
    }
    return { userId: payload.sub, jti: payload.jti };
  }

  private async verify(token: string, audience: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, async (header) => this.keyFor(header.kid), {
        issuer: this.cfg.issuer,
        audience,
        algorithms: [ALG],
      });
      return payload;
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new AuthError(ErrorCode.TOKEN_EXPIRED, 'token expired');
      throw new AuthError(ErrorCode.TOKEN_INVALID, 'token invalid');
    }
  }
}
