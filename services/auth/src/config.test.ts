import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { withPassword } from './db/database.js';

test('defaults: port 8081, embedded database, liveness on', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8081);
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.liveness, true);
  assert.equal(c.capturesRequired, 3);
  assert.deepEqual(c.visionUrls, ['http://127.0.0.1:8082']);
});

test('several vision addresses, a hex master key and explicit liveness off', () => {
  const c = loadConfig({ VISION_URL: 'http://a:1, http://b:2/', FACELINE_MASTER_KEY: 'ab'.repeat(32), LIVENESS: 'off', TRUST_PROXY: '2' });
  assert.deepEqual(c.visionUrls, ['http://a:1', 'http://b:2']);
  assert.equal(c.masterKey?.length, 32);
  assert.equal(c.liveness, false);
  assert.equal(c.trustProxy, 2);
});

test('every bad variable is reported at once', () => {
  try {
    loadConfig({ PORT: 'x', DATABASE_URL: 'mysql://h', FACELINE_MASTER_KEY: 'short', LIVENESS: 'maybe', ENROLL_CAPTURES: '1' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 5, err.message);
  }
});

test('secrets from files: FACELINE_MASTER_KEY_FILE, DATABASE_URL_FILE, PGPASSWORD_FILE (trailing newline ignored)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faceline-auth-config-'));
  try {
    writeFileSync(path.join(dir, 'key'), `${'cd'.repeat(32)}\n`);
    writeFileSync(path.join(dir, 'url'), 'postgres://faceline@db:5432/faceline\n');
    writeFileSync(path.join(dir, 'pw'), 's3cret:/@\n');
    const c = loadConfig({
      FACELINE_MASTER_KEY_FILE: path.join(dir, 'key'),
      DATABASE_URL_FILE: path.join(dir, 'url'),
      PGPASSWORD_FILE: path.join(dir, 'pw'),
    });
    assert.deepEqual(c.masterKey, Buffer.from('cd'.repeat(32), 'hex'));
    assert.equal(c.databaseUrl, 'postgres://faceline@db:5432/faceline');
    assert.equal(c.databasePassword, 's3cret:/@');
    // the driver gets the password inside the URL it connects with
    const url = new URL(withPassword(c.databaseUrl!, c.databasePassword));
    assert.equal(decodeURIComponent(url.password), 's3cret:/@');
    assert.equal(url.username, 'faceline');
    assert.equal(url.pathname, '/faceline');
    // a password already in the URL wins
    assert.equal(withPassword('postgres://u:own@h/d', 'other'), 'postgres://u:own@h/d');
    // without PGPASSWORD_FILE the driver reads PGPASSWORD itself
    assert.equal(loadConfig({ PGPASSWORD: 'x' }).databasePassword, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('secret files: missing, empty, or set together with the variable are reported', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faceline-auth-config-'));
  try {
    writeFileSync(path.join(dir, 'empty'), '\n');
    loadConfig({
      FACELINE_MASTER_KEY_FILE: path.join(dir, 'missing'),
      DATABASE_URL_FILE: path.join(dir, 'empty'),
      PGPASSWORD: 'a',
      PGPASSWORD_FILE: path.join(dir, 'empty'),
    });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems.length, 4, err.message);
    assert.match(err.message, /FACELINE_MASTER_KEY_FILE names a file that cannot be read/);
    assert.match(err.message, /DATABASE_URL_FILE names an empty file/);
    assert.match(err.message, /set either PGPASSWORD or PGPASSWORD_FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hub and site modes: single stays the default, a site needs its name and the hub, PGlite cannot replicate', () => {
  assert.equal(loadConfig({}).mode, 'single');
  const site = loadConfig({
    AUTH_MODE: 'site',
    SITE_ID: 'line-7',
    DATABASE_URL: 'postgres://f@site-db/f',
    HUB_DATABASE_URL: 'postgres://f@hub-db/f',
    SITE_MAX_STALENESS_SECONDS: '3600',
  });
  assert.equal(site.siteId, 'line-7');
  assert.equal(site.hubReplicationUrl, 'postgres://f@hub-db/f', 'the replication URL defaults to the hub URL');
  assert.equal(site.siteMaxStalenessSeconds, 3600);
  try {
    loadConfig({ AUTH_MODE: 'site', SITE_ID: 'Line 7' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.split(' ')[0]).sort(), ['AUTH_MODE=site', 'AUTH_MODE=site', 'SITE_ID'], err.message);
  }
  assert.throws(() => loadConfig({ AUTH_MODE: 'hub' }), /PGlite cannot take part in replication/);
  assert.throws(() => loadConfig({ AUTH_MODE: 'cluster' }), /AUTH_MODE must be single, hub or site/);
  assert.throws(() => loadConfig({ SITE_ID: 'line-7' }), /SITE_ID is only used with AUTH_MODE=site/);
});

test('HUB_SITES: one site per line or comma, names checked, passwords kept out of error messages', () => {
  const hub = loadConfig({
    AUTH_MODE: 'hub',
    DATABASE_URL: 'postgres://f@hub-db/f',
    HUB_SITES: 'line-7=postgres://r:pw@10.0.7.5:5432/f\nline-8=postgres://r:pw@10.0.8.5:5432/f',
  });
  assert.deepEqual(
    hub.hubSites.map((s) => s.name),
    ['line-7', 'line-8'],
  );
  assert.equal(hub.hubSites[1]?.url, 'postgres://r:pw@10.0.8.5:5432/f');
  try {
    loadConfig({
      AUTH_MODE: 'hub',
      DATABASE_URL: 'postgres://f@hub-db/f',
      HUB_SITES: 'line-7=postgres://r:secret@a/f,line-7=postgres://r:secret@b/f,bad entry,Line_9=postgres://x@c/f',
    });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 3, err.message);
    assert.ok(!err.message.includes('secret'), 'a password leaked into the message');
  }
});
test('first administrator: FACELINE_SETUP_TOKEN[_FILE]; the racy FIRST_USER_IS_ADMIN and ADMIN_USERNAMES are refused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faceline-auth-config-'));
  try {
    assert.equal(loadConfig({}).setupToken, undefined, 'default: auth prints a setup link');
    assert.equal(loadConfig({ FACELINE_SETUP_TOKEN: 'a'.repeat(24) }).setupToken, 'a'.repeat(24));
    writeFileSync(path.join(dir, 'setup'), `${'b'.repeat(32)}\n`);
    assert.equal(loadConfig({ FACELINE_SETUP_TOKEN_FILE: path.join(dir, 'setup') }).setupToken, 'b'.repeat(32));
    assert.equal(loadConfig({ FIRST_USER_IS_ADMIN: 'false' }).setupToken, undefined, 'switching the old behaviour off is harmless');
    loadConfig({ FACELINE_SETUP_TOKEN: 'short', FIRST_USER_IS_ADMIN: 'true', ADMIN_USERNAMES: 'alice' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems.length, 3, err.message);
    assert.match(err.message, /FIRST_USER_IS_ADMIN was removed/);
    assert.match(err.message, /ADMIN_USERNAMES was removed/);
    assert.match(err.message, /FACELINE_SETUP_TOKEN must be 16 to 200 characters/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('connection timeouts: defaults, overrides, and headers no longer than the whole request', () => {
  const d = loadConfig({});
  assert.deepEqual([d.headersTimeoutMs, d.requestTimeoutMs, d.keepAliveTimeoutMs], [10_000, 30_000, 72_000]);
  const c = loadConfig({ HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '5000', KEEP_ALIVE_TIMEOUT_MS: '65000' });
  assert.deepEqual([c.headersTimeoutMs, c.requestTimeoutMs, c.keepAliveTimeoutMs], [2000, 5000, 65_000]);
  assert.throws(
    () => loadConfig({ HEADERS_TIMEOUT_MS: '9000', REQUEST_TIMEOUT_MS: '5000' }),
    /HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS/,
  );
  assert.throws(() => loadConfig({ KEEP_ALIVE_TIMEOUT_MS: '0' }), ConfigError);
});
