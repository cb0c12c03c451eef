/**
 * Signing keys and JWTs. Keys are ES256 pairs created by whichever replica first finds no
 * current key (under an advisory lock, so replicas never race to create two), stored in the
 * database with the private half encrypted, rotated after `signingKeyRotationSeconds` and kept
 * in the JWKS until every token they signed has expired.
 *
 * With hub and sites the keys are identities: created at the hub (`authority`; a site asks the
 * hub to create one), replicated to every site, so a token a site signs verifies with the hub's
 * JWKS and the site's alike. The next key is made a tenth of the rotation period ahead (3 days by
 * default), so a site cut off from the hub still holds the key it will need.
 */
import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  errors as joseErrors,
  type JWK,
  type JWTPayload,
  type CryptoKey,
} from 'jose';
import { ErrorCode, type AccessTokenClaims, type Jwk, type Role } from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { Sealer } from '../lib/crypto.js';
import { SIGNING_KEY_LOCK_ID, type SigningKeyRecord, type SigningKeyRepository } from '../repositories/signing-key.repository.js';

const ALG = 'ES256';
/**
 * RS256 is kept beside ES256 only for the OpenID Connect provider: OpenID Connect Discovery
 * requires it in id_token_signing_alg_values_supported, and some relying parties (go-oidc's
 * default, for one) verify nothing else. Faceline's own tokens are always ES256.
 */
export const OIDC_EXTRA_ALG = 'RS256';
type Alg = typeof ALG | typeof OIDC_EXTRA_ALG;
const ENROLL_AUDIENCE_SUFFIX = ':enroll';

