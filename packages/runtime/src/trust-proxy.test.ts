import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEnv } from './env.js';
import { trustFunction, trustProxy } from './trust-proxy.js';

test('TRUST_PROXY: booleans, hop counts and addresses, the same for every service', () => {
  const cases: [string | undefined, unknown][] = [
    [undefined, false],
    ['', false],
    ['true', true],
    ['FALSE', false],
    ['1', 1],
    ['0', 0],
    ['2', 2],
    ['10.42.0.0/16, 127.0.0.1', '10.42.0.0/16, 127.0.0.1'],
    ['loopback', 'loopback'],
  ];
  for (const [raw, expected] of cases) {
    const env = readEnv({ TRUST_PROXY: raw });
    assert.deepEqual(trustProxy(env), expected, `TRUST_PROXY=${raw}`);
    assert.deepEqual(env.problems, []);
  }
});

test('TRUST_PROXY: an address proxy-addr cannot read is a problem', () => {
  const env = readEnv({ TRUST_PROXY: 'maybe' });
  assert.equal(trustProxy(env), false);
  assert.equal(env.problems.length, 1);
  assert.match(env.problems[0]!, /^TRUST_PROXY must be true, false, a hop count or comma-separated addresses\/CIDRs, got "maybe"/);
});

test('trustFunction: a hop count trusts that many nearest hops, addresses only themselves', () => {
  assert.deepEqual(
    [0, 1, 2].map((hop) => trustFunction(2)('198.51.100.7', hop)),
    [true, true, false],
  );
  assert.equal(trustFunction(0)('10.0.0.1', 0), false);
  assert.equal(trustFunction('10.42.0.0/16')('10.42.1.2', 0), true);
  assert.equal(trustFunction('10.42.0.0/16')('198.51.100.7', 0), false);
  assert.equal(trustFunction(true)('198.51.100.7', 5), true);
  assert.equal(trustFunction(false)('127.0.0.1', 0), false);
});
