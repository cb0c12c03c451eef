import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../db/in-memory.js';
import { AttemptRepository } from './attempt.repository.js';
import { SessionRepository } from './session.repository.js';
import { UserRepository } from './user.repository.js';

let db: Database;
before(async () => {
  db = await openMemoryDatabase();
});
after(() => db.close());

const newUser = async (role: 'user' | 'admin' = 'user') => {
  const id = randomUUID();
  await db.query('INSERT INTO users (id, username, display_name, role) VALUES ($1, $2, $3, $4)', [id, `u${id.slice(0, 12)}`, 'x', role]);
  return id;
};

describe('the writes of a face login, each in one statement (PGlite in memory)', () => {
  const attempts = new AttemptRepository();

  it('recordFailures counts each key as recordFailure does, and only this site’s rows', async () => {
    const user = await newUser();
    const keys: [['ip', string], ['user', string]] = [
      ['ip', `ip-${user}`],
      ['user', user],
    ];
    await attempts.recordFailure(db, 'ip', keys[0][1], 600);
    const [ip, account] = await attempts.recordFailures(db, keys, 600);
    assert.deepEqual([ip?.consecutive, ip?.windowFailures, account?.consecutive, account?.windowFailures], [2, 2, 1, 1]);
    const elsewhere = new AttemptRepository('site-a');
    const [siteIp] = await elsewhere.recordFailures(db, keys, 600);
    assert.equal(siteIp?.consecutive, 1);
    assert.equal((await attempts.get(db, 'ip', keys[0][1])).consecutive, 2);
  });

  it('settleSuccess refunds the address, clears the pair and an unlocked account, and removes what it is told to', async () => {
    const user = await newUser();
    const ip = `ip-${user}`;
    const pair = `${user} ${ip}`;
    await attempts.recordFailures(
      db,
      [
        ['ip', ip],
        ['pair', pair],
        ['user', user],
      ],
      600,
    );
    await attempts.recordFailures(db, [['pair', pair]], 600);
    await attempts.setPenalty(db, 'pair', pair, { backoffSeconds: 30, lock: false });
    await attempts.settleSuccess(db, {
      refund: ['ip', ip],
      clear: [
        ['pair', pair],
        ['user', user],
      ],
      remove: [],
    });
    assert.deepEqual(await attempts.get(db, 'ip', ip), { consecutive: 0, windowFailures: 0, backoffUntil: null, locked: false });
    // the window counts failures only: a success clears the consecutive count and the back-off
    assert.deepEqual(await attempts.get(db, 'pair', pair), { consecutive: 0, windowFailures: 2, backoffUntil: null, locked: false });
    assert.equal((await attempts.get(db, 'user', user)).consecutive, 0);

    await attempts.recordFailures(db, [['user', user]], 600);
    await attempts.setPenalty(db, 'user', user, { backoffSeconds: null, lock: true });
    await attempts.settleSuccess(db, { refund: ['ip', ip], clear: [['user', user]], remove: [] });
    assert.deepEqual(
      [(await attempts.get(db, 'user', user)).locked, (await attempts.get(db, 'user', user)).consecutive],
      [true, 1],
      'a locked account stays locked',
    );
    await attempts.settleSuccess(db, { refund: ['ip', ip], clear: [], remove: [['user', user]] });
    assert.equal((await attempts.get(db, 'user', user)).locked, false);
  });

  it('findAndTouchLogin answers the account as it was and stamps the sign-in (users at the hub)', async () => {
    const users = new UserRepository();
    const id = await newUser();
    assert.equal((await users.findAndTouchLogin(db, id))?.lastLoginAt, null);
    const stamped = (await users.findById(db, id))?.lastLoginAt;
    assert.ok(stamped);
    assert.equal((await users.findAndTouchLogin(db, id))?.lastLoginAt, stamped);
    assert.equal(await users.findAndTouchLogin(db, randomUUID()), undefined);
  });

  it('findAndTouchLogin at a site stamps only its own last_logins row', async () => {
    const users = new UserRepository('site-b');
    const id = await newUser();
    assert.equal((await users.findAndTouchLogin(db, id))?.lastLoginAt, null);
    const { rows } = await db.query<{ site: string; hub: unknown }>(
      'SELECT l.site, u.last_login_at AS hub FROM last_logins l JOIN users u ON u.id = l.user_id WHERE l.user_id = $1',
      [id],
    );
    assert.deepEqual(rows, [{ site: 'site-b', hub: null }]);
    assert.ok((await users.findById(db, id))?.lastLoginAt);
  });

  it('exchangeGrant with holdAdmin leaves an administrator’s grant usable and exchanges any other', async () => {
    const sessions = new SessionRepository();
    const grantFor = async (userId: string) => {
      const hash = randomUUID();
      await sessions.createGrant(db, {
        hash,
        userId,
        mode: 'verify',
        liveness: false,
        ip: null,
        userAgent: null,
        ttlSeconds: 60,
        amr: ['face'],
        acr: 'urn:faceline:acr:face',
        deviceId: null,
      });
      return hash;
    };
    const exchange = (grantHash: string, holdAdmin: boolean) =>
      sessions.exchangeGrant(db, {
        grantHash,
        sessionId: randomUUID(),
        ip: null,
        userAgent: null,
        ttlSeconds: 60,
        refreshHash: randomUUID(),
        holdAdmin,
      });
    const admin = await grantFor(await newUser('admin'));
    assert.equal((await exchange(admin, true)).outcome, 'admin');
    assert.equal((await exchange(admin, false)).outcome, 'ok');
    assert.equal((await exchange(admin, true)).outcome, 'invalid', 'a used grant is not held, it is gone');
    assert.equal((await exchange(await grantFor(await newUser()), true)).outcome, 'ok');
    assert.equal((await exchange(randomUUID(), true)).outcome, 'invalid');
  });
});
