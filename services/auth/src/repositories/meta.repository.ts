/** Small key/value facts about the database itself (e.g. which master key encrypted it). */
import type { Queryable } from '../db/database.js';

export class MetaRepository {
  async get(q: Queryable, key: string): Promise<string | undefined> {
    const { rows } = await q.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return rows[0]?.value;
  }

  /** Sets the value unless one exists; returns the value now stored. */
  async setIfAbsent(q: Queryable, key: string, value: string): Promise<string> {
    await q.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.get(q, key)) as string;
  }
}
