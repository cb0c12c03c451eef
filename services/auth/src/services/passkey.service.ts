/**
 * Passkeys: WebAuthn credentials a person adds as a second factor. Administrators who are not
 * at a trusted kiosk confirm their face login with one (SessionService asks this service as
 * its StepUpVerifier), which gives the session the MFA assurance level.
 *
 * - Adding one needs the person themselves, just now: a fresh face login (assertFresh), for
 *   the options and again for the answer. A stolen session cannot add the thief's key.
 * - Every challenge is random, stored with its user and kind, expires, and is deleted by the
 *   first answer that names it, so no answer is accepted twice.
 * - The relying party is the site the browser addressed (PUBLIC_URL, else the request host):
 *   an answer made for another origin or RP ID is refused by the verification.
 */
import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { ErrorCode, type Passkey } from '@faceline/contracts';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { ChallengeKind, PasskeyRecord, PasskeyRepository } from '../repositories/passkey.repository.js';
import type { SessionRecord } from '../repositories/session.repository.js';
import type { UserRecord } from '../repositories/user.repository.js';
import type { AuditService } from './audit.service.js';
import type { ClientInfo, SessionService, StepUpVerifier, WebAuthnSite } from './session.service.js';

/** How long a ceremony may take: the browser's timeout plus the time to send the answer. */
const CEREMONY_TIMEOUT_MS = 120_000;
const CHALLENGE_TTL_SECONDS = 180;
/** a person has a few keys (phone, laptop, a security key), not hundreds */
export const MAX_PASSKEYS_PER_USER = 10;
const RP_NAME = 'Faceline';

export function toPasskey(p: PasskeyRecord): Passkey {
  return { id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt };
}

/** The challenge a WebAuthn answer claims to respond to (read from its clientDataJSON), or undefined. */
export function claimedChallenge(response: unknown): string | undefined {
  const data = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
  if (typeof data !== 'string' || data.length > 4096) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && parsed.challenge.length <= 200 ? parsed.challenge : undefined;
  } catch {
    return undefined;
  }
}

export class PasskeyService implements StepUpVerifier {
  constructor(
    private readonly db: Database,
    private readonly repo: PasskeyRepository,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    /** the login grant's lifetime: a confirmation that takes longer could not be used anyway */
    private readonly grantTtlSeconds = 60,
    /** where passkeys are written: this database, or the hub from a site (they are identities) */
    private readonly writer: Database = db,
  ) {}

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.repo.listForUser(this.db, userId);
  }

  /** Creation options for a new passkey of this person (fresh face login required). */
  async registrationOptions(user: UserRecord, session: SessionRecord, site: WebAuthnSite): Promise<Record<string, unknown>> {
    this.sessions.assertFresh(session);
    const existing = await this.repo.listForUser(this.db, user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) {
      throw new AuthError(ErrorCode.VALIDATION_FAILED, `at most ${MAX_PASSKEYS_PER_USER} passkeys per account; remove one first`);
    }
    const options = await generateRegistrationOptions({
      rpName: RP_NAME,
      rpID: site.rpId,
      userName: user.username,
      userDisplayName: user.displayName,
      // the WebAuthn user handle: the account id's bytes, never the user name
      userID: new Uint8Array(Buffer.from(user.id.replace(/-/g, ''), 'hex')),
      attestationType: 'none',
      timeout: CEREMONY_TIMEOUT_MS,
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.saveChallenge(user.id, 'register', options.challenge);
    return options as unknown as Record<string, unknown>;
  }

  /** Verifies the browser's answer to registrationOptions and stores the passkey. */
  async register(
    user: UserRecord,
    session: SessionRecord,
    input: { name?: string; response: unknown },
    site: WebAuthnSite,
    client: ClientInfo,
  ): Promise<PasskeyRecord> {
    this.sessions.assertFresh(session);
    const refused = (why: string) => new AuthError(ErrorCode.VALIDATION_FAILED, `the passkey could not be added: ${why}`);
    const challenge = claimedChallenge(input.response);
    if (!challenge || !(await this.repo.consumeChallenge(this.db, user.id, 'register', challenge))) {
      throw refused('unknown, used or expired challenge; start again');
    }
    let result: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      result = await verifyRegistrationResponse({
        response: input.response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: site.origin,
        expectedRPID: site.rpId,
        requireUserVerification: false,
      });
    } catch (err) {
      throw refused((err as Error).message.slice(0, 200));
    }
    if (!result.verified) throw refused('the answer does not verify');
    const cred = result.registrationInfo.credential;
    const name = input.name?.trim() || 'Passkey';
    let stored: PasskeyRecord;
    try {
      stored = await this.repo.create(this.writer, {
        id: cred.id,
        userId: user.id,
        publicKey: cred.publicKey,
        counter: cred.counter,
        transports: (cred.transports ?? []).map(String).slice(0, 10),
        name,
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === '23505')
        throw new AuthError(ErrorCode.VALIDATION_FAILED, 'this passkey is already registered');
      throw err;
    }
    await this.audit.record({
      type: 'passkey.added',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { passkeyId: stored.id.slice(0, 32), name, userVerified: result.registrationInfo.userVerified },
    });
    return stored;
  }

  async remove(user: UserRecord, id: string, client: ClientInfo): Promise<void> {
    if (!(await this.repo.delete(this.writer, id, user.id))) throw new AuthError(ErrorCode.NOT_FOUND, 'no such passkey on this account');
    await this.audit.record({
      type: 'passkey.removed',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { passkeyId: id.slice(0, 32) },
    });
  }

  // ------------------------------------------------------------ StepUpVerifier

  async options(userId: string, site: WebAuthnSite): Promise<Record<string, unknown> | null> {
    const keys = await this.repo.listForUser(this.db, userId);
    if (keys.length === 0) return null;
    const options = await generateAuthenticationOptions({
      rpID: site.rpId,
      allowCredentials: keys.map((p) => ({ id: p.id, transports: p.transports })),
      userVerification: 'preferred',
      timeout: Math.min(CEREMONY_TIMEOUT_MS, this.grantTtlSeconds * 1000),
    });
    await this.saveChallenge(userId, 'authenticate', options.challenge);
    return options as unknown as Record<string, unknown>;
  }

  async verify(userId: string, response: unknown, site: WebAuthnSite): Promise<boolean> {
    const id = (response as { id?: unknown } | null)?.id;
    const challenge = claimedChallenge(response);
    if (typeof id !== 'string' || !challenge) return false;
    const key = await this.repo.find(this.db, id, userId);
    // the challenge is spent even when the key is wrong: one answer per challenge
    const fresh = await this.repo.consumeChallenge(this.db, userId, 'authenticate', challenge);
    if (!key || !fresh) return false;
    try {
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: site.origin,
        expectedRPID: site.rpId,
        credential: { id: key.id, publicKey: new Uint8Array(key.publicKey), counter: key.counter, transports: key.transports },
        requireUserVerification: false,
      });
      if (!verified) return false;
      return await this.repo.recordUse(this.writer, key.id, key.counter, authenticationInfo.newCounter);
    } catch {
      return false;
    }
  }

  private async saveChallenge(userId: string, kind: ChallengeKind, challenge: string): Promise<void> {
    await this.repo.saveChallenge(this.db, { id: randomUUID(), userId, kind, challenge, ttlSeconds: CHALLENGE_TTL_SECONDS });
  }
}
