/**
 * The idempotent replication setup of a hub and of a site (docs/sites.md). Run at start and again
 * every REPLICATION_RECONCILE_SECONDS: whatever exists and is right stays, whatever is missing or
 * out of date is created or corrected, so a new table classified in db/replication.ts reaches
 * every publication and subscription without anyone typing DDL.
 *
 *   hub:  publication faceline_identity (identity tables); per configured site a subscription
 *         faceline_site_<site> to that site's publication, created once the site has set itself up.
 *   site: publication faceline_site (site tables); subscription faceline_identity_<site> to the
 *         hub; the copied tables made read-only for local writers; its audit id range.
 *
 * With REPLICATION_SETUP=off the publications and subscriptions are someone else's (an operator,
 * or CloudNativePG's Publication and Subscription resources, docs/sites.md); everything else here
 * (registration, audit range, read-only copy, heartbeat) still happens.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { AuthConfig, HubSite } from '../config.js';
import type { Database, Queryable } from '../db/database.js';
import { IDENTITY_PUBLICATION, SITE_PUBLICATION, auditRange, identitySubscription, siteSubscription, tablesOf } from '../db/replication.js';
import type { HubDatabase } from '../repositories/hub.repository.js';
import type { MetaRepository } from '../repositories/meta.repository.js';
import type { ReplicationRepository } from '../repositories/replication.repository.js';

/** Reconciliation by several replicas of one service takes turns. */
export const REPLICATION_LOCK_ID = 0x5245504c; // "REPL"

export class SiteRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteRegistrationError';
  }
}

export class ReplicationSetup {
  constructor(
    private readonly cfg: AuthConfig,
    private readonly db: Database,
    private readonly repo: ReplicationRepository,
    private readonly meta: MetaRepository,
    private readonly log: Logger,
    private readonly hub?: HubDatabase,
  ) {}

  // ------------------------------------------------------------------ hub

  private get manage(): boolean {
    return this.cfg.replicationSetup === 'auto';
  }

  /** The hub's publication and first heartbeat, then the subscriptions to sites (reconcileHub). */
  async setUpHub(): Promise<void> {
    await this.db.withLock(REPLICATION_LOCK_ID, async (q) => {
      if (this.manage) {
        const change = await this.repo.ensurePublication(q, IDENTITY_PUBLICATION, tablesOf('identity'));
        if (change !== 'unchanged') this.log.info({ publication: IDENTITY_PUBLICATION, change }, 'identity publication ready');
      }
      await this.repo.beat(q);
    });
    await this.reconcileHub();
  }

  /** Subscribes to every configured site whose publication exists; refreshes tables. */
  async reconcileHub(): Promise<void> {
    await this.db.withLock(REPLICATION_LOCK_ID, async (q) => {
      await this.repo.purgeMarks(q);
      if (!this.manage) return;
      await this.repo.ensurePublication(q, IDENTITY_PUBLICATION, tablesOf('identity'));
      for (const site of this.cfg.hubSites) {
        try {
          await this.subscribeToSite(q, site);
        } catch (err) {
          this.log.warn({ site: site.name, err: (err as Error).message }, 'could not set up the subscription to a site; retrying later');
        }
      }
    });
  }

  private async subscribeToSite(q: Queryable, site: HubSite): Promise<void> {
    const name = siteSubscription(site.name);
    const existing = await this.repo.subscription(q, name);
    if (!existing) {
      // A slot must not be created before the publication it decodes exists (PostgreSQL then
      // fails on every change older than the publication): wait until the site has set up.
      if (!(await this.remote(site.url, (r) => this.repo.publicationExists(r, SITE_PUBLICATION)))) {
        this.log.info({ site: site.name }, 'site has not published its tables yet; subscribing later');
        return;
      }
      await this.repo.createSubscription(q, name, site.url, SITE_PUBLICATION);
      this.log.info({ site: site.name, subscription: name }, 'subscribed to a site');
      return;
    }
    await this.correct(q, existing.name, existing, site.url, tablesOf('site'));
  }

  // ------------------------------------------------------------------ site

  /**
   * Registers at the hub (once; afterwards only when reachable), takes the site's audit id
   * range, publishes the site tables, guards the copy and subscribes to the hub. A site that
   * starts while the hub is unreachable starts anyway, with what it has; only its very first
   * start needs the hub.
   */
  async setUpSite(): Promise<void> {
    const hub = this.requireHub();
    const site = this.cfg.siteId as string;
    const instance = await this.meta.setIfAbsent(this.db, 'site_instance', randomUUID());
    let number = Number(await this.meta.get(this.db, 'site_number')) || undefined;
    try {
      const reg = await hub.direct((q) => this.repo.registerSite(q, site, instance), { tx: true });
      if (reg.instance !== instance) {
        throw new SiteRegistrationError(
          `site "${site}" is registered at the hub by another database (instance ${reg.instance}); ` +
            'choose another SITE_ID, or remove the old registration at the hub (DELETE FROM sites WHERE name = …) if that database is gone',
        );
      }
      if (number !== undefined && number !== reg.number)
        throw new SiteRegistrationError(`site "${site}" was number ${number} here but is ${reg.number} at the hub`);
      number = reg.number;
      await this.meta.setIfAbsent(this.db, 'site_number', String(number));
    } catch (err) {
      if (err instanceof SiteRegistrationError || number === undefined) throw err;
      this.log.warn({ err: (err as Error).message }, 'hub unreachable at start; this site goes on with its copy and registers again later');
    }
    await this.takeAuditRange(number);
    await this.reconcileSite();
  }

