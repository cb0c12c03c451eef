/**
 * Hostile text over HTTP and Socket.IO, on both databases: NUL, lone surrogates, control,
 * invisible and direction-changing characters get 400 / an acknowledgement with
 * INVALID_CHARACTERS and change nothing; names are stored NFC. (Before: a NUL in a display name,
 * a profile field, the admin search or a socket username, and a lone surrogate in a profile
 * field, failed inside PostgreSQL as 500 INTERNAL; `op\u200Badmin` was accepted.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { ADMIN_PROOF, createStore, signInWithoutFace, startReplica, type Backend, type Replica, type Store } from './support/auth.js';
import { ask, connect, errorCode, http } from './support/client.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  describe(`hostile input on ${backend}`, { timeout: 120_000 }, () => {
    let store: Store;
    let r: Replica;
    let cookie: string;
    let userId: string;
    const count = async (table: string) => (await r.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

    before(async () => {
      store = await createStore(backend);
      r = await startReplica(store, UNREACHABLE_VISION);
      const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'ada', displayName: 'Ada' } });
      userId = reg.json.user.id;
      await r.ctx.db.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [userId]);
      cookie = await signInWithoutFace(r, userId, ADMIN_PROOF);
      const patch = await http(r.url, 'PATCH', '/api/v1/me', { cookie, body: { profile: { greeting: 'Good shift', station: 'Line 4' } } });
      assert.equal(patch.status, 200, patch.text);
    });
    after(async () => {
      await r?.stop().catch(() => undefined);
      await store?.drop();
    });

    test('registration: NUL, control, invisible and bidi characters in names are 400 INVALID_CHARACTERS and create nothing', async () => {
      const users = await count('users');
      const cases: [Record<string, string>, string, string][] = [
        [{ username: 'nul', displayName: 'Ada\u0000' }, 'displayName', 'control'],
        [{ username: 'zw', displayName: 'op\u200Badmin' }, 'displayName', 'invisible'],
        [{ username: 'rlo', displayName: 'admin\u202Egnp.exe' }, 'displayName', 'invisible'],
        [{ username: 'iso', displayName: '\u2067Ada\u2069' }, 'displayName', 'invisible'],
        [{ username: 'sur', displayName: 'Ada\uD800' }, 'displayName', 'malformed'],
        [{ username: 'a\u0000b', displayName: 'Ada' }, 'username', 'control'],
        [{ username: 'op\u200Badmin', displayName: 'Ada' }, 'username', 'invisible'],
      ];
      for (const [body, field, reason] of cases) {
        const res = await http(r.url, 'POST', '/api/v1/users', { body });
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.json.error.code, ErrorCode.INVALID_CHARACTERS);
        assert.deepEqual(res.json.error.details, { field, reason });
      }
      assert.equal(await count('users'), users, 'no account was created');
    });

    test('registration stores names NFC: the same name typed two ways is the same name', async () => {
      const res = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'amelie', displayName: 'Ame\u0301lie' } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.user.displayName, 'Am\u00E9lie');
      const { rows } = await r.ctx.db.query<{ display_name: string }>(`SELECT display_name FROM users WHERE username = 'amelie'`);
      assert.equal(rows[0]!.display_name, 'Am\u00E9lie');
    });

    test('profile: NUL and lone surrogates in any field are 400 INVALID_CHARACTERS and change nothing', async () => {
      const before = await http(r.url, 'GET', '/api/v1/me', { cookie });
      for (const [body, field] of [
        [{ displayName: 'Ada\u0000' }, 'displayName'],
        [{ profile: { greeting: 'Hi\u0000there' } }, 'profile.greeting'],
        [{ profile: { station: 'Line\u0000' } }, 'profile.station'],
        [{ profile: { greeting: 'Hi \uD83D' } }, 'profile.greeting'],
        [{ profile: { station: '\uDE00' } }, 'profile.station'],
        [{ profile: { greeting: 'Good\u202Eshift' } }, 'profile.greeting'],
        [{ displayName: 'Ada', profile: { locale: 'de\u0000' } }, 'profile.locale'],
      ] as const) {
        const res = await http(r.url, 'PATCH', '/api/v1/me', { cookie, body });
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.json.error.code, ErrorCode.INVALID_CHARACTERS);
        assert.equal(res.json.error.details.field, field);
      }
      const after = await http(r.url, 'GET', '/api/v1/me', { cookie });
      assert.deepEqual(after.json.profile, before.json.profile);
      assert.equal(after.json.user.displayName, before.json.user.displayName);
      // ordinary text still saves, NFC
      const ok = await http(r.url, 'PATCH', '/api/v1/me', { cookie, body: { profile: { greeting: 'Gu\u0308ten Tag 👷' } } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.profile.greeting, 'G\u00FCten Tag 👷');
    });

    test('admin search with a NUL is a 400, not a database error', async () => {
      const res = await http(r.url, 'GET', `/api/v1/admin/users?q=${encodeURIComponent('a\u0000')}`, { cookie });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.code, ErrorCode.INVALID_CHARACTERS);
      assert.equal((await http(r.url, 'GET', '/api/v1/admin/users?q=ad', { cookie })).status, 200);
    });

    test('Socket.IO: a hostile username in login:start is INVALID_CHARACTERS, with or without an acknowledgement', async () => {
      const s = await connect(r.url);
      try {
        for (const username of ['ada\u0000', 'op\u200Badmin', 'ada\uD800', 'ad\u202Ea']) {
          const res = await ask(s, 'login:start', { mode: 'verify', username });
          assert.equal(errorCode(res), ErrorCode.INVALID_CHARACTERS, JSON.stringify(username));
        }
        const flowError = new Promise<{ event: string; error: { code: string } }>((resolve) => s.once('flow:error', resolve));
        // without an acknowledgement (the typed socket insists on one; an attacker's does not)
        (s as unknown as { emit(event: string, payload: unknown): void }).emit('login:start', { mode: 'verify', username: 'x\u0000' });
        const e = await flowError;
        assert.equal(e.event, 'login:start');
        assert.equal(e.error.code, ErrorCode.INVALID_CHARACTERS);
        // the connection still works for clean requests
        assert.equal(errorCode(await ask(s, 'login:start', { mode: 'verify', username: 'nobody-here' })), ErrorCode.USER_NOT_FOUND);
      } finally {
        s.disconnect();
      }
    });
  });
}
