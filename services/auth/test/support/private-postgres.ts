/**
 * A private PostgreSQL 15 instance that a test may stop and start (initdb + pg_ctl in a temp
 * folder, free port), never the machine's shared server. PostgreSQL refuses to run as root, so
 * as root the server runs as the `postgres` user through runuser (the same approach as the
 * load harness in bench/load/postgres.ts).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '@faceline/testkit';

const run = promisify(execFile);
const BIN_CANDIDATES = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

export function findPgBin(): string | undefined {
  const fromEnv = process.env.FACELINE_PG_BIN;
  if (fromEnv && existsSync(path.join(fromEnv, 'initdb'))) return fromEnv;
  return BIN_CANDIDATES.find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl')));
}

export class PrivatePostgres {
  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string | undefined,
    private readonly settings: Record<string, string | number> = {},
  ) {}

  /** `settings`: extra server settings, e.g. `{ wal_level: 'logical' }` for a replication publisher. */
  static async create(bin: string, settings: Record<string, string | number> = {}): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(tmpdir(), 'faceline-auth-pg-'));
    const asUser = userInfo().uid === 0 ? 'postgres' : undefined;
    if (asUser) {
      const uid = Number((await run('id', ['-u', asUser])).stdout.trim());
      const gid = Number((await run('id', ['-g', asUser])).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const p = new PrivatePostgres(bin, dir, await freePort(), asUser, settings);
    await p.exec('initdb', ['-D', p.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    return p;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private exec(tool: string, args: string[]) {
    const file = path.join(this.bin, tool);
    return this.asUser ? run('runuser', ['-u', this.asUser, '--', file, ...args]) : run(file, args);
  }

  async start(): Promise<void> {
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=40',
      '-c shared_buffers=16MB',
      '-c fsync=off',
      ...Object.entries(this.settings).map(([k, v]) => `-c ${k}=${v}`),
    ].join(' ');
    await this.exec('pg_ctl', ['-D', this.dataDir, '-o', opts, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']).catch(() => undefined);
  }

  async query(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  }

  async destroy(): Promise<void> {
    await this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
