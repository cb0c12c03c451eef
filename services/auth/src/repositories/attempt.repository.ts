/**
 * Failed-attempt state in the database, so that limits hold across replicas. Each update is a
 * single atomic statement: concurrent failures on two replicas both count.
 */
import type { Queryable } from '../db/database.js';
import { toDate } from '../lib/sql.js';

/**
 * 'user': failed face attempts of an account; 'pair': of an account from one origin
 * (key "<user id> <origin>"); 'ip': failed attempts from an origin (an address, or
 * "device:<id>"); 'register': accounts created from an address; 'start': logins started for an
 * account from one origin (challenge draws, key as for 'pair').
 */
export type AttemptScope = 'user' | 'pair' | 'ip' | 'register' | 'start';

export interface AttemptState {
  consecutive: number;
  windowFailures: number;
  backoffUntil: Date | null;
  locked: boolean;
}

type Row = Record<string, unknown>;
const map = (r: Row | undefined): AttemptState =>
  r
    ? {
        consecutive: Number(r.consecutive ?? 0),
        windowFailures: Number(r.window_failures ?? 0),
        backoffUntil: r.backoff_until ? toDate(r.backoff_until) : null,
        locked: r.locked_at !== null && r.locked_at !== undefined,
      }
    : { consecutive: 0, windowFailures: 0, backoffUntil: null, locked: false };

/**
 * Attempts are counted where they happen: each site keeps its own rows (`site`, '' at the hub or
 * in a single installation) and the hub receives every site's rows for its admin view, so the
 * key includes the site and every statement here is about this database's own rows.
 */
export class AttemptRepository {
  constructor(private readonly site = '') {}

  async get(q: Queryable, scope: AttemptScope, key: string): Promise<AttemptState> {
    const { rows } = await q.query<Row>('SELECT * FROM attempt_counters WHERE site = $3 AND scope = $1 AND key = $2', [
      scope,
      key,
      this.site,
    ]);
    return map(rows[0]);
  }

  /** Several states in one round trip, in the order asked for. */
  async getMany(q: Queryable, keys: [AttemptScope, string][]): Promise<AttemptState[]> {
    const { rows } = await q.query<Row>(
      'SELECT * FROM attempt_counters WHERE site = $3 AND (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
      [keys.map((k) => k[0]), keys.map((k) => k[1]), this.site],
    );
    return keys.map(([scope, key]) => map(rows.find((r) => r.scope === scope && r.key === key)));
  }

  /**
   * Counts one failure. The window restarts when older than `windowSeconds`; back-off and lock
   * are computed by the caller's policy from the returned counts and written with `setPenalty`.
   */
  async recordFailure(q: Queryable, scope: AttemptScope, key: string, windowSeconds: number): Promise<AttemptState> {
    return (await this.recordFailures(q, [[scope, key]], windowSeconds))[0] as AttemptState;
  }

  /**
   * `recordFailure` on each key, in one statement, in the order given (the rows are locked in
   * that order). The keys must be distinct.
   */
  async recordFailures(q: Queryable, keys: [AttemptScope, string][], windowSeconds: number): Promise<AttemptState[]> {
    const values = keys.map((_, i) => `($1, $${3 + 2 * i}, $${4 + 2 * i}, 1, now(), 1, now())`).join(', ');
    const { rows } = await q.query<Row>(
      `INSERT INTO attempt_counters (site, scope, key, consecutive, window_start, window_failures, updated_at)
       VALUES ${values}
       ON CONFLICT (site, scope, key) DO UPDATE SET
         consecutive = attempt_counters.consecutive + 1,
         window_failures = CASE WHEN attempt_counters.window_start < now() - make_interval(secs => $2)
                                THEN 1 ELSE attempt_counters.window_failures + 1 END,
         window_start = CASE WHEN attempt_counters.window_start < now() - make_interval(secs => $2)
                             THEN now() ELSE attempt_counters.window_start END,
         updated_at = now()
       RETURNING *`,
      [this.site, windowSeconds, ...keys.flat()],
    );
    return keys.map(([scope, key]) => map(rows.find((r) => r.scope === scope && r.key === key)));
  }

  async setPenalty(q: Queryable, scope: AttemptScope, key: string, p: { backoffSeconds: number | null; lock: boolean }): Promise<void> {
    await q.query(
      `UPDATE attempt_counters SET
         backoff_until = CASE WHEN $3::float8 IS NULL THEN backoff_until ELSE now() + make_interval(secs => $3::float8) END,
         locked_at = CASE WHEN $4::boolean THEN COALESCE(locked_at, now()) ELSE locked_at END
       WHERE site = $5 AND scope = $1 AND key = $2`,
      [scope, key, p.backoffSeconds, p.lock, this.site],
    );
  }

  /**
   * What a successful attempt changes, in one statement and in this order: `refund` gives back
   * one counted failure (the attempt turned out to succeed); each of `clear` starts its
   * consecutive count over and ends its back-off unless locked (not the window, which counts
   * failures only); each of `remove` is deleted as `unlock` does. Each step waits for the one
   * before, so the rows are locked in the order given.
   */
  async settleSuccess(
    q: Queryable,
    s: { refund: [AttemptScope, string]; clear: [AttemptScope, string][]; remove: [AttemptScope, string][] },
  ): Promise<void> {
    const params: unknown[] = [this.site];
    const key = ([scope, k]: [AttemptScope, string]) => {
      params.push(scope, k);
      return `site = $1 AND scope = $${params.length - 1} AND key = $${params.length}`;
    };
    const steps = [
      `UPDATE attempt_counters SET window_failures = GREATEST(window_failures - 1, 0), consecutive = GREATEST(consecutive - 1, 0), updated_at = now()
       WHERE ${key(s.refund)}`,
      ...s.clear.map(
        (c) =>
          `UPDATE attempt_counters SET consecutive = 0, backoff_until = NULL, updated_at = now() WHERE ${key(c)} AND locked_at IS NULL`,
      ),
      ...s.remove.map((r) => `DELETE FROM attempt_counters WHERE ${key(r)}`),
    ];
    // a step's condition on the step before runs that step to completion first
    const ctes = steps.map((sql, i) => `s${i} AS (${sql}${i > 0 ? ` AND (SELECT count(*) FROM s${i - 1}) >= 0` : ''} RETURNING 1)`);
    await q.query(`WITH ${ctes.join(', ')} SELECT count(*) FROM s${steps.length - 1}`, params);
  }

  async unlock(q: Queryable, scope: AttemptScope, key: string): Promise<void> {
    await q.query('DELETE FROM attempt_counters WHERE site = $3 AND scope = $1 AND key = $2', [scope, key, this.site]);
  }

  async unlockPrefix(q: Queryable, scope: AttemptScope, prefix: string): Promise<void> {
    await q.query('DELETE FROM attempt_counters WHERE site = $3 AND scope = $1 AND left(key, length($2)) = $2', [scope, prefix, this.site]);
  }
}
