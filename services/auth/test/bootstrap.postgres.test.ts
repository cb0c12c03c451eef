/**
 * The first administrator on PostgreSQL: only the one-time setup token makes one, however many
 * registrations race, on however many replicas, and deleting every user hands admin to nobody.
 * (Before: the first account on an empty database became admin, checked and inserted in one
 * racy statement — 20 parallel registrations gave several admins — and again after all users
 * were deleted.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { capturingLogger, createStore, signInWithoutFace, startReplica, type Replica, type Store } from './support/auth.js';
import { http } from './support/client.js';

const UNREACHABLE_VISION = 'http://127.0.0.1:9';
const PARALLEL = 20;

function setupTokenFrom(lines: Record<string, unknown>[]): string | undefined {
  const line = lines.find((l) => typeof l.setupPath === 'string' && !String(l.setupPath).includes('<'));
  return line ? (new URLSearchParams(String(line.setupPath).split('?')[1]).get('setup') ?? undefined) : undefined;
}

async function admins(r: Replica): Promise<number> {
  return (await r.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`)).rows[0]!.n;
}

/** `PARALLEL` registrations at once, spread over the replicas. */
async function registerMany(replicas: Replica[], prefix: string, setupToken?: string) {
  return Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      http(replicas[i % replicas.length]!.url, 'POST', '/api/v1/users', {
        body: { username: `${prefix}${i}`, displayName: `Person ${i}`, ...(setupToken ? { setupToken } : {}) },
      }),
    ),
  );
}

describe('first administrator on PostgreSQL', { timeout: 180_000 }, () => {
  let store: Store;
  let a: Replica;
  let b: Replica;
  const logA = capturingLogger();
  const logB = capturingLogger();
  let tokenA: string;
  let tokenB: string;
  const extra: Replica[] = [];

  before(async () => {
    store = await createStore('postgres');
    // two replicas start at once on the empty database: each prints a link of its own
    [a, b] = await Promise.all([
      startReplica(store, UNREACHABLE_VISION, {}, { log: logA.log }),
      startReplica(store, UNREACHABLE_VISION, {}, { log: logB.log }),
    ]);
    tokenA = setupTokenFrom(logA.lines) as string;
    tokenB = setupTokenFrom(logB.lines) as string;
  });
  after(async () => {
    for (const r of [a, b, ...extra]) await r?.stop().catch(() => undefined);
    await store?.drop();
  });

  test('while no administrator exists, each start logs a setup link; only hashes are stored', async () => {
    assert.ok(tokenA && tokenB && tokenA !== tokenB, `two links: ${logA.text()}${logB.text()}`);
    const line = logA.lines.find((l) => l.setupPath);
    assert.equal(line?.level, 40, 'logged as a warning, visible at LOG_LEVEL=warn');
    assert.match(String(line?.msg), /first administrator/);
    const { rows } = await a.ctx.db.query<{ token_hash: string }>('SELECT token_hash FROM setup_tokens');
    assert.equal(rows.length, 2);
    assert.ok(
      rows.every((r) => r.token_hash !== tokenA && r.token_hash !== tokenB),
      'the tokens themselves are not stored',
    );
  });

  test(`${PARALLEL} parallel registrations on an empty database without the token: no administrator`, async () => {
    const res = await registerMany([a, b], 'plain');
    assert.deepEqual(
      res.map((r) => r.status),
      Array(PARALLEL).fill(201),
    );
    assert.ok(res.every((r) => r.json.user.role === 'user'));
    assert.equal(await admins(a), 0);
  });

  test(`${PARALLEL} parallel registrations on an empty database, all with the token: exactly one administrator`, async () => {
    await a.ctx.db.query('DELETE FROM users');
    const res = await registerMany([a, b], 'race', tokenA);
    const created = res.filter((r) => r.status === 201);
    assert.equal(created.length, 1, `statuses: ${res.map((r) => r.status).join(',')}`);
    assert.equal(created[0]!.json.user.role, 'admin');
    const refused = res.filter((r) => r.status !== 201);
    assert.ok(
      refused.every((r) => r.status === 403 && r.json.error.code === ErrorCode.SETUP_TOKEN_INVALID),
      'the others are refused, not made ordinary users',
    );
    assert.equal(await admins(a), 1);
    assert.equal(
      (await a.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]!.n,
      1,
      'refused registrations created nothing',
    );
    // the other replica's link is spent as well: there is an administrator now
    const other = await http(b.url, 'POST', '/api/v1/users', { body: { username: 'late', displayName: 'Late', setupToken: tokenB } });
    assert.equal(other.status, 403);
    assert.equal(other.json.error.code, ErrorCode.SETUP_TOKEN_INVALID);
  });

  test('after every user is deleted, nobody becomes administrator by registering', async () => {
    const { rows } = await a.ctx.db.query<{ id: string }>('SELECT id FROM users');
    const cookie = await signInWithoutFace(a, rows[0]!.id);
    assert.equal((await http(a.url, 'DELETE', '/api/v1/me', { cookie })).status, 204, 'the administrator deletes their own account');
    assert.equal((await a.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]!.n, 0);
    const res = await registerMany([a, b], 'after');
    assert.ok(res.every((r) => r.status === 201 && r.json.user.role === 'user'));
    assert.equal(await admins(a), 0);
    for (const setupToken of [tokenA, tokenB]) {
      const again = await http(a.url, 'POST', '/api/v1/users', { body: { username: 'again', displayName: 'Again', setupToken } });
      assert.equal(again.json.error.code, ErrorCode.SETUP_TOKEN_INVALID, 'a spent link stays spent');
    }
  });

  test('a restart while no administrator exists prints a new link, which works once; with an administrator, none', async () => {
    const log = capturingLogger();
    const c = await startReplica(store, UNREACHABLE_VISION, {}, { log: log.log });
    extra.push(c);
    const token = setupTokenFrom(log.lines);
    assert.ok(token, log.text());
    const first = await http(c.url, 'POST', '/api/v1/users', { body: { username: 'chief', displayName: 'Chief', setupToken: token } });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.user.role, 'admin');
    const second = await http(c.url, 'POST', '/api/v1/users', { body: { username: 'chief2', displayName: 'Chief 2', setupToken: token } });
    assert.equal(second.json.error.code, ErrorCode.SETUP_TOKEN_INVALID);
    assert.equal(await admins(c), 1);

    const quiet = capturingLogger();
    const d = await startReplica(store, UNREACHABLE_VISION, {}, { log: quiet.log });
    extra.push(d);
    assert.equal(d.ctx.setup.state, 'admin-exists');
    assert.equal(setupTokenFrom(quiet.lines), undefined);
    assert.doesNotMatch(quiet.text(), /setup/i);
  });
});

