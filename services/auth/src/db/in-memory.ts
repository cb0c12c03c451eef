/** A migrated PGlite database in memory: unit tests of services and repositories, in seconds. */
import pino from 'pino';
import { openDatabase, type Database } from './database.js';
import { migrate } from './migrate.js';

export async function openMemoryDatabase(): Promise<Database> {
  const log = pino({ level: 'silent' });
  const db = await openDatabase({ databaseUrl: undefined, databasePassword: undefined, dataDir: 'memory://', poolSize: 1, log });
  await migrate(db, log);
  return db;
}
