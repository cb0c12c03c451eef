/**
 * SQL of hub/site replication: publications, subscriptions, slots, the heartbeat, write marks,
 * the site registry and the read-only guard. Which tables go where comes from db/replication.ts.
 * CREATE/ALTER SUBSCRIPTION cannot run inside a transaction block: callers pass a connection in
 * autocommit (a pool, or a client holding a session-level advisory lock).
 */
import type { Queryable } from '../db/database.js';
import { GUARD_TRIGGER, ident, literal } from '../db/replication.js';
import { toDate } from '../lib/sql.js';

export interface SubscriptionRecord {
  name: string;
  enabled: boolean;
  /** null when this role may not read it */
  conninfo: string | null;
  slot: string | null;
  publications: string[];
}

export interface SubscriptionStatus {
  name: string;
  /** the apply worker runs (it exits while the publisher cannot be reached) */
  running: boolean;
  receivedLsn: string | null;
  lastMessageAt: Date | null;
}

export interface SlotRecord {
  name: string;
  active: boolean;
  restartLsn: string | null;
  confirmedFlushLsn: string | null;
  walStatus: string | null;
  /** bytes of WAL the slot holds back (the publisher's current position minus what the subscriber confirmed) */
  lagBytes: number | null;
}

type Row = Record<string, unknown>;

export class ReplicationRepository {
  // ------------------------------------------------------------------ publications

  async publicationTables(q: Queryable, name: string): Promise<string[] | undefined> {
    const pub = await q.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
    if (pub.rowCount === 0) return undefined;
    const { rows } = await q.query<{ tablename: string }>(
      'SELECT tablename FROM pg_publication_tables WHERE pubname = $1 AND schemaname = current_schema() ORDER BY tablename',
      [name],
    );
    return rows.map((r) => r.tablename);
  }

  /** Creates the publication, or sets its tables to exactly `tables`. Returns what changed. */
  async ensurePublication(q: Queryable, name: string, tables: readonly string[]): Promise<'created' | 'updated' | 'unchanged'> {
    const have = await this.publicationTables(q, name);
    const list = tables.map(ident).join(', ');
    if (have === undefined) {
      await q.query(`CREATE PUBLICATION ${ident(name)} FOR TABLE ${list}`);
      return 'created';
    }
    if (sameSet(have, tables)) return 'unchanged';
    await q.query(`ALTER PUBLICATION ${ident(name)} SET TABLE ${list}`);
    return 'updated';
  }

