/**
 * The simulated plant: a hub and two sites, each with its own PostgreSQL 15, vision and auth,
 * in its own network namespace (netns.ts), the sites joined to the hub by an uplink relay each
 * (relay.ts). Processes, PostgreSQL instances and cleanup come from the load harness
 * (bench/load/procs.ts, postgres.ts).
 *
 *   site A ──(uplink A: relay up, relay down)── hub ──(uplink B)── site B
 *
 * "up" carries what a site opens towards the hub (its subscription, its authority writes, and in
 * the old layout its whole database traffic); "down" carries the hub's subscription to the site.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { REPO_ROOT } from '@faceline/testkit';
import { findPgBin, PrivatePostgres } from '../load/postgres.js';
import { onCleanup, sleep, spawnManaged, stopGracefully, type Managed } from '../load/procs.js';
import { Topology, type Location, type LocationName } from './netns.js';
import { Relay } from './relay.js';

export const SITE_NAMES: Record<'a' | 'b', string> = { a: 'site-a', b: 'site-b' };

/** Replication as a plant would tune it: retry a lost link after 1 s instead of 5 s. */
const PG_SETTINGS = {
  wal_level: 'logical',
  max_wal_senders: 10,
  max_replication_slots: 10,
  max_logical_replication_workers: 8,
  max_worker_processes: 16,
  wal_retrieve_retry_interval: '1s',
};

export interface Uplink {
  up: Relay;
  down: Relay;
  cut(): void;
  restore(): void;
  setDelay(ms: number): void;
}

export interface Service {
  name: string;
  loc: Location;
  port: number;
  url: string;
  env: NodeJS.ProcessEnv;
  entry: string;
  proc?: Managed;
}

export interface Station {
  loc: Location;
  pg: PrivatePostgres;
  /** the harness's own connection to this location's database (observer, not the uplink) */
  db: pg.Pool;
  vision: Service;
  auth: Service;
}

export interface PlantOptions {
  dir: string;
  log: (m: string) => void;
  /** staleness limit of each site */
  staleLimitSeconds: Record<'a' | 'b', number>;
}

const NODE_ARGS = ['--conditions=source', '--import', 'tsx'];

/** The operator's one-time token for the first administrator at the hub. */
export const SETUP_TOKEN = 'plant-run-setup-token-0001';

export class Plant {
  topo!: Topology;
  stations = {} as Record<LocationName, Station>;
  uplinks = {} as Record<'a' | 'b', Uplink>;
  legacy: Service | undefined;
  readonly masterKey = randomBytes(32).toString('hex');
  private readonly bin: string;

  constructor(readonly opts: PlantOptions) {
    const bin = findPgBin();
    if (!bin) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin: run scripts/system-deps.sh');
    this.bin = bin;
    mkdirSync(path.join(opts.dir, 'logs'), { recursive: true });
  }

  get hub(): Station {
    return this.stations.hub;
  }

