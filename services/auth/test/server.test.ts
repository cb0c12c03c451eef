/**
 * The real entry point (`server.ts`) as operators run it: embedded PGlite in a data directory,
 * a generated master key file with mode 0600, health and readiness, a clean exit on SIGTERM,
 * and data that survives a restart.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startChild, startVision, type ChildService } from './support/vision.js';
import { http } from './support/client.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'faceline-auth-server-'));
let vision: ChildService | undefined;
after(async () => {
  await vision?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('server.ts: embedded database, key file 0600, ready, SIGTERM exits 0, data survives a restart', { timeout: 300_000 }, async () => {
  vision = await startVision();
  const env = { FACELINE_DATA_DIR: dataDir, VISION_URL: vision.url, LIVENESS: 'on' };
  const first = await startChild('services/auth/src/server.ts', env);
  const keyFile = path.join(dataDir, 'master.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.match(first.output(), /master key file/, 'creating the key is logged');
  assert.equal((await http(first.url, 'GET', '/healthz')).status, 200);
  const ready = await http(first.url, 'GET', '/readyz');
  assert.equal(ready.json.checks.database, 'ok');
  const reg = await http(first.url, 'POST', '/api/v1/users', { body: { username: 'keeper', displayName: 'Keeper' } });
  assert.equal(reg.status, 201);
  const metrics = await fetch(`${first.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /faceline_auth_http_request_duration_seconds/);
  assert.equal(await first.stop(), 0, 'SIGTERM ends the process cleanly');

  const second = await startChild('services/auth/src/server.ts', env);
  try {
    assert.doesNotMatch(second.output(), /created a new master key/);
    const again = await http(second.url, 'POST', '/api/v1/users', { body: { username: 'keeper', displayName: 'Keeper' } });
    assert.equal(again.json?.error?.code, 'USERNAME_TAKEN', 'the account survived the restart');
  } finally {
    assert.equal(await second.stop(), 0);
  }
});

test('server.ts refuses to start with a master key that did not create the database', { timeout: 120_000 }, async () => {
  const env = { FACELINE_DATA_DIR: dataDir, VISION_URL: 'http://127.0.0.1:9', FACELINE_MASTER_KEY: 'cd'.repeat(32) };
  await assert.rejects(startChild('services/auth/src/server.ts', env, { timeoutMs: 120_000 }), /FACELINE_MASTER_KEY does not match/);
});

test('server.ts with FACELINE_KEY_DIR: the key file stays out of the data folder, and the data folder alone opens nothing', {
  timeout: 180_000,
}, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'faceline-auth-keydir-'));
  try {
    const data = path.join(root, 'data');
    const keys = path.join(root, 'keys');
    // no vision needed to look at keys and accounts
    const env = { FACELINE_DATA_DIR: data, FACELINE_KEY_DIR: keys, VISION_URL: 'http://127.0.0.1:9' };
    const first = await startChild('services/auth/src/server.ts', env, { timeoutMs: 120_000, readyPath: '/healthz' });
    try {
      assert.equal(statSync(path.join(keys, 'master.key')).mode & 0o777, 0o600);
      assert.equal(existsSync(path.join(data, 'master.key')), false, 'a backup of the data folder holds no key');
      assert.equal((await http(first.url, 'POST', '/api/v1/users', { body: { username: 'apart', displayName: 'Apart' } })).status, 201);
    } finally {
      assert.equal(await first.stop(), 0);
    }
    const again = await startChild('services/auth/src/server.ts', env, { timeoutMs: 120_000, readyPath: '/healthz' });
    assert.equal(
      (await http(again.url, 'POST', '/api/v1/users', { body: { username: 'apart', displayName: 'Apart' } })).json?.error?.code,
      'USERNAME_TAKEN',
    );
    assert.equal(await again.stop(), 0);
    // the data folder restored without its key: refused instead of sealing new data with a new key
    await assert.rejects(
      startChild(
        'services/auth/src/server.ts',
        { FACELINE_DATA_DIR: data, VISION_URL: 'http://127.0.0.1:9' },
        { timeoutMs: 120_000, readyPath: '/healthz' },
      ),
      /FACELINE_MASTER_KEY does not match/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
