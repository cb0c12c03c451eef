/**
 * What the auth mode changes at run time (docs/sites.md):
 *
 * - the authority: where identity writes go (the local database, or the hub from a site) and
 *   whether it can be reached now (`assertAuthority`, HUB_UNAVAILABLE while the uplink is down);
 * - freshness: how old a site's copy of the identities is (`assertFresh`, SITE_STALE past
 *   SITE_MAX_STALENESS_SECONDS);
 * - background work: the hub's heartbeat, probing the hub from a site, and reconciling the
 *   publications and subscriptions.
 *
 * In single mode every check passes and nothing runs in the background.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '@faceline/contracts';
import type { AuthConfig, AuthMode } from '../config.js';
import type { Database } from '../db/database.js';
import { AuthError } from '../errors.js';
import type { HubDatabase } from '../repositories/hub.repository.js';
import { hubUnavailable } from '../repositories/hub.repository.js';
import type { ReplicationRepository } from '../repositories/replication.repository.js';
import type { ReplicationSetup } from './replication.service.js';

/** Operations only the authority may do ask this first (enrollment, deletion, roles, keys). */
export interface AuthorityGuard {
  assertAuthority(): Promise<void>;
}

export const ALWAYS_AUTHORITY: AuthorityGuard = { assertAuthority: async () => undefined };

export interface SiteStatus {
  mode: AuthMode;
  site: string | null;
  /** site mode: the last probe of the hub */
  hub: 'ok' | 'unavailable' | 'unknown' | 'self';
  /** site mode: seconds since the newest hub heartbeat in the local copy (null: none yet) */
  stalenessSeconds: number | null;
  staleLimitSeconds: number | null;
}

export interface SiteServiceDeps {
  cfg: AuthConfig;
  log: Logger;
  db: Database;
  repo: ReplicationRepository;
  setup?: ReplicationSetup;
  hub?: HubDatabase;
  onStatus?: (s: SiteStatus) => void;
}

/** How long a failed probe of the hub answers for itself before the next one is awaited. */
const PROBE_EVERY_MS = 2000;

export class SiteService implements AuthorityGuard {
  readonly mode: AuthMode;
  readonly site: string;
  /** where identity writes go */
  readonly authority: Database;
  private hubOk: boolean | undefined;
  private probedAt = 0;
  private probing: Promise<boolean> | undefined;
  private staleness: { at: number; seconds: number | undefined } = { at: 0, seconds: undefined };
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(private readonly deps: SiteServiceDeps) {
    this.mode = deps.cfg.mode;
    this.site = deps.cfg.mode === 'site' ? (deps.cfg.siteId as string) : '';
    this.authority = deps.cfg.mode === 'site' ? (deps.hub as HubDatabase) : deps.db;
  }

  async start(): Promise<void> {
    const { cfg, log, setup } = this.deps;
    if (this.mode === 'single') return;
    if (this.mode === 'site') await this.probe();
    if (setup) {
      if (this.mode === 'hub') await setup.setUpHub();
      else await setup.setUpSite();
      this.every(
        cfg.replicationReconcileSeconds * 1000,
        async () => {
          if (this.mode === 'hub') await setup.reconcileHub();
          else await setup.setUpSite();
        },
        'replication reconcile failed; retrying later',
      );
    }
    if (this.mode === 'hub') {
      await this.deps.repo.beat(this.deps.db);
      this.every(cfg.hubHeartbeatSeconds * 1000, () => this.deps.repo.beat(this.deps.db), 'could not stamp the heartbeat');
    } else {
      this.every(PROBE_EVERY_MS, async () => void (await this.probe()), 'hub probe failed');
      this.every(1000, async () => void (await this.stalenessSeconds(true)), 'could not read the heartbeat');
    }
    log.info({ mode: this.mode, site: this.site || undefined }, 'replication mode ready');
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** HUB_UNAVAILABLE at once when the last probe failed; otherwise passes (the write itself may still fail the same way). */
  async assertAuthority(): Promise<void> {
    if (this.mode !== 'site') return;
    if (Date.now() - this.probedAt > PROBE_EVERY_MS * 2) await this.probe();
    if (!this.hubOk) throw hubUnavailable();
  }

  /** SITE_STALE when this site's copy is older than its limit (site mode with a limit only). */
  async assertFresh(): Promise<void> {
    const limit = this.deps.cfg.siteMaxStalenessSeconds;
    if (this.mode !== 'site' || limit <= 0) return;
    const seconds = await this.stalenessSeconds();
    if (seconds === undefined || seconds > limit) {
      throw new AuthError(
        ErrorCode.SITE_STALE,
        seconds === undefined
          ? 'this site has not received the identities from the hub yet; sign-in starts once it has'
          : `this site has not heard from the hub for ${Math.round(seconds)} s (limit ${limit} s); sign-ins resume when the link is back`,
        { stalenessSeconds: seconds === undefined ? null : Math.round(seconds), limitSeconds: limit },
      );
    }
  }

  /** Seconds since the newest hub heartbeat in this database; read at most once a second. */
  async stalenessSeconds(force = false): Promise<number | undefined> {
    if (this.mode !== 'site') return 0;
    const age = Date.now() - this.staleness.at;
    if (force || age > 1000) {
      this.staleness = { at: Date.now(), seconds: await this.deps.repo.secondsSinceBeat(this.deps.db) };
      this.report();
      return this.staleness.seconds;
    }
    return this.staleness.seconds === undefined ? undefined : this.staleness.seconds + age / 1000;
  }

  status(): SiteStatus {
    const s = this.staleness.seconds;
    return {
      mode: this.mode,
      site: this.site || null,
      hub: this.mode !== 'site' ? 'self' : this.hubOk === undefined ? 'unknown' : this.hubOk ? 'ok' : 'unavailable',
      stalenessSeconds: this.mode !== 'site' ? 0 : s === undefined ? null : s + (Date.now() - this.staleness.at) / 1000,
      staleLimitSeconds: this.mode === 'site' && this.deps.cfg.siteMaxStalenessSeconds > 0 ? this.deps.cfg.siteMaxStalenessSeconds : null,
    };
  }

  private probe(): Promise<boolean> {
    this.probing ??= (async () => {
      try {
        const ok = await (this.deps.hub as HubDatabase).probe();
        if (ok !== this.hubOk)
          this.deps.log[ok ? 'info' : 'warn'](
            { hub: ok ? 'reachable' : 'unreachable' },
            ok ? 'the hub can be reached' : 'the hub cannot be reached; sign-ins go on, authority operations answer HUB_UNAVAILABLE',
          );
        this.hubOk = ok;
        this.probedAt = Date.now();
        this.report();
        return ok;
      } finally {
        this.probing = undefined;
      }
    })();
    return this.probing;
  }

  private report(): void {
    this.deps.onStatus?.(this.status());
  }

  /** A periodic task that never overlaps itself and only logs its failures. */
  private every(ms: number, task: () => Promise<unknown>, failure: string): void {
    let running = false;
    const t = setInterval(() => {
      if (running || this.stopped) return;
      running = true;
      task()
        .catch((err) => this.deps.log.warn({ err: (err as Error).message }, failure))
        .finally(() => (running = false));
    }, ms);
    t.unref();
    this.timers.push(t);
  }
}
