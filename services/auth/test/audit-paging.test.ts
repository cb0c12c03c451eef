/**
 * Audit paging past id 1000, on both databases: every event appears exactly once, newest first,
 * in the administrators' log and in a person's own sign-in history. (Ids are bigints; sorting
 * them as text put "999" before "1000", so after id 1000 new events never reached page 1.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PROOF, createStore, signInWithoutFace, startReplica, type Backend, type Replica, type Store } from './support/auth.js';
import { http } from './support/client.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';
const EVENTS = 1100;

/** Follows nextCursor to the end; returns every id in the order the pages gave them. */
async function allPages(r: Replica, path: string, cookie: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await http(r.url, 'GET', `${path}${sep}limit=200${cursor ? `&cursor=${cursor}` : ''}`, { cookie });
    assert.equal(res.status, 200, res.text);
    ids.push(...(res.json.events as { id: string }[]).map((e) => e.id));
    cursor = res.json.nextCursor;
    if (cursor === null) return ids;
  }
  throw new Error('paging did not end');
}

const descending = (ids: string[]) => [...ids].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0));

for (const backend of ['pglite', 'postgres'] as Backend[]) {
  describe(`audit paging on ${backend}`, { timeout: 180_000 }, () => {
    let store: Store;
    let r: Replica;
    let adminCookie: string;
    let userCookie: string;
    let userId: string;

    before(async () => {
      store = await createStore(backend);
      r = await startReplica(store, UNREACHABLE_VISION);
      const admin = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'auditor', displayName: 'Auditor' } });
      const user = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'worker', displayName: 'Worker' } });
      assert.equal(user.status, 201, user.text);
      userId = user.json.user.id;
      await r.ctx.db.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.json.user.id]);
      adminCookie = await signInWithoutFace(r, admin.json.user.id, ADMIN_PROOF);
      userCookie = await signInWithoutFace(r, userId);
      // more than 1000 sign-in events of the user (ids well past 1000), in one statement
      await r.ctx.db.query(
        `INSERT INTO audit_events (type, outcome, user_id, username, mode, code, ip)
         SELECT CASE WHEN g % 3 = 0 THEN 'login.failed' ELSE 'login.succeeded' END,
                CASE WHEN g % 3 = 0 THEN 'failure' ELSE 'success' END,
                $1, 'worker', 'verify', CASE WHEN g % 3 = 0 THEN 'FACE_MISMATCH' END, '10.0.0.1'
         FROM generate_series(1, ${EVENTS}) AS g`,
        [userId],
      );
    });
    after(async () => {
      await r?.stop().catch(() => undefined);
      await store?.drop();
    });

    test("the administrators' audit log pages through every event exactly once, newest first", async () => {
      const { rows } = await r.ctx.db.query<{ id: string }>('SELECT id::text AS id FROM audit_events');
      assert.ok(rows.length > 1000 && rows.some((x) => Number(x.id) > 1000), 'ids beyond 1000 exist');
      const ids = await allPages(r, '/api/v1/admin/audit', adminCookie);
      assert.equal(new Set(ids).size, ids.length, 'no event twice');
      assert.deepEqual(ids, descending(rows.map((x) => x.id)), 'every event, newest first');

      // an event written now is the first one on the first page
      await r.ctx.db.query(
        `INSERT INTO audit_events (type, outcome, user_id, username) VALUES ('profile.updated', 'success', $1, 'worker')`,
        [userId],
      );
      const first = await http(r.url, 'GET', '/api/v1/admin/audit?limit=5', { cookie: adminCookie });
      const newest = await r.ctx.db.query<{ id: string }>('SELECT max(id)::text AS id FROM audit_events');
      assert.equal(first.json.events[0].id, newest.rows[0]!.id);
      assert.deepEqual(
        first.json.events.map((e: { id: string }) => e.id),
        descending(first.json.events.map((e: { id: string }) => e.id)),
      );
    });

    test("a person's own sign-in history pages through every sign-in exactly once, newest first", async () => {
      const { rows } = await r.ctx.db.query<{ id: string }>(
        `SELECT id::text AS id FROM audit_events WHERE user_id = $1 AND type IN ('login.succeeded', 'login.failed')`,
        [userId],
      );
      assert.equal(rows.length, EVENTS);
      const ids = await allPages(r, '/api/v1/me/audit', userCookie);
      assert.equal(new Set(ids).size, ids.length, 'no event twice');
      assert.deepEqual(ids, descending(rows.map((x) => x.id)));
      // the filtered admin view agrees
      const filtered = await allPages(r, `/api/v1/admin/audit?userId=${userId}&type=login.failed`, adminCookie);
      assert.equal(filtered.length, Math.floor(EVENTS / 3));
      assert.deepEqual(filtered, descending(filtered));
    });
  });
}
