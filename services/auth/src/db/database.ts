/**
 * One small interface over PostgreSQL (node-postgres pool) and PGlite (embedded, WASM), so
 * repositories write plain SQL once. Only what both accept is used: positional parameters,
 * transactions, LISTEN/NOTIFY through pg_notify.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction on one connection; rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn on one connection holding a session-level advisory lock (migrations, key creation). */
  withLock<T>(lockId: number, fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Subscribes to a notification channel; the handler also gets `null` after a reconnect (state may have been missed). */
  listen(channel: string, handler: (payload: string | null) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Fail fast instead of waiting forever when the server cannot be reached, and notice half-open
 * connections (a server that vanished without closing them).
 */
const CONNECTION_OPTIONS = { connectionTimeoutMillis: 5000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 } as const;

// pg returns int8 as text by default: counts are cast to int in SQL, so nothing here needs it.

class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  private listeners: pg.Client[] = [];
  private closed = false;
  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly log: Logger,
  ) {}

  async query<R>(sql: string, params: unknown[] = []) {
    const res = await this.pool.query(sql, params);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(wrapClient(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async withLock<T>(lockId: number, fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lockId]);
      try {
        return await fn(wrapClient(client));
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [lockId]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  async listen(channel: string, handler: (payload: string | null) => void): Promise<() => Promise<void>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    let client: pg.Client | undefined;
    let stopped = false;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.connectionString, ...CONNECTION_OPTIONS });
      c.on('notification', (msg) => {
        if (msg.channel === channel) handler(msg.payload ?? '');
      });
      let lost = false;
      c.on('error', (err) => {
        // a dying connection may report more than one error: reconnect once
        if (lost) return;
        lost = true;
        this.log.warn({ err: err.message, channel }, 'notification connection lost; reconnecting');
        this.listeners = this.listeners.filter((l) => l !== c);
        c.end().catch(() => undefined);
        if (!stopped && !this.closed) setTimeout(() => void reconnect(), 1000).unref();
      });
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      client = c;
      this.listeners.push(c);
    };
    const reconnect = async (): Promise<void> => {
      try {
        await connect();
        handler(null);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, channel }, 'notification reconnect failed; retrying');
        if (!stopped && !this.closed) setTimeout(() => void reconnect(), 2000).unref();
      }
    };
    await connect();
    return async () => {
      stopped = true;
      if (client) {
        this.listeners = this.listeners.filter((l) => l !== client);
        await client.end().catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.listeners.map((c) => c.end().catch(() => undefined)));
    await this.pool.end();
  }
}

function wrapClient(client: pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params: unknown[] = []) {
      const res = await client.query(sql, params);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
  };
}

class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  constructor(private readonly db: PGlite) {}

  async query<R>(sql: string, params: unknown[] = []) {
    const res = await this.db.query<R>(sql, params);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  }

  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        async query<R>(sql: string, params: unknown[] = []) {
          const res = await t.query<R>(sql, params);
          return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
        },
      }),
    );
  }

  // One process owns a PGlite data directory, so there is nobody to lock against; the
  // transaction still keeps concurrent callers inside this process apart.
  withLock<T>(_lockId: number, fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.tx(fn);
  }

  async listen(channel: string, handler: (payload: string | null) => void) {
    const unsubscribe = await this.db.listen(channel, (payload) => handler(payload));
    return async () => {
      await unsubscribe().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

export interface OpenDatabaseOptions {
  databaseUrl: string | undefined;
  /** used when the URL carries no password (PGPASSWORD_FILE) */
  databasePassword?: string | undefined;
  /** PGlite data directory; `memory://` keeps everything in memory (tools, some tests). */
  dataDir: string;
  poolSize: number;
  log: Logger;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const connectionString = withPassword(opts.databaseUrl, opts.databasePassword);
    const pool = new pg.Pool({ connectionString, max: opts.poolSize, idleTimeoutMillis: 30_000, ...CONNECTION_OPTIONS });
    pool.on('error', (err) => opts.log.warn({ err: err.message }, 'idle database connection failed'));
    // pg-pool listens for errors only on idle clients. A client checked out by tx/withLock whose
    // server goes away (restart, failover) emits 'error' with nobody listening, which would end
    // the process; the failing query rejects anyway and the pool drops the broken client.
    pool.on('connect', (client) => {
      client.on('error', (err) => opts.log.warn({ err: err.message }, 'database connection lost'));
    });
    const db = new PgDatabase(pool, connectionString, opts.log);
    await db.query('SELECT 1');
    return db;
  }
  let dir = opts.dataDir;
  if (dir !== 'memory://') {
    dir = `${opts.dataDir}/pgdata`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const lite = await PGlite.create(dir === 'memory://' ? undefined : dir);
  return new PgliteDatabase(lite);
}

/**
 * node-postgres ignores a `password` option next to a connection string (the string's empty
 * password wins), so a password read from a file goes into the URL itself. A password already
 * in the URL is kept.
 */
export function withPassword(databaseUrl: string, password: string | undefined): string {
  if (!password) return databaseUrl;
  const url = new URL(databaseUrl);
  if (url.password) return databaseUrl;
  url.password = encodeURIComponent(password);
  return url.toString();
}
