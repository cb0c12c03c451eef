import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.js';

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
