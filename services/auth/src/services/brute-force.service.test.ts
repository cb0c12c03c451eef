import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@faceline/contracts';
import { testConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../db/in-memory.js';
import { AuthError } from '../errors.js';
import { AttemptRepository } from '../repositories/attempt.repository.js';
import { BruteForceService, backoffSecondsFor, type FailureOutcome, type Origin } from './brute-force.service.js';

/** The limits as shipped. */
const cfg = testConfig();

/** The AuthError a call throws (null when it does not). */
async function errorOf(p: Promise<unknown>): Promise<AuthError | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
}
const codeOf = async (p: Promise<unknown>) => (await errorOf(p))?.code ?? null;

describe('brute-force limits at their edges (shipped defaults, PGlite in memory)', () => {
  let db: Database;
  let bf: BruteForceService;
  const repo = new AttemptRepository();
  /** the clock back-off ends are compared with; the database stamps them with its own */
  let now = Date.now();
  let n = 0;
  /** an address no other call returned */
  const address = (): Origin => {
    n++;
    return { ip: `198.18.${(n >> 8) & 255}.${n & 255}`, deviceId: null };
  };
  const newUser = async () => {
    const id = randomUUID();
    await db.query("INSERT INTO users (id, username, display_name) VALUES ($1, $2, 'x')", [id, `u${id.slice(0, 12)}`]);
    return id;
  };
  /** How long a penalty lasts, as the database wrote it (seconds). */
  const penaltySeconds = async (scope: 'user' | 'pair', key: string) => {
    const { rows } = await db.query<{ s: number }>(
      "SELECT extract(epoch FROM backoff_until - updated_at)::float8 AS s FROM attempt_counters WHERE site = '' AND scope = $1 AND key = $2",
      [scope, key],
    );
    return rows[0]?.s ?? null;
  };

  before(async () => {
    db = await openMemoryDatabase();
    bf = new BruteForceService(db, repo, cfg, () => now);
  });
  after(() => db.close());
  beforeEach(() => {
    now = Date.now();
  });

  it('a pair backs off at pairBackoffAfter failures for the base time, doubling with each more; the back-off ends to the millisecond', async () => {
    const user = await newUser();
    const o = address();
    const key = `${user} ${o.ip}`;
    for (let i = 0; i < cfg.pairBackoffAfter - 1; i++) await bf.recordAttempt(user, o);
    assert.equal(await codeOf(bf.assertMayTry(user, o)), null, 'one failure before the limit');
    await bf.recordAttempt(user, o);
    const err = await errorOf(bf.assertMayTry(user, o));
    assert.equal(err?.code, ErrorCode.BACKOFF);
    assert.ok(Math.abs(((await penaltySeconds('pair', key)) ?? 0) - cfg.backoffBaseSeconds) < 1);

    const until = (await repo.get(db, 'pair', key)).backoffUntil as Date;
    now = until.getTime() - 1;
    assert.equal((await errorOf(bf.assertMayTry(user, o)))?.details?.retryAfterMs, 1);
    now = until.getTime();
    assert.equal(await codeOf(bf.assertMayTry(user, o)), null);

    await bf.recordAttempt(user, o);
    assert.ok(Math.abs(((await penaltySeconds('pair', key)) ?? 0) - 2 * cfg.backoffBaseSeconds) < 1);
  });

  it('the account backs off at backoffAfter and locks at lockAfter, from any addresses, not one failure earlier', async () => {
    const user = await newUser();
    const outcomes: FailureOutcome[] = [];
    for (let i = 0; i < cfg.lockAfter; i++) outcomes.push((await bf.recordAttempt(user, address())) as FailureOutcome);
    const at = (failures: number) => outcomes[failures - 1] as FailureOutcome;
    assert.deepEqual(at(cfg.backoffAfter - 1), { consecutive: cfg.backoffAfter - 1, backoffSeconds: null, locked: false });
    assert.deepEqual(at(cfg.backoffAfter), { consecutive: cfg.backoffAfter, backoffSeconds: cfg.backoffBaseSeconds, locked: false });
    assert.deepEqual(at(cfg.lockAfter - 1), {
      consecutive: cfg.lockAfter - 1,
      backoffSeconds: backoffSecondsFor(cfg.lockAfter - 1, cfg),
      locked: false,
    });
    assert.deepEqual(at(cfg.lockAfter), { consecutive: cfg.lockAfter, backoffSeconds: null, locked: true });
    assert.ok((backoffSecondsFor(cfg.lockAfter - 1, cfg) as number) <= cfg.backoffMaxSeconds);
  });

  it('an account back-off ends to the millisecond; a lock does not end by itself', async () => {
    const backedOff = await newUser();
    for (let i = 0; i < cfg.backoffAfter; i++) await bf.recordAttempt(backedOff, address());
    const home = address();
    const until = (await repo.get(db, 'user', backedOff)).backoffUntil as Date;
    now = until.getTime() - 1;
    assert.equal(await codeOf(bf.assertMayTry(backedOff, home)), ErrorCode.BACKOFF);
    now = until.getTime();
    assert.equal(await codeOf(bf.assertMayTry(backedOff, home)), null);

    const locked = await newUser();
    for (let i = 0; i < cfg.lockAfter; i++) await bf.recordAttempt(locked, address());
    now = Date.now() + cfg.backoffMaxSeconds * 1000 + 1;
    assert.equal(await codeOf(bf.assertMayTry(locked, home)), ErrorCode.ACCOUNT_LOCKED);
  });

  it('a trusted device is held back by its own pair, wherever it connects from, never by the account', async () => {
    const user = await newUser();
    for (let i = 0; i < cfg.lockAfter; i++) await bf.recordAttempt(user, address());
    const device = randomUUID();
    const at = (ip: string): Origin => ({ ip, deviceId: device });
    assert.equal(await codeOf(bf.assertMayTry(user, at('10.1.0.1'))), null, 'the locked account at a trusted device');
    for (let i = 0; i < cfg.pairBackoffAfter - 1; i++) await bf.recordAttempt(user, at(`10.1.0.${i + 2}`));
    assert.equal(await codeOf(bf.assertMayTry(user, at('10.1.1.1'))), null);
    await bf.recordAttempt(user, at('10.1.0.99'));
    assert.equal(await codeOf(bf.assertMayTry(user, at('10.1.1.2'))), ErrorCode.BACKOFF, 'the device, from a new address');
    assert.equal(
      (await errorOf(bf.assertMayTry(user, { ip: '10.1.1.2', deviceId: null })))?.code,
      ErrorCode.ACCOUNT_LOCKED,
      'its address without it',
    );
  });

  it('an address may fail ipMaxFailures - 1 times in a window; at the limit every account refuses it for the window', async () => {
    const o = address();
    for (let i = 0; i < cfg.ipMaxFailures - 1; i++) await bf.recordProbe(o);
    assert.equal(await codeOf(bf.assertOriginMayTry(o)), null);
    await bf.recordAttempt(null, o);
    const err = await errorOf(bf.assertMayTry(await newUser(), o));
    assert.equal(err?.code, ErrorCode.RATE_LIMITED);
    assert.equal(err?.details?.retryAfterMs, cfg.ipWindowSeconds * 1000);
    // a success refunds one failure: the address is back just below the limit
    const user = await newUser();
    await bf.recordSuccess(user, o);
    assert.equal(await codeOf(bf.assertOriginMayTry(o)), null);
  });

  it('an address may register registrationsPerIp accounts per window, not one more', async () => {
    const { ip } = address();
    for (let i = 0; i < cfg.registrationsPerIp; i++) {
      assert.equal(await codeOf(bf.assertMayRegister(ip)), null, `registration ${i + 1}`);
      await bf.recordRegistration(ip);
    }
    assert.equal(await codeOf(bf.assertMayRegister(ip)), ErrorCode.RATE_LIMITED);
  });
});
