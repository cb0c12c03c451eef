/**
 * A hub and one site, each with its own private PostgreSQL 15 (wal_level = logical), auth in hub
 * and site mode, one real vision service and real photos: identities flow from the hub to the
 * site by logical replication, the site's sessions and audit events flow back, the site's 1:N
 * index follows replicated templates, authority operations from the site are done at the hub,
 * and while the hub is down the site keeps logging people in, answers HUB_UNAVAILABLE for what
 * only the hub may do, and SITE_STALE once its copy is older than its limit.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { pino } from 'pino';
import { ErrorCode } from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';
import { buildApp } from '../src/app.js';
import { testConfig, type AuthConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { auditRange, identitySubscription, siteSubscription } from '../src/db/replication.js';
import { ask, connect, enroll, errorCode, http, login, photo, variant } from './support/client.js';
import { findPgBin, PrivatePostgres } from './support/private-postgres.js';
import { startVision, type ChildService } from './support/vision.js';

const OBAMA = ['obama.jpg', 'obama_small.jpg', 'obama_partial_face.jpg'].map((f) => photo(`face_recognition/barack_obama/${f}`));
const OBAMA_OTHER = photo('face_recognition/barack_obama/obama3.jpg');
const BIDEN = ['biden.jpg', 'biden2.jpg'].map((f) => photo(`face_recognition/joe_biden/${f}`));
const KIT = ['john1.jpeg', 'johnsnow_test1.jpg'].map((f) => photo(`face_recognition/kit_harington/${f}`));
const SITE = 'line-7';
const STALE_AFTER = 6;

interface Auth {
  url: string;
  ctx: Awaited<ReturnType<typeof createContext>>;
  stop(): Promise<void>;
}

const bin = findPgBin();
const masterKey = randomBytes(32);
let vision: ChildService;
let hubPg: PrivatePostgres;
let sitePg: PrivatePostgres;
let hub: Auth;
let site: Auth;
const dirs: string[] = [];

async function startAuth(overrides: Partial<AuthConfig>): Promise<Auth> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'faceline-sites-test-'));
  dirs.push(dataDir);
  const config = testConfig({
    dataDir,
    masterKey,
    visionUrls: [vision.url],
    databasePoolSize: 4,
    indexResyncSeconds: 0,
    liveness: false,
    maxMismatchFrames: 1,
    replicationReconcileSeconds: 1,
    hubHeartbeatSeconds: 1,
    hubTimeoutMs: 2000,
    // about replication, not step-up (step-up.postgres.test.ts): a face login administers
    adminStepUp: false,
    // every request comes from 127.0.0.1: the account's own back-off is what these tests count
    pairBackoffAfter: 100,
    ...overrides,
  });
  const ctx = await createContext(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const app = await buildApp(ctx);
  const url = await app.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    ctx,
    async stop() {
      await app.app.close();
      await ctx.close();
    },
  };
}

const SETUP_TOKEN = 'sites-test-setup-token-0001';
const startHub = () =>
  startAuth({ mode: 'hub', setupToken: SETUP_TOKEN, databaseUrl: hubPg.url(), hubSites: [{ name: SITE, url: sitePg.url() }] });
const startSite = () =>
  startAuth({
    mode: 'site',
    siteId: SITE,
    databaseUrl: sitePg.url(),
    hubDatabaseUrl: hubPg.url(),
    hubReplicationUrl: hubPg.url(),
    siteMaxStalenessSeconds: STALE_AFTER,
  });

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function register(url: string, username: string, setupToken?: string): Promise<{ id: string; ticket: string }> {
  const r = await http(url, 'POST', '/api/v1/users', { body: { username, displayName: username, ...(setupToken ? { setupToken } : {}) } });
  assert.equal(r.status, 201, r.text);
  return { id: r.json.user.id, ticket: r.json.enrollmentTicket };
}

async function session(url: string, username: string, frame: Buffer): Promise<{ accessToken: string; refreshToken: string }> {
  const l = await login(url, { mode: 'verify', username }, [frame]);
  assert.ok(l.result?.ok, JSON.stringify(l.started ?? l.result));
  const s = await http(url, 'POST', '/api/v1/sessions', { body: { grant: l.result.grant } });
  assert.equal(s.status, 200, s.text);
  const refresh = s.setCookies.map((c) => /^faceline_refresh=([^;]+)/.exec(c)?.[1]).find(Boolean) as string;
  return { accessToken: s.json.accessToken, refreshToken: decodeURIComponent(refresh) };
}

const count = async (pgp: PrivatePostgres, sql: string, params: unknown[] = []) => Number((await pgp.query(sql, params)).rows[0]?.n);

describe('hub and site on two PostgreSQL servers', {
  skip: bin ? false : 'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin',
}, () => {
  let admin: { accessToken: string };
  let obamaId: string;

  before(async () => {
    requireFaces();
    const settings = { wal_level: 'logical', max_wal_senders: 10, max_replication_slots: 10 };
    [vision, hubPg, sitePg] = await Promise.all([
      startVision(),
      PrivatePostgres.create(bin as string, settings),
      PrivatePostgres.create(bin as string, settings),
    ]);
    await Promise.all([hubPg.start(), sitePg.start()]);
    hub = await startHub();
    site = await startSite();
    // the operator's setup token makes the first account at the hub its administrator
    const reg = await register(hub.url, 'admin', SETUP_TOKEN);
    assert.ok((await enroll(hub.url, reg.ticket, BIDEN.map((b, i) => variant(b, i)).concat(variant(BIDEN[0]!, 9)))).result?.ok);
    admin = await session(hub.url, 'admin', variant(BIDEN[1]!, 20));
  });

  after(async () => {
    await Promise.all([site?.stop(), hub?.stop()].map((p) => p?.catch(() => undefined)));
    await vision?.stop();
    await Promise.all([hubPg?.destroy(), sitePg?.destroy()]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('the hub publishes identities, the site subscribes, the hub subscribes to the site', async () => {
    assert.deepEqual((await http(site.url, 'GET', '/api/v1/info')).json.mode, 'site');
    assert.equal((await http(site.url, 'GET', '/api/v1/info')).json.site, SITE);
    assert.equal(
      await count(hubPg, `SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1`, [identitySubscription(SITE)]),
      1,
    );
    await until(
      'the hub to subscribe to the site',
      async () =>
        (await count(hubPg, `SELECT count(*)::int AS n FROM pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL`, [
          siteSubscription(SITE),
        ])) === 1,
    );
    const ready = await http(site.url, 'GET', '/readyz');
    assert.equal(ready.json.checks.mode, 'site');
    assert.equal(ready.json.checks.hub, 'ok');
  });

  test('a person enrolled at the hub logs in at the site, 1:1 and at the kiosk (the site index follows replication)', async () => {
    const reg = await register(hub.url, 'obama');
    obamaId = reg.id;
    assert.ok((await enroll(hub.url, reg.ticket, OBAMA)).result?.ok);
    await until('the templates to reach the site index', async () => site.ctx.templates.index.size >= 6);
    const verify = await login(site.url, { mode: 'verify', username: 'obama' }, [OBAMA_OTHER]);
    assert.ok(verify.result?.ok, JSON.stringify(verify.started ?? verify.result));
    const kiosk = await login(site.url, { mode: 'identify' }, [variant(OBAMA_OTHER, 1)]);
    assert.ok(kiosk.result?.ok && kiosk.result.user.username === 'obama', JSON.stringify(kiosk.result));
  });

  test('a token issued at the site verifies with the hub JWKS and the site JWKS alike', async () => {
    const s = await session(site.url, 'obama', variant(OBAMA_OTHER, 2));
    for (const url of [hub.url, site.url]) {
      const jwks = (await http(url, 'GET', '/.well-known/jwks.json')).json;
      const { payload } = await jwtVerify(s.accessToken, createLocalJWKSet(jwks), { issuer: 'faceline', audience: 'faceline' });
      assert.equal(payload.sub, obamaId);
    }
    assert.equal((await http(site.url, 'GET', '/api/v1/me', { bearer: s.accessToken })).status, 200);
  });

  test('sign-ins and audit events of the site reach the hub, with ids from the site range; the hub lists them by time', async () => {
    const { first, last } = auditRange(1);
    const atSite = (await sitePg.query(`SELECT id::text FROM audit_events WHERE type = 'login.succeeded' ORDER BY id`)).rows.map(
      (r) => r.id as string,
    );
    assert.ok(atSite.length >= 3);
    for (const id of atSite) assert.ok(Number(id) >= first && Number(id) <= last, `audit id ${id} outside the site range`);
    await until(
      'the site events at the hub',
      async () =>
        (await count(hubPg, `SELECT count(*)::int AS n FROM audit_events WHERE site = $1 AND type = 'login.succeeded'`, [SITE])) ===
        atSite.length,
    );
    const sessionsAtSite = await count(sitePg, 'SELECT count(*)::int AS n FROM sessions');
    await until(
      'the site sessions at the hub',
      async () => (await count(hubPg, 'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [obamaId])) === sessionsAtSite,
    );
    const log = await http(hub.url, 'GET', '/api/v1/admin/audit?limit=100', { bearer: admin.accessToken });
    assert.equal(log.status, 200, log.text);
    const events = log.json.events as { id: string; at: string; site: string | null; type: string }[];
    assert.ok(events.some((e) => e.site === SITE && e.type === 'login.succeeded'));
    assert.ok(
      events.some((e) => e.site === null && e.type === 'enroll.completed'),
      "the hub's own events too",
    );
    const times = events.map((e) => Date.parse(e.at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first across hub and site',
    );
    const users = await http(hub.url, 'GET', '/api/v1/admin/users', { bearer: admin.accessToken });
    assert.ok(
      users.json.users.find((u: { username: string; lastLoginAt: string | null }) => u.username === 'obama').lastLoginAt,
      'site sign-ins show as the last login at the hub',
    );
  });

  test('the copy at the site is read-only for local writers', async () => {
    await assert.rejects(sitePg.query(`UPDATE users SET display_name = 'x'`), /copy of the hub/);
    await assert.rejects(sitePg.query(`DELETE FROM face_templates`), /copy of the hub/);
  });

  test('enrollment, deletion and role changes made at the site are written at the hub and come back at once', async () => {
    const reg = await register(site.url, 'kit');
    assert.equal(
      await count(hubPg, 'SELECT count(*)::int AS n FROM users WHERE id = $1', [reg.id]),
      1,
      'the account was created at the hub',
    );
    const enrolled = await enroll(
      site.url,
      reg.ticket,
      [0, 1, 2].map((i) => variant(KIT[0]!, 30 + i)),
    );
    assert.ok(enrolled.result?.ok, JSON.stringify(enrolled.result));
    assert.equal(enrolled.result.templateCount, 3, 'the site reads its own write back');
    assert.equal(
      await count(hubPg, 'SELECT count(*)::int AS n FROM face_templates WHERE user_id = $1', [reg.id]),
      3,
      'templates stored at the hub',
    );
    const l = await login(site.url, { mode: 'verify', username: 'kit' }, [KIT[1]!]);
    assert.ok(l.result?.ok, `logs in right after enrolling at the site: ${JSON.stringify(l.started ?? l.result)}`);
    // a face already enrolled anywhere (obama, at the hub) is refused: the site's index knows it
    const dup = await register(site.url, 'obama-again');
    const res = await enroll(
      site.url,
      dup.ticket,
      OBAMA.map((o, i) => variant(o, 40 + i)),
    );
    assert.equal(!res.result?.ok && res.result?.error.code, ErrorCode.FACE_ALREADY_ENROLLED);
    const del = await http(site.url, 'DELETE', `/api/v1/admin/users/${reg.id}`, {
      bearer: (await session(site.url, 'admin', variant(BIDEN[0]!, 50))).accessToken,
    });
    assert.equal(del.status, 204, del.text);
    assert.equal(await count(hubPg, 'SELECT count(*)::int AS n FROM users WHERE id = $1', [reg.id]), 0, 'deleted at the hub');
    assert.equal(await count(sitePg, 'SELECT count(*)::int AS n FROM users WHERE id = $1', [reg.id]), 0, 'and already gone from the copy');
    const role = await http(site.url, 'PUT', `/api/v1/admin/users/${obamaId}/role`, {
      bearer: (await session(site.url, 'admin', variant(BIDEN[1]!, 51))).accessToken,
      body: { role: 'admin' },
    });
    assert.equal(role.status, 200, role.text);
    assert.equal(role.json.user.role, 'admin', 'read back from the site copy right after the write');
    assert.equal((await hubPg.query('SELECT role FROM users WHERE id = $1', [obamaId])).rows[0]?.role, 'admin');
  });

  test('a lock counted at the site shows at the hub; the hub unlock clears it at the site', async () => {
    // obama's face against "admin": failures on the admin account at the site
    const cfg = site.ctx.config;
    for (let i = 0; i < cfg.backoffAfter; i++) {
      const f = await login(site.url, { mode: 'verify', username: 'admin' }, [variant(OBAMA_OTHER, 70 + i)]);
      assert.equal(!f.result?.ok && f.result?.error.code, ErrorCode.FACE_MISMATCH);
    }
    const blocked = await login(site.url, { mode: 'verify', username: 'admin' }, [variant(BIDEN[1]!, 80)]);
    assert.equal(errorCode(blocked.started as never), ErrorCode.BACKOFF);
    const adminId = (await hubPg.query(`SELECT id FROM users WHERE username = 'admin'`)).rows[0]?.id as string;
    const view = await until('the site lock at the hub', async () => {
      const u = (await http(hub.url, 'GET', '/api/v1/admin/users?q=admin', { bearer: admin.accessToken })).json.users.find(
        (x: { id: string }) => x.id === adminId,
      );
      return u?.backoffUntil ? u : undefined;
    });
    assert.equal(view.failedAttempts, cfg.backoffAfter);
    assert.equal((await http(hub.url, 'POST', `/api/v1/admin/users/${adminId}/unlock`, { bearer: admin.accessToken })).status, 200);
    await until(
      'the unlock to clear the site',
      async () =>
        (await count(sitePg, `SELECT count(*)::int AS n FROM attempt_counters WHERE scope = 'user' AND key = $1`, [adminId])) === 0,
    );
    const ok = await login(site.url, { mode: 'verify', username: 'admin' }, [variant(BIDEN[1]!, 81)]);
    assert.ok(ok.result?.ok, JSON.stringify(ok.started ?? ok.result));
  });

  test('an account deleted at the hub is refused at the site, its site sessions end, the kiosk forgets it', async () => {
    const s = await session(site.url, 'obama', variant(OBAMA_OTHER, 95));
    const templateIds = (await sitePg.query('SELECT id FROM face_templates WHERE user_id = $1', [obamaId])).rows.map((r) => r.id as string);
    assert.equal(templateIds.length, 3);
    assert.equal((await http(hub.url, 'DELETE', `/api/v1/admin/users/${obamaId}`, { bearer: admin.accessToken })).status, 204);
    await until(
      'the deletion to reach the site',
      async () => (await count(sitePg, 'SELECT count(*)::int AS n FROM users WHERE id = $1', [obamaId])) === 0,
    );
    const refused = await login(site.url, { mode: 'verify', username: 'obama' }, [variant(OBAMA_OTHER, 96)]);
    assert.equal(errorCode(refused.started as never), ErrorCode.USER_NOT_FOUND);
    assert.equal(
      await count(sitePg, 'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [obamaId]),
      0,
      'site sessions of the account are gone',
    );
    assert.equal((await http(site.url, 'POST', '/api/v1/sessions/refresh', { body: { refreshToken: s.refreshToken } })).status, 401);
    await until('the site index to drop the templates', async () => templateIds.every((id) => !site.ctx.templates.index.has(id)));
    const kiosk = await login(site.url, { mode: 'identify' }, [variant(OBAMA_OTHER, 97)]);
    assert.equal(!kiosk.result?.ok && kiosk.result?.error.code, ErrorCode.FACE_UNKNOWN);
  });

  test('with the hub down the site logs people in, refuses authority operations with HUB_UNAVAILABLE, then SITE_STALE past its limit', async () => {
    const reg = await register(hub.url, 'kept');
    assert.ok(
      (
        await enroll(
          hub.url,
          reg.ticket,
          OBAMA.map((o, i) => variant(o, 100 + i)),
        )
      ).result?.ok,
    );
    await until(
      'kept at the site',
      async () => (await count(sitePg, 'SELECT count(*)::int AS n FROM face_templates WHERE user_id = $1', [reg.id])) === 3,
    );
    const pending = await register(site.url, 'pending');
    const usersAtHub = await count(hubPg, 'SELECT count(*)::int AS n FROM users');
    const loginsBefore = await count(sitePg, `SELECT count(*)::int AS n FROM audit_events WHERE type = 'login.succeeded'`);

    await hub.stop();
    await hubPg.stop('immediate');
    const cutAt = Date.now();
    await until('the site to notice', async () => site.ctx.site.status().hub === 'unavailable');

    // logins go on
    for (let i = 0; i < 3; i++) {
      const l = await login(site.url, { mode: 'verify', username: 'kept' }, [variant(OBAMA_OTHER, 110 + i)]);
      assert.ok(l.result?.ok, JSON.stringify(l.started ?? l.result));
    }
    const s = await session(site.url, 'kept', variant(OBAMA_OTHER, 115));
    assert.equal((await http(site.url, 'GET', '/readyz')).status, 200, 'the site stays ready without its hub');

    // authority operations: a clear, retryable refusal, nothing written
    const socket = await connect(site.url);
    const start = await ask(socket, 'enroll:start', { ticket: pending.ticket });
    socket.disconnect();
    assert.equal(errorCode(start), ErrorCode.HUB_UNAVAILABLE);
    assert.equal('error' in start && start.error.retryable, true);
    const reg2 = await http(site.url, 'POST', '/api/v1/users', { body: { username: 'nobody', displayName: 'Nobody' } });
    assert.equal(reg2.status, 503);
    assert.equal(reg2.json.error.code, ErrorCode.HUB_UNAVAILABLE);
    assert.equal(reg2.json.error.retryable, true);
    assert.equal(await count(sitePg, `SELECT count(*)::int AS n FROM users WHERE username = 'nobody'`), 0);
    const selfDelete = await http(site.url, 'DELETE', '/api/v1/me', { bearer: s.accessToken });
    assert.equal(selfDelete.json?.error?.code, ErrorCode.HUB_UNAVAILABLE);

    // a site restarted meanwhile comes up on its copy
    await site.stop();
    site = await startSite();
    const l = await login(site.url, { mode: 'verify', username: 'kept' }, [variant(OBAMA_OTHER, 116)]);
    assert.ok(l.result?.ok, `after a restart without the hub: ${JSON.stringify(l.started ?? l.result)}`);

    // past the staleness limit: no new logins, no refresh
    await new Promise((r) => setTimeout(r, Math.max(0, STALE_AFTER * 1000 + 1500 - (Date.now() - cutAt))));
    const stale = await login(site.url, { mode: 'verify', username: 'kept' }, [variant(OBAMA_OTHER, 117)]);
    assert.equal(errorCode(stale.started as never), ErrorCode.SITE_STALE);
    const refresh = await http(site.url, 'POST', '/api/v1/sessions/refresh', { body: { refreshToken: s.refreshToken } });
    assert.equal(refresh.status, 503);
    assert.equal(refresh.json.error.code, ErrorCode.SITE_STALE);

    // the hub comes back: the site catches up, logs in again, and everything it recorded arrives
    await hubPg.start();
    hub = await startHub();
    await until(
      'the site to be fresh again',
      async () => {
        const r = await login(site.url, { mode: 'verify', username: 'kept' }, [
          variant(OBAMA_OTHER, 120 + Math.floor(Math.random() * 1e6)),
        ]);
        return r.result?.ok === true;
      },
      30_000,
    );
    const loginsAtSite = await count(sitePg, `SELECT count(*)::int AS n FROM audit_events WHERE type = 'login.succeeded'`);
    assert.ok(loginsAtSite >= loginsBefore + 5);
    await until(
      'every site sign-in at the hub',
      async () =>
        (await count(hubPg, `SELECT count(*)::int AS n FROM audit_events WHERE site = $1 AND type = 'login.succeeded'`, [SITE])) ===
        loginsAtSite,
    );
    assert.equal(await count(hubPg, 'SELECT count(*)::int AS n FROM users'), usersAtHub, 'nothing was half-written at the hub');
  });
});
