/**
 * Enrollment tickets: signed, short-lived, and recorded, so that each one completes a single
 * enrollment. Who may get one:
 * - registration, for the new account (which has no face yet, so nobody can log in as it);
 * - the person themselves, for a new face, only right after a face login with liveness in
 *   this session (SessionService.assertFresh): a stolen session cannot replace the face.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@faceline/contracts';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { EnrollTicketRepository, TicketPurpose } from '../repositories/enroll-ticket.repository.js';
import type { TokenService } from './token.service.js';

export interface VerifiedTicket {
  userId: string;
  jti: string;
  purpose: TicketPurpose;
}

export class EnrollTicketService {
  constructor(
    private readonly db: Database,
    private readonly tokens: TokenService,
    private readonly repo: EnrollTicketRepository,
  ) {}

  async issue(userId: string, purpose: TicketPurpose): Promise<{ ticket: string; expiresAt: Date }> {
    const jti = randomUUID();
    const t = await this.tokens.signEnrollTicket(userId, jti);
    await this.repo.create(this.db, { jti, userId, purpose, expiresAt: t.expiresAt });
    return t;
  }

  /** A valid signature is not enough: the ticket must still be unused. */
  async verify(ticket: string): Promise<VerifiedTicket> {
    const { userId, jti } = await this.tokens.verifyEnrollTicket(ticket);
    const purpose = await this.repo.usable(this.db, jti, userId);
    if (!purpose) throw new AuthError(ErrorCode.TOKEN_INVALID, 'this enrollment ticket was already used or has expired');
    return { userId, jti, purpose };
  }
}
