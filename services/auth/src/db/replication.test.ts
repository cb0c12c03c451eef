// Every table of the schema has a replication class, and the names built from site names are
// valid and distinct: a new table that nobody classified fails here, not in a plant.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { openDatabase, type Database } from './database.js';
import { migrate } from './migrate.js';
import {
  MAX_SITE_NUMBER,
  SITE_ID_RANGE,
  TABLES,
  auditRange,
  identitySubscription,
  siteSubscription,
  tablesOf,
  type TableName,
} from './replication.js';

describe('replication classification', () => {
  let db: Database;
  let schemaTables: string[];

  before(async () => {
    db = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://', poolSize: 1, log: pino({ level: 'silent' }) });
    await migrate(db, pino({ level: 'silent' }));
    const { rows } = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    schemaTables = rows.map((r) => r.table_name);
  });
  after(async () => db?.close());

  it('classifies every table the migrations create (add new tables to TABLES in src/db/replication.ts)', () => {
    assert.ok(schemaTables.length >= 10, `only ${schemaTables.length} tables`);
    const unclassified = schemaTables.filter((t) => !(t in TABLES));
    assert.deepEqual(unclassified, [], `tables without a replication class: ${unclassified.join(', ')}`);
  });

  it('classifies no table that does not exist (a renamed or dropped table must leave the list)', () => {
    const missing = Object.keys(TABLES).filter((t) => !schemaTables.includes(t));
    assert.deepEqual(missing, []);
  });

  it('every replicated table has a primary key (logical replication needs one to apply updates and deletes)', async () => {
    for (const t of [...tablesOf('identity'), ...tablesOf('site')]) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.table_constraints
         WHERE table_schema = current_schema() AND table_name = $1 AND constraint_type = 'PRIMARY KEY'`,
        [t],
      );
      assert.equal(rows[0]?.n, 1, `${t} has no primary key`);
    }
  });

  it('site tables carry keys that cannot repeat across sites', async () => {
    // random ids, or a site column in the key, or audit_events' per-site id range
    const keys: Record<string, string[]> = {};
    for (const t of tablesOf('site')) {
      const { rows } = await db.query<{ column_name: string }>(
        `SELECT k.column_name FROM information_schema.table_constraints c
         JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
         WHERE c.table_schema = current_schema() AND c.table_name = $1 AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position`,
        [t],
      );
      keys[t] = rows.map((r) => r.column_name);
    }
    assert.deepEqual(keys, {
      attempt_counters: ['site', 'scope', 'key'],
      audit_events: ['id'],
      last_logins: ['site', 'user_id'],
      refresh_tokens: ['token_hash'],
      sessions: ['id'],
    });
  });

  it('puts each table in exactly one class, and the hub publishes no site table', () => {
    const all = [...tablesOf('identity'), ...tablesOf('site'), ...tablesOf('local')];
    assert.equal(new Set(all).size, all.length);
    assert.equal(all.length, Object.keys(TABLES).length);
    for (const t of ['users', 'face_templates', 'signing_keys'] as TableName[]) assert.equal(TABLES[t], 'identity', t);
    for (const t of ['sessions', 'audit_events', 'attempt_counters'] as TableName[]) assert.equal(TABLES[t], 'site', t);
    assert.equal(TABLES.login_grants, 'local', 'grants live for a minute where they were issued');
  });

  it('docs/sites.md lists every table with the class it has here', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../../docs/sites.md', import.meta.url)), 'utf8');
    const at = doc.indexOf('<!-- classification table');
    assert.ok(at >= 0, 'classification table marker missing from docs/sites.md');
    const rows = [...doc.slice(at).matchAll(/^\| `([a-z_]+)` \| (identity|site|local) \|/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(Object.fromEntries(rows), { ...TABLES });
  });

  it('builds slot names from site names: valid, distinct, within PostgreSQL limits', () => {
    assert.equal(identitySubscription('line-7'), 'faceline_identity_line_7');
    assert.equal(siteSubscription('line-7'), 'faceline_site_line_7');
    const long = 'a'.repeat(40);
    assert.ok(identitySubscription(long).length <= 63);
    assert.notEqual(identitySubscription('line-7'), identitySubscription('line-8'));
    assert.throws(() => identitySubscription('Line 7'), /not a site name/);
  });

  it('gives each site its own audit id range, exact in JavaScript numbers', () => {
    assert.deepEqual(auditRange(1), { first: SITE_ID_RANGE + 1, last: 2 * SITE_ID_RANGE - 1 });
    assert.ok(auditRange(2).first > auditRange(1).last);
    assert.ok(Number.isSafeInteger(auditRange(MAX_SITE_NUMBER).last));
    assert.throws(() => auditRange(0), RangeError);
  });
});