interface LoadedKey {
  kid: string;
  alg: Alg;
  publicJwk: Jwk;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  /** the private JWK (kid, alg, use set), for the OpenID Connect provider's key set */
  privateJwk: JWK;
  createdAt: number;
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
  private waitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: SigningKeyRepository,
    private readonly sealer: Sealer,
    private readonly cfg: AuthConfig,
    private readonly log: Logger,
    /** where keys are created: this database, or the hub from a site */
    private readonly authority: Database = db,
  ) {}

  /** How often every replica reloads the keys (and creates the next one when it is due). */
  private get checkEverySeconds(): number {
    return Math.max(10, Math.min(this.cfg.signingKeyRotationSeconds / 10, 600));
  }

  /** A new key is created this long before the current one retires, so that the two overlap. */
  private get rotationMarginMs(): number {
    // a tenth of the period ahead (ms = seconds * 100): one hour at most in a single
    // installation; with hub and sites the whole tenth (3 days by default), so that a site cut
    // off from the hub already holds the key it will need
    const tenth = this.cfg.signingKeyRotationSeconds * 100;
    return this.cfg.mode === 'single' ? Math.min(tenth, 3_600_000) : tenth;
  }

  /**
   * A new key is published this long before it signs anything: by then every replica has
   * reloaded the keys (periodic check) and every verifier's cached JWKS (max-age 60 s) has
   * expired, so nobody meets a token whose key they cannot find yet.
   */
  private get publishAheadMs(): number {
    return Math.min(this.checkEverySeconds * 1000 + 60_000, this.rotationMarginMs / 2);
  }

  async start(): Promise<void> {
    try {
      await this.ensureCurrentKey();
    } catch (err) {
      // a site restarted while its uplink is down signs with the keys it already has
      if (this.authority === this.db || this.keys.size === 0) throw err;
      this.log.warn({ err: (err as Error).message }, 'could not ask the hub for a new signing key; using the ones this site has');
    }
    this.timer = setInterval(() => {
      void this.ensureCurrentKey().catch((err) => this.log.error({ err: (err as Error).message }, 'signing key check failed'));
    }, this.checkEverySeconds * 1000);
    this.timer.unref();
    // a new site's copy of the hub may still be in its initial sync: the key the hub has is on its
    // way; look again every second until it is here (until then /readyz says keys: missing)
    if (!this.ready()) {
      this.waitTimer = setInterval(() => {
        void this.load()
          .then(() => {
            if (this.ready() && this.waitTimer) {
              clearInterval(this.waitTimer);
              this.waitTimer = undefined;
              this.log.info('a signing key arrived from the hub');
            }
          })
          .catch(() => undefined);
      }, 1000);
      this.waitTimer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.waitTimer) clearInterval(this.waitTimer);
  }

  /** Longest lifetime of anything signed, so keys stay published until it has expired. */
  private get longestTokenSeconds(): number {
    return Math.max(this.cfg.accessTokenTtlSeconds, this.cfg.enrollTicketTtlSeconds, this.cfg.oidcIdTokenTtlSeconds);
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
      alg: r.alg === OIDC_EXTRA_ALG ? OIDC_EXTRA_ALG : ALG,
      publicJwk: r.publicJwk as Jwk,
      publicKey: (await importJWK(r.publicJwk as JWK, r.alg)) as CryptoKey,
      privateKey: (await importJWK(privateJwk, r.alg)) as CryptoKey,
      privateJwk: { ...privateJwk, kid: r.kid, alg: r.alg, use: 'sig' },
      createdAt: r.createdAt.getTime(),
      retireAt: r.retireAt.getTime(),
      expiresAt: r.expiresAt.getTime(),
    };
  }

  /**
   * The key that signs: the not yet retired key with the latest retirement among those published
   * long enough (publishAheadMs); when there is none (first start, or every key retired), the
   * newest one anyway.
   */
  private current(alg: Alg = ALG): LoadedKey | undefined {
    const now = Date.now();
    let best: LoadedKey | undefined;
    for (const k of this.keys.values()) {
      if (k.alg === alg && k.retireAt > now && k.createdAt + this.publishAheadMs <= now && (!best || k.retireAt > best.retireAt)) best = k;
    }
    return best ?? this.newest(alg);
  }

  /** The not yet retired key that retires last, published long enough or not. */
  private newest(alg: Alg): LoadedKey | undefined {
    let best: LoadedKey | undefined;
    for (const k of this.keys.values()) if (k.alg === alg && k.retireAt > Date.now() && (!best || k.retireAt > best.retireAt)) best = k;
    return best;
  }

  /** The algorithms this replica keeps keys for: ES256, and RS256 when the OpenID Connect provider is on. */
  private get algs(): Alg[] {
    return this.cfg.oidc ? [ALG, OIDC_EXTRA_ALG] : [ALG];
  }

  /** Creates a key when none will still be current a little while from now (so rotation overlaps). */
  async ensureCurrentKey(): Promise<void> {
    await this.load();
    const margin = this.rotationMarginMs;
    const due = (alg: Alg, keys: { alg: string; retireAt: number }[]) =>
      !keys.some((k) => k.alg === alg && k.retireAt - Date.now() > margin);
    if (!this.algs.some((alg) => due(alg, [...this.keys.values()]))) return;
    if (this.current() && this.authority !== this.db) {
      // a site: the hub makes the next key; ask it only when it can be reached, keep signing meanwhile
      await this.createKeys(due).catch((err) =>
        this.log.warn({ err: (err as Error).message }, 'the hub could not create the next signing key yet'),
      );
    } else {
      await this.createKeys(due);
    }
    await this.load();
  }

  /** Creates the keys that are due, in the authority's database (this one, or the hub's from a site). */
  private async createKeys(due: (alg: Alg, keys: { alg: string; retireAt: number }[]) => boolean): Promise<void> {
    await this.authority.withLock(SIGNING_KEY_LOCK_ID, async (q) => {
      const again = (await this.repo.listPublished(q)).map((k) => ({ alg: k.alg, retireAt: k.retireAt.getTime() }));
      for (const alg of this.algs) {
        if (!due(alg, again)) continue;
        const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
        const kid = randomUUID();
        const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
        const sealed = this.sealer.seal(Buffer.from(JSON.stringify(await exportJWK(privateKey)), 'utf8'), `signing-key:${kid}`);
        await this.repo.insert(q, {
          kid,
          alg,
          publicJwk,
          privateNonce: sealed.nonce,
          privateCiphertext: sealed.ciphertext,
          retireInSeconds: this.cfg.signingKeyRotationSeconds,
          expireInSeconds: this.cfg.signingKeyRotationSeconds + this.longestTokenSeconds + 60,
        });
        this.log.info({ kid, alg }, 'created a new signing key');
      }
      await this.repo.deleteExpired(q);
    });
  }

  /** A key to sign with is loaded: access tokens can be issued and verified. */
  ready(): boolean {
    return this.current() !== undefined;
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

  /**
   * The private keys for the OpenID Connect provider, the signing key first (the provider signs
   * with the first key that fits), then every other published key (still verifiable). The same
   * set as jwks(), so the provider's jwks_uri and /.well-known/jwks.json can never differ.
   */
  providerKeys(): JWK[] {
    const signing = this.algs.map((alg) => this.current(alg)).filter((k): k is LoadedKey => k !== undefined);
    const rest = [...this.keys.values()]
      .filter((k) => !signing.includes(k) && k.expiresAt > Date.now())
      .sort((a, b) => b.retireAt - a.retireAt);
    return [...signing, ...rest].map((k) => k.privateJwk);
  }

  /** Changes whenever providerKeys() would: a key appeared or expired, or another one became the signing key. */
  keySetVersion(): string {
    return this.providerKeys()
      .map((k) => k.kid)
      .join(',');
  }

  /** Another replica may have rotated: reload when a token names a key we have not seen (at most once a second). */
  async knows(kid: string): Promise<boolean> {
    if (!this.keys.has(kid) && Date.now() - this.lastRefresh > 1000) await this.load();
    return this.keys.has(kid);
  }

  private async keyFor(kid: string | undefined): Promise<CryptoKey> {
    if (!kid) throw new AuthError(ErrorCode.TOKEN_INVALID, 'token has no key id');
    const k = (await this.knows(kid)) ? this.keys.get(kid) : undefined;
    // Faceline's own tokens are ES256; an RS256 key (OpenID Connect only) never verifies them
    if (!k || k.alg !== ALG) throw new AuthError(ErrorCode.TOKEN_INVALID, 'token signed with an unknown key');
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
    if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string')
      throw new AuthError(ErrorCode.TOKEN_INVALID, 'token is not an access token');
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
