import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@faceline/contracts';
import type { Database } from '../db/database.js';
import { openMemoryDatabase } from '../db/in-memory.js';
import { AuthError } from '../errors.js';
import { AttemptRepository } from '../repositories/attempt.repository.js';
import { BruteForceService, backoffSecondsFor, type LimitsConfig, type Origin } from './brute-force.service.js';

describe('back-off times', () => {
  it('back-off starts at the configured failure with the base time and doubles, capped', () => {
    const cfg = { backoffAfter: 5, backoffBaseSeconds: 30, backoffMaxSeconds: 3600 };
    assert.equal(backoffSecondsFor(4, cfg), null);
    assert.equal(backoffSecondsFor(5, cfg), 30);
    assert.equal(backoffSecondsFor(6, cfg), 60);
    assert.equal(backoffSecondsFor(7, cfg), 120);
    assert.equal(backoffSecondsFor(49, cfg), 3600);
  });
});

const CFG: LimitsConfig = {
  pairBackoffAfter: 3,
  backoffAfter: 6,
  lockAfter: 10,
  backoffBaseSeconds: 30,
  backoffMaxSeconds: 3600,
  ipMaxFailures: 20,
  ipWindowSeconds: 900,
  registrationsPerIp: 5,
  loginStartsPerWindow: 4,
};

async function codeOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
}

describe('brute-force limits (database state, PGlite in memory)', () => {
  let db: Database;
  let bf: BruteForceService;
  let user: string;
  const attacker: Origin = { ip: '198.51.100.7', deviceId: null };
  const home: Origin = { ip: '10.0.0.5', deviceId: null };

  before(async () => {
    db = await openMemoryDatabase();
    bf = new BruteForceService(db, new AttemptRepository(), CFG);
  });
  after(() => db.close());
  beforeEach(async () => {
    user = randomUUID();
    await db.query('DELETE FROM attempt_counters');
    await db.query("INSERT INTO users (id, username, display_name) VALUES ($1, $2, 'x')", [user, `u${user.slice(0, 8)}`]);
  });

  it('an attempt counts when it begins; a success gives it back', async () => {
    await bf.recordAttempt(user, home);
    let rows = (
      await db.query<{ scope: string; consecutive: number; window_failures: number }>(
        'SELECT scope, consecutive, window_failures FROM attempt_counters ORDER BY scope',
      )
    ).rows;
    assert.deepEqual(
      rows.map((r) => [r.scope, r.consecutive]),
      [
        ['ip', 1],
        ['pair', 1],
        ['user', 1],
      ],
    );
    await bf.recordSuccess(user, home);
    rows = (
      await db.query<{ scope: string; consecutive: number; window_failures: number }>(
        'SELECT scope, consecutive, window_failures FROM attempt_counters ORDER BY scope',
      )
    ).rows;
    assert.deepEqual(
      rows.map((r) => [r.scope, r.consecutive, r.window_failures]),
      [
        ['ip', 0, 0],
        ['pair', 0, 1],
        ['user', 0, 1],
      ],
    );
  });

  it('one attacker backs off only their own (account, address) pair first; the owner elsewhere is not blocked', async () => {
    for (let i = 0; i < CFG.pairBackoffAfter - 1; i++) await bf.recordAttempt(user, attacker);
    assert.equal(await codeOf(bf.assertMayTry(user, attacker)), null, 'just below the pair limit');
    await bf.recordAttempt(user, attacker);
    assert.equal(await codeOf(bf.assertMayTry(user, attacker)), ErrorCode.BACKOFF);
    assert.equal(await codeOf(bf.assertMayTry(user, home)), null, 'the owner from another address still gets in');
  });

  it('many addresses back the account off, then lock it, for untrusted origins only; a trusted kiosk passes and its success lifts the lock', async () => {
    for (let i = 0; i < CFG.backoffAfter; i++) await bf.recordAttempt(user, { ip: `203.0.113.${i}`, deviceId: null });
    assert.equal(await codeOf(bf.assertMayTry(user, home)), ErrorCode.BACKOFF, 'the account backs off');
    for (let i = CFG.backoffAfter; i < CFG.lockAfter; i++) await bf.recordAttempt(user, { ip: `203.0.113.${i}`, deviceId: null });
    assert.equal(await codeOf(bf.assertMayTry(user, home)), ErrorCode.ACCOUNT_LOCKED);
    const kiosk: Origin = { ip: '10.0.0.9', deviceId: randomUUID() };
    assert.equal(await codeOf(bf.assertMayTry(user, kiosk)), null, 'the real person at a trusted kiosk is not locked out');
    await bf.recordAttempt(user, kiosk);
    await bf.recordSuccess(user, kiosk);
    assert.equal(await codeOf(bf.assertMayTry(user, home)), null, 'a success at the kiosk lifted the lock');
  });

  it('the origin window counts probes and kiosk guesses of no known account', async () => {
    for (let i = 0; i < CFG.ipMaxFailures - 1; i++) await (i % 2 ? bf.recordProbe(attacker) : bf.recordAttempt(null, attacker));
    assert.equal(await codeOf(bf.assertOriginMayTry(attacker)), null);
    await bf.recordProbe(attacker);
    assert.equal(await codeOf(bf.assertOriginMayTry(attacker)), ErrorCode.RATE_LIMITED);
    assert.equal(await codeOf(bf.assertMayTry(user, attacker)), ErrorCode.RATE_LIMITED, 'for every account');
    assert.equal(await codeOf(bf.assertOriginMayTry(home)), null);
  });

  it('an origin gets only so many challenge draws per account and window; others are not affected', async () => {
    for (let i = 0; i < CFG.loginStartsPerWindow; i++) await bf.recordStart(user, attacker);
    assert.equal(await codeOf(bf.recordStart(user, attacker)), ErrorCode.RATE_LIMITED);
    assert.equal(await codeOf(bf.recordStart(user, home)), null, 'the owner can still start a login');
  });

  it('an administrator unlock clears the account and its pairs', async () => {
    for (let i = 0; i < CFG.lockAfter; i++) await bf.recordAttempt(user, attacker);
    await bf.unlock(user);
    assert.equal(await codeOf(bf.assertMayTry(user, attacker)), null);
  });
});
