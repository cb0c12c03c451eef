import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { clientAddress, trustFunction, type TrustProxy } from './client-address.js';
import { loadConfig, ConfigError } from '../config.js';

// [TRUST_PROXY, peer, X-Forwarded-For, the client address both HTTP and Socket.IO must see]
const CASES: [TrustProxy, string, string | undefined, string][] = [
  [false, '10.0.0.5', '203.0.113.9', '10.0.0.5'],
  [true, '10.0.0.5', '198.51.100.1, 203.0.113.9', '198.51.100.1'],
  [1, '10.0.0.5', '198.51.100.1, 203.0.113.9', '203.0.113.9'],
  [2, '10.0.0.5', '198.51.100.1, 203.0.113.9', '198.51.100.1'],
  ['10.0.0.5', '10.0.0.5', '198.51.100.1, 203.0.113.9', '203.0.113.9'],
  ['10.0.0.0/8, 203.0.113.9', '10.0.0.5', '198.51.100.1, 203.0.113.9', '198.51.100.1'],
  // direct to auth, not from a trusted proxy: a made-up header changes nothing
  ['10.0.0.0/8', '192.0.2.44', '198.51.100.1', '192.0.2.44'],
  ['loopback', '127.0.0.1', '198.51.100.1', '198.51.100.1'],
  ['loopback', '::ffff:192.0.2.44', '198.51.100.1', '192.0.2.44'],
  ['10.0.0.0/8', '10.0.0.5', undefined, '10.0.0.5'],
  // the rightmost untrusted hop wins: a client cannot push its own choice past the proxy
  ['10.0.0.0/8', '10.0.0.5', '1.2.3.4, 198.51.100.1', '198.51.100.1'],
];

test('HTTP (Fastify req.ip) and Socket.IO (clientAddress) find the same client for every TRUST_PROXY form', async () => {
  for (const [trust, peer, xff, expected] of CASES) {
    const app = Fastify({ trustProxy: trustFunction(trust) });
    app.get('/', async (req) => ({ ip: req.ip.replace(/^::ffff:/, '') }));
    const res = await app.inject({ url: '/', remoteAddress: peer, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });
    const http = res.json().ip as string;
    const socket = clientAddress(peer, xff, trustFunction(trust));
    assert.equal(socket, expected, `socket, TRUST_PROXY=${String(trust)} peer=${peer} xff=${xff}`);
    assert.equal(http, expected, `http, TRUST_PROXY=${String(trust)} peer=${peer} xff=${xff}`);
    await app.close();
  }
});

test('TRUST_PROXY: hop counts, booleans and address lists parse; unreadable addresses are configuration errors', () => {
  assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  assert.equal(loadConfig({ TRUST_PROXY: 'TRUE' }).trustProxy, true);
  assert.equal(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy, '10.0.0.0/8, loopback');
  assert.throws(
    () => loadConfig({ TRUST_PROXY: '10.0.0.0/99' }),
    (err: unknown) => err instanceof ConfigError && /TRUST_PROXY must be/.test(err.message),
  );
  assert.throws(() => loadConfig({ TRUST_PROXY: 'proxy.example' }), ConfigError);
});