  async publicationExists(q: Queryable, name: string): Promise<boolean> {
    return (await q.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name])).rowCount > 0;
  }

  // ------------------------------------------------------------------ subscriptions

  async subscription(q: Queryable, name: string): Promise<SubscriptionRecord | undefined> {
    // only superusers may read the connection string (it holds a password); a role that merely
    // may create subscriptions (pg_create_subscription, PostgreSQL 16+) sees everything else
    const { rows } = await q.query<Row>(
      `SELECT subname, subenabled, subslotname, subpublications,
              CASE WHEN has_column_privilege('pg_subscription', 'subconninfo', 'SELECT') THEN 'readable' END AS readable
       FROM pg_subscription
       WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [name],
    );
    const r = rows[0];
    if (!r) return undefined;
    const conninfo = r.readable
      ? String((await q.query<Row>('SELECT subconninfo FROM pg_subscription WHERE subname = $1', [name])).rows[0]?.subconninfo)
      : null;
    return {
      name: String(r.subname),
      enabled: Boolean(r.subenabled),
      conninfo,
      slot: r.subslotname === null ? null : String(r.subslotname),
      publications: parseTextArray(r.subpublications),
    };
  }

  /**
   * A new subscription copies the tables first (copy_data), then streams. Errors while applying
   * are retried (not disable_on_error): the usual cause is a column the other side has not
   * migrated yet, which heals itself once both sides run the same migrations.
   */
  async createSubscription(q: Queryable, name: string, conninfo: string, publication: string): Promise<void> {
    await q.query(
      `CREATE SUBSCRIPTION ${ident(name)} CONNECTION ${literal(conninfo)} PUBLICATION ${ident(publication)}
       WITH (copy_data = true, disable_on_error = false)`,
    );
  }

  async setConnection(q: Queryable, name: string, conninfo: string): Promise<void> {
    await q.query(`ALTER SUBSCRIPTION ${ident(name)} CONNECTION ${literal(conninfo)}`);
  }

  async enable(q: Queryable, name: string): Promise<void> {
    await q.query(`ALTER SUBSCRIPTION ${ident(name)} ENABLE`);
  }

  /** Picks up tables added to the publication (and copies them); needs the publisher. */
  async refresh(q: Queryable, name: string): Promise<void> {
    await q.query(`ALTER SUBSCRIPTION ${ident(name)} REFRESH PUBLICATION WITH (copy_data = true)`);
  }

  async subscribedTables(q: Queryable, name: string): Promise<string[]> {
    const { rows } = await q.query<{ relname: string }>(
      `SELECT c.relname FROM pg_subscription_rel sr
       JOIN pg_subscription s ON s.oid = sr.srsubid JOIN pg_class c ON c.oid = sr.srrelid
       WHERE s.subname = $1 ORDER BY c.relname`,
      [name],
    );
    return rows.map((r) => r.relname);
  }

  /** Tables of the subscription still in their initial copy (state other than ready). */
  async tablesSyncing(q: Queryable, name: string): Promise<number> {
    const { rows } = await q.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_subscription_rel sr JOIN pg_subscription s ON s.oid = sr.srsubid
       WHERE s.subname = $1 AND sr.srsubstate <> 'r'`,
      [name],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async status(q: Queryable, name: string): Promise<SubscriptionStatus> {
    const { rows } = await q.query<Row>(
      `SELECT pid, received_lsn::text AS received_lsn, last_msg_receipt_time FROM pg_stat_subscription
       WHERE subname = $1 AND relid IS NULL`,
      [name],
    );
    const r = rows[0];
    return {
      name,
      running: r !== undefined && r.pid !== null,
      receivedLsn: (r?.received_lsn as string | null | undefined) ?? null,
      lastMessageAt: r?.last_msg_receipt_time ? toDate(r.last_msg_receipt_time) : null,
    };
  }

  // ------------------------------------------------------------------ slots (on the publisher)

  async slots(q: Queryable, prefix: string): Promise<SlotRecord[]> {
    const { rows } = await q.query<Row>(
      `SELECT slot_name, active, restart_lsn::text AS restart_lsn, confirmed_flush_lsn::text AS confirmed_flush_lsn, wal_status,
              pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag_bytes
       FROM pg_replication_slots WHERE slot_name LIKE $1 ORDER BY slot_name`,
      [`${prefix.replace(/_/g, '\\_')}%`],
    );
    return rows.map((r) => ({
      name: String(r.slot_name),
      active: Boolean(r.active),
      restartLsn: (r.restart_lsn as string | null) ?? null,
      confirmedFlushLsn: (r.confirmed_flush_lsn as string | null) ?? null,
      walStatus: (r.wal_status as string | null) ?? null,
      lagBytes: r.lag_bytes === null || r.lag_bytes === undefined ? null : Number(r.lag_bytes),
    }));
  }

  /** Drops a slot no subscriber uses any more (e.g. left behind by a site database that was rebuilt). */
  async dropInactiveSlot(q: Queryable, name: string): Promise<boolean> {
    const { rowCount } = await q.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
      [name],
    );
    return rowCount > 0;
  }

  // ------------------------------------------------------------------ heartbeat and marks

  async beat(q: Queryable): Promise<void> {
    await q.query('INSERT INTO replication_heartbeat (id, at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = excluded.at');
  }

  /** Seconds since the newest heartbeat this database holds; undefined before the first one. */
  async secondsSinceBeat(q: Queryable): Promise<number | undefined> {
    const { rows } = await q.query<{ s: number }>(
      'SELECT extract(epoch FROM now() - at)::float8 AS s FROM replication_heartbeat WHERE id = 1',
    );
    return rows[0] ? Number(rows[0].s) : undefined;
  }

  async purgeMarks(q: Queryable): Promise<void> {
    await q.query(`DELETE FROM replication_marks WHERE at < now() - interval '1 hour'`);
  }

  // ------------------------------------------------------------------ the site registry (at the hub)

  /**
   * Registers a site, or confirms an existing registration by the same database instance.
   * Numbers are handed out in order under a table lock, so two sites never share one.
   */
  async registerSite(q: Queryable, name: string, instance: string): Promise<{ number: number; instance: string }> {
    await q.query('LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE');
    const { rows } = await q.query<Row>(
      `INSERT INTO sites (name, number, instance) SELECT $1, COALESCE(max(number), 0) + 1, $2 FROM sites
       ON CONFLICT (name) DO UPDATE SET last_seen_at = now() RETURNING number, instance::text AS instance`,
      [name, instance],
    );
    return { number: Number(rows[0]?.number), instance: String(rows[0]?.instance) };
  }

  async maxAuditId(q: Queryable, first: number, last: number): Promise<number> {
    const { rows } = await q.query<{ m: string | null }>('SELECT max(id)::text AS m FROM audit_events WHERE id BETWEEN $1 AND $2', [
      first,
      last,
    ]);
    return rows[0]?.m ? Number(rows[0].m) : 0;
  }

  /** The value the audit id sequence hands out next. */
  async nextAuditId(q: Queryable): Promise<number> {
    const { rows } = await q.query<Row>(`SELECT pg_get_serial_sequence('audit_events', 'id') AS seq`);
    const seq = String(rows[0]?.seq);
    const r = (await q.query<Row>(`SELECT last_value::text AS v, is_called FROM ${seq}`)).rows[0];
    return Number(r?.v) + (r?.is_called ? 1 : 0);
  }

  async restartAuditIds(q: Queryable, from: number): Promise<void> {
    if (!Number.isSafeInteger(from)) throw new RangeError(`audit id ${from}`);
    await q.query(`ALTER TABLE audit_events ALTER COLUMN id RESTART WITH ${from}`);
  }

  // ------------------------------------------------------------------ the site's copy

  /** Makes each table refuse local INSERT/UPDATE/DELETE/TRUNCATE (the apply worker is not affected). */
  async ensureReadOnly(q: Queryable, tables: readonly string[]): Promise<string[]> {
    const added: string[] = [];
    for (const t of tables) {
      const { rowCount } = await q.query('SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2', [t, GUARD_TRIGGER]);
      if (rowCount > 0) continue;
      await q.query(
        `CREATE TRIGGER ${ident(GUARD_TRIGGER)} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${ident(t)}
         FOR EACH STATEMENT EXECUTE FUNCTION faceline_refuse_local_write()`,
      );
      added.push(t);
    }
    return added;
  }

  async rowsIn(q: Queryable, tables: readonly string[]): Promise<number> {
    let n = 0;
    for (const t of tables) n += Number((await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(t)}`)).rows[0]?.n ?? 0);
    return n;
  }

  /**
   * Empties the copied tables before a fresh initial copy. Runs as the apply worker does
   * (session_replication_role = replica): the guard stays quiet and no foreign-key cascade
   * removes the site's own sessions. Call inside a transaction.
   */
  async emptyCopy(q: Queryable, tables: readonly string[]): Promise<void> {
    await q.query('SET LOCAL session_replication_role = replica');
    for (const t of tables) await q.query(`DELETE FROM ${ident(t)}`);
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

/** node-postgres returns name[] as text like `{a,b}` for some types. */
function parseTextArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string')
    return v
      .replace(/^\{|\}$/g, '')
      .split(',')
      .filter(Boolean);
  return [];
}
