/**
 * Forward-only SQL migrations from services/auth/migrations, applied in file-name order under
 * an advisory lock, so several replicas starting at once apply each file exactly once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Database } from './database.js';

/** src/db and dist/db are both two levels below the package root. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Arbitrary but fixed: "FACE" in ASCII. */
export const MIGRATION_LOCK_ID = 0x46414345;

export interface Migration {
  version: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(`${dir}/${f}`, 'utf8') }));
}

/** Returns the versions applied by this call. */
export async function migrate(db: Database, log: Logger, migrations = loadMigrations()): Promise<string[]> {
  return db.withLock(MIGRATION_LOCK_ID, async (q) => {
    await q.query('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await q.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      // PGlite's withLock already runs inside a transaction; PostgreSQL gets one per file.
      if (db.kind === 'postgres') await q.query('BEGIN');
      try {
        // at a site the hub's tables refuse local writes, except from migrations (0005)
        await q.query("SELECT set_config('faceline.migrating', 'on', true)");
        await runScript(q, m.sql);
        await q.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
        if (db.kind === 'postgres') await q.query('COMMIT');
      } catch (err) {
        if (db.kind === 'postgres') await q.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${m.version} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
      log.info({ version: m.version }, 'applied database migration');
    }
    return applied;
  });
}

/**
 * Splits a script on semicolons at line ends, because the extended protocol (parameters) takes
 * one statement at a time. Migrations avoid semicolons inside strings and function bodies.
 */
async function runScript(q: { query: (sql: string) => Promise<unknown> }, sql: string): Promise<void> {
  const statements = sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
  for (const s of statements) await q.query(s);
}
