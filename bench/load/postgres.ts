/**
 * A private PostgreSQL 15 instance for the harness (initdb + pg_ctl in a temp folder, free port),
 * so that the restart fault can stop and start it without touching the machine's shared server.
 * PostgreSQL refuses to run as root: when the harness runs as root, the server runs as the
 * `postgres` user through runuser.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { adoptPid, forget, freePort, type Managed } from './procs.js';

const run = promisify(execFile);

const PG_BIN_CANDIDATES = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

export function findPgBin(): string | undefined {
  const fromEnv = process.env.FACELINE_PG_BIN;
  if (fromEnv && existsSync(path.join(fromEnv, 'initdb'))) return fromEnv;
  return PG_BIN_CANDIDATES.find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl')));
}

export interface PrivatePostgresOptions {
  /** address the server listens on (default 127.0.0.1) */
  host?: string;
  /** port (default: a free loopback port) */
  port?: number;
  /** extra server settings, e.g. `{ wal_level: 'logical' }` */
  settings?: Record<string, string | number>;
  /** prefix for every server command, e.g. `['ip', 'netns', 'exec', 'ns1']` to run it inside a network namespace */
  wrap?: string[];
  /** clients from any address may connect without a password (trust), replication included; a private test server only */
  trustEveryone?: boolean;
}

export class PrivatePostgres {
  managed: Managed | undefined;
  readonly host: string;
  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string | undefined,
    private readonly opts: PrivatePostgresOptions = {},
  ) {
    this.host = opts.host ?? '127.0.0.1';
  }

  static async create(bin: string, opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const dir = mkdtempSync('/tmp/faceline-load-pg-');
    const asUser = userInfo().uid === 0 ? 'postgres' : undefined;
    if (asUser) {
      const { stdout } = await run('id', ['-u', asUser]);
      const { stdout: gid } = await run('id', ['-g', asUser]);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const pgp = new PrivatePostgres(bin, dir, opts.port ?? (await freePort()), asUser, opts);
    await pgp.exec('initdb', ['-D', pgp.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    if (opts.trustEveryone) {
      appendFileSync(path.join(pgp.dataDir, 'pg_hba.conf'), '\nhost all all 0.0.0.0/0 trust\nhost replication all 0.0.0.0/0 trust\n');
    }
    return pgp;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  url(database: string): string {
    return `postgres://postgres@${this.host}:${this.port}/${database}`;
  }

  private exec(tool: string, args: string[]) {
    const file = path.join(this.bin, tool);
    const argv = this.asUser ? ['runuser', '-u', this.asUser, '--', file, ...args] : [file, ...args];
    const full = [...(this.opts.wrap ?? []), ...argv];
    return run(full[0] as string, full.slice(1));
  }

  async start(): Promise<void> {
    // durability is part of what is tested: fsync stays on; a small server fits next to the services
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      `-c listen_addresses=${this.host}`,
      '-c max_connections=100',
      '-c shared_buffers=64MB',
      ...Object.entries(this.opts.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
    ].join(' ');
    await this.exec('pg_ctl', ['-D', this.dataDir, '-o', opts, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
    const pid = Number(readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (this.managed) forget(this.managed);
    this.managed = adoptPid('postgres', pid, true);
  }

  /** `immediate` is a crash as far as the data is concerned: no shutdown checkpoint, WAL replay at start. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']).catch(() => undefined);
    if (this.managed) forget(this.managed);
    this.managed = undefined;
  }

  async createDatabase(name: string): Promise<void> {
    const c = new pg.Client({ connectionString: this.url('postgres') });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
  }

  async destroy(): Promise<void> {
    await this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The fallback without PostgreSQL binaries: a fresh database on the shared server (no restart fault). */
export async function createSharedDatabase(adminUrl: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.href,
    drop: async () => {
      const d = new pg.Client({ connectionString: adminUrl });
      await d.connect();
      try {
        await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await d.end();
      }
    },
  };
}