  async reconcileSite(): Promise<void> {
    const hub = this.requireHub();
    const site = this.cfg.siteId as string;
    const name = identitySubscription(site);
    await this.db.withLock(REPLICATION_LOCK_ID, async (q) => {
      const guarded = await this.repo.ensureReadOnly(q, tablesOf('identity'));
      if (guarded.length) this.log.info({ tables: guarded }, 'copied tables are read-only for local writers');
      if (!this.manage) return;
      await this.repo.ensurePublication(q, SITE_PUBLICATION, tablesOf('site'));
      const existing = await this.repo.subscription(q, name);
      if (existing) {
        await this.correct(q, name, existing, this.cfg.hubReplicationUrl as string, tablesOf('identity'));
        return;
      }
      const published = await hub.direct((h) => this.repo.publicationExists(h, IDENTITY_PUBLICATION));
      if (!published) throw new Error(`the hub has no publication ${IDENTITY_PUBLICATION} yet: start the hub (AUTH_MODE=hub) first`);
      // a copy that outlived its subscription is stale: the initial copy starts from empty tables
      if ((await this.repo.rowsIn(q, tablesOf('identity'))) > 0) {
        await this.db.tx((t) => this.repo.emptyCopy(t, tablesOf('identity')));
        this.log.warn('emptied an old copy of the hub tables before subscribing again');
      }
      // a slot left behind by an earlier database of this site would make CREATE fail
      if (await hub.direct((h) => this.repo.dropInactiveSlot(h, name)).catch(() => false)) {
        this.log.warn({ slot: name }, 'dropped an unused replication slot of this site at the hub');
      }
      await this.repo.createSubscription(q, name, this.cfg.hubReplicationUrl as string, IDENTITY_PUBLICATION);
      this.log.info({ subscription: name }, 'subscribed to the hub');
    });
  }

  /** Connection, enabled state and table set of an existing subscription, as they should be. */
  private async correct(
    q: Queryable,
    name: string,
    sub: { enabled: boolean; conninfo: string | null },
    conninfo: string,
    tables: string[],
  ): Promise<void> {
    if (sub.conninfo !== null && sub.conninfo !== conninfo) {
      await this.repo.setConnection(q, name, conninfo);
      this.log.info({ subscription: name }, 'subscription connection updated');
    }
    if (!sub.enabled) {
      await this.repo.enable(q, name);
      this.log.info({ subscription: name }, 'subscription enabled again');
    }
    const have = await this.repo.subscribedTables(q, name);
    if (have.length !== tables.length || have.some((t) => !tables.includes(t))) {
      // needs the publisher; while it is unreachable this fails and the next round tries again
      await this.repo.refresh(q, name);
      this.log.info({ subscription: name, tables }, 'subscription picked up the published tables');
    }
  }

  /**
   * Audit ids of this site start at its range, above anything of this site the hub already has
   * (a rebuilt site database must not reuse ids of the one before it).
   */
  private async takeAuditRange(number: number): Promise<void> {
    const { first, last } = auditRange(number);
    const atHub = await this.requireHub()
      .direct((h) => this.repo.maxAuditId(h, first, last))
      .catch(() => 0);
    const here = await this.repo.maxAuditId(this.db, first, last);
    const from = Math.max(first, atHub + 1, here + 1);
    if ((await this.repo.nextAuditId(this.db)) < from) {
      await this.repo.restartAuditIds(this.db, from);
      this.log.info({ site: this.cfg.siteId, number, from }, 'audit ids of this site start in its own range');
    }
  }

  private requireHub(): HubDatabase {
    if (!this.hub) throw new Error('site mode without a hub connection');
    return this.hub;
  }

  /** A short-lived connection to another server (a site's database, seen from the hub). */
  private async remote<T>(url: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    const c = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: this.cfg.hubTimeoutMs,
      query_timeout: this.cfg.hubTimeoutMs,
      application_name: 'faceline-hub-check',
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return await fn({
        async query<R>(sql: string, params: unknown[] = []) {
          const res = await c.query(sql, params);
          return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
        },
      });
    } finally {
      (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      void c.end().catch(() => undefined);
    }
  }
}
