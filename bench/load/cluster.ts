/**
 * The system under test on loopback: PostgreSQL, vision and auth replicas as separate processes,
 * optionally web, and HAProxy in front. Replicas can be killed (SIGKILL, a crash) and started
 * again on the same port, which HAProxy's health checks notice on their own.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@faceline/testkit';
import { writeConfig, type HaproxyLayout } from './haproxy.js';
import { createSharedDatabase, findPgBin, PrivatePostgres } from './postgres.js';
import { freePort, killHard, onCleanup, sleep, spawnManaged, stopGracefully, type Managed } from './procs.js';
import { execFileSync } from 'node:child_process';

export interface Replica {
  name: string;
  kind: 'vision' | 'auth' | 'web';
  port: number;
  url: string;
  proc?: Managed;
  env: NodeJS.ProcessEnv;
  entry: string;
}

export interface ClusterOptions {
  dir: string;
  visionReplicas: number;
  authReplicas: number;
  visionWorkers: number;
  /**
   * `lb`: auth calls vision through HAProxy's vision frontend (per request, L7 retries);
   * `l4`: through HAProxy in TCP mode (per connection, no retries, like a kube-proxy Service);
   * `list`: auth gets the comma-separated replica list and fails over itself
   */
  visionRoute: 'lb' | 'l4' | 'list';
  maxFrameBytes: number;
  log: (msg: string) => void;
}

const NODE_ARGS = ['--conditions=source', '--import', 'tsx'];

export class Cluster {
  pg: PrivatePostgres | undefined;
  dbUrl = '';
  dbName = '';
  vision: Replica[] = [];
  auth: Replica[] = [];
  web: Replica[] = [];
  haproxy: Managed | undefined;
  ingressUrl = '';
  visionLbUrl = '';
  layout: HaproxyLayout | undefined;
  readonly masterKey = randomBytes(32).toString('hex');

  constructor(readonly opts: ClusterOptions) {
    mkdirSync(path.join(opts.dir, 'logs'), { recursive: true });
  }

  /** Every process whose CPU and memory the report shows. */
  processes(): { name: string; proc: Managed }[] {
    const out: { name: string; proc: Managed }[] = [];
    for (const r of [...this.vision, ...this.auth, ...this.web]) if (r.proc && !r.proc.exited) out.push({ name: r.name, proc: r.proc });
    if (this.haproxy && !this.haproxy.exited) out.push({ name: 'haproxy', proc: this.haproxy });
    if (this.pg?.managed) out.push({ name: 'postgres', proc: this.pg.managed });
    return out;
  }

