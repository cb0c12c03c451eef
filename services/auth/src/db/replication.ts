/**
 * Hub and sites: which table replicates which way. This list is the one place that decides it;
 * the publications, the subscriptions, the read-only guard at a site and the test that every
 * table of the schema is classified are all driven from it (docs/sites.md).
 *
 * - `identity`: the hub is the authority; published by the hub, a read-only copy at every site.
 * - `site`: written where it happens (a site, or the hub itself); every site publishes its rows
 *   and the hub subscribes, so the hub sees all sites. Keys must not repeat across sites (random
 *   ids, a `site` column in the key, or a per-site id range).
 * - `local`: never replicated; each database keeps its own.
 *
 * Classifying a new table is one line here. A table left out fails
 * `src/db/replication.test.ts`, which runs the migrations and compares.
 */
export type TableClass = 'identity' | 'site' | 'local';

export const TABLES = {
  // identities and authority, hub -> sites
  users: 'identity',
  face_templates: 'identity',
  signing_keys: 'identity',
  account_unlocks: 'identity',
  replication_heartbeat: 'identity',
  replication_marks: 'identity',
  // kiosks an administrator trusts and passkeys: every site must know them, the hub writes them
  trusted_devices: 'identity',
  passkeys: 'identity',
  // what happens at a site, sites -> hub
  sessions: 'site',
  refresh_tokens: 'site',
  audit_events: 'site',
  attempt_counters: 'site',
  last_logins: 'site',
  // each database's own
  login_grants: 'local',
  meta: 'local',
  schema_migrations: 'local',
  sites: 'local',
  // the first administrator's one-time setup tokens: used where accounts are written (the hub)
  setup_tokens: 'local',
  // one live login or enrollment per account: each database guards the flows it runs
  live_flows: 'local',
  // enrollment tickets are issued and used where templates are written (the hub)
  enroll_tickets: 'local',
  // WebAuthn challenges live for a minute, on the replica pair that issued them
  webauthn_challenges: 'local',
  // the OpenID Connect provider's state: each installation is its own provider (its own issuer)
  oidc_payloads: 'local',
} as const satisfies Record<string, TableClass>;

export type TableName = keyof typeof TABLES;

/** Table names of one class, sorted (publication DDL and comparisons use this order). */
export function tablesOf(cls: TableClass): TableName[] {
  return (Object.keys(TABLES) as TableName[]).filter((t) => TABLES[t] === cls).sort();
}

/** The hub's publication of the identity tables; every site subscribes to it. */
export const IDENTITY_PUBLICATION = 'faceline_identity';
/** Every site's publication of its site-local tables; the hub subscribes to each. */
export const SITE_PUBLICATION = 'faceline_site';

/**
 * Subscriptions and their slots share one name (PostgreSQL's default), built from the site name
 * so that one glance at `pg_replication_slots` tells which site a slot feeds:
 *   on the hub's server:  faceline_identity_<site>  (the stream of identities to that site)
 *   on a site's server:   faceline_site_<site>      (the stream of that site's rows to the hub)
 * Site names are lowercase letters, digits and single dashes (config.ts), so replacing the
 * dashes keeps names distinct.
 */
export function identitySubscription(site: string): string {
  return `${IDENTITY_PUBLICATION}_${slotPart(site)}`;
}

export function siteSubscription(site: string): string {
  return `${SITE_PUBLICATION}_${slotPart(site)}`;
}

function slotPart(site: string): string {
  const part = site.replace(/-/g, '_');
  if (!/^[a-z0-9_]{1,40}$/.test(part)) throw new Error(`not a site name: ${site}`);
  return part;
}

/**
 * Each site numbers its audit events from its own range, so ids stay unique at the hub (which
 * keeps numbering from 1): site n starts at n * 2^42. 2047 sites of 4.4e12 events each stay below
 * 2^53, so ids remain exact in JavaScript numbers.
 */
export const SITE_ID_RANGE = 2 ** 42;
export const MAX_SITE_NUMBER = 2047;

export function auditRange(siteNumber: number): { first: number; last: number } {
  if (!Number.isInteger(siteNumber) || siteNumber < 1 || siteNumber > MAX_SITE_NUMBER) throw new RangeError(`site number ${siteNumber}`);
  return { first: siteNumber * SITE_ID_RANGE + 1, last: (siteNumber + 1) * SITE_ID_RANGE - 1 };
}

/** The statement trigger that makes an identity table read-only for local writers at a site. */
export const GUARD_TRIGGER = 'faceline_site_copy';

/** Quotes an identifier for DDL (names here come from the list above or validated site names). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal for DDL that takes no parameters (CREATE SUBSCRIPTION … CONNECTION '…'). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
