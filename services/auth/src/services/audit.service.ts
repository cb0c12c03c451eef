/** Writes audit events without ever failing the action being audited. */
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { AuditRepository, NewAuditEvent } from '../repositories/audit.repository.js';

export class AuditService {
  constructor(
    private readonly db: Database,
    private readonly repo: AuditRepository,
    private readonly log: Logger,
  ) {}

  async record(event: NewAuditEvent): Promise<void> {
    try {
      await this.repo.insert(this.db, event);
    } catch (err) {
      this.log.error({ err: (err as Error).message, type: event.type }, 'could not write audit event');
    }
  }
}