  async start(): Promise<void> {
    const { log } = this.opts;
    try {
      execFileSync('haproxy', ['-v'], { stdio: 'pipe' });
    } catch {
      throw new Error('haproxy is not installed: run scripts/system-deps.sh (Debian package haproxy)');
    }
    this.dbName = `faceline_load_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
    const bin = findPgBin();
    if (bin) {
      log(`PostgreSQL: private instance from ${bin}`);
      this.pg = await PrivatePostgres.create(bin);
      const pgp = this.pg;
      onCleanup(() => pgp.destroy());
      await this.pg.start();
      await this.pg.createDatabase(this.dbName);
      this.dbUrl = this.pg.url(this.dbName);
    } else {
      log('PostgreSQL: no initdb found, using a fresh database on the shared server (the restart fault is skipped)');
      const shared = await createSharedDatabase(
        process.env.FACELINE_LOAD_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        this.dbName,
      );
      onCleanup(shared.drop);
      this.dbUrl = shared.url;
    }

    const ingressPort = await freePort();
    const visionPort = await freePort();
    for (let i = 0; i < this.opts.visionReplicas; i++) {
      const port = await freePort();
      this.vision.push({
        name: `vision${i + 1}`,
        kind: 'vision',
        port,
        url: `http://127.0.0.1:${port}`,
        entry: 'services/vision/src/server.ts',
        env: {
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          VISION_WORKERS: String(this.opts.visionWorkers),
          VISION_INTRA_OP_THREADS: '1',
        },
      });
    }
    for (let i = 0; i < this.opts.authReplicas; i++) {
      const port = await freePort();
      this.auth.push({
        name: `auth${i + 1}`,
        kind: 'auth',
        port,
        url: `http://127.0.0.1:${port}`,
        entry: 'services/auth/src/server.ts',
        env: {},
      });
    }
    const webBuilt = existsSync(path.join(REPO_ROOT, 'services/web/dist/public/index.html'));
    if (webBuilt) {
      const port = await freePort();
      this.web.push({ name: 'web1', kind: 'web', port, url: `http://127.0.0.1:${port}`, entry: 'services/web/src/server.ts', env: {} });
    }
    this.layout = {
      dir: this.opts.dir,
      ingressPort,
      visionPort,
      auth: this.auth.map((r) => ({ name: r.name, port: r.port })),
      vision: this.vision.map((r) => ({ name: r.name, port: r.port })),
      web: this.web.map((r) => ({ name: r.name, port: r.port })),
      maxFrameBytes: this.opts.maxFrameBytes,
      visionMode: this.opts.visionRoute === 'l4' ? 'tcp' : 'http',
    };
    // the balancer first: replicas join the rotation as their readiness checks pass
    const cfg = writeConfig(this.layout);
    execFileSync('haproxy', ['-c', '-q', '-f', cfg], { stdio: 'pipe' });
    this.haproxy = spawnManaged('haproxy', 'haproxy', ['-db', '-f', cfg], { logFile: path.join(this.opts.dir, 'logs', 'haproxy.log') });
    this.ingressUrl = `http://127.0.0.1:${ingressPort}`;
    this.visionLbUrl = `http://127.0.0.1:${visionPort}`;

    const visionUrl = this.opts.visionRoute === 'list' ? this.vision.map((r) => r.url).join(',') : this.visionLbUrl;
    for (const r of this.auth) {
      r.env = {
        PORT: String(r.port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DATABASE_URL: this.dbUrl,
        DATABASE_POOL_SIZE: '10',
        VISION_URL: visionUrl,
        FACELINE_MASTER_KEY: this.masterKey,
        FACELINE_DATA_DIR: path.join(this.opts.dir, `${r.name}-data`),
        MAX_FRAME_BYTES: String(this.opts.maxFrameBytes),
        // photos cannot turn their heads or blink: see the report's method section
        LIVENESS: 'false',
        // every virtual user comes from 127.0.0.1: per-address and per-account limits would stop the test, not protect anything
        IP_MAX_FAILURES: '1000000',
        BACKOFF_AFTER_FAILURES: '1000',
        LOCK_AFTER_FAILURES: '100000',
        PAIR_BACKOFF_AFTER_FAILURES: '1000',
        LOGIN_STARTS_PER_WINDOW: '1000000',
        COOKIE_SECURE: 'never',
        TRUST_PROXY: 'true',
      };
    }
    for (const r of this.web) {
      r.env = { PORT: String(r.port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH_URL: `http://127.0.0.1:${ingressPort}` };
    }
    // all replicas start together (auth is ready once the database and a vision replica answer);
    // the first auth replica runs the migrations, the other one waits on their advisory lock
    await Promise.all([...this.vision, ...this.auth, ...this.web].map((r) => this.startReplica(r, 90_000)));
    log(
      `replicas ready: ${[...this.vision, ...this.auth, ...this.web].map((r) => `${r.name}:${r.port}`).join(', ')} ` +
        `(${this.opts.visionWorkers} vision worker each; auth reaches vision via ${this.opts.visionRoute === 'list' ? 'the address list' : `HAProxy (${this.opts.visionRoute})`})`,
    );
    await this.waitBalancerReady();
    log(`HAProxy: ingress ${this.ingressUrl}, vision ${this.visionLbUrl}`);
  }

  async startReplica(r: Replica, timeoutMs = 60_000): Promise<void> {
    r.proc = spawnManaged(r.name, process.execPath, [...NODE_ARGS, r.entry], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production', ...r.env },
      logFile: path.join(this.opts.dir, 'logs', `${r.name}.log`),
    });
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (r.proc.exited)
        throw new Error(
          `${r.name} exited during start (code ${r.proc.exitCode}); see ${path.join(this.opts.dir, 'logs', `${r.name}.log`)}`,
        );
      try {
        const res = await fetch(`${r.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${r.name} not ready within ${timeoutMs} ms`);
  }

  /** HAProxy needs `rise` successful checks before it sends traffic to a server. */
  async waitBalancerReady(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      try {
        const res = await fetch(`${this.ingressUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        const v = await fetch(`${this.visionLbUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
        await v.body?.cancel();
        if (res.ok && v.ok) return;
      } catch {
        // HAProxy still starting
      }
      await sleep(200);
    }
    throw new Error('HAProxy did not route to ready replicas in time');
  }

  async kill(r: Replica): Promise<void> {
    if (r.proc) await killHard(r.proc);
  }

  async stop(r: Replica): Promise<void> {
    if (r.proc) await stopGracefully(r.proc);
  }
}
