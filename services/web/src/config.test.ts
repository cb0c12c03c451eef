import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.js';

describe('web config', () => {
  it('has working defaults for npm start', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.authUrl, undefined);
    assert.equal(c.tls, undefined);
    assert.match(c.publicDir, /services\/web\/dist\/public$/);
  });

  it('normalises AUTH_URL to its origin', () => {
    assert.equal(loadConfig({ AUTH_URL: 'http://127.0.0.1:8081/' }).authUrl, 'http://127.0.0.1:8081');
  });

  it('METRICS_PORT: unset by default, a port of its own when set', () => {
    assert.equal(loadConfig({}).metricsPort, undefined);
    assert.equal(loadConfig({ METRICS_PORT: '9464' }).metricsPort, 9464);
    assert.throws(() => loadConfig({ METRICS_PORT: '8080' }), /METRICS_PORT must differ from PORT \(8080\)/);
    assert.throws(() => loadConfig({ METRICS_PORT: 'x' }), /METRICS_PORT must be an integer/);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', AUTH_URL: 'ftp://a', LOG_LEVEL: 'loud', TLS_CERT_FILE: '/nope.pem', TRUST_PROXY: 'maybe' });
      assert.fail('expected ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 5);
      assert.match(err.message, /PORT/);
      assert.match(err.message, /AUTH_URL/);
      assert.match(err.message, /LOG_LEVEL/);
      assert.match(err.message, /TLS_CERT_FILE and TLS_KEY_FILE/);
      assert.match(err.message, /TRUST_PROXY/);
    }
  });

  it('reads TRUST_PROXY and LOG_LEVEL as auth does', () => {
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
    assert.equal(loadConfig({ TRUST_PROXY: '10.42.0.0/16' }).trustProxy, '10.42.0.0/16');
    assert.equal(loadConfig({ LOG_LEVEL: '' }).logLevel, 'info');
  });
});