describe('FACELINE_SETUP_TOKEN on PostgreSQL', { timeout: 120_000 }, () => {
  let store: Store;
  const replicas: Replica[] = [];
  const TOKEN = 'operator-chosen-setup-token-0123456789';

  before(async () => {
    store = await createStore('postgres');
  });
  after(async () => {
    for (const r of replicas) await r.stop().catch(() => undefined);
    await store?.drop();
  });

  test("the operator's token makes the first administrator once, and is never printed", async () => {
    const log = capturingLogger();
    const r = await startReplica(store, UNREACHABLE_VISION, { setupToken: TOKEN }, { log: log.log });
    replicas.push(r);
    assert.equal(r.ctx.setup.state, 'configured-token');
    assert.ok(!log.text().includes(TOKEN), 'the configured token stays out of the log');
    assert.match(log.text(), /FACELINE_SETUP_TOKEN/);
    const wrong = await http(r.url, 'POST', '/api/v1/users', {
      body: { username: 'guess', displayName: 'Guess', setupToken: 'not-the-token-0123456789' },
    });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.json.error.code, ErrorCode.SETUP_TOKEN_INVALID);
    const ok = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'boss', displayName: 'Boss', setupToken: TOKEN } });
    assert.equal(ok.json.user.role, 'admin');
    // all users gone, same token configured: it was spent, auth says so instead of re-opening
    await r.ctx.db.query('DELETE FROM users');
    const log2 = capturingLogger();
    const r2 = await startReplica(store, UNREACHABLE_VISION, { setupToken: TOKEN }, { log: log2.log });
    replicas.push(r2);
    assert.equal(r2.ctx.setup.state, 'configured-token-spent');
    assert.match(log2.text(), /FACELINE_SETUP_TOKEN was used already/);
    const again = await http(r2.url, 'POST', '/api/v1/users', { body: { username: 'boss2', displayName: 'Boss', setupToken: TOKEN } });
    assert.equal(again.json.error.code, ErrorCode.SETUP_TOKEN_INVALID);
  });
});