  async start(): Promise<void> {
    const { log } = this.opts;
    this.topo = await Topology.create(log);
    const topo = this.topo;
    onCleanup(() => topo.destroy());

    // databases first, all three at once
    const pgs = await Promise.all(
      (['hub', 'a', 'b'] as LocationName[]).map(async (name) => {
        const loc = topo.locations[name];
        const p = await PrivatePostgres.create(this.bin, {
          host: loc.addr,
          port: await topo.port(loc, 5432),
          settings: PG_SETTINGS,
          wrap: loc.wrap,
          trustEveryone: true,
        });
        onCleanup(() => p.destroy());
        await p.start();
        await p.createDatabase('faceline');
        return [name, p] as const;
      }),
    );
    const pgOf = Object.fromEntries(pgs) as Record<LocationName, PrivatePostgres>;
    await pgOf.hub.createDatabase('faceline_central');
    log(
      `PostgreSQL 15 at hub ${pgOf.hub.host}:${pgOf.hub.port}, site A ${pgOf.a.host}:${pgOf.a.port}, site B ${pgOf.b.host}:${pgOf.b.port} (wal_level=logical)`,
    );

    for (const s of ['a', 'b'] as const) {
      const loc = topo.locations[s];
      const up = await Relay.listen(`${s}-up`, loc.gateway, { host: pgOf.hub.host, port: pgOf.hub.port });
      const down = await Relay.listen(`${s}-down`, topo.hub.gateway, { host: pgOf[s].host, port: pgOf[s].port });
      onCleanup(() => Promise.all([up.close(), down.close()]).then(() => undefined));
      this.uplinks[s] = {
        up,
        down,
        cut: () => (up.cutLink(), down.cutLink()),
        restore: () => (up.restore(), down.restore()),
        setDelay: (ms) => (up.delayMs = down.delayMs = ms),
      };
    }

    const hubSites = (['a', 'b'] as const)
      .map((s) => `${SITE_NAMES[s]}=postgres://postgres@${topo.hub.gateway}:${this.uplinks[s].down.port}/faceline?connect_timeout=5`)
      .join(',');
    for (const name of ['hub', 'a', 'b'] as LocationName[]) {
      const loc = topo.locations[name];
      const visionPort = await topo.port(loc, 8082);
      const authPort = await topo.port(loc, 8081);
      const vision: Service = {
        name: `vision-${name}`,
        loc,
        port: visionPort,
        url: `http://${loc.addr}:${visionPort}`,
        entry: 'services/vision/src/server.ts',
        env: { PORT: String(visionPort), HOST: loc.addr, LOG_LEVEL: 'warn', VISION_WORKERS: '1', VISION_INTRA_OP_THREADS: '1' },
      };
      const env: NodeJS.ProcessEnv = {
        ...this.authEnv(name, loc.addr, authPort, `postgres://postgres@${loc.addr}:${pgOf[name].port}/faceline`, vision.url),
        ...(name === 'hub'
          ? { AUTH_MODE: 'hub', HUB_SITES: hubSites }
          : {
              AUTH_MODE: 'site',
              SITE_ID: SITE_NAMES[name],
              HUB_DATABASE_URL: `postgres://postgres@${loc.gateway}:${this.uplinks[name].up.port}/faceline?connect_timeout=5`,
              SITE_MAX_STALENESS_SECONDS: String(this.opts.staleLimitSeconds[name]),
              HUB_TIMEOUT_MS: '3000',
            }),
      };
      const auth: Service = {
        name: `auth-${name}`,
        loc,
        port: authPort,
        url: `http://${loc.addr}:${authPort}`,
        entry: 'services/auth/src/server.ts',
        env,
      };
      const db = new pg.Pool({ connectionString: pgOf[name].url('faceline'), max: 3 });
      db.on('error', () => undefined);
      onCleanup(() => db.end().catch(() => undefined));
      this.stations[name] = { loc, pg: pgOf[name], db, vision, auth };
    }

    // vision everywhere at once; the hub's auth first (its publication must exist before a site subscribes)
    await Promise.all((['hub', 'a', 'b'] as LocationName[]).map((n) => this.startService(this.stations[n].vision, 120_000)));
    await this.startService(this.hub.auth);
    await Promise.all([this.startService(this.stations.a.auth), this.startService(this.stations.b.auth)]);
    await this.waitReplicating();
    log(`hub and sites ready: hub ${this.hub.auth.url}, site A ${this.stations.a.auth.url}, site B ${this.stations.b.auth.url}`);
  }

  authEnv(name: string, host: string, port: number, databaseUrl: string, visionUrl: string): NodeJS.ProcessEnv {
    return {
      PORT: String(port),
      HOST: host,
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '10',
      VISION_URL: visionUrl,
      FACELINE_MASTER_KEY: this.masterKey,
      FACELINE_DATA_DIR: path.join(this.opts.dir, `${name}-data`),
      // photos cannot turn their heads or blink (as in bench:load)
      LIVENESS: 'false',
      // every virtual user comes from one address: the limits would stop the run, not protect anything
      IP_MAX_FAILURES: '1000000',
      BACKOFF_AFTER_FAILURES: '1000',
      LOCK_AFTER_FAILURES: '100000',
      REGISTRATIONS_PER_IP: '100000',
      PAIR_BACKOFF_AFTER_FAILURES: '1000',
      LOGIN_STARTS_PER_WINDOW: '1000000',
      COOKIE_SECURE: 'never',
      // the first administrator registers with this token at the hub (only the hub uses it:
      // a site's registrations are written there); a face login administers (no passkeys here)
      FACELINE_SETUP_TOKEN: SETUP_TOKEN,
      ADMIN_STEP_UP: 'false',
      HUB_HEARTBEAT_SECONDS: '1',
      REPLICATION_RECONCILE_SECONDS: '2',
      INDEX_RESYNC_SECONDS: '0',
    };
  }

