/** The audit log. Callers pass only facts: never an image, an embedding or a token. */
import type { AuditEvent, AuditEventType } from '@faceline/contracts';
import type { Queryable } from '../db/database.js';
import { toIso } from '../lib/sql.js';

export type NewAuditEvent = Partial<Omit<AuditEvent, 'id' | 'at' | 'type' | 'outcome'>> & {
  type: AuditEventType;
  outcome: AuditEvent['outcome'];
};

type Row = Record<string, unknown>;
const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/**
 * Every row records the site that wrote it ('' = the hub, or a single installation). At the hub
 * the log holds every site's events, so it is listed by time, not by id: each site numbers its
 * events from its own id range (SiteService), which keeps ids unique but not chronological.
 */
export class AuditRepository {
  constructor(private readonly site = '') {}

  async insert(q: Queryable, e: NewAuditEvent): Promise<void> {
    await q.query(
      `INSERT INTO audit_events (type, outcome, user_id, username, actor_id, ip, user_agent, mode, code, distance, liveness, details, site)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)`,
      [
        e.type,
        e.outcome,
        nul(e.userId),
        nul(e.username),
        nul(e.actorId),
        nul(e.ip),
        nul(e.userAgent?.slice(0, 300)),
        nul(e.mode),
        nul(e.code),
        e.distance === undefined || e.distance === null ? null : Math.round(e.distance * 10000) / 10000,
        nul(e.liveness),
        e.details ? JSON.stringify(e.details) : null,
        this.site,
      ],
    );
  }

  /**
   * Newest first (by time, then id); `before` is the id of the last event of the previous page.
   * The id is sent as text (a bigint exceeds what JSON numbers hold exactly), so ORDER BY names
   * the table's columns: the bare `id` would sort by the text alias, putting "999" before "1000".
   */
  async list(
    q: Queryable,
    opts: { limit: number; before?: number; userId?: string; type?: string; types?: readonly string[] },
  ): Promise<AuditEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.before !== undefined) {
      params.push(opts.before);
      where.push(`(at, id) < (SELECT b.at, b.id FROM audit_events b WHERE b.id = $${params.length})`);
    }
    if (opts.userId) {
      params.push(opts.userId);
      where.push(`user_id = $${params.length}`);
    }
    if (opts.type) {
      params.push(opts.type);
      where.push(`type = $${params.length}`);
    }
    if (opts.types) {
      const at = opts.types.map((t) => {
        params.push(t);
        return `$${params.length}`;
      });
      where.push(at.length ? `type IN (${at.join(', ')})` : 'false');
    }
    params.push(opts.limit);
    const { rows } = await q.query<Row>(
      `SELECT id::text AS id, at, type, outcome, user_id, username, actor_id, ip, user_agent, mode, code, distance, liveness, details, site
       FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_events.at DESC, audit_events.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      id: String(r.id),
      at: toIso(r.at),
      type: r.type as AuditEventType,
      outcome: r.outcome === 'success' ? 'success' : 'failure',
      userId: r.user_id === null ? null : String(r.user_id),
      username: (r.username as string | null) ?? null,
      actorId: r.actor_id === null ? null : String(r.actor_id),
      ip: (r.ip as string | null) ?? null,
      userAgent: (r.user_agent as string | null) ?? null,
      mode: (r.mode as AuditEvent['mode']) ?? null,
      code: (r.code as string | null) ?? null,
      distance: r.distance === null || r.distance === undefined ? null : Number(r.distance),
      liveness: (r.liveness as AuditEvent['liveness']) ?? null,
      details: (typeof r.details === 'string' ? JSON.parse(r.details) : (r.details ?? null)) as AuditEvent['details'],
      site: r.site ? String(r.site) : null,
    }));
  }
}
