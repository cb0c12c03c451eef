/**
 * A site's connection to the hub's database, across the WAN: the only way a site changes an
 * identity (enrollment, deletion, profile, role, signing keys). It looks like a Database, so the
 * services write through it unchanged, and it differs in three ways:
 *
 * - Everything is bounded by HUB_TIMEOUT_MS (connecting and every statement). A lost uplink
 *   surfaces as HUB_UNAVAILABLE (503, retryable) instead of a hang, and the connection that
 *   timed out is thrown away, never handed to the next caller.
 * - Every write runs in one transaction at the hub, so a cut in the middle leaves nothing
 *   half-written: PostgreSQL rolls back whatever did not commit.
 * - Each transaction also writes a mark that replicates with it; the caller returns once the
 *   mark has arrived in the site's own copy, so whatever it reads next locally includes the
 *   write (or after SITE_WRITE_WAIT_MS, with a warning, when replication is behind).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { ErrorCode } from '@faceline/contracts';
import type { Database, Queryable } from '../db/database.js';
import { withPassword } from '../db/database.js';
import { AuthError, isDatabaseUnavailable } from '../errors.js';

export interface HubDatabaseOptions {
  url: string;
  password?: string | undefined;
  timeoutMs: number;
  /** how long a write waits to see its mark in the local copy; 0 = do not wait */
  waitMs: number;
  log: Logger;
}

/** SELECT without locking clauses or the functions this service writes with. */
const READ_ONLY = /^\s*SELECT\b(?![\s\S]*\b(FOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)|pg_notify|nextval|setval|pg_advisory)\b)/i;

const TIMEOUT_MESSAGES = /Query read timeout|timeout exceeded when trying to connect|Connection terminated due to connection timeout/;

/** True when the error means the hub cannot be reached (as opposed to a refused statement). */
export function isHubUnreachable(err: unknown): boolean {
  return isDatabaseUnavailable(err) || (err instanceof Error && TIMEOUT_MESSAGES.test(err.message));
}

export function hubUnavailable(cause?: unknown): AuthError {
  return new AuthError(
    ErrorCode.HUB_UNAVAILABLE,
    'the central hub cannot be reached from this site; enrollment, deletion and role changes need it (sign-ins go on); try again later',
    undefined,
    { cause },
  );
}

function wrap(client: pg.PoolClient | pg.Client): Queryable {
  return {
    async query<R>(sql: string, params: unknown[] = []) {
      const res = await client.query(sql, params);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
  };
}

export class HubDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly connectionString: string;

  constructor(
    private readonly local: Queryable,
    private readonly opts: HubDatabaseOptions,
  ) {
    this.connectionString = withPassword(opts.url, opts.password);
    this.pool = new pg.Pool({
      connectionString: this.connectionString,
      max: 4,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: opts.timeoutMs,
      query_timeout: opts.timeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      application_name: 'faceline-site',
    });
    this.pool.on('error', (err) => opts.log.warn({ err: err.message }, 'idle hub connection failed'));
    this.pool.on('connect', (client) => client.on('error', (err) => opts.log.warn({ err: err.message }, 'hub connection lost')));
  }

  /**
   * A write becomes its own transaction with a mark, so that it, too, is read back; a plain read
   * (a repository reading back what it just wrote at the hub) needs neither.
   */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    if (READ_ONLY.test(sql)) return this.direct((q) => q.query<R>(sql, params));
    return this.tx((q) => q.query<R>(sql, params));
  }

  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      const mark = randomUUID();
      await client.query('BEGIN');
      const result = await fn(wrap(client));
      await client.query('INSERT INTO replication_marks (id) VALUES ($1)', [mark]);
      await client.query('COMMIT');
      return { result, mark };
    }, true).then(async ({ result, mark }) => {
      await this.waitForMark(mark);
      return result;
    });
  }

  withLock<T>(lockId: number, fn: (q: Queryable) => Promise<T>): Promise<T> {
    // a transaction-level lock: it goes away with the transaction, also when the link does
    return this.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [lockId]);
      return fn(q);
    });
  }

  /**
   * Statements at the hub without a mark or a wait: registration, checks, slot housekeeping;
   * `tx` runs them in one transaction.
   */
  direct<T>(fn: (q: Queryable) => Promise<T>, opts: { tx?: boolean } = {}): Promise<T> {
    if (!opts.tx) return this.withClient((client) => fn(wrap(client)), false);
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    }, true);
  }

  async listen(): Promise<() => Promise<void>> {
    throw new Error('a site listens to its own database; the hub connection carries writes only');
  }

  /** One fresh connection and `SELECT 1` within the timeout: can the hub be reached right now? */
  async probe(): Promise<boolean> {
    const c = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: this.opts.timeoutMs,
      query_timeout: this.opts.timeoutMs,
      application_name: 'faceline-site-probe',
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      // a connection stuck behind a cut link must not wait for a polite goodbye
      (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      void c.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>, inTx: boolean): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw hubUnavailable(err);
    }
    let broken = false;
    try {
      return await fn(client);
    } catch (err) {
      broken = isHubUnreachable(err);
      if (inTx && !broken) await client.query('ROLLBACK').catch(() => undefined);
      if (broken) throw hubUnavailable(err);
      throw err;
    } finally {
      // a connection that timed out may still have a statement in flight: never reuse it
      client.release(broken ? true : undefined);
    }
  }

  private async waitForMark(mark: string): Promise<void> {
    if (this.opts.waitMs <= 0) return;
    const until = Date.now() + this.opts.waitMs;
    while (Date.now() < until) {
      const { rowCount } = await this.local.query('SELECT 1 FROM replication_marks WHERE id = $1', [mark]);
      if (rowCount > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.opts.log.warn({ waitedMs: this.opts.waitMs }, 'a write at the hub has not come back to this site yet; replication is behind');
  }
}