  /**
   * Today's layout beside the new one, for the WAN-delay comparison: a single-mode auth at site A
   * whose database is the cloud's, across uplink A.
   */
  async startLegacy(): Promise<Service> {
    const a = this.stations.a;
    const port = await this.topo.port(a.loc, 8091);
    const env = this.authEnv(
      'legacy-a',
      a.loc.addr,
      port,
      `postgres://postgres@${a.loc.gateway}:${this.uplinks.a.up.port}/faceline_central?connect_timeout=5`,
      a.vision.url,
    );
    this.legacy = {
      name: 'auth-a-old-layout',
      loc: a.loc,
      port,
      url: `http://${a.loc.addr}:${port}`,
      entry: 'services/auth/src/server.ts',
      env,
    };
    await this.startService(this.legacy);
    return this.legacy;
  }

  async stopLegacy(): Promise<void> {
    if (this.legacy?.proc) await stopGracefully(this.legacy.proc);
  }

  async startService(s: Service, timeoutMs = 90_000): Promise<void> {
    const cmd = [...s.loc.wrap, process.execPath, ...NODE_ARGS, s.entry];
    s.proc = spawnManaged(s.name, cmd[0] as string, cmd.slice(1), {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production', ...s.env },
      logFile: path.join(this.opts.dir, 'logs', `${s.name}.log`),
    });
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (s.proc.exited)
        throw new Error(
          `${s.name} exited during start (code ${s.proc.exitCode}); see ${path.join(this.opts.dir, 'logs', `${s.name}.log`)}`,
        );
      try {
        const res = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${s.name} not ready within ${timeoutMs} ms`);
  }

  /** Both directions stream: each site's apply worker runs and the hub's for each site does. */
  async waitReplicating(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const running = async (s: Station) =>
        Number(
          (await s.db.query(`SELECT count(*)::int AS n FROM pg_stat_subscription WHERE pid IS NOT NULL AND relid IS NULL`)).rows[0]?.n,
        );
      const syncing = async (s: Station) =>
        Number((await s.db.query(`SELECT count(*)::int AS n FROM pg_subscription_rel WHERE srsubstate <> 'r'`)).rows[0]?.n);
      const [h, a, b] = await Promise.all([running(this.hub), running(this.stations.a), running(this.stations.b)]).catch(() => [0, 0, 0]);
      const copying = await Promise.all([syncing(this.hub), syncing(this.stations.a), syncing(this.stations.b)]).then(
        (x) => x.reduce((p, c) => p + c, 0),
        () => 1,
      );
      if (h === 2 && a === 1 && b === 1 && copying === 0) return;
      if (Date.now() > until)
        throw new Error(
          `replication not running after ${timeoutMs} ms (hub subscriptions ${h}/2, site A ${a}/1, site B ${b}/1, tables still copying ${copying})`,
        );
      await sleep(250);
    }
  }

  processes(): { name: string; proc: Managed }[] {
    const out: { name: string; proc: Managed }[] = [];
    for (const s of Object.values(this.stations)) {
      for (const svc of [s.vision, s.auth]) if (svc.proc && !svc.proc.exited) out.push({ name: svc.name, proc: svc.proc });
      if (s.pg.managed) out.push({ name: `postgres-${s.loc.name}`, proc: s.pg.managed });
    }
    if (this.legacy?.proc && !this.legacy.proc.exited) out.push({ name: this.legacy.name, proc: this.legacy.proc });
    return out;
  }
}
